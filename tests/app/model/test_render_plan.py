"""The render plan without Qt: tiles, layers, priorities and the ring ahead, computed once; the
layers' progress read from it."""

from __future__ import annotations

import math

from app_fakes import smooth_image

from app.model.document import Document, GroundTruth
from app.model.jobs import MetricsJob, TileJob
from app.model.layers import Kind, Layer, layer_tiles
from app.model.method_provider import BICUBIC
from app.model.refinement import Refinement
from app.model.render_plan import RenderPlan
from app.model.view_state import ViewState
from sr_core.render import SourceImage


def document() -> Document:
    pixels = smooth_image(48, 64)
    return Document("t", None, SourceImage(pixels), "64×48")


def test_jobs_come_bicubic_first_then_fine_centre_out():
    doc = document()
    view = ViewState.fit(doc.size, ((600, 400),)).zoomed_to(20.0)
    layer = Layer(0, "fake", (600, 400), (0, 600))
    tiles = layer_tiles(view, layer, doc, Kind.MODEL, 128)
    assert tiles.base and tiles.fine
    jobs = RenderPlan.build(doc, view, [layer], lambda m: Kind.MODEL, 128).jobs(lambda k, part: True, lambda m: True)
    stages = [("base" if j.key in tiles.base else "fine") for j in jobs]
    assert stages == sorted(stages, key=["base", "fine"].index)
    assert not any(isinstance(j, MetricsJob) for j in jobs)  # no ground truth, no metrics
    first = jobs[len(tiles.base)].key.rect
    centre = view.cx * 20, view.cy * 20
    assert first.left <= centre[0] <= first.right + 1 and first.top <= centre[1] <= first.bottom + 1


def test_below_x1_no_method_renders_tiles():
    doc = document()
    view = ViewState.fit(doc.size, ((30, 20),))
    assert view.zoom < 1
    for kind in (Kind.MODEL, Kind.BICUBIC):
        tiles = layer_tiles(view, Layer(0, "fake", (30, 20), (0, 30)), doc, kind, 128)
        assert not (tiles.base or tiles.fine)


def test_wipe_layers_only_want_their_side():
    doc = document()
    view = ViewState.fit(doc.size, ((600, 400),)).zoomed_to(20.0)
    left = layer_tiles(view, Layer(0, "a", (600, 400), (0, 150)), doc, Kind.MODEL, 128)
    right = layer_tiles(view, Layer(0, "b", (600, 400), (150, 600)), doc, Kind.MODEL, 128)
    whole = layer_tiles(view, Layer(0, "a", (600, 400), (0, 600)), doc, Kind.MODEL, 128)
    assert len(left.fine) < len(whole.fine) and len(right.fine) < len(whole.fine)


def test_a_ring_of_tiles_is_planned_last_around_the_view():
    doc = document()
    view = ViewState.fit(doc.size, ((600, 400),)).zoomed_to(20.0)
    layer = Layer(0, "fake", (600, 400), (0, 600))
    tiles = layer_tiles(view, layer, doc, Kind.MODEL, 128)
    assert tiles.ahead and not set(tiles.ahead) & set(tiles.fine)
    shown = [k.rect for k in tiles.fine]
    top, left = min(r.top for r in shown), min(r.left for r in shown)
    bottom, right = max(r.bottom for r in shown), max(r.right for r in shown)
    for key in tiles.ahead:  # one tile wide: each touches the block of shown tiles
        r = key.rect
        assert top - 128 <= r.top and r.bottom <= bottom + 128 and left - 128 <= r.left and r.right <= right + 128
    jobs = RenderPlan.build(doc, view, [layer], lambda m: Kind.MODEL, 128).jobs(lambda k, part: True, lambda m: True)
    assert [j.key for j in jobs[-len(tiles.ahead):]] == tiles.ahead


def test_edge_tiles_are_planned_in_part_and_completed_as_work_ahead():
    doc = document()
    view = ViewState.fit(doc.size, ((600, 400),)).zoomed_to(20.0)
    layer = Layer(0, "fake", (600, 400), (0, 600))
    tiles = layer_tiles(view, layer, doc, Kind.MODEL, 128)
    assert tiles.need and set(tiles.need) <= set(tiles.fine)
    jobs = RenderPlan.build(doc, view, [layer], lambda m: Kind.MODEL, 128).jobs(lambda k, part: True, lambda m: True)
    visible = [j for j in jobs if j.key in set(tiles.fine) and not j.ahead]
    assert {j.key: j.part for j in visible if j.part is not None} == tiles.need
    shown = sum(r.height * r.width for r in (j.part or j.key.rect for j in visible))
    assert shown == 600 * 400  # exactly the view's pixels
    completions = [j for j in jobs if j.ahead and j.key in tiles.need]
    assert {j.key for j in completions} == set(tiles.need) and all(j.part is None for j in completions)


def compared() -> Document:
    """A document in ground-truth mode at ×2 (the reference is 96×128)."""
    return Document("t", None, SourceImage(smooth_image(48, 64)), "64×48",
                    GroundTruth(2, SourceImage(smooth_image(96, 128, seed=1))))


def test_each_layer_is_planned_once_and_read_back_unchanged():
    doc = document()
    view = ViewState.fit(doc.size, ((300, 400), (300, 400))).zoomed_to(10.0)
    layers = [Layer(0, "a", (300, 400), (0, 300)), Layer(1, BICUBIC, (300, 400), (0, 300))]
    asked: list[str] = []

    def kind(method: str) -> Kind:
        asked.append(method)
        return Kind.BICUBIC if method == BICUBIC else Kind.MODEL

    plan = RenderPlan.build(doc, view, layers, kind, 128)
    assert asked == ["a", BICUBIC]
    for layer in layers:
        entry = plan.entry(layer)
        assert entry is not None and entry.tiles == layer_tiles(view, layer, doc, entry.kind, 128)
    assert plan.entry(Layer(2, "a", (300, 400), (0, 300))) is None
    extra = plan.extra(Layer(2, "a", (200, 100), (0, 200)), Kind.MODEL)
    assert extra.tiles == layer_tiles(view, extra.layer, doc, Kind.MODEL, 128)
    shown = {k for e in plan.layers for k in e.tiles.base + e.tiles.fine + e.tiles.truth}
    assert plan.shown == shown


def test_wanted_leaves_out_what_is_there_and_panels_share_tiles():
    doc = document()
    view = ViewState.fit(doc.size, ((300, 200), (300, 200))).zoomed_to(10.0)
    layers = [Layer(0, "a", (300, 200), (0, 300)), Layer(1, "a", (300, 200), (0, 300))]
    plan = RenderPlan.build(doc, view, layers, lambda m: Kind.MODEL, 128)
    every = plan.jobs(lambda k, part: True, lambda m: True)
    shown = [j.key for j in every if not j.ahead]
    assert len(shown) == len(set(shown))  # two panels of one method: each tile once
    done = set(plan.layers[0].tiles.fine[:2])
    rest = plan.jobs(lambda k, part: k not in done, lambda m: True)
    assert [j.key for j in rest] == [j.key for j in every if j.key not in done]


def test_ground_truth_mode_plans_the_reference_grid_then_the_numbers():
    doc = compared()
    view = ViewState.fit(doc.size, ((300, 200), (300, 200))).zoomed_to(4.0)
    layers = [Layer(0, "a", (300, 200), (0, 300)), Layer(1, BICUBIC, (300, 200), (0, 300))]
    plan = RenderPlan.build(doc, view, layers, lambda m: Kind.BICUBIC if m == BICUBIC else Kind.MODEL, 128)
    assert plan.measured() == ["a", BICUBIC]
    for entry in plan.layers:
        assert entry.tiles.truth and all(k.grid == doc.gt.grid for k in entry.tiles.truth)
        assert entry.tiles.region is not None
    jobs = plan.jobs(lambda k, part: True, lambda m: m != BICUBIC)
    metrics = [j for j in jobs if isinstance(j, MetricsJob)]
    assert [j.method for j in metrics] == ["a"]  # bicubic's numbers are there already
    first_metrics = jobs.index(metrics[0])
    truth = [i for i, j in enumerate(jobs) if isinstance(j, TileJob) and j.key.grid == doc.gt.grid]
    assert truth and max(truth) < first_metrics  # the visible numbers' tiles come first
    assert all(j.keep_pixels for j in jobs if isinstance(j, TileJob) and j.key.grid == doc.gt.grid)
    assert all(j.ahead for j in jobs[first_metrics + 1:])


def test_a_layers_status_counts_pixels_and_its_clock_runs_from_a_new_zoom_until_final():
    doc = document()
    view = ViewState.fit(doc.size, ((600, 400),)).zoomed_to(20.0)
    layer = Layer(0, "a", (600, 400), (0, 600))
    plan = RenderPlan.build(doc, view, [layer], lambda m: Kind.MODEL, 128)
    tiles = plan.layers[0].tiles
    there: set = set()
    refinement = Refinement()
    refinement.start(plan, there.__contains__)
    status = refinement.status(layer.id, Kind.MODEL, tiles, there.__contains__, {}, None)
    assert status.refining and status.fraction == 0 and status.total == len(tiles.fine)
    first = tiles.fine[0]
    refinement.set_progress(first, 1, 2)
    area = sum(r.height * r.width for r in (tiles.need.get(k, k.rect) for k in tiles.fine))
    part = tiles.need.get(first, first.rect)
    half = refinement.status(layer.id, Kind.MODEL, tiles, there.__contains__, {}, None)
    assert math.isclose(half.fraction, 0.5 * part.height * part.width / area)
    there.update(tiles.fine[:-1])
    refinement.stop(plan, there.__contains__)
    failed = {tiles.fine[-1]: "out of memory"}
    done = refinement.status(layer.id, Kind.MODEL, tiles, lambda k: k in there or k in failed, failed, None)
    assert done.refining is False and done.fraction == 1 and done.message == "out of memory"
    assert done.seconds is None  # the clock stops only when the layer is seen final
    refinement.stop(plan, lambda k: k in there or k in failed)
    assert refinement.status(layer.id, Kind.MODEL, tiles, lambda k: True, {}, None).seconds is not None


def test_the_first_job_is_a_peek_at_the_point_the_wheel_zoomed_about():
    """Detail first where the eye is: a PEEK² part of the tile under the wheel's point comes
    before everything else, and that tile still comes whole, first among the fine tiles."""
    from app.model.layers import PEEK

    doc = document()
    view = ViewState.fit(doc.size, ((600, 400),)).zoomed_to(20.0, (600, 400), 100, 80)
    fx, fy = (round(v * 20) for v in view.focus)
    layer = Layer(0, "fake", (600, 400), (0, 600))
    tiles = layer_tiles(view, layer, doc, Kind.MODEL, 256)
    plan = RenderPlan.build(doc, view, [layer], lambda m: Kind.MODEL, 256)
    jobs = plan.jobs(lambda k, part: True, lambda m: True)
    peek = jobs[0]
    assert peek.key == tiles.fine[0] and (peek.part.height, peek.part.width) == (PEEK, PEEK)
    assert peek.part.top <= fy < peek.part.bottom and peek.part.left <= fx < peek.part.right
    rest = [j for j in jobs[1:] if j.key.method == "fake"]
    assert rest[0].key == peek.key and rest[0].part != peek.part  # then the whole (shown) tile
    cached = plan.jobs(lambda k, part: part != peek.part, lambda m: True)
    assert cached[0].key.method == BICUBIC  # once the peek is cached it is not asked again


def test_the_peek_follows_the_centre_after_a_pan():
    doc = document()
    view = ViewState.fit(doc.size, ((600, 400),)).zoomed_to(20.0, (600, 400), 100, 80).panned(-5, 0)
    assert view.focus is None
    tiles = layer_tiles(view, Layer(0, "fake", (600, 400), (0, 600)), doc, Kind.MODEL, 256)
    key, part = tiles.peek
    cx, cy = view.cx * 20, view.cy * 20
    assert part.left <= cx <= part.right and part.top <= cy <= part.bottom
