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


def test_every_shipped_method_beats_bicubic_at_every_evaluated_scale():
    """The rule for shipping a method: never worse than bicubic where it was measured."""
    records = load_records(sorted((DOCS / "results").glob("*.json")))
    bicubic: dict[str, dict] = {}
    for r in records:
        if r["method"] == "bicubic":
            bicubic.setdefault(r["dataset"], {}).update(r["results"])
    learned = [r for r in records if r["method"] != "bicubic"]
    assert {r["method"] for r in learned} >= {"liif"}
    for record in learned:
        for scale, result in record["results"].items():
            reference = bicubic[record["dataset"]][scale]["psnr"]
            assert result["psnr"] > reference, (record["method"], record["dataset"], scale)
