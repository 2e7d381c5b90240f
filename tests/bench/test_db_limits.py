"""The probe behind docs/benchmarks.md's account of the embedded database's index
ranges reads what it says it reads, on whatever database the tests run against."""

from __future__ import annotations

from bench.scale.db_limits import measure


def test_the_probe_times_each_read_and_shows_its_plan(mongo_url: str) -> None:
    rows = measure(mongo_url, [600])
    assert [row["read"] for row in rows] == [
        "owner, open range, limit",
        "owner, bounded range",
        "_id alone, bounded range",
    ]
    assert all(row["ms"] > 0 for row in rows)
    owner_reads = [row["plan"] for row in rows if row["read"].startswith("owner")]
    assert all("IXSCAN owner_1__id_-1" in plan for plan in owner_reads), owner_reads
