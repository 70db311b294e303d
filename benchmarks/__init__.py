"""Benchmarks: commands that measure, print medians, and are quoted in docs/benchmarks.md."""
