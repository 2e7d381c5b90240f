"""CSV for people's spreadsheets, safe from formula injection (OWASP "CSV
Injection"): a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is written with a leading single quote, so Excel, LibreOffice and
Google Sheets show it as text instead of evaluating it (``=HYPERLINK(...)`` in a
distributor's name stays a name).

Only text is neutralised: numbers (``int``, ``float``, ``Decimal``) are written as
numbers, so ``-1500`` paise stays a negative number a spreadsheet can sum. A
number that arrives as text (``"-5"``) is text and gets the quote; the platform
keeps amounts as integers, so that only happens to free text. Every CSV the
platform writes goes through :func:`csv_text`."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str | int | float | Decimal:
    """One cell as written: None empty, dates ISO 8601, numbers as numbers, text
    neutralised when a spreadsheet would read it as a formula."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """A header line and one line per row, every cell through :func:`csv_cell`."""
    out = io.StringIO()
    # RFC 4180 line ends: with them the writer also quotes a cell holding a bare
    # carriage return, which would otherwise end the row early.
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_cell(column) for column in columns])
    for row in rows:
        writer.writerow([csv_cell(row.get(column)) for column in columns])
    return out.getvalue()
