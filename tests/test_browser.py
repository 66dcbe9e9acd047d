"""The built site in a real browser, offline: every page of the toc checked in headless Chromium.

The book is the session build of conftest.py (``book_html``: built once per test run, no second
build here), served from 127.0.0.1 at a free port. Chromium resolves no other host, so anything
a page tried to take from a CDN would fail and show up below. One browser for the whole module.

For every page in _toc.yml (``test_page``):
  * every resource the page loaded came from the local server, and no script, stylesheet or
    image element points elsewhere;
  * no console error, except the third-party noise listed in ALLOWED_CONSOLE_NOISE;
  * every display (and inline) equation is typeset by MathJax (``mjx-container``) and no raw
    ``$$`` is left in the visible text (code blocks excepted);
  * every plotly figure is drawn (``.main-svg`` inside every ``.plotly-graph-div``) with the one
    shared ``_static/plotly.min.js``;
  * every saved widget view (ipywidgets state, e.g. a finished progress bar) is rendered by the
    local html-manager;
  * every image has alt text;
  * a full-page screenshot goes to ``artifacts/screenshots/`` (``RNNBOOK_SCREENSHOTS`` overrides).
Then: a plotly slider moved by a mouse click changes the plotted data (``test_slider``); code and
written solutions are hidden until their toggle is clicked (``test_solutions``); the exercise
link in a solution's dropdown title only follows the link (no JavaScript error, no dropdown
toggled: _static/togglebutton-title-click.js); the search page
finds a chapter's term; the launch buttons point to the Binder and Colab of _config.yml.

Chromium and ChromeDriver come from Debian (``apt-get install chromium chromium-driver``; CI's
.ci/run installs them). Without them these tests skip locally and fail in CI (``CI=true``).
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
import yaml

from browser import full_page_screenshot, missing_browser, serve, start_chromium
from conftest import ROOT, toc_files

PAGES = toc_files()
SCREENSHOTS = Path(os.environ.get("RNNBOOK_SCREENSHOTS", ROOT / "artifacts" / "screenshots"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())

# Console messages we allow, each with why. Anything else at level SEVERE fails the page.
ALLOWED_CONSOLE_NOISE: list[tuple[str, str]] = [
    # (regular expression on the message, reason)
    (r"/favicon\.ico - Failed to load resource",
     "the browser itself asks every site for /favicon.ico; the book has none (no page links it)"),
    (r"pydata-sphinx-theme\.js.*Got invalid theme mode: \. Resetting to auto",
     "pydata-sphinx-theme logs this with console.error on a fresh profile (no stored light/dark "
     "choice) and then picks 'auto' as intended"),
]


def _html_name(entry: str) -> str:
    return entry.removesuffix(".ipynb").removesuffix(".md") + ".html"


def _slug(entry: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", entry)


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def browser():
    why = missing_browser()
    if why:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run in CI: {why}", pytrace=False)
        pytest.skip(why)
    with start_chromium() as driver:
        yield driver


@pytest.fixture(scope="module")
def site_html(request) -> Path:
    """The built html folder: the session build (``book_html``), or, while developing these
    tests, an existing build named by ``RNNBOOK_BROWSER_HTML`` (then nothing is built)."""
    existing = os.environ.get("RNNBOOK_BROWSER_HTML")
    if existing:
        return Path(existing)
    return request.getfixturevalue("book_html")


@pytest.fixture(scope="module")
def site(site_html):
    """Base URL of the built html folder, served on 127.0.0.1."""
    with serve(site_html) as url:
        yield url


@pytest.fixture(scope="module")
def timings():
    times: dict[str, float] = {}
    yield times
    if times:
        total = sum(times.values())
        print(f"\nbrowser: {len(times)} pages in {total:.1f} s "
              f"(slowest {max(times, key=times.get)} {max(times.values()):.1f} s); "
              f"screenshots in {SCREENSHOTS}")


@pytest.fixture(scope="module")
def path_alt() -> dict[str, list[str]]:
    """Per page, the images whose alt text is only their file path (filled by test_page)."""
    return {}


# --------------------------------------------------------------------------- page scripts
WAIT_READY = """
const done = arguments[arguments.length - 1];
(async () => {
  const t0 = Date.now();
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const until = async (cond, ms) => {
    while (!cond() && Date.now() - t0 < ms) await sleep(50);
    return cond();
  };
  await until(() => document.readyState === 'complete', 20000);
  await until(() => !document.querySelector('div.math, span.math') ||
                    (window.MathJax && MathJax.startup && MathJax.startup.promise), 15000);
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    try { await MathJax.startup.promise; } catch (e) {}
  }
  const figures = () => [...document.querySelectorAll('.plotly-graph-div')];
  await until(() => figures().every(g => g.querySelector('.main-svg')), 20000);
  const views = () => [...document.querySelectorAll(
      'script[type="application/vnd.jupyter.widget-view+json"]')];
  await until(() => views().every(v => v.parentElement.querySelector('.jupyter-widgets')), 15000);
  done(Date.now() - t0);
})();
"""

PAGE_REPORT = """
const origin = location.origin;
const skip = 'pre, code, script, style, .highlight, mjx-container, .MathJax';
const texts = [];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  const node = walker.currentNode;
  const el = node.parentElement;
  if (!el || el.closest(skip)) continue;
  if (node.textContent.includes('$$')) texts.push(node.textContent.trim().slice(0, 80));
}
const remote = u => u && /^(https?:)?\\/\\//.test(u) && !u.startsWith(origin);
const figures = [...document.querySelectorAll('.plotly-graph-div')];
const views = [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')];
return {
  title: document.title,
  display_math: document.querySelectorAll('div.math').length,
  untypeset_display: [...document.querySelectorAll('div.math')]
      .filter(d => !d.querySelector('mjx-container')).map(d => d.textContent.slice(0, 80)),
  untypeset_inline: [...document.querySelectorAll('span.math')]
      .filter(d => !d.querySelector('mjx-container')).map(d => d.textContent.slice(0, 80)),
  raw_dollars: texts,
  figures: figures.length,
  undrawn: figures.filter(g => !g.querySelector('.main-svg')).map(g => g.id),
  plotly_scripts: [...document.querySelectorAll('script[src]')]
      .map(s => s.getAttribute('src')).filter(s => /plotly/.test(s)),
  images_without_alt: [...document.querySelectorAll('img')]
      .filter(i => !(i.getAttribute('alt') || '').trim()).map(i => i.getAttribute('src')),
  // myst-nb gives an output image without alt text its own file path as alt: no description.
  images_with_path_alt: [...document.querySelectorAll('img')]
      .filter(i => /^[.\\/\\w-]*\\.(png|jpe?g|svg|gif)$/i.test((i.getAttribute('alt') || '').trim()))
      .map(i => i.getAttribute('src')),
  remote_elements: [...document.querySelectorAll('script[src], link[rel=stylesheet], img, iframe')]
      .map(e => e.getAttribute('src') || e.getAttribute('href')).filter(remote),
  remote_loads: performance.getEntriesByType('resource').map(e => e.name)
      .filter(u => !u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:')),
  sliders: figures.filter(g => g.layout && (g.layout.sliders || []).length).map(g => g.id),
  widgets: views.length,
  unrendered_widgets: views.filter(v => !v.parentElement.querySelector('.jupyter-widgets')).length,
};
"""


def _console_errors(driver) -> list[str]:
    errors = []
    for entry in driver.get_log("browser"):
        if entry.get("level") != "SEVERE":
            continue
        message = entry.get("message", "")
        if not any(re.search(pattern, message) for pattern, _ in ALLOWED_CONSOLE_NOISE):
            errors.append(message)
    return errors


def _open(driver, url: str) -> float:
    driver.get(url)
    return driver.execute_async_script(WAIT_READY) / 1000


# --------------------------------------------------------------------------- every page
@pytest.mark.parametrize("entry", PAGES)
def test_page(entry, browser, site, timings, path_alt):
    start = time.perf_counter()
    browser.get_log("browser")  # drop messages of earlier pages
    _open(browser, site + _html_name(entry))
    report = browser.execute_script(PAGE_REPORT)
    errors = _console_errors(browser)
    shot = SCREENSHOTS / (_slug(entry) + ".png")
    full_page_screenshot(browser, shot)
    timings[entry] = time.perf_counter() - start

    problems = []
    if report["remote_loads"] or report["remote_elements"]:
        problems.append(f"loads from outside the site: "
                        f"{sorted(set(report['remote_loads'] + report['remote_elements']))}")
    if errors:
        problems.append("console errors:\n  " + "\n  ".join(errors))
    if report["untypeset_display"]:
        problems.append(f"display math not typeset: {report['untypeset_display'][:5]}")
    if report["untypeset_inline"]:
        problems.append(f"inline math not typeset: {report['untypeset_inline'][:5]}")
    if report["raw_dollars"]:
        problems.append(f"raw $$ in the visible text: {report['raw_dollars'][:5]}")
    if report["undrawn"]:
        problems.append(f"{len(report['undrawn'])} of {report['figures']} plotly figures not "
                        f"drawn: {report['undrawn']}")
    if report["figures"] and not any("_static/plotly.min.js" in s for s in report["plotly_scripts"]):
        problems.append(f"plotly figures without the shared _static/plotly.min.js: "
                        f"{report['plotly_scripts']}")
    if report["unrendered_widgets"]:
        problems.append(f"{report['unrendered_widgets']} of {report['widgets']} saved widget views "
                        "(e.g. progress bars) not rendered by the html-manager")
    if report["images_without_alt"]:
        problems.append(f"images without alt text: {report['images_without_alt']}")
    path_alt[entry] = report["images_with_path_alt"]
    print(f"{entry}: {timings[entry]:.1f} s, {report['display_math']} display equations, "
          f"{report['figures']} plotly figures ({len(report['sliders'])} with sliders), "
          f"{report['widgets']} widget views; "
          f"screenshot {shot}")
    assert not problems, f"{entry} ({site}{_html_name(entry)}):\n" + "\n".join(problems)


# --------------------------------------------------------------------------- sliders
def _page_html(html_dir: Path, entry: str) -> str:
    return (html_dir / _html_name(entry)).read_text(encoding="utf-8")


SLIDER_STATE = """
const gd = document.getElementById(arguments[0]);
const slider = gd.layout.sliders[0];
// What is drawn: the SVG of every trace (lines, markers, bars, heatmap images).
const drawn = [...gd.querySelectorAll('.main-svg .trace, .main-svg .glimages')].map(e => e.innerHTML);
return {data: JSON.stringify(gd.data.map(t => [t.x, t.y, t.z])), drawn: drawn.join('|'),
        active: slider.active || 0, steps: slider.steps.length};
"""


def _wait(predicate, timeout=8.0, step=0.1):
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > end:
            return value
        time.sleep(step)


@pytest.mark.parametrize("entry", PAGES)
def test_slider_changes_the_plot(entry, site_html, browser, site):
    """A reader's click on a later step of every plotly slider redraws the figure's data."""
    if not re.search(r'"sliders":\s*\[\s*\{', _page_html(site_html, entry)):
        pytest.skip("no plotly figure with a slider on this page")
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    _open(browser, site + _html_name(entry))
    ids = browser.execute_script(
        "return [...document.querySelectorAll('.plotly-graph-div')]"
        ".filter(g => g.layout && (g.layout.sliders || []).length).map(g => g.id)")
    assert ids, "the page's figures with sliders were not drawn"
    problems = []
    for fig_id in ids:
        figure = browser.find_element(By.ID, fig_id)
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", figure)
        before = browser.execute_script(SLIDER_STATE, fig_id)
        if before["steps"] < 2:
            problems.append(f"{fig_id}: slider with {before['steps']} step(s)")
            continue
        rail = figure.find_element(By.CSS_SELECTOR, ".slider-container .slider-rail-touch-rect")
        half = rail.rect["width"] / 2 - 4
        # Click near the far end of the rail from the active step: a later (or earlier) step.
        offset = half if before["active"] < before["steps"] - 1 else -half
        ActionChains(browser).move_to_element_with_offset(rail, int(offset), 0).click().perform()
        after = _wait(lambda: (lambda s: s if s["active"] != before["active"] and s["data"] != before["data"]
                               and s["drawn"] != before["drawn"] else None)(
                                   browser.execute_script(SLIDER_STATE, fig_id)))
        if not after:
            now = browser.execute_script(SLIDER_STATE, fig_id)
            problems.append(f"{fig_id}: clicking the slider changed active step "
                            f"{before['active']}->{now['active']}, data changed: "
                            f"{now['data'] != before['data']}, drawing changed: "
                            f"{now['drawn'] != before['drawn']}")
    errors = _console_errors(browser)
    if errors:
        problems.append("console errors:\n  " + "\n  ".join(errors))
    print(f"{entry}: moved {len(ids)} slider(s)")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- solutions
SOLUTIONS = """
const out = [];
document.querySelectorAll('.admonition.solution').forEach((el, i) => {
  if (!el.id) el.id = 'rnnbook-solution-' + i;
  out.push({kind: 'written solution', id: el.id,
            body: '#' + CSS.escape(el.id) + ' > :not(.admonition-title)',
            toggle: '#' + CSS.escape(el.id) + ' > .admonition-title .toggle-button'});
});
document.querySelectorAll('.cell.tag_hide-input').forEach((el, i) => {
  if (!el.id) el.id = 'rnnbook-hidden-input-' + i;
  out.push({kind: 'hidden code cell', id: el.id,
            body: '#' + CSS.escape(el.id) + ' .cell_input',
            toggle: '#' + CSS.escape(el.id) + ' details.above-input > summary'});
});
return out;
"""


@pytest.mark.parametrize("entry", PAGES)
def test_solutions_hidden_until_toggled(entry, site_html, browser, site):
    """Written solutions (sphinx-exercise dropdowns) and solution code cells (hide-input) are
    hidden when the page opens and shown by a click on their toggle."""
    html = _page_html(site_html, entry)
    if "solution" not in html and "tag_hide-input" not in html:
        pytest.skip("no solutions or hidden code on this page")
    from selenium.webdriver.common.by import By

    _open(browser, site + _html_name(entry))
    # Every nbgrader solution region in a code cell sits in a hidden cell.
    shown = browser.execute_script(
        "return [...document.querySelectorAll('.cell_input pre')]"
        ".filter(p => p.textContent.includes('### BEGIN SOLUTION') && p.checkVisibility())"
        ".map(p => p.textContent.slice(0, 80))")
    items = browser.execute_script(SOLUTIONS)
    if not items and not shown:
        pytest.skip("no solutions or hidden code on this page")
    problems = [f"solution code visible without a click: {s!r}" for s in shown]
    for item in items:
        bodies = browser.find_elements(By.CSS_SELECTOR, item["body"])
        toggles = browser.find_elements(By.CSS_SELECTOR, item["toggle"])
        if not bodies or not toggles:
            problems.append(f"{item['kind']} #{item['id']}: no body or no toggle")
            continue
        if any(b.is_displayed() for b in bodies):
            problems.append(f"{item['kind']} #{item['id']}: visible before its toggle is clicked")
            continue
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", toggles[0])
        toggles[0].click()
        if not _wait(lambda: all(b.is_displayed() for b in bodies), timeout=3):
            problems.append(f"{item['kind']} #{item['id']}: still hidden after a click")
    print(f"{entry}: {len(items)} toggles checked")
    assert not problems, "\n".join(problems)


TOGGLE_STATES = ("return [...document.querySelectorAll('.admonition.toggle')]"
                 ".map(e => e.classList.contains('toggle-hidden'))")


@pytest.mark.parametrize("entry", PAGES)
def test_link_in_solution_title_only_follows_the_link(entry, site_html, browser, site):
    """sphinx-exercise's solution title links to its exercise ("Solution to Exercise 28 (...)").
    Clicking that link inside the dropdown's clickable title follows the link, raises no
    JavaScript error and opens or closes no dropdown (sphinx-togglebutton 0.4.5 alone throws
    "button is not defined" there, or toggles the dropdown clicked last:
    _static/togglebutton-title-click.js handles such clicks first). The title's other text still
    toggles its dropdown."""
    if "solution" not in _page_html(site_html, entry):
        pytest.skip("no solutions on this page")
    from selenium.webdriver.common.by import By

    _open(browser, site + _html_name(entry))
    browser.get_log("browser")
    titles = browser.find_elements(By.CSS_SELECTOR, ".admonition.toggle > .admonition-title")
    pairs = [(t, t.find_elements(By.CSS_SELECTOR, "a[href]")) for t in titles]
    pairs = [(t, links[0]) for t, links in pairs if links]
    if not pairs:
        pytest.skip("no dropdown title with a link on this page")
    problems = []
    def click_link(k, link, when):
        href = link.get_attribute("href")
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
        before = browser.execute_script(TOGGLE_STATES)
        link.click()
        after = browser.execute_script(TOGGLE_STATES)
        if after != before:
            problems.append(f"title {k}: clicking its link {when} toggled a dropdown: "
                            f"{before} -> {after}")
        if browser.current_url != href:
            problems.append(f"title {k}: clicking its link went to {browser.current_url}, "
                            f"not {href}")
        errors = _console_errors(browser)
        if errors:
            problems.append(f"title {k}: console errors after clicking its link {when}:\n  "
                            + "\n  ".join(errors))

    for k, (title, link) in enumerate(pairs):
        click_link(k, link, "(dropdown closed)")
        # a click on the title away from the link opens the dropdown, and only this one
        before = browser.execute_script(TOGGLE_STATES)
        browser.execute_script("arguments[0].click()", title)
        opened = browser.execute_script(TOGGLE_STATES)
        if sum(a != b for a, b in zip(before, opened)) != 1:
            problems.append(f"title {k}: a click on the title toggled {before} -> {opened}")
        click_link(k, link, "(dropdown open)")
    print(f"{entry}: {len(pairs)} links in dropdown titles clicked")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- search, launch
def _chapter_with_notebook() -> str:
    for entry in PAGES:
        if (ROOT / (entry.removesuffix(".ipynb") + ".ipynb")).is_file():
            return entry.removesuffix(".ipynb")
    pytest.skip("no notebook chapter in the toc yet")


def test_search_finds_a_chapter_term(site_html, browser, site):
    """search.html?q=<a word of a chapter's title> lists that chapter."""
    from selenium.webdriver.common.by import By

    entry = _chapter_with_notebook()
    title = re.search(r"<h1[^>]*>(.*?)<", _page_html(site_html, entry), re.S).group(1)
    words = sorted(re.findall(r"[A-Za-z]{5,}", title), key=len, reverse=True)
    assert words, f"no searchable word in the title {title!r} of {entry}"
    term = words[0].lower()
    browser.get(f"{site}search.html?q={term}")
    links = _wait(lambda: [a.get_attribute("href") for a in
                           browser.find_elements(By.CSS_SELECTOR, "#search-results li a")], 15)
    assert links, f"search for {term!r} found nothing"
    assert any(_html_name(entry) in link for link in links), (
        f"search for {term!r} did not list {entry}: {links}")
    assert not _console_errors(browser)


def test_launch_buttons_point_to_binder_and_colab(browser, site):
    from selenium.webdriver.common.by import By

    entry = _chapter_with_notebook()
    launch, repo = CONFIG["launch_buttons"], CONFIG["repository"]
    org_repo = repo["url"].rstrip("/").removeprefix("https://github.com/")
    branch = repo.get("branch", "main")
    expected = {
        "Binder": f"{launch['binderhub_url'].rstrip('/')}/v2/gh/{org_repo}/{branch}"
                  f"?urlpath=lab/tree/{entry}.ipynb",
        "Colab": f"{launch['colab_url'].rstrip('/')}/github/{org_repo}/blob/{branch}/{entry}.ipynb",
    }
    _open(browser, site + _html_name(entry))
    hrefs = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "a[href]")]
    for name, url in expected.items():
        assert url in hrefs, (f"no {name} launch link {url} on {entry}; launch-like links: "
                              f"{[h for h in hrefs if 'binder' in h or 'colab' in h]}")


# Every matplotlib figure has alt text of its own, set in its code cell's metadata
# {"mystnb": {"image": {"alt": "what the figure shows"}}} (without it myst-nb writes the image's
# file path as alt). A new figure without it fails here.
@pytest.mark.parametrize("entry", PAGES)
def test_images_have_descriptive_alt_text(entry, path_alt):
    """An image's alt text describes it: a file path (myst-nb's fallback) does not count."""
    if entry not in path_alt:
        pytest.skip("test_page did not run for this page")
    assert not path_alt[entry], (f"{entry}: images whose alt text is only a file path (set "
                                 f"mystnb.image.alt in the cell's metadata): {path_alt[entry]}")


MAX_PAGE_BYTES = 2_000_000  # plotly.js (4.6 MB) inlined into a page would exceed this


def test_pages_are_small_and_share_plotly_js(site_html):
    """No page inlines plotly.js or another big script: the largest page stays under 2 MB."""
    sizes = {entry: (site_html / _html_name(entry)).stat().st_size for entry in PAGES
             if (site_html / _html_name(entry)).is_file()}
    largest = max(sizes, key=sizes.get)
    print(f"largest page: {largest} {sizes[largest] / 1e6:.2f} MB; shared _static/plotly.min.js "
          f"{(site_html / '_static' / 'plotly.min.js').stat().st_size / 1e6:.1f} MB")
    assert sizes[largest] < MAX_PAGE_BYTES, f"{largest} is {sizes[largest] / 1e6:.1f} MB"
