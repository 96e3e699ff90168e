"""Benchmarks, run with `python -m bench`: medians of repeated runs, each beside its comparison."""
