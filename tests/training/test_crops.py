"""training.crops: the side-by-side crops are the methods' pixels of the right place."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sr_core import metrics
from sr_core.registry import load_method
from sr_core.render import SourceImage
from training import crops
from training.evaluate import lr_and_hr, make_renderer


def _photo(h: int = 96, w: int = 120) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w] / 7.0
    return np.clip(np.stack([np.sin(x) * 0.4 + 0.5, np.cos(y) * 0.4 + 0.5,
                             np.sin(x + y) * 0.3 + 0.5], axis=-1), 0, 1).astype(np.float32)


def test_each_crop_is_the_whole_render_cut_at_the_box():
    hr = _photo()
    renderer = make_renderer(load_method("bicubic")[0])
    rows = crops.render_crops(hr, (20, 10, 32), [2, 3], {"bicubic": renderer})
    assert [[c.method for c in row] for row in rows] == [["hr", "bicubic"]] * 2
    for row, scale in zip(rows, (2, 3)):
        lr, truth = lr_and_hr(hr, scale)
        whole = renderer.render(SourceImage(lr), *truth.shape[:2])
        np.testing.assert_allclose(row[1].pixels, whole[10:42, 20:52], atol=1e-6)
        np.testing.assert_array_equal(row[0].pixels, truth[10:42, 20:52])
        assert row[1].psnr == pytest.approx(metrics.psnr(whole[10:42, 20:52], truth[10:42, 20:52],
                                                          shave=0, space="y"))
        assert row[0].sharpness == pytest.approx(metrics.laplacian_sharpness(truth[10:42, 20:52]))
        assert row[1].seams == pytest.approx(metrics.seam_ratio(whole[10:42, 20:52], scale, (10, 20)))


def test_the_nearest_column_shows_its_input_pixel_seams_at_integer_scales_only():
    hr = _photo()
    renderer = make_renderer(load_method("nearest")[0])
    integer, fractional = crops.render_crops(hr, (20, 10, 32), [4, 2.5], {"nearest": renderer})
    assert integer[1].seams == float("inf") and fractional[1].seams is None
    assert "inf" in crops.table([integer]) and crops.table([fractional]).rstrip().endswith("-")


def test_the_sheet_has_a_labelled_cell_per_method_and_scale(tmp_path: Path):
    out = tmp_path / "crops.png"
    image = tmp_path / "photo.png"
    Image.fromarray((_photo() * 255).round().astype(np.uint8)).save(image)
    assert crops.main([str(image), "--box", "0,0,24", "--scales", "2,4", "--methods", "bicubic",
                       "--magnify", "3", "--out", str(out)]) == 0
    width, height = Image.open(out).size
    assert width == 2 * (24 * 3 + crops.GAP) + crops.GAP
    assert height == 2 * (24 * 3 + crops.LABEL_H + crops.GAP) + crops.GAP


def test_a_box_outside_the_image_is_one_line_and_writes_nothing(tmp_path: Path, capsys):
    out = tmp_path / "crops.png"
    image = tmp_path / "photo.png"
    Image.fromarray((_photo() * 255).round().astype(np.uint8)).save(image)
    assert crops.main([str(image), "--box", "100,0,64", "--methods", "bicubic", "--out", str(out)]) == 2
    assert "does not fit" in capsys.readouterr().err and not out.exists()


@pytest.mark.parametrize("box", ["1,2", "a,b,c", "0,0,4"])
def test_a_malformed_box_is_refused(box: str):
    with pytest.raises(SystemExit):
        crops.main(["x.png", "--box", box, "--out", "o.png"])
