"""Bar chart of a throughput run (Pillow only, no plotting library).

    python -m benchmarks.plot RESULTS.json OUT.png [--before BEFORE.json] [--title TEXT]

One group of bars per method and scale, output megapixels per second on a log axis: the
reference formulation, our renderer before the speed-ups (``--before``, optional) and our
renderer now, from the JSON files ``python -m benchmarks.throughput --json`` writes.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1500, 620
LEFT, RIGHT, TOP, BOTTOM = 90, 20, 60, 110
SERIES = (("ref_mps", "reference formulation (float32, 30 000-query chunks)", (150, 150, 150)),
          ("before_mps", "our renderer before the speed-ups", (150, 190, 235)),
          ("ours_mps", "our renderer now", (30, 90, 180)))


def load_rows(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    data = json.loads(path.read_text())
    return data["machine"], data["rows"]


def font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """Pillow's bundled font (it has no "×": labels use "x")."""
    return ImageFont.load_default(size=size)


def draw(rows: list[dict[str, Any]], before: dict[tuple[str, float], float], title: str,
         subtitle: str) -> Image.Image:
    """The chart: groups of bars (one per series with a value) per method and scale."""
    for r in rows:
        r["before_mps"] = before.get((r["method"], r["scale"]))
    series = [s for s in SERIES if any(r.get(s[0]) for r in rows)]
    values = [r[key] for r in rows for key, _, _ in series if r.get(key)]
    lo = 10 ** math.floor(math.log10(min(values)))
    hi = 10 ** math.ceil(math.log10(max(values)))
    img = Image.new("RGB", (WIDTH, HEIGHT), "white")
    d = ImageDraw.Draw(img)
    plot_h = HEIGHT - TOP - BOTTOM

    def y_of(v: float) -> float:
        return TOP + plot_h * (1 - (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)))

    d.text((LEFT, 12), title, fill="black", font=font(20))
    d.text((LEFT, 36), subtitle, fill=(80, 80, 80), font=font(13))
    decade = lo
    while decade <= hi:
        y = y_of(decade)
        d.line([(LEFT, y), (WIDTH - RIGHT, y)], fill=(225, 225, 225))
        d.text((LEFT - 8, y), f"{decade:g}", fill="black", font=font(13), anchor="rm")
        decade *= 10
    d.text((18, TOP + plot_h / 2), "MP/s", fill="black", font=font(14), anchor="lm")
    group_w = (WIDTH - LEFT - RIGHT) / len(rows)
    bar_w = group_w * 0.8 / len(series)
    for i, r in enumerate(rows):
        x0 = LEFT + i * group_w + group_w * 0.1
        for j, (key, _, colour) in enumerate(series):
            if r.get(key):
                d.rectangle([x0 + j * bar_w, y_of(r[key]), x0 + (j + 1) * bar_w - 1, TOP + plot_h],
                            fill=colour)
        cx = LEFT + (i + 0.5) * group_w
        d.text((cx, TOP + plot_h + 6), f"x{r['scale']:g}", fill="black", font=font(12), anchor="mt")
        if i == 0 or rows[i - 1]["method"] != r["method"]:
            d.text((x0, TOP + plot_h + 26), r["method"], fill="black", font=font(14), anchor="lt")
            if i:
                x = LEFT + i * group_w
                d.line([(x, TOP), (x, TOP + plot_h + 40)], fill=(190, 190, 190))
    d.line([(LEFT, TOP + plot_h), (WIDTH - RIGHT, TOP + plot_h)], fill="black")
    for j, (_, label, colour) in enumerate(series):
        x = LEFT + j * 460
        d.rectangle([x, HEIGHT - 34, x + 14, HEIGHT - 20], fill=colour)
        d.text((x + 20, HEIGHT - 27), label, fill="black", font=font(13), anchor="lm")
    return img


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--before", type=Path, default=None)
    parser.add_argument("--title", default="ZoomSR decoder throughput")
    args = parser.parse_args(argv)
    machine, rows = load_rows(args.results)
    before = {}
    if args.before:
        before = {(r["method"], r["scale"]): r["ours_mps"] for r in load_rows(args.before)[1]}
    subtitle = (f"{machine['cpu']}, {machine['torch_threads']} torch thread(s), {machine['device']}; "
                f"256x256 LR input, random weights at paper sizes; log scale")
    draw(rows, before, args.title, subtitle).save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
