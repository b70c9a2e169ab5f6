"""Benchmarks: tonghop against a hand-written script and against the physical bound.

``python -m bench`` (see docs/benchmarks.md) generates synthetic provinces, runs every stage of
a full, an unchanged and an incremental cycle against the Sheets emulator, runs the usual
script (baseline a) in the same run, computes the physical bound (baseline b), and writes
``bench/results/`` (JSON, Markdown, PNG).
"""
