"""Benchmarks: `python -m bench [NAME ...]`; each prints ratios measured in the same run.

A benchmark is a module here with a docstring (its first line is its title) and a
`run()` that returns a list of `harness.Ratio` / `harness.Measure`. See README.md.
"""
