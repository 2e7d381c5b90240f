"""`make bench-report`: the plots of the last `make bench` run and of the last
`make bench-scale` run, drawn from their figures (docs/bench/results.json,
docs/bench/scale.json) into PNGs next to them, which docs/benchmarks.md embeds."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from bench.run import FIGURES
from bench.scale.run import FIGURES as SCALE_FIGURES
from bench.scale.run import TARGET_P99_GROWTH


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


def _log_y(ax: Any, label: str) -> None:
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_ylabel(label)


def _size_axis(ax: Any, orders: list[int]) -> None:
    ax.set_xscale("log")
    ax.set_xticks(orders, [f"{n:,}" for n in orders])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("orders in the databases (log scale)")


def growth_plot(scale: dict[str, Any], path: Path) -> None:
    """p99 of every request kind against the number of orders (log-log): the
    order path, stock and relay lags on the left, analytics' reports on the right."""
    sizes = scale["sizes"]
    orders = [size["size"] for size in sizes]
    kinds = list(sizes[0]["requests"])
    panels = [
        ("order path, stock, relay lag", [k for k in kinds if not k.startswith("report ")]),
        ("analytics reports (default filters)", [k for k in kinds if k.startswith("report ")]),
    ]
    fig, axes = plt.subplots(1, 2, figsize=(12, 5), sharey=True)
    for ax, (title, shown) in zip(axes, panels, strict=True):
        for kind in shown:
            p99 = [size["requests"].get(kind, {}).get("p99_ms", math.nan) for size in sizes]
            ax.plot(orders, p99, marker="o", label=kind.removeprefix("report "))
        _size_axis(ax, orders)
        _log_y(ax, "p99 (ms, log scale)")
        ax.set_title(title)
        ax.legend(fontsize="small", loc="upper left")
        ax.grid(True, which="major", alpha=0.3)
    fig.suptitle(f"p99 per request against size (target: at most {TARGET_P99_GROWTH}x growth)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def rebuild_plot(scale: dict[str, Any], path: Path) -> None:
    """Rebuild time against the number of orders, with linear growth from the
    smallest size rebuilt; next to it, resident memory per process."""
    sizes = scale["sizes"]
    orders = [size["size"] for size in sizes]
    fig, (ax, memory) = plt.subplots(1, 2, figsize=(12, 4.5))
    rebuilt = [size for size in sizes if size["rebuild"]]
    if rebuilt:
        seconds = [size["rebuild"]["seconds"] for size in rebuilt]
        first = rebuilt[0]["size"]
        ax.plot([size["size"] for size in rebuilt], seconds, "o-", label="rebuild time")
        ends = [first, orders[-1]]
        ax.plot(ends, [seconds[0] * n / first for n in ends], "k:", label="linear growth")
    _size_axis(ax, orders)
    _log_y(ax, "analytics rebuild (s, log scale)")
    ax.set_title("Rebuild time (target: at most linear)")
    ax.legend(loc="upper left")
    for name in sizes[-1]["memory_mb"]:
        resident = [size["memory_mb"].get(name, {}).get("resident", math.nan) for size in sizes]
        memory.plot(orders, resident, marker="o", label=name)
    _size_axis(memory, orders)
    memory.set_ylabel("resident memory (MB)")
    memory.set_title("Resident memory per process")
    memory.legend(fontsize="small", loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def scale_plots(path: Path) -> list[Path]:
    """The growth plots of `make bench-scale`, next to its figures."""
    scale = json.loads(path.read_text())
    drawn = [path.parent / "scale-p99.png", path.parent / "scale-rebuild.png"]
    growth_plot(scale, drawn[0])
    rebuild_plot(scale, drawn[1])
    return drawn


def main() -> int:
    parser = argparse.ArgumentParser(prog="make bench-report", description=__doc__)
    parser.add_argument("figures", type=Path, nargs="?", default=FIGURES)
    parser.add_argument(
        "--scale",
        type=Path,
        default=SCALE_FIGURES,
        help="the figures of `make bench-scale` (drawn when the file exists)",
    )
    parser.add_argument("--only-scale", action="store_true", help="draw the scale plots only")
    args = parser.parse_args()
    drawn = []
    if not args.only_scale:
        figures = json.loads(args.figures.read_text())
        folder = args.figures.parent
        drawn = [folder / "rounds.png", folder / "latency.png", folder / "cpu.png"]
        rounds_plot(figures, drawn[0])
        latency_plot(figures, drawn[1])
        cpu_plot(figures, drawn[2])
    if args.scale.exists():
        drawn += scale_plots(args.scale)
    print("plots: " + ", ".join(str(path) for path in drawn))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
