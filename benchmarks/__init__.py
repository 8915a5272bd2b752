"""Runnable benchmark scripts (``python -m benchmarks.<name>``); they print tables."""
