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
  * full-page screenshots at 1280 and 390 px, light and dark, go to ``artifacts/screenshots/``
    as ``<page>_<width>_<theme>.png`` (``RNNBOOK_SCREENSHOTS`` overrides).
The page is opened once (``audits``: tests/page_audit.js measures it in the page, axe-core from
node_modules is injected) at a 1280 px window (the text column is 688 px) and a 390 px phone,
in light and dark mode; ``test_page_quality[<page>-<check>]`` then runs each check of
tests/page_checks.py (QUALITY_CHECKS): the article fits its column at both widths (code cells
may scroll at 390 px only); no raw TeX, "©", tqdm residue, empty output box or nbgrader marker
in the text (hidden solutions included); plot text >= 11 px and SVG diagram text >= 12 px at the
column's width (plotly: the SVG text drawn in the page; matplotlib: the smallest font that
rnnlib.book records in every PNG, scaled by the drawn width); axe-core WCAG 2.1 AA without a
serious or critical violation, light and dark. What fails today is listed in
tests/known_page_defects.py (KNOWN_DEFECTS) as strict xfails: a fix must remove its entry. The
measurements go to ``artifacts/page_audit.json``; ``python tests/page_checks.py
artifacts/page_audit.json markdown`` writes them as a report.
Then: a plotly slider moved by a mouse click changes the plotted data (``test_slider``); code and
written solutions are hidden until their toggle is clicked (``test_solutions``); the exercise
link in a solution's dropdown title only follows the link (no JavaScript error, no dropdown
toggled: _static/togglebutton-title-click.js); the search page
finds a chapter's term, and its results show math as text, never raw TeX (search-tex.js);
solution cells say "Show the solution" and show no nbgrader markers; the launch buttons point
to the Binder and Colab of _config.yml.

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

from browser import (full_page_screenshot, missing_browser, reset_viewport, serve, set_viewport,
                     start_chromium)
from conftest import ROOT, toc_files
from known_page_defects import KNOWN_DEFECTS
from page_checks import CHECK_FUNCTIONS, QUALITY_CHECKS

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


# --------------------------------------------------------------------------- the page audit
# Every page is opened once (``audits``) and measured at two widths and in both colour modes;
# test_page and test_page_quality read the results.
AUDIT_JS = Path(__file__).with_name("page_audit.js").read_text(encoding="utf-8")
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"  # pinned in package.json (npm ci)
WIDTHS = (1280, 390)  # a laptop window (the text column is 688 px) and a phone
THEMES = ("light", "dark")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]  # WCAG 2.1 AA
#: Dark mode changes colours only (pydata-sphinx-theme swaps CSS variables; the DOM is the same),
#: so dark mode runs the WCAG 2.1 AA rules whose outcome can depend on the mode: colours, and
#: what is shown or named per mode (theme-specific images, the colour-mode button's name).
AXE_DARK_RULES = ["color-contrast", "link-in-text-block", "image-alt", "svg-img-alt",
                  "role-img-alt", "input-image-alt", "label-content-name-mismatch",
                  "button-name", "link-name"]
AUDIT_RECORD = Path(os.environ.get("RNNBOOK_PAGE_AUDIT", ROOT / "artifacts" / "page_audit.json"))

AFTER_RESIZE = """
const done = arguments[arguments.length - 1];
(async () => {
  const t0 = Date.now();
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  await sleep(150);
  // plotly's responsive figures follow the new width (after a resize event)
  const fitted = () => [...document.querySelectorAll('.plotly-graph-div')].every(g => {
    const svg = g.querySelector('.main-svg');
    return !svg || Math.abs(svg.getBoundingClientRect().width - g.getBoundingClientRect().width) < 2;
  });
  while (!fitted() && Date.now() - t0 < 4000) await sleep(50);
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  done(Date.now() - t0);
})();
"""

AXE_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: arguments[0], resultTypes: ['violations']})
  .then(r => done(r.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help, count: v.nodes.length,
      nodes: v.nodes.slice(0, 6).map(n => ({target: n.target.join(' '), html: n.html.slice(0, 160),
                                           summary: (n.failureSummary || '').slice(0, 300)}))}))))
  .catch(e => done({error: String(e)}));
"""


def _stem(entry: str) -> str:
    return Path(entry).name


def _shot(entry: str, width: int, theme: str) -> Path:
    return SCREENSHOTS / f"{_stem(entry)}_{width}_{theme}.png"


def _settle(driver) -> None:
    driver.execute_async_script(AFTER_RESIZE)


def _axe(driver, theme: str) -> list[dict]:
    """axe-core's violations on the open page: every WCAG 2.1 AA rule in light mode, the
    mode-dependent ones (AXE_DARK_RULES, all tagged WCAG 2.1 AA) in dark mode."""
    run_only = ({"type": "tag", "values": AXE_TAGS} if theme == "light"
                else {"type": "rule", "values": AXE_DARK_RULES})
    result = driver.execute_async_script(AXE_RUN, run_only)
    if isinstance(result, dict):
        raise RuntimeError(f"axe-core failed in the page: {result['error']}")
    return result


def _png_font_records(site_html: Path, page_url: str, images: list[dict]) -> list[dict]:
    """For every output image: its smallest text as drawn in the page (rnnlib.book's PNG
    record scaled by the drawn width over the image's own width), or why it is unknown."""
    from urllib.parse import urljoin, urlparse

    from rnnlib.book import read_png_font_record

    out = []
    for image in images:
        if not image["output"]:
            continue
        path = site_html / urlparse(urljoin(page_url, image["src"])).path.lstrip("/")
        entry = {**image, "file": path.name}
        if path.suffix.lower() != ".png" or not path.is_file():
            entry["problem"] = f"not a PNG file of the site ({image['src']}): its text cannot be measured"
        else:
            record = read_png_font_record(path.read_bytes())
            if record is None:
                entry["problem"] = ("no font record: not shown through rnnlib.book.setup()'s "
                                    "matplotlib formatter, so its text size is unknown")
            elif record[0] != float("inf"):
                scale = image["width"] / image["natural_width"] if image["natural_width"] else 0
                entry.update(min_px=round(record[0] * scale, 1), text=record[1],
                             scale=round(scale, 3))
        out.append(entry)
    return out


def _audit_page(driver, site: str, site_html: Path, entry: str) -> dict:
    """Open ``entry`` once and measure everything the page checks need (see QUALITY_CHECKS)."""
    if not AXE_JS.is_file():
        pytest.fail(f"axe-core is missing ({AXE_JS}): run `npm ci` (package.json pins it)",
                    pytrace=False)
    start = time.perf_counter()
    steps: dict[str, float] = {}

    clock = [start]

    def lap(name: str) -> None:  # time spent per step, for the printed summary
        now = time.perf_counter()
        steps[name] = round(steps.get(name, 0) + now - clock[0], 1)
        clock[0] = now

    url = site + _html_name(entry)
    set_viewport(driver, 1280)
    driver.get_log("browser")  # drop messages of earlier pages
    try:
        _open(driver, url)
        driver.execute_script(AUDIT_JS)
        driver.execute_script("rnnbookAudit.setTheme('light')")
        audit = {"entry": entry, "report": driver.execute_script(PAGE_REPORT), "steps": steps}
        errors = _console_errors(driver)
        audit["text"] = driver.execute_script("return rnnbookAudit.text()")
        driver.execute_script(AXE_JS.read_text(encoding="utf-8"))
        lap("load")
        audit["axe"], audit["screenshots"] = {}, []
        for theme in THEMES:
            driver.execute_script(f"rnnbookAudit.setTheme('{theme}')")
            _settle(driver)
            audit["axe"][theme] = _axe(driver, theme)
            lap("axe")
            full_page_screenshot(driver, _shot(entry, 1280, theme), width=1280)
            audit["screenshots"].append(str(_shot(entry, 1280, theme)))
            lap("screenshots")
        set_viewport(driver, 390)
        for theme in reversed(THEMES):
            driver.execute_script(f"rnnbookAudit.setTheme('{theme}')")
            _settle(driver)
            full_page_screenshot(driver, _shot(entry, 390, theme), width=390)
            audit["screenshots"].append(str(_shot(entry, 390, theme)))
            lap("screenshots")
        # every hidden block open (solutions, hidden code), then the widths are measured
        driver.execute_script("rnnbookAudit.openAll()")
        _settle(driver)
        audit["layout"] = {"390": driver.execute_script("return rnnbookAudit.layout(true)")}
        set_viewport(driver, 1280)
        _settle(driver)
        audit["layout"]["1280"] = driver.execute_script("return rnnbookAudit.layout(false)")
        lap("layout")
        audit["figures"] = driver.execute_script("return rnnbookAudit.figures()")
        audit["figures"]["png"] = _png_font_records(site_html, url, audit["figures"]["images"])
        audit["console_errors"] = errors + _console_errors(driver)
        lap("figures")
    finally:
        reset_viewport(driver)
    audit["seconds"] = round(time.perf_counter() - start, 1)
    return audit


def _widest(layout: dict) -> str:
    if layout["offenders"]:
        o = layout["offenders"][0]
        return (f"{o['width']} px {o['kind']} ({o['how']}) in \"{o['section']}\" "
                f"[{o['path']}]: {o['text'][:50]!r}")
    return f"none wider than {layout['column']} px"


@pytest.fixture(scope="module")
def audits(browser, site, site_html):
    """Per page, the audit of _audit_page, made on first use; written to AUDIT_RECORD at the end."""
    done: dict[str, dict] = {}

    def get(entry: str) -> dict:
        if entry not in done:
            done[entry] = _audit_page(browser, site, site_html, entry)
            a = done[entry]
            print(f"\n{entry}: audited in {a['seconds']} s {a['steps']}; widest at 1280: "
                  f"{_widest(a['layout']['1280'])}; at 390: {_widest(a['layout']['390'])}")
        return done[entry]

    yield get
    if done:  # merged into the record of earlier runs (a run of a few pages keeps the others)
        AUDIT_RECORD.parent.mkdir(parents=True, exist_ok=True)
        try:
            record = json.loads(AUDIT_RECORD.read_text())
        except (OSError, ValueError):
            record = {}
        record.update(json.loads(json.dumps(done, default=str)))
        AUDIT_RECORD.write_text(json.dumps(record, indent=1, ensure_ascii=False))
        print(f"\npage audit of {len(done)} pages in {AUDIT_RECORD}")


# --------------------------------------------------------------------------- every page
@pytest.mark.parametrize("entry", PAGES)
def test_page(entry, audits, site, timings, path_alt):
    audit = audits(entry)
    report, errors = audit["report"], audit["console_errors"]
    timings[entry] = audit["seconds"]

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
          f"{report['widgets']} widget views; screenshots {', '.join(audit['screenshots'])}")
    assert not problems, f"{entry} ({site}{_html_name(entry)}):\n" + "\n".join(problems)


# --------------------------------------------------------------------------- quality checks
def _quality_params():
    params = []
    for entry in PAGES:
        known = KNOWN_DEFECTS.get(entry, {})
        for check in QUALITY_CHECKS:
            marks = []
            if check in known:
                marks.append(pytest.mark.xfail(strict=True, reason=f"known defect: {known[check]}"))
            params.append(pytest.param(entry, check, id=f"{_stem(entry)}-{check}", marks=marks))
    return params


@pytest.mark.parametrize("entry,check", _quality_params())
def test_page_quality(entry, check, audits):
    """One check of QUALITY_CHECKS on one page. A page listed for this check in KNOWN_DEFECTS
    (tests/known_page_defects.py) is a strict xfail: fixing it makes this test fail until its
    entry is removed."""
    problems = CHECK_FUNCTIONS[check](audits(entry))
    assert not problems, f"{entry}: {QUALITY_CHECKS[check]}:\n" + "\n".join(problems)


def test_known_defects_name_pages_and_checks():
    """KNOWN_DEFECTS lists only pages of the toc and checks that exist, each with its detail."""
    unknown_pages = sorted(set(KNOWN_DEFECTS) - set(PAGES))
    unknown_checks = sorted({c for checks in KNOWN_DEFECTS.values() for c in checks}
                            - set(QUALITY_CHECKS))
    empty = sorted(f"{p}:{c}" for p, checks in KNOWN_DEFECTS.items()
                   for c, detail in checks.items() if not detail.strip())
    assert not (unknown_pages or unknown_checks or empty), (unknown_pages, unknown_checks, empty)


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


SEARCH_RESULTS = """
const list = document.querySelector('#search-results');
const items = list ? [...list.querySelectorAll('li')] : [];
const status = list && list.querySelector('.search-summary');
return {done: !!status && /found|match/i.test(status.textContent) &&
              items.every(li => li.querySelector('.context')),
        items: items.length, text: list ? list.innerText : ''};
"""
#: Raw TeX a search result must not show (a command, a braced script or a dollar).
SEARCH_TEX = re.compile(r"\\[A-Za-z]+|[_^]\{|\$")
#: Terms found in titles and text holding math (exercise 16's \theta, section (b)'s \hat{y}).
SEARCH_TERMS = ("theta", "logistic", "hidden")
#: _static/search-tex.js's converter, against what a reader should see.
TEX_TO_TEXT = {
    r"\mathbf{h}^{(t)}": "h⁽ᵗ⁾",
    r"\hat{y} = \sigma(\mathbf{x}^\top \mathbf{w} + b)": "ŷ = σ(xᵀw + b)",
    r"\frac{\partial J_2}{\partial \mathbf{U}}": "(∂J₂)/(∂U)",
    r"\lVert \mathbf{W} \rVert_2^{T-k}": "‖W‖₂ᵀ⁻ᵏ",
    r"\mathbf{H} = \max\{0, \mathbf{X}\mathbf{W} + \mathbf{b}\}": "H = max{0, XW + b}",
    r"b_f": "b_f",
}


def test_search_results_show_no_raw_tex(browser, site):
    """Search summaries and result titles show math as readable text (h⁽ᵗ⁾, θ), never raw TeX
    (Sphinx builds them from the pages' TeX source; _static/search-tex.js converts it)."""
    problems = []
    for term in SEARCH_TERMS:
        browser.get(f"{site}search.html?q={term}")
        state = _wait(lambda: (lambda r: r if r["done"] else None)(
            browser.execute_script(SEARCH_RESULTS)), 20)
        if not state:
            state = browser.execute_script(SEARCH_RESULTS)
            problems.append(f"search for {term!r} did not finish: {state['items']} results")
            continue
        if not state["items"]:
            problems.append(f"search for {term!r} found nothing")
        for line in state["text"].splitlines():
            if SEARCH_TEX.search(line):
                problems.append(f"search for {term!r}: raw TeX in {line.strip()[:120]!r}")
    converted = browser.execute_script(
        "return arguments[0].map(t => window.rnnbookTexToText ? rnnbookTexToText(t) : null)",
        list(TEX_TO_TEXT))
    for (tex, expected), got in zip(TEX_TO_TEXT.items(), converted):
        if got != expected:
            problems.append(f"rnnbookTexToText({tex!r}) = {got!r}, expected {expected!r}")
    assert not _console_errors(browser)
    assert not problems, "\n".join(problems)


def _solution_cells(entry: str) -> list[dict]:
    path = ROOT / (entry.removesuffix(".ipynb") + ".ipynb")
    if not path.is_file():
        return []
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [c for c in cells if c["cell_type"] == "code"
            and (c.get("metadata", {}).get("nbgrader") or {}).get("solution")]


@pytest.mark.parametrize("entry", PAGES)
def test_solution_cells_say_show_the_solution(entry, site_html):
    """Every hidden solution cell's toggle says "Show the solution" (not myst-nb's "Show code
    cell source"), and no page shows nbgrader's markers (rnnbook/sphinx_ext.py strips them at
    render time; the notebooks keep them for the student edition and the grader)."""
    cells = _solution_cells(entry)
    hidden = [c for c in cells if "hide-input" in c.get("metadata", {}).get("tags", [])]
    if not cells:
        pytest.skip("no nbgrader solution cells in this page's notebook")
    html = _page_html(site_html, entry)
    labelled = html.count('<p class="collapsed admonition-title">Show the solution</p>')
    assert labelled == len(hidden), (
        f"{labelled} toggles say 'Show the solution', {len(hidden)} hidden solution cells")
    markers = re.findall(r"###\s*(?:BEGIN|END) SOLUTION", re.sub(r"<[^>]+>", "", html))
    assert not markers, f"{len(markers)} nbgrader markers on the page"


def test_launch_buttons_point_to_binder_and_colab(browser, site):
    """The rocket menu opens the chapter's student edition (student/<chapter>.ipynb) in Binder
    and Colab (rnnbook.sphinx_ext rewrites sphinx-book-theme's links to book/<chapter>.ipynb)."""
    from selenium.webdriver.common.by import By

    entry = _chapter_with_notebook()
    student = "student/" + entry.rsplit("/", 1)[-1]
    launch, repo = CONFIG["launch_buttons"], CONFIG["repository"]
    org_repo = repo["url"].rstrip("/").removeprefix("https://github.com/")
    branch = repo.get("branch", "main")
    expected = {
        "Binder": f"{launch['binderhub_url'].rstrip('/')}/v2/gh/{org_repo}/{branch}"
                  f"?urlpath=lab/tree/{student}.ipynb",
        "Colab": f"{launch['colab_url'].rstrip('/')}/github/{org_repo}/blob/{branch}/{student}.ipynb",
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
