"""Benchmarks of the three services against references measured in the same run.

`python -m bench run` is the one command; see bench/README.md. Nothing here is part of the test
suite: results are figures in a report, never assertions.
"""
