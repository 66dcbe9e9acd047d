"""``python -m rnnbook.exercises list [--chapter NAME] [--json]``: every exercise of the book.

Prints one line per exercise (label, chapter, kind, points, title, and the notebook it appears
in), in the book's chapter order, then the count per chapter. The rows come from the same scan
of the notebooks and the registry as the book's exercise index page (rnnbook/exercise_index.py).
``check`` prints where the notebooks and the registry disagree and exits with status 1 if they do.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from rnnbook import exercise_index as index

# The book's chapter order (_toc.yml); chapters not listed follow alphabetically.
CHAPTER_ORDER = ["sequence_modeling", "computational_graphs", "recurrence", "rnn_equations",
                 "design_patterns", "bptt", "exploding_vanishing", "gated_cells", "recursive"]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m rnnbook.exercises",
                                     description="List the book's exercises.")
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="print the table of exercises")
    listing.add_argument("--chapter", help="only this chapter (notebook name without .ipynb)")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.add_argument("--book", type=Path, default=index.BOOK_DIR, help="the book's folder")
    agree = sub.add_parser("check", help="report where notebooks and registry disagree")
    agree.add_argument("--book", type=Path, default=index.BOOK_DIR, help="the book's folder")
    args = parser.parse_args(argv)

    if args.command == "check":
        problems = index.mismatches(args.book)
        print("\n".join(problems) if problems else "notebooks and registry agree")
        return 1 if problems else 0

    rows = index.index_rows(args.book, CHAPTER_ORDER)
    if args.chapter:
        rows = [row for row in rows if row.chapter == args.chapter]
        if not rows:
            print(f"no exercises for chapter {args.chapter!r}", file=sys.stderr)
            return 2
    if args.json:
        print(json.dumps([asdict(row) for row in rows], indent=1))
    else:
        print(index.text_table(rows))
        print()
        print(index.summary(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
