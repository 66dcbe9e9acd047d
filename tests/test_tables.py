"""rnnlib.tables: small result tables (HTML, Markdown, plain text) and their bad input."""
import numpy as np
import pytest

from rnnlib.tables import table


def test_cells_are_formatted_and_escaped_in_every_representation():
    t = table([("a<b", 0.123456, True), ("c", 3, np.array([1.5, 2.0]))],
              columns=("name", "value", "extra"), caption="Results", digits=2)
    html = t._repr_html_()
    assert "<th>name</th>" in html and "a&lt;b" in html and "<td>0.12</td>" in html
    assert "<td>yes</td>" in html and "<td>[1.5, 2]</td>" in html
    assert html.count("<tr>") == 3 and "<caption>Results</caption>" in html
    markdown = t._repr_markdown_()
    assert "| name | value | extra |" in markdown and "| c | 3 | [1.5, 2] |" in markdown
    text = str(t).splitlines()
    assert text[0] == "Results" and text[1].split() == ["name", "value", "extra"]


def test_non_finite_numbers_stay_visible():
    assert "nan" in str(table([(float("nan"),)], columns=("x",)))


@pytest.mark.parametrize("rows, columns, digits, error, words", [
    ([(1, 2)], ("a",), 3, ValueError, "rows[0] has 2 cells"),
    ([1], ("a",), 3, TypeError, "rows[0] must be a sequence"),
    ([(1,)], "a", 3, TypeError, "columns must be"),
    ([(1,)], ("a",), 0, ValueError, "digits must be a positive integer"),
])
def test_bad_input_names_the_argument(rows, columns, digits, error, words):
    with pytest.raises(error, match=words.replace("[", r"\[").replace("]", r"\]")):
        table(rows, columns, digits=digits)
