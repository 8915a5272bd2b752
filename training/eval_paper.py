"""Published PSNR (dB) to compare with, from METHODS_SPEC §7 (``--paper``).

Rows are labelled like ours (``<encoder>-<method>``, see ``training.evaluate.method_label``);
every benchmark row of §7.2 uses the RDN encoder. Numbers are only shown next to a result
computed in the same protocol and space with the default shave. Sources: L = LIIF, U =
UltraSR, I = IPE, D = DIIF, C = CLIT, G = CiSRGAN (see the spec); M = the standard bicubic
row of the EDSR/RCAN tables (MATLAB protocol).
"""

from __future__ import annotations

from dataclasses import dataclass

DIV2K_SCALES = (2, 3, 4, 6, 12, 18, 24, 30)
BENCHMARK_SCALES = (2, 3, 4, 6, 8, 12)


@dataclass(frozen=True)
class PaperRow:
    dataset: str
    label: str
    protocol: str
    space: str
    values: dict[float, float]
    source: str


# label, one value per scale ("-": not reported), source
_DIV2K = """
Bicubic        31.01 28.22 26.66 24.82 22.27 21.00 20.19 19.59  L, U, D, C
EDSR-LIIF      34.67 30.96 29.00 26.75 23.71 22.17 21.18 20.48  L
EDSR-UltraSR   34.69 31.02 29.05 26.81 23.75 22.21 21.21 20.51  U
EDSR-IPE-LIIF  34.72 31.01 29.04 26.79 23.75 22.21 21.22 20.51  I
EDSR-DIIF      34.69 31.00 29.03 26.79 23.75 22.21 21.22 20.52  D
EDSR-LTE       34.72 31.02 29.04 26.81 23.78 22.23 21.24 20.53  D, C
EDSR-CLIT      34.82 31.14 29.17 26.93 23.85 22.30 21.27 20.54  C
RDN-LIIF       34.99 31.26 29.27 26.99 23.89 22.34 21.31 20.59  L
RDN-UltraSR    35.00 31.30 29.32 27.03 23.93 22.36 21.33 20.61  U
RDN-IPE-LIIF   35.04 31.32 29.32 27.04 23.93 22.38 21.34 20.63  I
RDN-DIIF       35.02 31.31 29.32 27.04 23.95 22.39 21.36 20.64  D
RDN-LTE        35.04 31.32 29.33 27.04 23.95 22.40 21.36 20.64  D, C
RDN-CLIT       35.10 31.38 29.40 27.12 24.01 22.45 21.38 20.64  C
RDN-CiSRGAN    32.01 27.95 26.30 24.27 21.67 -     19.52 18.92  G
"""

_BENCHMARKS = {
    "Set5": """
RDN-LIIF       38.17 34.68 32.50 29.15 27.14 24.86  L (x12: U)
RDN-UltraSR    38.21 34.67 32.49 29.33 27.24 24.81  U
RDN-IPE-LIIF   38.11 34.68 32.51 29.25 27.22 -      I
RDN-LTE        38.23 34.72 32.61 29.32 27.26 -      C
RDN-CLIT       38.26 34.80 32.69 29.39 27.34 -      C
RDN-CiSRGAN    -     -     30.05 -     -     -      G
""",
    "Set14": """
RDN-LIIF       33.97 30.53 28.80 26.64 25.15 23.24  L (x12: U)
RDN-UltraSR    33.97 30.59 28.86 26.69 25.25 23.32  U
RDN-IPE-LIIF   33.94 30.47 28.75 26.58 25.09 -      I
RDN-DIIF       34.00 30.61 28.86 26.69 25.19 -      D
RDN-LTE        34.09 30.58 28.88 26.71 25.16 -      D, C
RDN-CLIT       34.21 30.66 28.98 26.83 25.35 -      C
RDN-CiSRGAN    -     -     26.62 -     -     -      G
""",
    "B100": """
RDN-LIIF       32.32 29.26 27.74 25.98 24.91 23.57  L (x12: U)
RDN-UltraSR    32.35 29.29 27.77 26.01 24.96 23.59  U
RDN-IPE-LIIF   32.31 29.28 27.76 26.00 24.93 -      I
RDN-DIIF       32.27 29.28 27.75 25.98 24.94 -      D
RDN-LTE        32.36 29.30 27.77 26.01 24.95 -      D, C
RDN-CLIT       32.39 29.34 27.82 26.07 25.00 -      C
RDN-CiSRGAN    -     -     25.72 -     -     -      G
""",
    "Urban100": """
RDN-LIIF       32.87 28.82 26.68 24.20 22.79 21.15  L (x12: U)
RDN-UltraSR    32.97 28.92 26.78 24.30 22.87 21.20  U
RDN-IPE-LIIF   32.97 28.92 26.76 24.26 22.87 -      I
RDN-DIIF       32.97 28.90 26.79 24.23 22.84 -      D
RDN-LTE        33.04 28.97 26.81 24.28 22.88 -      D, C
RDN-CLIT       33.13 29.04 26.91 24.43 23.03 -      C
RDN-CiSRGAN    -     -     24.36 -     -     -      G
""",
    "Manga109": """
RDN-LIIF       39.26 34.21 31.20 27.33 25.04 22.36  U
RDN-UltraSR    39.09 34.28 31.32 27.42 25.12 22.42  U
""",
}

_BICUBIC_MATLAB = {"Set5": (33.66, 30.39, 28.42), "Set14": (30.24, 27.55, 26.00)}

#: dataset folder names (lower case) → the names the papers use
_ALIASES = {"div2k": "DIV2K", "div2k_valid": "DIV2K", "set5": "Set5", "set14": "Set14",
            "b100": "B100", "bsd100": "B100", "bsds100": "B100", "urban100": "Urban100",
            "manga109": "Manga109"}


def _parse(dataset: str, protocol: str, space: str, scales: tuple[int, ...],
           table: str) -> list[PaperRow]:
    rows = []
    for line in table.strip().splitlines():
        label, *rest = line.split()
        values = {float(s): float(v) for s, v in zip(scales, rest) if v != "-"}
        rows.append(PaperRow(dataset, label, protocol, space, values, " ".join(rest[len(scales):])))
    return rows


PAPER_ROWS: tuple[PaperRow, ...] = (
    *_parse("DIV2K", "liif", "rgb", DIV2K_SCALES, _DIV2K),
    *(row for name, table in _BENCHMARKS.items()
      for row in _parse(name, "liif", "y", BENCHMARK_SCALES, table)),
    *(PaperRow(name, "Bicubic", "matlab", "y", dict(zip((2.0, 3.0, 4.0), values)), "M")
      for name, values in _BICUBIC_MATLAB.items()),
)


def paper_dataset(name: str) -> str:
    """The papers' name of a dataset folder (``DIV2K_valid`` → ``DIV2K``), else the name."""
    return _ALIASES.get(name.lower(), name)


def paper_row(dataset: str, label: str, protocol: str, space: str) -> PaperRow | None:
    """The published row for this dataset, method label, protocol and space, if any."""
    dataset = paper_dataset(dataset)
    return next((r for r in PAPER_ROWS if (r.dataset, r.label, r.protocol, r.space)
                 == (dataset, label, protocol, space)), None)
