"""Evaluation results as tables in the papers' layout: rows = methods, columns = scales.

One table per dataset, protocol, space, shave and image limit, for PSNR and for SSIM, as plain text (the
terminal) or Markdown (``docs/RESULTS.md``). The input is the JSON records written by
``python -m training.evaluate --json``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from training.eval_paper import paper_row

Record = dict[str, Any]
_METRICS = (("psnr", "PSNR (dB)", "{:.2f}"), ("ssim", "SSIM", "{:.4f}"))
_MISSING = "–"


def load_records(paths: Iterable[str | os.PathLike]) -> list[Record]:
    """The records of evaluation JSON files (each holds one record or a list of them)."""
    records: list[Record] = []
    for path in paths:
        data = json.loads(Path(path).read_text())
        batch = data if isinstance(data, list) else [data]
        if not all(isinstance(r, dict) and {"label", "dataset", "results"} <= r.keys() for r in batch):
            raise ValueError(f"{path} is not a result file of training.evaluate")
        records += batch
    return records


def format_tables(records: Sequence[Record], *, paper: bool = False, markdown: bool = False) -> str:
    """PSNR and SSIM tables of ``records``; ``paper`` adds the published PSNR and our difference."""
    groups: dict[tuple, list[Record]] = {}
    for r in records:
        key = (r["dataset"], r["protocol"], r["space"], r["shave"], r.get("limit"))
        groups.setdefault(key, []).append(r)
    blocks = []
    for (dataset, _, _, shave, _), group in groups.items():
        scales = sorted({float(k) for r in group for k in r["results"]})
        header = ["method", *(f"×{s:g}" for s in scales)]
        for metric, title, fmt in _METRICS:
            rows = []
            for r in group:
                ours = [_value(r, s, metric) for s in scales]
                rows.append([_row_name(r, group), *(_MISSING if v is None else fmt.format(v) for v in ours)])
                if paper and metric == "psnr" and shave is None:
                    rows += _paper_rows(r, scales, ours)
            caption = f"{dataset} — {title}, {_describe(group[0])}"
            blocks.append(_render(caption, header, rows, markdown))
    return "\n\n".join(blocks)


def _value(record: Record, scale: float, metric: str) -> float | None:
    result = record["results"].get(f"{scale:g}")
    return None if result is None else result[metric]


def _row_name(record: Record, group: list[Record]) -> str:
    """The method label, told apart by checkpoint when it repeats, and UNTRAINED if so."""
    name = record["label"]
    if sum(r["label"] == name for r in group) > 1 and record.get("checkpoint"):
        name += f" ({Path(record['checkpoint']).stem})"
    if not record.get("trained", True):
        name += " [UNTRAINED]"
    if record.get("interrupted"):
        name += " (interrupted)"
    return name


def _paper_rows(record: Record, scales: list[float], ours: list[float | None]) -> list[list[str]]:
    """``paper`` and ``Δ`` rows under a result, if the papers report this row."""
    row = paper_row(record["dataset"], record["label"], record["protocol"], record["space"])
    if row is None or not any(s in row.values for s in scales):
        return []
    published = [row.values.get(s) for s in scales]
    delta = [_MISSING if p is None or o is None else f"{o - p:+.2f}" for o, p in zip(ours, published)]
    return [[f"  paper [{row.source}]", *(_MISSING if p is None else f"{p:.2f}" for p in published)],
            ["  Δ (ours − paper)", *delta]]


def _describe(record: Record) -> str:
    """Protocol, space, shave and image limit of a group of records."""
    shave = record["shave"]
    if shave is None:
        shave = "s+6" if record["protocol"] == "liif" and record["space"] == "rgb" else "s"
    text = f"{record['space'].upper()}, shave {shave}, {record['protocol']} protocol"
    return text + (f", first {record['limit']} images" if record.get("limit") else "")


def _render(caption: str, header: list[str], rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = [f"**{caption}**", "", "| " + " | ".join(header) + " |",
                 "|:--" + "|--:" * (len(header) - 1) + "|"]
        return "\n".join(lines + ["| " + " | ".join([r[0].strip(), *r[1:]]) + " |" for r in rows])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [caption] + ["  ".join([r[0].ljust(widths[0]),
                                    *(t.rjust(w) for t, w in zip(r[1:], widths[1:]))])
                         for r in [header, *rows]]
    return "\n".join(lines)
