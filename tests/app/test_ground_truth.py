"""Comparing with a ground-truth reference: metrics of the view and of the whole image, heatmaps."""

from __future__ import annotations

import pytest
from app_fakes import FakeMethod, FakeProvider, settle, smooth_image

from sr_core import metrics
from sr_core.imaging import save_png
from sr_core.methods.bicubic import Bicubic
from sr_core.render import Renderer


@pytest.fixture
def reference(tmp_path):
    path = tmp_path / "reference.png"
    save_png(path, smooth_image(194, 258, seed=1))  # cropped to 192×256 for ×4
    return path


def expected(method, doc, region=None):
    """PSNR/SSIM computed directly with sr_core on the same pixels."""
    out_h, out_w = doc.gt.grid
    pred = Renderer(method).render(doc.source, out_h, out_w, region)
    gt, shave = doc.gt.pixels(region), (doc.gt.shave if region is None else 0)
    return metrics.psnr(pred, gt, shave=shave, space="y"), metrics.ssim(pred, gt, shave=shave, space="y")


def test_metrics_equal_sr_core_on_the_same_region(qtbot, make_window, reference):
    window = make_window(FakeProvider({"fake": FakeMethod}), reference, size=(420, 320),
                         panels=["bicubic", "fake", "gt"], gt_factor=4)
    doc = window.doc
    assert doc.size == (64, 48) and doc.gt.grid == (192, 256)
    window.view.zoom_to(4.0)
    window.view.centre_on(30.5, 20.25)
    settle(qtbot, window)
    for panel, method in zip(window.panels[:2], (Bicubic(), FakeMethod())):
        layer = panel.canvas.layers()[0]
        region = window.scheduler.region_metrics(layer)
        assert region is not None and region.region.width > 11
        psnr, ssim = expected(method, doc, region.region)
        assert region.psnr == pytest.approx(psnr, abs=1e-6) and region.ssim == pytest.approx(ssim, abs=1e-6)
        whole = window.scheduler.whole_metrics(layer.method)
        psnr, ssim = expected(method, doc)
        assert whole.psnr == pytest.approx(psnr, abs=1e-6) and whole.ssim == pytest.approx(ssim, abs=1e-6)
    assert window.panels[2].state.text() == "final"  # the reference itself, drawn from the HR image


def test_visible_region_metrics_at_another_zoom_and_the_heatmap(qtbot, make_window, reference):
    window = make_window(FakeProvider({"fake": FakeMethod}), reference, size=(420, 320),
                         panels=["fake"], gt_factor=4)
    window.view.zoom_to(9.0)
    window.set_heatmap(True)
    settle(qtbot, window)
    layer = window.panels[0].canvas.layers()[0]
    region = window.scheduler.region_metrics(layer)
    psnr, _ = expected(FakeMethod(), window.doc, region.region)
    assert region.psnr == pytest.approx(psnr, abs=1e-6)
    window.grab()
    truth = window.scheduler.layer_tiles(layer).truth
    assert truth and set(truth) <= window.panels[0].canvas.painted


def test_the_heatmap_toggles_on_and_off_again(qtbot, make_window, reference):
    window = make_window(FakeProvider({"fake": FakeMethod}), reference, size=(420, 320),
                         panels=["fake"], gt_factor=4)
    assert window.act["heatmap"].isEnabled()
    window.act["heatmap"].trigger()
    assert window.context.heatmap and window.act["heatmap"].isEnabled()
    window.act["heatmap"].trigger()
    assert not window.context.heatmap and window.act["heatmap"].isEnabled()


def _mean_distance(image, box, colour) -> float:
    """Mean RGB distance of the pixels inside ``box`` (logical px, dpr 1) from ``colour``."""
    rect = box.toAlignedRect().adjusted(4, 4, -4, -4)
    pixels = [image.pixelColor(x, y) for x in range(rect.left(), rect.right(), 3)
              for y in range(rect.top(), rect.bottom(), 3)]
    return sum(abs(c.red() - colour.red()) + abs(c.green() - colour.green()) + abs(c.blue() - colour.blue())
               for c in pixels) / len(pixels)


def test_the_numbers_box_fades_while_the_mouse_is_over_it(qtbot, make_window, reference):
    """The box sits over the image's corner: under the mouse the image shows through it."""
    from PySide6.QtTest import QTest

    from app.ui import theme

    window = make_window(FakeProvider({"fake": FakeMethod}), reference, size=(420, 320),
                         panels=["fake"], gt_factor=4)
    window.view.zoom_to(4.0)
    settle(qtbot, window)
    canvas = window.panels[0].canvas
    canvas.grab()
    (box,) = canvas.number_boxes
    shown = _mean_distance(canvas.grab().toImage(), box, theme.OVERLAY)
    QTest.mouseMove(canvas, box.center().toPoint())
    faded = _mean_distance(canvas.grab().toImage(), box, theme.OVERLAY)
    QTest.mouseMove(canvas, canvas.rect().center())
    again = _mean_distance(canvas.grab().toImage(), box, theme.OVERLAY)
    assert faded > shown + 40 and again == pytest.approx(shown, abs=1)
