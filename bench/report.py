"""`make bench-report`: the plots of the last `make bench` run, drawn from its figures
(docs/bench/results.json) into PNGs next to them, which docs/benchmarks.md embeds."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

from bench.run import FIGURES


def rounds_plot(figures: dict[str, Any], path: Path) -> None:
    """Throughput of the platform and of the baseline per round, with the platform's p99."""
    rounds = figures["rounds"]
    numbers = [r["round"] for r in rounds]
    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.38
    ax.bar(
        [n - width / 2 for n in numbers],
        [r["platform_orders_per_s"] for r in rounds],
        width,
        label="platform",
    )
    ax.bar(
        [n + width / 2 for n in numbers],
        [r["baseline_orders_per_s"] for r in rounds],
        width,
        label="baseline (driver only)",
    )
    ax.set_xlabel("round")
    ax.set_ylabel("confirmed orders / s")
    ax.set_xticks(numbers)
    latency = ax.twinx()
    latency.plot(numbers, [r["platform_p99_ms"] for r in rounds], "k.--", label="platform p99")
    latency.set_ylabel("platform p99 (ms)")
    handles = ax.get_legend_handles_labels()
    extra = latency.get_legend_handles_labels()
    ax.legend(handles[0] + extra[0], handles[1] + extra[1], loc="lower right")
    ax.set_title("Throughput and p99 per round (closed loop at peak)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def latency_plot(figures: dict[str, Any], path: Path) -> None:
    """Latency distribution (share of requests at or below a latency), peak and half."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, label in (("peak", "peak (closed loop)"), ("half", "half the peak rate")):
        values = sorted(v for v in figures[name]["latencies_ms"] if not math.isnan(v))
        if values:
            shares = [(i + 1) / len(values) for i in range(len(values))]
            ax.plot(values, shares, label=f"{label}, {len(values)} orders")
    ax.axvline(100, color="grey", linestyle=":", label="p99 target at half peak (100 ms)")
    ax.axhline(0.99, color="grey", linestyle="--", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("latency (ms, log scale)")
    ax.set_ylabel("share of orders")
    ax.legend(loc="lower right")
    ax.set_title("Order latency distribution")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def cpu_plot(figures: dict[str, Any], path: Path) -> None:
    """CPU per confirmed order by process, platform against baseline (stacked)."""
    cpu = figures["cpu_ms_per_order"]
    names = sorted({name for run in cpu.values() for name in run})
    fig, ax = plt.subplots(figsize=(7, 4))
    runs = ["platform", "baseline"]
    bottoms = [0.0, 0.0]
    for name in names:
        values = [cpu[run].get(name, 0.0) for run in runs]
        ax.bar(runs, values, bottom=bottoms, label=name)
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    ax.set_ylabel("CPU ms per confirmed order")
    ax.set_title(f"CPU per order: platform / baseline = {figures['cpu_ratio']:.2f} (target 1.4)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(prog="make bench-report", description=__doc__)
    parser.add_argument("figures", type=Path, nargs="?", default=FIGURES)
    args = parser.parse_args()
    figures = json.loads(args.figures.read_text())
    folder = args.figures.parent
    rounds_plot(figures, folder / "rounds.png")
    latency_plot(figures, folder / "latency.png")
    cpu_plot(figures, folder / "cpu.png")
    print(f"plots: {folder}/rounds.png, latency.png, cpu.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
