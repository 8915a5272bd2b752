"""docs/RESULTS.md holds exactly the tables of the harness JSON committed beside it."""

from pathlib import Path

from sr_core.registry import get_info
from training.eval_tables import format_tables, load_records

DOCS = Path(__file__).resolve().parent.parent / "docs"
#: how far under bicubic a perceptual method's PSNR may be (the CiSRGAN paper: 0.24 dB on B100 ×4)
PERCEPTUAL_PSNR_SLACK = 0.5


def test_every_table_of_the_committed_results_is_in_results_md():
    files = sorted((DOCS / "results").glob("*.json"))
    assert files, "docs/results/*.json is missing"
    text = (DOCS / "RESULTS.md").read_text(encoding="utf-8")
    tables = format_tables(load_records(files), paper=False, markdown=True)
    for block in tables.strip().split("\n\n"):
        assert block in text, f"a table differs from docs/RESULTS.md:\n{block}"


def _by_method(records: list[dict]) -> dict[str, dict[str, dict]]:
    """``method → dataset → scale → result`` over every committed file."""
    table: dict[str, dict[str, dict]] = {}
    for r in records:
        table.setdefault(r["method"], {}).setdefault(r["dataset"], {}).update(r["results"])
    return table


def test_every_shipped_method_beats_bicubic_at_every_evaluated_scale():
    """The rule for shipping a fidelity method: never worse than bicubic where it was measured."""
    table = _by_method(load_records(sorted((DOCS / "results").glob("*.json"))))
    assert "liif" in table
    for method, datasets in table.items():
        if method == "bicubic" or get_info(method).perceptual:
            continue
        for dataset, results in datasets.items():
            for scale, result in results.items():
                assert result["psnr"] > table["bicubic"][dataset][scale]["psnr"], (method, dataset, scale)


def test_every_perceptual_method_is_sharper_than_liif_and_near_bicubic_in_psnr():
    """The rule for a GAN-trained method (issue #20): its Laplacian sharpness is closer to the
    HR's than LIIF's, and its PSNR is at most PERCEPTUAL_PSNR_SLACK dB under bicubic's."""
    table = _by_method(load_records(sorted((DOCS / "results").glob("*.json"))))
    for method in (m for m in table if m != "bicubic" and get_info(m).perceptual):
        for dataset, results in table[method].items():
            for scale, result in results.items():
                liif = table["liif"][dataset][scale]
                assert (abs(result["lap_sharpness"] - result["lap_sharpness_hr"])
                        < abs(liif["lap_sharpness"] - liif["lap_sharpness_hr"])), (method, dataset, scale)
                bicubic = table["bicubic"][dataset][scale]["psnr"]
                assert result["psnr"] > bicubic - PERCEPTUAL_PSNR_SLACK, (method, dataset, scale)
