"""`make bench-scale`: the platform's costs as its data grows (issue 16 items 2 and 3)."""
