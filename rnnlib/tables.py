"""Small tables of results, for the chapters' printed numbers.

Used in every chapter: where the prose discusses measured numbers, the chapter shows them as a
small table instead of long printed lines, so they fit the page's column (and a phone).

    from rnnlib.tables import table
    table([("shallow", -3.9), ("deep transition", -6.0)],
          columns=("architecture", "log10 gain"), digits=2)

A :class:`Table` displays as HTML in the built book and in Jupyter, as Markdown where that is
preferred, and as aligned plain text elsewhere (a terminal, nbval). NumPy only.
"""
from __future__ import annotations

import html
import numbers

import numpy as np

__all__ = ["Table", "table"]


def _format(value, digits):
    """A cell's text: numbers to ``digits`` significant digits, arrays as short lists."""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        value = float(value)
        if not np.isfinite(value):
            return str(value)
        return f"{value:.{digits}g}"
    if isinstance(value, np.ndarray) or isinstance(value, (list, tuple)):
        items = [_format(v, digits) for v in np.ravel(np.asarray(value, dtype=object))]
        return "[" + ", ".join(items) + "]"
    return str(value)


class Table:
    """Rows of cells with column headings; ``_repr_html_`` and ``_repr_markdown_`` display it."""

    def __init__(self, rows, columns, caption=None, digits=3):
        self.columns = [str(c) for c in columns]
        self.rows = [[_format(cell, digits) for cell in row] for row in rows]
        self.caption = caption

    def _repr_html_(self):
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row)
                       + "</tr>" for row in self.rows)
        caption = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        return (f'<table class="rnnlib-table">{caption}<thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table>")

    def _repr_markdown_(self):
        def line(cells):
            return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"
        lines = [line(self.columns), line(["---"] * len(self.columns))]
        lines += [line(row) for row in self.rows]
        if self.caption:
            lines.insert(0, f"*{self.caption}*\n")
        return "\n".join(lines)

    def __str__(self):
        table = [self.columns] + self.rows
        widths = [max(len(row[i]) for row in table) for i in range(len(self.columns))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in table]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return ((self.caption + "\n") if self.caption else "") + "\n".join(lines)

    def __repr__(self):
        return str(self)


def table(rows, columns, caption=None, digits=3):
    """A :class:`Table` of ``rows`` (sequences of cells) under the headings ``columns``.

    Numbers are shown to ``digits`` significant digits, booleans as yes/no. Every row must
    have one cell per column.
    """
    if isinstance(columns, str) or not hasattr(columns, "__len__") or len(columns) == 0:
        raise TypeError(f"columns must be a non-empty sequence of headings, got {columns!r}")
    if isinstance(digits, bool) or not isinstance(digits, numbers.Integral) or digits < 1:
        raise ValueError(f"digits must be a positive integer, got {digits!r}")
    rows = list(rows)
    for i, row in enumerate(rows):
        if isinstance(row, str) or not hasattr(row, "__len__"):
            raise TypeError(f"rows[{i}] must be a sequence of cells, got {type(row).__name__}")
        if len(row) != len(columns):
            raise ValueError(f"rows[{i}] has {len(row)} cells, but there are {len(columns)} "
                             "columns")
    return Table(rows, columns, caption, int(digits))
