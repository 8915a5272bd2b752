"""Every model panel says where its weights come from: a word in the header, the rest in the
tooltip (the shipped LIIF: the authors')."""

from app_fakes import settle

from app.method_provider import RegistryProvider


def test_the_liif_panel_says_it_runs_the_authors_weights(qtbot, make_window, image_file):
    window = make_window(RegistryProvider(), image_file, size=(480, 320), panels=["bicubic", "liif"])
    window.view.zoom_to(2.0)
    settle(qtbot, window)
    window.refresh()
    bicubic, liif = window.panels
    assert "authors' weights" in liif.info.text()
    assert "authors' weights" not in bicubic.info.text()
    assert "Weights: the LIIF authors' EDSR-baseline weights, trained on DIV2K" in liif.buttons[0].toolTip()
