"""Training of ZoomSR's arbitrary-scale SR methods on ``sr_core`` (see docs/TRAINING.md).

Recipes (``training/configs``) → :mod:`training.recipe`; images in memory →
:mod:`training.images`; batches → :mod:`training.sampling`; losses and optimiser steps →
:mod:`training.objectives`; the loop → :mod:`training.trainer`; command line →
:mod:`training.cli`. The evaluation harness (``training.evaluate`` and ``eval_*``) is
documented in docs/EVALUATION.md. Never imports Qt or ``app``.
"""
