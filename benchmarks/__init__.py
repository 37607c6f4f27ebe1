"""Benchmarks (run each script with ``--help``) and the support they share with the tests."""
