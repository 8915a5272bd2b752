"""The order the model worker refines panels in (no Qt): the panel under the mouse, then the
cheapest method up, with costs measured from fake methods' tiles."""

from __future__ import annotations

import math

import pytest
from app_fakes import smooth_image

from app.model.document import Document
from app.model.jobs import TileJob
from app.model.layers import Kind, Layer
from app.model.method_provider import BICUBIC
from app.model.priority import MethodCosts, peeked_layers, rank_layers
from app.model.render_plan import RenderPlan
from app.model.view_state import ViewState
from sr_core.render import SourceImage

#: seconds per output pixel of three fake methods, the panels' order on screen
COSTS = {"slow": 10e-6, "cheap": 1e-6, "middle": 3e-6}
VIEWPORT = (600, 400)


def six_panel_plan() -> RenderPlan:
    """Bicubic in the first panel, then the fake methods."""
    doc = Document("t", None, SourceImage(smooth_image(96, 128)), "128×96")
    methods = [BICUBIC, *COSTS]
    view = ViewState.fit(doc.size, (VIEWPORT,) * len(methods)).zoomed_to(12.0)
    layers = [Layer(i, m, VIEWPORT, (0, VIEWPORT[0])) for i, m in enumerate(methods)]
    return RenderPlan.build(doc, view, layers, lambda m: Kind.BICUBIC if m == BICUBIC else Kind.MODEL, 256)


def pixels(job: TileJob) -> int:
    rect = job.part or job.key.rect
    return rect.height * rect.width


def finish_times(plan: RenderPlan, focus: int | None,
                 costs: MethodCosts | None = None) -> tuple[dict[str, float], list[str]]:
    """Run the plan's jobs as the worker does, each taking its fake method's cost, measuring
    the costs as the scheduler does (into ``costs``: those of earlier views) and re-planning
    when their ranking changes. Returns when each method's shown tiles were all there, and the
    methods in the order their tiles ran."""
    costs = MethodCosts() if costs is None else costs
    done: set[tuple[object, object]] = set()
    clock, finished, ran = 0.0, {}, []

    def pending() -> list[TileJob]:
        ranked = rank_layers(plan.layers, focus, costs.per_pixel)
        peeked = peeked_layers(ranked, focus, costs.per_pixel)
        return [j for j in plan.jobs(lambda k, part: (k, part) not in done, lambda m: False, ranked, peeked)
                if isinstance(j, TileJob) and j.method in COSTS and not j.ahead]

    jobs = pending()
    while jobs:
        job = jobs.pop(0)
        seconds = COSTS[job.method] * pixels(job)
        clock += seconds
        done.add((job.key, job.part))
        if not ran or ran[-1] != job.method:
            ran.append(job.method)
        if costs.observe(job.method, pixels(job), seconds):
            jobs = pending()
        left = {j.method for j in jobs if j.part is None or j.part == plan.needs.get(j.key)}
        for method in COSTS:
            if method not in left and method not in finished:
                finished[method] = clock
    return finished, ran


def alone(plan: RenderPlan, method: str, peek: bool = True) -> float:
    """Seconds the method's panel takes with nothing else to render (its peek, then its tiles)."""
    entry = next(p for p in plan.layers if p.layer.method == method)
    assert entry.tiles.peek is not None
    shown = sum(r.height * r.width for r in (entry.tiles.need.get(k, k.rect) for k in entry.tiles.fine))
    return COSTS[method] * (shown + peek * entry.tiles.peek[1].height * entry.tiles.peek[1].width)


def test_costs_are_measured_per_pixel_and_a_new_ranking_is_reported():
    costs = MethodCosts()
    assert costs.per_pixel("a") is None
    assert costs.observe("a", 1000, 3e-3)  # a method measured for the first time re-ranks
    assert costs.per_pixel("a") == 3e-6
    assert costs.observe("b", 1000, 1e-3)
    assert costs.ranking() == ["b", "a"]
    assert not costs.observe("a", 4000, 12e-3)  # the same ranking: nothing to re-plan
    assert not costs.observe("a", 0, 1.0) and not costs.observe("a", 10, float("nan"))
    assert costs.per_pixel("a") == 3e-6


def test_costs_remembered_from_an_earlier_session_rank_the_first_view():
    plan = six_panel_plan()
    remembered = MethodCosts({**COSTS, "broken": float("nan"), "negative": -1.0})
    assert set(remembered.known()) == set(COSTS)  # invalid remembered costs are ignored
    finished, ran = finish_times(plan, None, remembered)
    assert ran == ["cheap", "middle", "slow"]  # no peek of every method first: ranked at once
    assert finished["cheap"] <= 1.0001 * alone(plan, "cheap")
    # a whole tile measured now outweighs a remembered cost
    costs = MethodCosts({"a": 1e-6, "b": 2e-6})
    assert costs.observe("a", 256 * 256, 256 * 256 * 4e-6)
    assert costs.ranking() == ["b", "a"] and costs.per_pixel("a") > 3e-6


def test_typical_costs_rank_the_first_view_of_a_first_session():
    plan = six_panel_plan()
    # relative costs: the right order, not the right scale (invalid ones are ignored)
    costs = MethodCosts(typical={"slow": 8.0, "cheap": 1.0, "middle": 2.0, "broken": float("inf")})
    assert costs.known() == {}  # a guess is never remembered as a measurement
    finished, ran = finish_times(plan, None, costs)
    assert ran == ["cheap", "middle", "slow"]  # no peek of every method first
    assert finished["cheap"] <= 1.0001 * alone(plan, "cheap")
    assert set(costs.known()) == set(COSTS)


def test_guessed_costs_follow_what_the_measured_methods_cost_against_their_guesses():
    costs = MethodCosts(typical={"a": 1.0, "b": 4.0, "c": 2.0})
    assert costs.per_pixel("b") == 4.0 and costs.per_pixel("user") is None
    assert costs.ranking() == ["a", "c", "b"]
    assert not costs.observe("a", 1000, 1e-3)  # 1e-6 s per pixel, as guessed against the others
    assert costs.per_pixel("b") == pytest.approx(4e-6) and costs.per_pixel("c") == pytest.approx(2e-6)
    assert costs.observe("b", 1000, 1e-3)  # cheaper than its guess: the measurement wins
    assert costs.ranking() == ["a", "b", "c"]
    # c's guess is scaled by the geometric mean of a's and b's measured / guessed
    assert costs.per_pixel("c") == pytest.approx(2.0 * math.sqrt(1e-6 / 1.0 * 1e-6 / 4.0))
    only_user = MethodCosts(typical={"a": 1.0})
    only_user.observe("user", 1000, 1e-3)
    assert only_user.per_pixel("a") is None  # nothing to scale a guess by: a is measured first


def test_the_panel_under_the_mouse_first_then_the_cheapest_method_up():
    plan = six_panel_plan()
    measured = {"slow": 10e-6, "middle": 3e-6}  # "cheap" not measured yet: it ranks first
    models = [p for p in plan.layers if p.kind is Kind.MODEL]
    assert [p.layer.method for p in rank_layers(models, None, measured.get)] == ["cheap", "middle", "slow"]
    assert [p.layer.method for p in rank_layers(models, 1, COSTS.get)] == ["slow", "cheap", "middle"]
    ranked = rank_layers(plan.layers, None, COSTS.get)
    # the bicubic panel renders no model tiles: the first model panel peeks, the others wait
    assert [p.layer.method for p in peeked_layers(ranked, None, COSTS.get)] == ["cheap"]
    assert [p.layer.method for p in peeked_layers(ranked, 1, COSTS.get)] == ["cheap", "slow"]
    jobs = plan.jobs(lambda k, part: True, lambda m: True, rank_layers(plan.layers, 3, COSTS.get))
    fine = [j.method for j in jobs if isinstance(j, TileJob) and j.method in COSTS and not j.ahead]
    peeks = len(plan.peeks())
    assert fine[:peeks] == ["middle", "cheap", "slow"]  # the first looks follow the rank too
    rest = fine[peeks:]
    assert rest == sorted(rest, key=["middle", "cheap", "slow"].index)  # one panel after the other


def test_each_panel_is_final_as_soon_as_the_panels_before_it_allow():
    plan = six_panel_plan()
    costs = MethodCosts()
    first, ran = finish_times(plan, None, costs)
    # the first view: every method's peek measures it, then the panels run cheapest first
    assert ran == ["slow", "cheap", "middle", "cheap", "middle", "slow"]
    own = {m: alone(plan, m, peek=False) for m in COSTS}
    peeks = sum(alone(plan, m) - own[m] for m in COSTS)
    assert first["cheap"] <= own["cheap"] + peeks
    # the next views: the methods are measured; only the first panel (the cheapest, the mouse
    # being over none) peeks first, and the slower methods' peeks no longer delay it
    finished, ran = finish_times(plan, None, costs)
    assert ran == ["cheap", "middle", "slow"]
    cheap = alone(plan, "cheap")
    assert finished["cheap"] <= 1.0001 * cheap <= 1.3 * own["cheap"]
    assert finished["middle"] <= 1.0001 * (cheap + own["middle"])
    assert finished["slow"] <= 1.0001 * (cheap + own["middle"] + own["slow"])
    # shared out evenly (the old order), the cheap panel would have waited for the slow one
    assert finished["cheap"] < 0.1 * sum(own.values())


def test_the_panel_under_the_mouse_is_final_first_whatever_its_cost():
    plan = six_panel_plan()
    costs = MethodCosts()
    finish_times(plan, None, costs)
    finished, ran = finish_times(plan, 1, costs)  # the mouse is over the slow method's panel
    assert ran == ["slow", "cheap", "middle"]
    assert finished["slow"] <= 1.0001 * alone(plan, "slow")  # its peek first, then its tiles
    assert finished["slow"] < finished["cheap"] < finished["middle"]
