"""The page-quality checks of the browser tests, on a page's audit (tests/test_browser.py).

A page's audit is what ``_audit_page`` in test_browser.py measured in the page (the JSON of
``artifacts/page_audit.json``, one entry per page). Each check of :data:`QUALITY_CHECKS` turns
an audit into a list of problems (empty: the page passes). test_browser.py runs every check on
every page; this module also writes the to-do list of the chapters from a recorded audit:

    python tests/page_checks.py artifacts/page_audit.json known   # KNOWN_DEFECTS, as Python
    python tests/page_checks.py artifacts/page_audit.json markdown [BEFORE.json]  # a report

No browser is needed here; the measurements are in the audit.
"""
from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

AXE_FAILING = ("serious", "critical")
MIN_FIGURE_PX = 11  # plots: smallest text at the column's width (BOOK.md, Figures)
MIN_DIAGRAM_PX = 12  # SVG diagrams (issue 13)

#: The checks of test_page_quality, each run on every page (KNOWN_DEFECTS names them).
QUALITY_CHECKS = {
    "fits_1280": "no element of the article wider than the 688 px column at a 1280 px window",
    "fits_390": "no element wider than the column at 390 px (code cells may scroll)",
    "raw_tex": "no raw TeX ($, \\mathbf, \\frac, ^( ...) in the text outside math and code",
    "copyright": "no \"©\" in the article or its contents sidebars",
    "tqdm": "no progress-bar residue (bars, it/s, 100%|)",
    "empty_output": "no empty output box",
    "solution_markers": "no ### BEGIN/END SOLUTION in a cell, opened solutions included",
    "figure_text": f"smallest text of every plot >= {MIN_FIGURE_PX} px at the column's width",
    "diagrams": f"SVG diagrams: text >= {MIN_DIAGRAM_PX} px, within the column, alt text",
    "axe_light": "axe-core WCAG 2.1 AA: no serious or critical violation (light mode)",
    "axe_dark": "axe-core WCAG 2.1 AA: no serious or critical violation (dark mode)",
}


def _fmt_offender(o: dict) -> str:
    return (f"{o['width']} px {o['kind']} ({o['how']}) in \"{o['section']}\" at {o['path']}: "
            f"{o['text'][:60]!r}")


def _check_fits(audit: dict, width: int) -> list[str]:
    layout = audit["layout"][str(width)]
    problems = [f"{layout['count']} element(s) wider than the {layout['column']} px column at "
                f"{width} px or hiding content behind a sideways scroll "
                f"({', '.join(f'{n} {k}' for k, n in layout.get('kinds', {}).items())}); "
                "the widest:"] if layout["count"] else []
    problems += ["  " + _fmt_offender(o) for o in layout["offenders"]]
    if layout["page_scroll_width"] > layout["viewport"] + 1:
        problems.append(f"the whole page scrolls sideways: {layout['page_scroll_width']} px in a "
                        f"{layout['viewport']} px window")
    return problems


def _check_text(kind: str, what: str):
    def check(audit: dict) -> list[str]:
        found = audit["text"][kind]
        return [f"{what} ({len(found)} shown, at most 15):"] + [
            f"  in \"{f['section']}\" ({f.get('kind', '')}) at {f['path']}: "
            f"{f.get('text', f.get('html', ''))!r}" for f in found] if found else []
    return check


def _check_figure_text(audit: dict) -> list[str]:
    figures, problems = audit["figures"], []
    for g in figures["plotly"]:
        if g["min_px"] is not None and g["min_px"] < MIN_FIGURE_PX:
            small = ", ".join(f"{t['text']!r} {t['px']} px" for t in g["smallest"])
            problems.append(f"plotly figure {g['title'][:50]!r} in \"{g['section']}\": smallest "
                            f"text {g['min_px']} px < {MIN_FIGURE_PX} ({small})")
    for image in figures["png"]:
        if "problem" in image:
            problems.append(f"image {image['file']} in \"{image['section']}\": {image['problem']}")
        elif "min_px" in image and image["min_px"] < MIN_FIGURE_PX:
            problems.append(
                f"matplotlib image {image['file']} in \"{image['section']}\": smallest text "
                f"{image['text']!r} {image['min_px']} px < {MIN_FIGURE_PX} (drawn "
                f"{image['width']:.0f} px wide of its {image['natural_width']} px: scale "
                f"{image['scale']})")
    return problems


def _check_diagrams(audit: dict) -> list[str]:
    problems = []
    for d in audit["figures"]["diagrams"]:
        where = f"SVG diagram in \"{d['section']}\" at {d['path']}"
        if d["min_px"] is not None and d["min_px"] < MIN_DIAGRAM_PX:
            small = ", ".join(f"{t['text']!r} {t['px']} px" for t in d["smallest"])
            problems.append(f"{where}: smallest text {d['min_px']} px < {MIN_DIAGRAM_PX} ({small})")
        if d["width"] > d["column"] + 1:
            problems.append(f"{where}: {d['width']} px wide, column {d['column']} px")
        label = d["label"]
        if not label or re.fullmatch(r"[\w./-]+\.(svg|png)", label):
            problems.append(f"{where}: no alt text (role=img with aria-label or <title>)")
        elif d["role"] != "img":
            problems.append(f"{where}: role={d['role']!r}, not 'img' (its label is not announced)")
    return problems


def _check_axe(theme: str):
    def check(audit: dict) -> list[str]:
        problems = []
        for v in audit["axe"][theme]:
            if v["impact"] in AXE_FAILING:
                problems.append(f"{v['id']} ({v['impact']}, {v['count']} element(s)): {v['help']}")
                problems += [f"    {n['target']}: {n['summary'][:200]!r}" for n in v["nodes"][:4]]
        return problems
    return check


CHECK_FUNCTIONS = {
    "fits_1280": lambda a: _check_fits(a, 1280),
    "fits_390": lambda a: _check_fits(a, 390),
    "raw_tex": _check_text("tex", "raw TeX in the text"),
    "copyright": _check_text("copyright", "\"©\" in the text"),
    "tqdm": _check_text("tqdm", "progress-bar residue"),
    "empty_output": _check_text("empty_outputs", "empty output boxes"),
    "solution_markers": _check_text("markers", "nbgrader solution markers in a cell"),
    "figure_text": _check_figure_text,
    "diagrams": _check_diagrams,
    "axe_light": _check_axe("light"),
    "axe_dark": _check_axe("dark"),
}
assert set(CHECK_FUNCTIONS) == set(QUALITY_CHECKS)


# --------------------------------------------------------------------------- summaries
def _short(text: str, n: int = 50) -> str:
    text = re.sub(r"\s+", " ", text or "").strip().replace("\u200b", "")
    return text if len(text) <= n else text[: n - 1] + "…"


def _cell(text: str) -> str:
    """Text for a Markdown table cell."""
    return text.replace("|", "\\|")


def summary(check: str, audit: dict) -> str:
    """One line saying what fails ``check`` on this page (for KNOWN_DEFECTS), or ""."""
    if not CHECK_FUNCTIONS[check](audit):
        return ""
    if check.startswith("fits_"):
        layout = audit["layout"][check.removeprefix("fits_")]
        kinds = Counter(layout.get("kinds") or Counter(o["kind"] for o in layout["offenders"]))
        o = layout["offenders"][0] if layout["offenders"] else None
        text = (f"{layout['count']} wider than {layout['column']} px or scrolling"
                + (f" ({', '.join(f'{n} {k}' for k, n in kinds.most_common())})" if kinds else ""))
        if o:
            text += f"; widest {o['width']} px {o['kind']} in \"{_short(o['section'], 40)}\""
        if layout["page_scroll_width"] > layout["viewport"] + 1:
            text += f"; the page scrolls sideways ({layout['page_scroll_width']} px)"
        return text
    if check in ("raw_tex", "copyright", "tqdm", "empty_output", "solution_markers"):
        key = {"raw_tex": "tex", "copyright": "copyright", "tqdm": "tqdm",
               "empty_output": "empty_outputs", "solution_markers": "markers"}[check]
        found = audit["text"][key]
        sections = Counter(f["section"] for f in found)
        first = found[0]
        return (f"{len(found)}{'+' if len(found) >= 15 else ''} found, e.g. "
                f"{_short(first.get('text') or first.get('html', ''), 45)!r} in "
                f"\"{_short(first['section'], 40)}\"; sections: "
                + ", ".join(f"{_short(s, 30)} ({n})" for s, n in sections.most_common(4)))
    if check == "figure_text":
        problems = CHECK_FUNCTIONS[check](audit)
        sizes = [float(m) for p in problems for m in re.findall(r"smallest text (?:'.*?' )?([\d.]+) px", p)]
        return (f"{len(problems)} figure(s) below {MIN_FIGURE_PX} px"
                + (f", smallest {min(sizes)} px" if sizes else "") + ": "
                + "; ".join(_short(p, 90) for p in problems[:3]))
    if check == "diagrams":
        return "; ".join(_short(p, 90) for p in CHECK_FUNCTIONS[check](audit)[:3])
    theme = check.split("_")[1]
    return "; ".join(f"{v['id']} ({v['impact']}, {v['count']} elements)"
                     for v in audit["axe"][theme] if v["impact"] in AXE_FAILING)


def known_defects(record: dict) -> dict[str, dict[str, str]]:
    """KNOWN_DEFECTS of a recorded audit: page -> check -> what fails."""
    table = {}
    for entry, audit in record.items():
        found = {check: summary(check, audit) for check in QUALITY_CHECKS}
        found = {c: s for c, s in found.items() if s}
        if found:
            table[entry] = found
    return table


def known_defects_python(record: dict) -> str:
    lines = ['"""KNOWN_DEFECTS: what each page fails today, check by check (tests/test_browser.py).',
             "",
             "Each entry makes that page's test_page_quality[<page>-<check>] a strict xfail: when a",
             "fix makes the check pass, the test fails until the entry is removed. Measured by the",
             "browser tests (artifacts/page_audit.json) and written with",
             "``python tests/page_checks.py artifacts/page_audit.json known``; the failing test's",
             "message gives every offender (CSS path, section, text). Remove entries, never add",
             "them for new pages: a new page passes every check.",
             '"""',
             "",
             "KNOWN_DEFECTS: dict[str, dict[str, str]] = {"]
    for entry, checks in sorted(known_defects(record).items(), key=lambda kv: _order(kv[0])):
        lines.append(f"    {entry!r}: {{")
        for check, text in checks.items():
            lines.append(f"        {check!r}:")
            lines.append(f"            {text!r},")
        lines.append("    },")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _order(entry: str) -> int:
    try:
        from conftest import toc_files
        return toc_files().index(entry)
    except Exception:  # noqa: BLE001 - order only
        return 0


def _widest(layout: dict) -> str:
    if not layout["offenders"]:
        return "fits"
    o = layout["offenders"][0]
    return f"{o['width']} px {o['kind']} (\"{_short(o['section'], 34)}\")"


def markdown(record: dict, before: dict | None = None) -> str:
    """The to-do list of the pages, in Markdown: per page what fails, widest elements, axe."""
    out = ["# Page defects: what the browser tests find on every page", "",
           "Measured by `tests/test_browser.py` (headless Chromium, 1280 px and 390 px windows, "
           "light and dark) on a fresh build; the checks are `tests/page_checks.py`, the strict "
           "xfails `tests/known_page_defects.py`. Column: 688 px at 1280, 358 px at 390.", ""]
    out += ["## Widest element per page", "",
            "| page | 1280 px: before | 1280 px: now | 390 px: before | 390 px: now |",
            "|---|---|---|---|---|"]
    for entry, audit in sorted(record.items(), key=lambda kv: _order(kv[0])):
        def cell(rec, width):
            if not rec or entry not in rec:
                return "-"
            layout = rec[entry]["layout"]
            return _widest(layout[str(width)])
        out.append(f"| {Path(entry).name} | {_cell(cell(before, 1280))} | "
                   f"{_cell(cell(record, 1280))} | {_cell(cell(before, 390))} | "
                   f"{_cell(cell(record, 390))} |")
    def axe_cell(rec, theme):
        if not rec or entry not in rec:
            return "-"
        rules = [f"{v['id']} ({v['impact']}, {v['count']})" for v in rec[entry]["axe"][theme]
                 if v["impact"] in AXE_FAILING]
        return ", ".join(rules) or "none"

    out += ["", "## axe-core: serious and critical violations (WCAG 2.1 AA)", "",
            "| page | light: before | light: now | dark: before | dark: now |",
            "|---|---|---|---|---|"]
    for entry in sorted(record, key=_order):
        out.append(f"| {Path(entry).name} | {axe_cell(before, 'light')} | "
                   f"{axe_cell(record, 'light')} | {axe_cell(before, 'dark')} | "
                   f"{axe_cell(record, 'dark')} |")
    out += ["", "## Display equations that do not fit (MathJax 3 does not break lines: split them)",
            "", "They scroll inside their own box (_static/rnnbook.css) until they are split.", "",
            "| page | section | width at 1280 (column 688) | width at 390 (column 358) | equation |",
            "|---|---|---|---|---|"]
    for entry, audit in sorted(record.items(), key=lambda kv: _order(kv[0])):
        rows = {}
        for width in ("1280", "390"):
            for o in audit["layout"][width]["offenders"]:
                if o["kind"] == "display equation":
                    row = rows.setdefault(o["path"], {"section": o["section"], "text": o["text"]})
                    row[width] = o["width"]
        for row in sorted(rows.values(), key=lambda r: -r.get("1280", 0)):
            out.append(f"| {Path(entry).name} | {_cell(_short(row['section'], 40))} | "
                       f"{row.get('1280', 'fits')} | {row.get('390', 'fits')} | "
                       f"{_cell(_short(row['text'], 60))} |")
    out += ["", "## Per page", ""]
    for entry, audit in sorted(record.items(), key=lambda kv: _order(kv[0])):
        fails = {c: CHECK_FUNCTIONS[c](audit) for c in QUALITY_CHECKS}
        fails = {c: p for c, p in fails.items() if p}
        out.append(f"### {Path(entry).name}" + ("" if fails else ": passes every check"))
        out.append("")
        axe_all = ", ".join(f"{v['id']} ({v['impact']}, {v['count']})"
                            for t in ("light", "dark") for v in audit["axe"][t]) or "none"
        out.append(f"axe violations (all impacts, light then dark): {axe_all}")
        out.append("")
        for check, problems in fails.items():
            out.append(f"- **{check}** ({QUALITY_CHECKS[check]}):")
            for p in problems[:14]:
                out.append(f"  - {p.strip()}")
        out.append("")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    record = json.loads(Path(sys.argv[1]).read_text())
    if sys.argv[2] == "known":
        print(known_defects_python(record), end="")
    else:
        before = json.loads(Path(sys.argv[3]).read_text()) if len(sys.argv) > 3 else None
        print(markdown(record, before), end="")
