"""Runs the platform on one machine: the embedded database, every service as its
own process, and demo data. Used by `make dev` and by the test suite."""
