"""Plain-text tables for the terminal and for PR comments (they read as Markdown too)."""

from __future__ import annotations

from collections.abc import Sequence


def render(
    headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int] | None = None
) -> str:
    """A Markdown pipe table with padded columns; ``right`` are right-aligned column indexes."""
    right = right or set()
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if i in right else ("-" * (w + 2)) for i, w in enumerate(widths)
        )
        + "|"
    )
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


def money(amount: float) -> str:
    return f"{amount:,.2f}"


def signed(amount: float) -> str:
    return f"{amount:+,.2f}" if round(amount, 2) else "0.00"
