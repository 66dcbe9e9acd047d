"""KNOWN_DEFECTS: what each page fails today, check by check (tests/test_browser.py).

Each entry makes that page's test_page_quality[<page>-<check>] a strict xfail: when a
fix makes the check pass, the test fails until the entry is removed. Measured by the
browser tests (artifacts/page_audit.json) and written with
``python tests/page_checks.py artifacts/page_audit.json known``; the failing test's
message gives every offender (CSS path, section, text). Remove entries, never add
them for new pages: a new page passes every check.
"""

KNOWN_DEFECTS: dict[str, dict[str, str]] = {
}
