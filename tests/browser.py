"""Helpers of the browser tests (tests/test_browser.py): a local server and headless Chromium.

* :func:`serve` serves a folder on 127.0.0.1 at a free port from a thread.
* :func:`start_chromium` starts Debian's Chromium (``/usr/bin/chromium``) through Debian's
  ChromeDriver (``/usr/bin/chromedriver``, same version) with Selenium. No browser or driver is
  ever downloaded (the driver's path is given, so Selenium Manager is not asked). Every host but
  127.0.0.1 is unresolvable (``--host-resolver-rules``): a page that renders is self-contained.
* :func:`set_viewport` makes the page's viewport ``width`` CSS px wide (DevTools' device
  metrics: 1280 for a laptop, 390 for a phone) without reloading; :func:`reset_viewport` goes
  back to the window's own size.
* :func:`full_page_screenshot` saves a PNG of the whole page (not only the viewport).
"""

from __future__ import annotations

import base64
import functools
import http.server
import os
import shutil
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = os.environ.get("RNNBOOK_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("RNNBOOK_CHROMEDRIVER", "/usr/bin/chromedriver")
WINDOW = (1280, 900)
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",  # we run as root in CI
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--hide-scrollbars",
    f"--window-size={WINDOW[0]},{WINDOW[1]}",
    # Every host name but 127.0.0.1 fails to resolve: a CDN script cannot load.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


def missing_browser() -> str | None:
    """Why the browser tests cannot run here (None when Chromium and its driver are present)."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not (Path(p).is_file() and os.access(p, os.X_OK))]
    if missing:
        return (f"{' and '.join(missing)} not found: install Debian's browser first "
                "(apt-get install chromium chromium-driver)")
    return None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@contextmanager
def serve(directory: Path):
    """Serve ``directory`` on http://127.0.0.1:<free port>/ while the context is open."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def start_chromium():
    """Yield a Selenium WebDriver on headless Chromium with a fresh profile; quit at the end."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="rnnbook-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def set_viewport(driver, width: int, height: int = WINDOW[1]) -> None:
    """Lay the open page out for a ``width`` x ``height`` CSS px viewport (scale 1, no reload)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": int(width), "height": int(height), "deviceScaleFactor": 1, "mobile": False})


def reset_viewport(driver) -> None:
    """Back to the window's own size (WINDOW)."""
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def full_page_screenshot(driver, path: Path, width: int = WINDOW[0], max_height: int = 30000) -> None:
    """Save a PNG of the whole page laid out ``width`` px wide, as tall as its content (at most
    ``max_height`` px); the viewport is ``width`` x WINDOW[1] again afterwards.

    The viewport is made as tall as the page for the shot (capturing beyond the viewport with
    DevTools' clip instead drew this theme's fixed layout shifted sideways).
    """
    page = driver.execute_script(
        "return Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)")
    set_viewport(driver, width, min(int(page), max_height))
    try:
        driver.execute_script("window.scrollTo(0, 0)")
        path.parent.mkdir(parents=True, exist_ok=True)
        # optimizeForSpeed: a faster, larger PNG encoding (tall pages took seconds to encode)
        shot = driver.execute_cdp_cmd("Page.captureScreenshot",
                                      {"format": "png", "optimizeForSpeed": True})
        path.write_bytes(base64.b64decode(shot["data"]))
    finally:
        set_viewport(driver, width, WINDOW[1])
