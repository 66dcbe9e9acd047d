"""KNOWN_DEFECTS: what each page fails today, check by check (tests/test_browser.py).

Each entry makes that page's test_page_quality[<page>-<check>] a strict xfail: when a
fix makes the check pass, the test fails until the entry is removed. Measured by the
browser tests (artifacts/page_audit.json) and written with
``python tests/page_checks.py artifacts/page_audit.json known``; the failing test's
message gives every offender (CSS path, section, text). Remove entries, never add
them for new pages: a new page passes every check.
"""

KNOWN_DEFECTS: dict[str, dict[str, str]] = {
    'book/sequence_modeling': {
        'fits_1280':
            '17 wider than 688 px or scrolling (14 code cell, 2 code block, 1 display equation); widest 932 px code cell in "Many to one: sentiment"',
        'fits_390':
            '6 wider than 358 px or scrolling (4 widget, 2 display equation); widest 846 px display equation in "One to many: captioning"',
        'figure_text':
            '1 figure(s) below 11 px, smallest 8.8 px: matplotlib image d8f66dbc681bdd061295afd25bc5cef9107469c05cc9d24c7d2e4062f1cdc807.png in …',
    },
    'book/computational_graphs': {
        'fits_1280':
            '10 wider than 688 px or scrolling (8 code cell, 1 code block, 1 display equation); widest 799 px code cell in "(b) Logistic regression, y^=σ(x⊤w+b)"',
        'fits_390':
            '8 wider than 358 px or scrolling (6 svg output, 1 display equation, 1 span); widest 761 px display equation in "The unrolled RNN is a graph with shared…"',
        'raw_tex':
            '1 found, e.g. \'u^(1) = dot(x, w) u^(2) = +(u^(1), b) ŷ = σ(…\' in "(b) Logistic regression, y^=σ(x⊤w+b)"; sections: (b) Logistic regression, y^=σ… (1)',
    },
    'book/recurrence': {
        'fits_1280':
            '8 wider than 688 px or scrolling (6 code cell, 1 code block, 1 widget); widest 987 px code cell in "The hidden-state dynamics widget"',
        'fits_390':
            '3 wider than 358 px or scrolling (2 widget, 1 svg output); widest 724 px widget in "The hidden-state dynamics widget"',
        'raw_tex':
            '2 found, e.g. \'one RNN step without outputs, $\\\\mathbf{h}^{(…\' in "A system driven by an input"; sections: A system driven by an input (2)',
        'figure_text':
            '2 figure(s) below 11 px, smallest 9.6 px: plotly figure \'\' in "The hidden-state dynamics widget": smallest text 9.6 px < 11 (\'(t)\' …; plotly figure \'Hidden-state dynamics: choose the activation, move\' in "The hidden-state d…',
    },
    'book/rnn_equations': {
        'fits_1280':
            '9 wider than 688 px or scrolling (7 code cell, 2 code block); widest 854 px code cell in "The forward pass, step by step"',
        'figure_text':
            '1 figure(s) below 11 px, smallest 8.7 px: matplotlib image 2da557939ef7a62389439bd69cc8fe6f20932557104a907e51d373e2d7e72ea5.png in …',
    },
    'book/design_patterns': {
        'fits_1280':
            '13 wider than 688 px or scrolling (10 code cell, 3 code block); widest 987 px code cell in "The seq-to-one gradient"',
        'fits_390':
            '31 wider than 358 px or scrolling (28 widget, 2 display equation, 1 span); widest 616 px widget in "Skip connections help training"',
        'raw_tex':
            '4 found, e.g. \'’s state at the same step, $\\\\mathbf{h}_l^{(t…\' in "Deep RNNs: three kinds of depth"; sections: Deep RNNs: three kinds of dep… (4)',
    },
    'book/bptt': {
        'fits_1280':
            '16 wider than 688 px or scrolling (12 code cell, 4 code block); widest 995 px code cell in "A character-level language model, min-c…"',
        'fits_390':
            '8 wider than 358 px or scrolling (4 widget, 3 display equation, 1 output); widest 673 px display equation in "The chain rule for U"',
    },
    'book/exploding_vanishing': {
        'fits_1280':
            '13 wider than 688 px or scrolling (9 code cell, 4 code block); widest 934 px code block in "Vanishing gradients, and three remedies"',
        'fits_390':
            '4 wider than 358 px or scrolling (2 display equation, 1 span, 1 widget); widest 553 px display equation in "Why: a product of Jacobians"',
        'raw_tex':
            '1 found, e.g. \'bound (||W||₂)^(T−k)\' in "The gradient-norm widget"; sections: The gradient-norm widget (1)',
        'figure_text':
            '3 figure(s) below 11 px, smallest 7.1 px: plotly figure \'Gradient norms through time (T = 30, clipping at 1\' in "The gradient-norm …; matplotlib image 55426a7f9ce2abc5551be6956e5933b142c29eaf52f6e8b48bed17eaf3c9326d.png in …; matplotlib image a629303597e1e5afbbf8bbee6fb72c0f62990bb9928214b82d1b031dea7bcc6f.png in …',
    },
    'book/gated_cells': {
        'fits_1280':
            '12 wider than 688 px or scrolling (9 code cell, 2 display equation, 1 code block); widest 1081 px code cell in "The GRU: a lighter alternative"',
        'fits_390':
            '8 wider than 358 px or scrolling (4 display equation, 4 widget); widest 838 px display equation in "The constant error carousel"',
    },
    'book/recursive': {
        'fits_1280':
            '16 wider than 688 px or scrolling (14 code cell, 2 code block); widest 963 px code cell in "The price of the grammar: a parser"',
        'fits_390':
            '7 wider than 358 px or scrolling (3 display equation, 3 widget, 1 span); widest 611 px display equation in "Backpropagation through structure"',
        'raw_tex':
            '2 found, e.g. \'position i of the input x^(i)\' in "Gradients at the leaves: chain versus b…"; sections: Gradients at the leaves: chai… (2)',
    },
}
