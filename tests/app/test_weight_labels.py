"""Every model panel says where its weights come from: a word in the header, the rest in the
tooltip (the shipped LIIF: the authors')."""

from app_fakes import settle

from app.model.method_provider import RegistryProvider


def test_the_liif_panel_says_it_runs_the_authors_weights(qtbot, make_window, image_file):
    window = make_window(RegistryProvider(), image_file, size=(480, 320), panels=["bicubic", "liif"])
    window.view.zoom_to(2.0)
    settle(qtbot, window)
    window.refresh()
    bicubic, liif = window.panels
    assert "authors' weights" in liif.info.text()
    assert "authors' weights" not in bicubic.info.text()
    assert "Weights: the LIIF authors' EDSR-baseline weights, trained on DIV2K" in liif.buttons[0].toolTip()


def test_on_a_cpu_the_menu_warns_that_clit_is_slow(qtbot, make_window, image_file):
    """CLIT takes minutes per view on a CPU: the method menu says so before it is chosen, and
    the tooltips give the measured cost; methods without a note carry no warning."""
    from sr_core.registry import METHODS

    window = make_window(RegistryProvider(), image_file, size=(480, 320), panels=["bicubic"])
    assert window.scheduler.device == "cpu"
    menu = window.panels[0].buttons[0].menu()
    menu.aboutToShow.emit()
    actions = {a.text().split("   — ")[0]: a for a in menu.actions()}
    assert actions["CLIT"].text() == "CLIT   — slow on a CPU"
    assert METHODS["clit"].cpu_note in actions["CLIT"].toolTip()
    assert [name for name, a in actions.items() if "slow" in a.text()] == ["CLIT"]
    actions["CLIT"].trigger()
    window.refresh()
    assert METHODS["clit"].cpu_note in window.panels[0].buttons[0].toolTip()
