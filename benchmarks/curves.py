"""Learning curves of training runs: validation PSNR (Set5 ×4, Y) against wall-clock hours.

    python -m benchmarks.curves OUT.png NAME=RUN/log.csv [NAME=…] [--line "LIIF=32.24"] [--title T]

Each ``log.csv`` is a run's log (``training/runlog.py``): the rows with a ``val_psnr`` are
plotted at their ``elapsed_s``; ``NAME@PSNR=…`` adds the run's start (step 0, time 0), which the
log does not hold. ``--line`` draws a horizontal reference (the authors' LIIF, bicubic).
Pillow only, like ``benchmarks/plot.py``.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from PIL import Image, ImageDraw

from benchmarks.plot import font

WIDTH, HEIGHT = 1100, 620
LEFT, RIGHT, TOP, BOTTOM = 80, 260, 60, 60
LEGEND_ROW = 20  # px per run in the legend
COLOURS = ((30, 90, 180), (200, 80, 40), (40, 150, 70), (140, 60, 170), (180, 140, 20), (20, 150, 160),
           (200, 40, 120))


def read_curve(path: Path) -> list[tuple[float, float]]:
    """``(hours, psnr)`` of every validated row of a run log, in order of time."""
    with path.open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("val_psnr")]
    if not rows:
        raise ValueError(f"{path} has no validation rows")
    return sorted((float(r["elapsed_s"]) / 3600, float(r["val_psnr"])) for r in rows)


def parse_run(arg: str) -> tuple[str, list[tuple[float, float]]]:
    """``NAME=PATH`` or ``NAME@START=PATH`` (START: the PSNR at step 0)."""
    name, sep, path = arg.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected NAME=log.csv, got {arg!r}")
    name, _, start = name.partition("@")
    curve = read_curve(Path(path))
    return name, ([(0.0, float(start))] if start else []) + curve


def parse_line(arg: str) -> tuple[str, float]:
    name, sep, value = arg.rpartition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected NAME=PSNR, got {arg!r}")
    return name, float(value)


def draw(runs: list[tuple[str, list[tuple[float, float]]]], lines: list[tuple[str, float]],
         title: str) -> Image.Image:
    """Polylines of the runs, dashed reference lines, axes in hours and dB."""
    values = [p for _, c in runs for _, p in c] + [v for _, v in lines]
    lo, hi = int(min(values)) - 0.5, int(max(values)) + 1.0
    t_max = max(t for _, c in runs for t, _ in c) * 1.05
    img = Image.new("RGB", (WIDTH, HEIGHT), "white")
    d = ImageDraw.Draw(img)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def xy(t: float, p: float) -> tuple[float, float]:
        return LEFT + plot_w * t / t_max, TOP + plot_h * (1 - (p - lo) / (hi - lo))

    d.text((LEFT, 14), title, fill="black", font=font(20))
    db = int(lo) + 1
    while db <= hi:
        _, y = xy(0, db)
        d.line([(LEFT, y), (LEFT + plot_w, y)], fill=(228, 228, 228))
        d.text((LEFT - 8, y), f"{db}", fill="black", font=font(13), anchor="rm")
        db += 1
    step = 0.25 if t_max <= 2 else 0.5
    t = 0.0
    while t <= t_max:
        x, _ = xy(t, lo)
        d.text((x, TOP + plot_h + 8), f"{t:g} h", fill="black", font=font(13), anchor="mt")
        t += step
    d.text((14, TOP + plot_h / 2), "dB", fill="black", font=font(14), anchor="lm")
    for name, value in lines:
        _, y = xy(0, value)
        for x in range(LEFT, LEFT + plot_w, 12):
            d.line([(x, y), (min(x + 6, LEFT + plot_w), y)], fill=(110, 110, 110), width=2)
        d.text((LEFT + plot_w + 8, y), f"{name} {value:.2f}", fill=(90, 90, 90), font=font(13), anchor="lm")
    legend_x, legend_y = LEFT + plot_w - 330, TOP + plot_h - 14 - LEGEND_ROW * len(runs)
    for i, (name, curve) in enumerate(runs):
        colour = COLOURS[i % len(COLOURS)]
        points = [xy(t, p) for t, p in curve]
        if len(points) > 1:
            d.line(points, fill=colour, width=3)
        for x, y in points:
            d.ellipse([x - 3, y - 3, x + 3, y + 3], fill=colour)
        y = legend_y + LEGEND_ROW * i  # the legend: bottom right, where PSNR curves never go
        d.line([(legend_x, y), (legend_x + 24, y)], fill=colour, width=3)
        d.text((legend_x + 32, y), f"{name}: {curve[-1][1]:.2f} dB", fill=colour, font=font(13),
               anchor="lm")
    d.rectangle([LEFT, TOP, LEFT + plot_w, TOP + plot_h], outline="black")
    return img


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("runs", nargs="+", type=parse_run, metavar="NAME[@START]=LOG")
    parser.add_argument("--line", action="append", type=parse_line, default=[], metavar="NAME=PSNR")
    parser.add_argument("--title", default="Set5 x4 PSNR (Y) against training time, 2-core CPU")
    args = parser.parse_args(argv)
    draw(args.runs, args.line, args.title).save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
