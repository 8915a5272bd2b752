"""argparse types that refuse NaN, infinities and out-of-range numbers at parse time."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from typing import NoReturn


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line on stderr (no usage dump), exit status 2."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message} (see --help)", file=sys.stderr)
        sys.exit(2)


def finite_float(low: float, high: float, *, low_open: bool = False) -> Callable[[str], float]:
    """A float in ``[low, high]`` (``(low, high]`` with ``low_open``), never NaN or infinite."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value) or value > high or value < low or (low_open and value == low):
            bracket = "(" if low_open else "["
            raise argparse.ArgumentTypeError(f"must be a number in {bracket}{low:g}, {high:g}], got {text!r}")
        return value
    return parse


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """An integer in ``[low, high]``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}, got {text}")
        return value
    return parse


def pair(kind: Callable[[str], float], sep: str, name: str) -> Callable[[str], tuple]:
    """Two values of ``kind`` separated by ``sep`` (``3,4`` or ``640x480``)."""
    def parse(text: str) -> tuple:
        parts = text.lower().split(sep)
        if len(parts) != 2:
            raise argparse.ArgumentTypeError(f"expected {name}, got {text!r}")
        try:
            return kind(parts[0]), kind(parts[1])
        except argparse.ArgumentTypeError as err:
            raise argparse.ArgumentTypeError(f"expected {name}: {err}") from None
    return parse
