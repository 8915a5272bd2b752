"""Tests of the training module."""
