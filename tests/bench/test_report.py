"""`make bench-report` draws the plots docs/benchmarks.md embeds from a run's figures."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from bench import report

PNG = b"\x89PNG\r\n\x1a\n"
# `make bench-scale` figures: two sizes, the rebuild timed at the first only.
SCALE = {
    "sizes": [
        {
            "size": orders,
            "requests": {
                "place order": {"p99_ms": 80.0 * factor},
                "report sales": {"p99_ms": 300.0 * orders / 1000},
                "relay lag, order feed": {"p99_ms": float("nan")},
            },
            "rebuild": {"seconds": 30.0} if orders == 1000 else None,
            "memory_mb": {"database": {"resident": 100.0 * factor}, "order": {"resident": 90.0}},
        }
        for orders, factor in ((1000, 1.0), (10_000, 1.5))
    ]
}


def test_the_report_draws_every_plot_from_the_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    figures = {
        "rounds": [
            {
                "round": n,
                "platform_orders_per_s": 30.0 + n,
                "platform_p50_ms": 400.0,
                "platform_p99_ms": 1100.0 + n,
                "baseline_orders_per_s": 55.0,
            }
            for n in (1, 2, 3)
        ],
        "peak": {"orders_per_s": 31.0, "latencies_ms": [300.0, 450.0, 900.0]},
        "half": {"orders_per_s": 15.5, "latencies_ms": [30.0, 45.0, float("nan")]},
        "cpu_ms_per_order": {
            "platform": {"order": 10.0, "inventory": 8.5, "database": 25.6},
            "baseline": {"order": 0.2, "database": 13.7, "client": 6.3},
        },
        "cpu_ratio": 2.27,
    }
    path = tmp_path / "results.json"
    path.write_text(json.dumps(figures))
    scale = tmp_path / "scale.json"
    scale.write_text(json.dumps(SCALE))
    monkeypatch.setattr(sys, "argv", ["bench.report", str(path), "--scale", str(scale)])
    assert report.main() == 0
    for name in ("rounds", "latency", "cpu", "scale-p99", "scale-rebuild"):
        drawn = tmp_path / f"{name}.png"
        assert drawn.read_bytes().startswith(PNG), name
        assert drawn.stat().st_size > 5_000, name
