"""`make bench`: the order benchmark (see docs/benchmarks.md)."""
