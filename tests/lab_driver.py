"""Helpers of the real-kernel browser test (tests/test_jupyterlab.py) and of
benchmarks/bench_widget_redraw.py: JupyterLab from this environment, driven in headless Chromium
(named lab_driver, not jupyterlab, so it never shadows the jupyterlab package on sys.path).

* :func:`start_lab` starts ``jupyter lab`` from the project's environment on 127.0.0.1 at a free
  port with a random token, with its own temporary config, data-free settings, runtime and
  workspace folders (a student's Binder configuration: postBuild applied, nbgrader disabled), the
  application exposed as ``window.jupyterapp`` and notebooks rendered without windowing (every
  cell in the page, so its outputs can be read). It stops the server, its kernels and their
  process group at the end.
* :class:`Lab` opens a notebook, runs all cells through JupyterLab's own command, waits for
  the kernel, reads outputs, edits a cell through the notebook model and runs it; and moves the
  controls of an ``rnnlib.widgets`` live figure, timing each change from the browser event to
  plotly's last ``plotly_afterplot`` (the redrawn figure).
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

#: JupyterLab settings for the test: no windowing (every cell stays in the DOM), no news or
#: update checks (no network), no "Kernel" notifications in the way.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                       "checkForUpdates": False},
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def start_lab(root_dir: Path, timeout: float = 120):
    """Yield (base URL, token) of a JupyterLab serving ``root_dir``; stop everything at the end."""
    home = Path(tempfile.mkdtemp(prefix="rnnbook-lab-"))
    config, settings = home / "config", home / "settings"
    for name, value in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    port, token = _free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k not in ("RNNBOOK_BUILD", "TQDM_DISABLE",
                                                            "RNNLIB_EXERCISE_LOG", "JPY_SESSION_NAME")}
    env.update(JUPYTER_CONFIG_DIR=str(config), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
               IPYTHONDIR=str(home / "ipython"), MPLBACKEND="module://matplotlib_inline.backend_inline",
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}")
    # the student's Binder configuration: postBuild disables nbgrader at the user level
    subprocess.run(["bash", str(ROOT / "postBuild")], env=env, cwd=home, check=True,
                   capture_output=True, timeout=300)
    log = open(home / "lab.log", "w")
    proc = subprocess.Popen(
        [str(BIN / "jupyter"), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root_dir}",
         "--LabApp.expose_app_in_browser=True", "--ServerApp.open_browser=False",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.extension_manager=readonly",              # no package index queries
         "--ContentsManager.allow_hidden=False"]
        + (["--ServerApp.allow_root=True"] if os.geteuid() == 0 else []),   # CI runs as root
        env=env, cwd=root_dir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"JupyterLab did not start:\n{(home / 'lab.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield base, token, home
    finally:
        try:   # a clean stop: the server shuts its kernels down
            req = urllib.request.Request(f"{base}/api/shutdown?token={token}", method="POST")
            urllib.request.urlopen(req, timeout=10).close()
            proc.wait(20)
        except Exception:
            pass
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        try:      # anything left in the server's process group (kernels)
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        log.close()
        shutil.rmtree(home, ignore_errors=True)


# JavaScript run in the page (Selenium's execute_async_script: the last argument is the callback)
_JS_PANEL = """
const app = window.jupyterapp;
const panel = app.shell.currentWidget;
"""

JS_WAIT_READY = _JS_PANEL + """
const done = arguments[arguments.length - 1];
(async () => {
  try {
    await panel.context.ready; await panel.sessionContext.ready;
    const until = Date.now() + 60000;
    while (!(panel.sessionContext.session && panel.sessionContext.session.kernel &&
             panel.sessionContext.session.kernel.status === 'idle') && Date.now() < until)
      await new Promise(r => setTimeout(r, 200));
    done({ok: true, status: panel.sessionContext.session.kernel.status, path: panel.context.path});
  } catch (e) { done({ok: false, error: String(e)}); }
})();
"""

JS_RUN_ALL = _JS_PANEL + """
const done = arguments[arguments.length - 1];
(async () => {
  try {
    await app.commands.execute('notebook:run-all-cells');
    done({ok: true});
  } catch (e) { done({ok: false, error: String(e)}); }
})();
"""

JS_CELLS = _JS_PANEL + """
return panel.content.widgets.map((cell, i) => {
  const m = cell.model;
  const out = m.type === 'code' ? m.outputs.toJSON() : [];
  return {index: i, type: m.type, source: m.sharedModel.getSource(),
          execution_count: m.type === 'code' ? m.executionCount : null,
          pending: cell.promptNode ? cell.promptNode.textContent.includes('*') : false,
          outputs: out.map(o => ({output_type: o.output_type, name: o.name || null,
                                  ename: o.ename || null, evalue: o.evalue || null,
                                  text: [].concat(o.text || (o.data && o.data['text/plain']) || []).join('')}))};
});
"""

JS_KERNEL_STATUS = _JS_PANEL + "return panel.sessionContext.session.kernel.status;"

JS_RUN_CELL = _JS_PANEL + """
const [index, source] = [arguments[0], arguments[1]];
const done = arguments[arguments.length - 1];
(async () => {
  try {
    const cell = panel.content.widgets[index];
    if (source !== null) cell.model.sharedModel.setSource(source);
    panel.content.activeCellIndex = index;
    await app.commands.execute('notebook:run-cell');
    const until = Date.now() + 120000;
    while ((cell.model.executionCount === null || cell.promptNode.textContent.includes('*') ||
            panel.sessionContext.session.kernel.status !== 'idle') && Date.now() < until)
      await new Promise(r => setTimeout(r, 100));
    done({ok: true, outputs: cell.model.outputs.toJSON()});
  } catch (e) { done({ok: false, error: String(e)}); }
})();
"""

# Every live figure of rnnlib.widgets on the page: its controls and its plotly div
JS_FIGURES = """
return [...document.querySelectorAll('.rnnlib-live-figure')].map((fig, f) => {
  const gd = fig.querySelector('.js-plotly-plot');
  const controls = [...fig.querySelectorAll('.rnnlib-control')].map((box, c) => {
    const label = box.querySelector('.rnnlib-control-label');
    const slider = box.querySelector('.widget-slider, .widget-hslider');
    const track = slider && (slider.querySelector('.noUi-target') || slider.querySelector('.slider-container'));
    const select = box.querySelector('select');
    const input = box.querySelector('input[type=number], input[type=text]');
    const button = box.querySelector('button');
    return {index: c, label: label ? label.textContent : '',
            kind: slider ? 'slider' : select ? 'dropdown' : button ? 'button' : input ? 'text' : 'other',
            track_px: track ? track.getBoundingClientRect().width : null,
            box_px: box.getBoundingClientRect().width};
  });
  return {index: f, has_plot: !!(gd && gd.data), traces: gd && gd.data ? gd.data.length : 0, controls};
});
"""

JS_FIGURE_DATA = """
const fig = document.querySelectorAll('.rnnlib-live-figure')[arguments[0]];
const gd = fig.querySelector('.js-plotly-plot');
return gd.data.map(t => ({x: Array.from(t.x || []).map(Number), y: Array.from(t.y || []).map(Number)}));
"""

# Arm the timer: the first input event on the control starts it, every plotly_afterplot of the
# figure after it moves the end mark.
JS_ARM = """
const [f, c, kind] = [arguments[0], arguments[1], arguments[2]];
const fig = document.querySelectorAll('.rnnlib-live-figure')[f];
const box = fig.querySelectorAll('.rnnlib-control')[c];
const gd = fig.querySelector('.js-plotly-plot');
window.__rnn = {t0: null, t1: null, plots: 0};
const start = () => { if (window.__rnn.t0 === null) window.__rnn.t0 = performance.now(); };
// the user's action that changes the value: an arrow key on a slider's handle, a new option of
// a dropdown, Enter in a number field, a click on a button
const type = {slider: 'keydown', dropdown: 'change', button: 'click'}[kind] || 'keydown';
const listener = (e) => { if (kind === 'text' && e.key !== 'Enter') return; start(); };
box.addEventListener(type, listener, {capture: true});
if (!gd.__rnnHooked) {
  gd.on('plotly_afterplot', () => { if (window.__rnn && window.__rnn.t0 !== null) {
    window.__rnn.t1 = performance.now(); window.__rnn.plots += 1; } });
  gd.__rnnHooked = true;
}
return true;
"""

JS_TIMING = "return window.__rnn;"


class Lab:
    """One browser tab on a JupyterLab started by :func:`start_lab`."""

    def __init__(self, driver, base, token):
        self.driver, self.base, self.token = driver, base, token

    def shutdown_kernels(self):
        """Shut every kernel of the server down (one chapter at a time on two cores)."""
        with urllib.request.urlopen(f"{self.base}/api/sessions?token={self.token}", timeout=20) as r:
            sessions = json.loads(r.read())
        for session in sessions:
            req = urllib.request.Request(f"{self.base}/api/sessions/{session['id']}?token={self.token}",
                                         method="DELETE")
            urllib.request.urlopen(req, timeout=30).close()

    def open(self, path, timeout=120):
        self.driver.get("about:blank")
        self.shutdown_kernels()
        self.driver.get(f"{self.base}/lab/tree/{path}?reset&token={self.token}")
        deadline = time.time() + timeout
        while time.time() < deadline:
            ready = self.driver.execute_script(
                "const a = window.jupyterapp; const w = a && a.shell && a.shell.currentWidget;"
                "return !!(w && w.context && w.sessionContext && w.context.path === arguments[0]);", path)
            if ready:
                break
            time.sleep(0.5)
        else:
            raise TimeoutError(f"JupyterLab did not open {path}")
        self.driver.set_script_timeout(90)
        result = self.driver.execute_async_script(JS_WAIT_READY)
        assert result["ok"] and result["status"] == "idle", result
        return result

    def run_all(self, timeout=600):
        start = time.time()
        self.driver.set_script_timeout(timeout)
        result = self.driver.execute_async_script(JS_RUN_ALL)
        assert result["ok"], result
        deadline = time.time() + timeout
        while time.time() < deadline:
            cells = self.cells()
            code = [c for c in cells if c["type"] == "code"]
            if (all(c["execution_count"] is not None and not c["pending"] for c in code)
                    and self.driver.execute_script(JS_KERNEL_STATUS) == "idle"):
                return cells, time.time() - start
            time.sleep(1)
        raise TimeoutError(f"run all did not finish in {timeout} s")

    def cells(self):
        return self.driver.execute_script(JS_CELLS)

    def run_cell(self, index, source=None):
        self.driver.set_script_timeout(150)
        result = self.driver.execute_async_script(JS_RUN_CELL, index, source)
        assert result["ok"], result
        return result["outputs"]

    def figures(self):
        return self.driver.execute_script(JS_FIGURES)

    def figure_data(self, figure):
        return self.driver.execute_script(JS_FIGURE_DATA, figure)

    def _control(self, figure, control):
        from selenium.webdriver.common.by import By

        fig = self.driver.find_elements(By.CSS_SELECTOR, ".rnnlib-live-figure")[figure]
        return fig.find_elements(By.CSS_SELECTOR, ".rnnlib-control")[control]

    def move(self, figure, control, kind, quiet=0.4, timeout=20):
        """Change one control as a user would; return the milliseconds from the browser event to
        the last redraw of the figure (None if the figure never redrew)."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys
        from selenium.webdriver.support.ui import Select

        box = self._control(figure, control)
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
        if kind == "slider":
            handle = box.find_element(By.CSS_SELECTOR, ".noUi-handle")
            self.driver.execute_script("arguments[0].focus()", handle)
            self.driver.execute_script(JS_ARM, figure, control, kind)
            ActionChains(self.driver).send_keys(Keys.ARROW_RIGHT).perform()
            self._wait_redraw(timeout, quiet)   # a slider at its maximum moves left next time
            return self._last
        self.driver.execute_script(JS_ARM, figure, control, kind)
        if kind == "dropdown":
            select = Select(box.find_element(By.CSS_SELECTOR, "select"))
            options = [o.get_attribute("value") for o in select.options]
            current = select.first_selected_option.get_attribute("value")
            select.select_by_value(options[(options.index(current) + 1) % len(options)])
        elif kind == "button":
            box.find_element(By.CSS_SELECTOR, "button").click()
        else:
            field = box.find_element(By.CSS_SELECTOR, "input")
            value = int(field.get_attribute("value") or 0) + 1
            field.send_keys(Keys.CONTROL, "a")
            field.send_keys(str(value), Keys.ENTER)
        self._wait_redraw(timeout, quiet)
        return self._last

    def _wait_redraw(self, timeout, quiet):
        """Wait until the figure has redrawn and stayed quiet for ``quiet`` s; self._last is the
        milliseconds from the user's action to the last redraw (None: no redraw)."""
        deadline, last, seen = time.time() + timeout, None, None
        self._last = None
        while time.time() < deadline:
            timing = self.driver.execute_script(JS_TIMING)
            if timing and timing["t1"] is not None and timing["t0"] is not None:
                if last == timing["t1"] and time.time() - seen >= quiet:
                    self._last = timing["t1"] - timing["t0"]
                    return
                if last != timing["t1"]:
                    last, seen = timing["t1"], time.time()
            time.sleep(0.05)

    def console_errors(self):
        return [entry for entry in self.driver.get_log("browser") if entry.get("level") == "SEVERE"]
