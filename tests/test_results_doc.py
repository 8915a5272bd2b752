"""docs/RESULTS.md holds exactly the tables of the harness JSON committed beside it."""

from pathlib import Path

from training.eval_tables import format_tables, load_records

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_table_of_the_committed_results_is_in_results_md():
    files = sorted((DOCS / "results").glob("*.json"))
    assert files, "docs/results/*.json is missing"
    text = (DOCS / "RESULTS.md").read_text(encoding="utf-8")
    tables = format_tables(load_records(files), paper=False, markdown=True)
    for block in tables.strip().split("\n\n"):
        assert block in text, f"a table differs from docs/RESULTS.md:\n{block}"


def test_liif_beats_bicubic_at_every_scale_on_every_set():
    for record in load_records(sorted((DOCS / "results").glob("liif-*.json"))):
        if record["method"] != "liif":
            continue
        bicubic = next(r for r in load_records([DOCS / "results" / f"liif-{record['dataset']}.json"])
                       if r["method"] == "bicubic")
        for scale, result in record["results"].items():
            assert result["psnr"] > bicubic["results"][scale]["psnr"], (record["dataset"], scale)
