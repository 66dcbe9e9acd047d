"""The launch buttons open the student edition; the built pages carry no progress bars.

* :func:`rnnbook.sphinx_ext.student_launch_url` rewrites each provider's URL (Binder, Colab,
  JupyterHub through nbgitpuller) from ``book/<chapter>.ipynb`` to ``student/<chapter>.ipynb``;
* sphinx-book-theme's own ``add_launch_buttons`` (the real function, on a fake Sphinx app with a
  dummy JupyterHub URL, since _config.yml leaves ``jupyterhub_url`` empty) followed by our
  handler gives three links to the student edition;
* the built book's chapter pages link Binder and Colab to the student notebook, which exists in
  the repository, and never to the master; no page holds a tqdm bar (TQDM_DISABLE in the build).
"""
from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from conftest import ROOT, book_notebooks
from rnnbook.sphinx_ext import _student_launch_buttons, student_launch_url, student_path

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
ORG_REPO = CONFIG["repository"]["url"].rstrip("/").removeprefix("https://github.com/")
BRANCH = CONFIG["repository"].get("branch", "main")
NOTEBOOKS = book_notebooks()


def test_student_path():
    assert student_path("book/rnn_equations.ipynb") == "student/rnn_equations.ipynb"


@pytest.mark.parametrize("url, expected", [
    ("https://mybinder.org/v2/gh/o/r/main?urlpath=lab/tree/book/x.ipynb",
     "https://mybinder.org/v2/gh/o/r/main?urlpath=lab/tree/student/x.ipynb"),
    ("https://colab.research.google.com/github/o/r/blob/main/book/x.ipynb",
     "https://colab.research.google.com/github/o/r/blob/main/student/x.ipynb"),
    ("https://hub.example.edu/hub/user-redirect/git-pull?repo=https%3A//github.com/o/r"
     "&urlpath=lab/tree/r/book/x.ipynb&branch=main",
     "https://hub.example.edu/hub/user-redirect/git-pull?repo=https%3A//github.com/o/r"
     "&urlpath=lab/tree/r/student/x.ipynb&branch=main"),
    ("https://hub.example.edu/hub/user-redirect/git-pull?urlpath=lab%2Ftree%2Fr%2Fbook%2Fx.ipynb",
     "https://hub.example.edu/hub/user-redirect/git-pull?urlpath=lab%2Ftree%2Fr%2Fstudent%2Fx.ipynb"),
    # not the master's path: unchanged
    ("https://colab.research.google.com/github/o/r/blob/main/book/x.ipynb.bak",
     "https://colab.research.google.com/github/o/r/blob/main/book/x.ipynb.bak"),
    ("https://mybinder.org/v2/gh/o/r/main?urlpath=lab/tree/notbook/x.ipynb",
     "https://mybinder.org/v2/gh/o/r/main?urlpath=lab/tree/notbook/x.ipynb"),
])
def test_student_launch_url(url, expected):
    assert student_launch_url(url, "book/x.ipynb") == expected


def _theme_buttons(pagename, launch_buttons):
    """Run sphinx-book-theme's add_launch_buttons, then ours, on a fake app; the links."""
    from sphinx_book_theme.header_buttons.launch import add_launch_buttons

    theme_options = {"launch_buttons": launch_buttons, "repository_branch": BRANCH, "path_to_docs": ""}
    app = SimpleNamespace(
        env=SimpleNamespace(doc2path=lambda name: str(ROOT / f"{name}.ipynb"),
                            metadata={pagename: {"kernelspec": {"name": "python3"}}}),
        config={"html_theme_options": theme_options}, outdir=str(ROOT / "_build" / "html"))
    org, repo = ORG_REPO.split("/")
    context = {"pagename": pagename, "sourcename": f"{pagename}.ipynb", "header_buttons": [],
               "github_url": "https://github.com", "github_user": org, "github_repo": repo}
    add_launch_buttons(app, pagename, "page.html", context, None)
    before = {b["text"]: b["url"] for g in context["header_buttons"] for b in g["buttons"] if b["type"] == "link"}
    _student_launch_buttons(app, pagename, "page.html", context, None)
    after = {b["text"]: b["url"] for g in context["header_buttons"] for b in g["buttons"] if b["type"] == "link"}
    return before, after


def test_theme_buttons_are_rewritten_for_every_provider():
    chapter = NOTEBOOKS[0].stem
    launch = {**CONFIG["launch_buttons"], "jupyterhub_url": "https://hub.example.edu"}
    before, after = _theme_buttons(f"book/{chapter}", launch)
    assert set(after) == {"Binder", "JupyterHub", "Colab"}
    for provider, url in before.items():
        assert f"book/{chapter}.ipynb" in url, (provider, url)     # the theme's own link: the master
    assert after["Binder"] == (f"{launch['binderhub_url']}/v2/gh/{ORG_REPO}/{BRANCH}"
                               f"?urlpath=lab/tree/student/{chapter}.ipynb")
    assert after["Colab"] == (f"{launch['colab_url']}/github/{ORG_REPO}/blob/{BRANCH}/"
                              f"student/{chapter}.ipynb")
    repo = ORG_REPO.split("/")[1]
    assert f"urlpath=lab/tree/{repo}/student/{chapter}.ipynb" in after["JupyterHub"]
    assert after["JupyterHub"].startswith("https://hub.example.edu/hub/user-redirect/git-pull?")


def test_a_page_without_a_student_edition_keeps_its_links():
    before, after = _theme_buttons("book/not_a_chapter", CONFIG["launch_buttons"])
    assert before == after


def _hrefs(html):
    return re.findall(r'href="([^"]+)"', html)


@pytest.mark.parametrize("master", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_built_pages_launch_the_student_edition(book_html, master):
    page = book_html / "book" / f"{master.stem}.html"
    hrefs = [h.replace("&amp;", "&") for h in _hrefs(page.read_text())]
    launch = CONFIG["launch_buttons"]
    binder = (f"{launch['binderhub_url'].rstrip('/')}/v2/gh/{ORG_REPO}/{BRANCH}"
              f"?urlpath=lab/tree/student/{master.name}")
    colab = f"{launch['colab_url'].rstrip('/')}/github/{ORG_REPO}/blob/{BRANCH}/student/{master.name}"
    assert binder in hrefs and colab in hrefs, [h for h in hrefs if "binder" in h or "colab" in h]
    assert not [h for h in hrefs if f"book/{master.name}" in h and ("binder" in h or "colab" in h)]
    assert (ROOT / "student" / master.name).is_file()


TQDM_RESIDUE = re.compile(r"\d+%\|[█▉▊▋▌▍▎▏ ]*\||\d+/\d+ \[\d+:\d+<|it/s\]|FloatProgressModel|ProgressView")


def test_built_pages_hold_no_progress_bars(book_html):
    found = {}
    for page in sorted(book_html.rglob("*.html")):
        hits = TQDM_RESIDUE.findall(page.read_text(errors="replace"))
        if hits:
            found[str(page.relative_to(book_html))] = hits[:3]
    assert not found, f"tqdm bars saved into the built pages: {found}"


@pytest.mark.parametrize("document", ["README.md", "book/instructors.md"])
def test_documented_launch_links_open_the_student_edition(document):
    text = (ROOT / document).read_text()
    links = re.findall(r"https://(?:mybinder\.org|colab\.research\.google\.com)/[^\s)`\]>]+", text)
    assert links, f"no Binder or Colab link in {document}"
    for link in links:
        path = re.search(r"(?:lab/tree/|/blob/[^/]+/)(\S+)$", link)
        assert path and path[1].startswith("student"), f"{document}: {link} does not open the student edition"
        assert (ROOT / path[1]).exists(), f"{document}: {link} opens {path[1]}, which does not exist"
