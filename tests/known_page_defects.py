"""KNOWN_DEFECTS: what each page fails today, check by check (tests/test_browser.py).

Each entry makes that page's test_page_quality[<page>-<check>] a strict xfail: when a
fix makes the check pass, the test fails until the entry is removed. Measured by the
browser tests (artifacts/page_audit.json) and written with
``python tests/page_checks.py artifacts/page_audit.json known``; the failing test's
message gives every offender (CSS path, section, text). Remove entries, never add
them for new pages: a new page passes every check.
"""

KNOWN_DEFECTS: dict[str, dict[str, str]] = {
    'book/recurrence': {
        'fits_1280':
            '8 wider than 688 px or scrolling (6 code cell, 1 code block, 1 widget); widest 987 px code cell in "The hidden-state dynamics widget"',
    },
    'book/rnn_equations': {
        'fits_1280':
            '9 wider than 688 px or scrolling (7 code cell, 2 code block); widest 854 px code cell in "The forward pass, step by step"',
    },
    'book/design_patterns': {
        'fits_390':
            '31 wider than 358 px or scrolling (28 widget, 2 display equation, 1 span); widest 616 px widget in "Skip connections help training"',
    },
    'book/bptt': {
        'fits_390':
            '8 wider than 358 px or scrolling (4 widget, 3 display equation, 1 output); widest 673 px display equation in "The chain rule for U"',
    },
    'book/exploding_vanishing': {
        'fits_390':
            '4 wider than 358 px or scrolling (2 display equation, 1 span, 1 widget); widest 553 px display equation in "Why: a product of Jacobians"',
    },
    'book/gated_cells': {
        'fits_390':
            '8 wider than 358 px or scrolling (4 display equation, 4 widget); widest 838 px display equation in "The constant error carousel"',
    },
    'book/recursive': {
        'fits_390':
            '7 wider than 358 px or scrolling (3 display equation, 3 widget, 1 span); widest 611 px display equation in "Backpropagation through structure"',
    },
}
