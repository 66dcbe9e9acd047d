"""Offline assets of the built book: MathJax, require.js and the widgets' html-manager.

Part of the build machinery (wired in by ``rnnbook/sphinx_ext.py``), not of the library.

By default myst-nb and Sphinx load MathJax, require.js and ``@jupyter-widgets/html-manager``
from CDNs, so a downloaded copy of the book shows raw ``$$`` and no widgets without a network.
The book serves all three from its own ``_static/vendor/`` instead:

====================================  ======================================================
npm package (exact pin: package.json)  files copied into ``<outdir>/_static/vendor/``
====================================  ======================================================
``mathjax`` 3                          ``mathjax/`` (``es5/tex-svg-full.js``, which needs no
                                       web fonts, and the subfolders MathJax loads lazily,
                                       e.g. for its menu; not the other combined bundles)
``requirejs``                          ``require.js``
``@jupyter-widgets/html-manager`` 1.0  ``html-manager/embed-amd.js`` and its font files (the
                                       bundle finds them next to itself)
====================================  ======================================================

plotly.js is not here: it comes from the installed plotly package (``sphinx_ext.py``). None of
these three is on PyPI in a usable form (the html-manager is npm only), so they come from the npm
registry, pinned in ``package.json``/``package-lock.json`` at the repository root. When
``node_modules/`` lacks a pinned version, the build runs ``npm ci`` once (about 30 s, npm only,
never at page-view time); ``node_modules/`` is not committed.

_config.yml points Sphinx and myst-nb at the copies (``mathjax_path``, ``nb_ipywidgets_js``).
The files are copied at ``build-finished`` rather than listed in ``html_static_path``, because
jupyter-book adds every ``.js`` under a static *folder* to every page.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
from pathlib import Path

VENDOR = "vendor"  # sub-folder of _static
#: (npm package, path inside the package, destination under _static/vendor, is_directory)
ASSETS = [
    ("mathjax", "es5", "mathjax", True),
    ("requirejs", "require.js", "require.js", False),
    ("@jupyter-widgets/html-manager", "dist/embed-amd.js", "html-manager/embed-amd.js", False),
]
#: The html-manager's fonts (font-awesome) sit next to embed-amd.js in dist/.
FONT_SUFFIXES = (".woff2", ".woff", ".ttf", ".eot", ".svg")


def _pins(root: Path) -> dict[str, str]:
    return json.loads((root / "package.json").read_text())["dependencies"]


def _missing(root: Path) -> list[str]:
    """Packages of package.json absent from node_modules or at another version."""
    missing = []
    for name, version in _pins(root).items():
        manifest = root / "node_modules" / name / "package.json"
        if not manifest.is_file() or json.loads(manifest.read_text()).get("version") != version:
            missing.append(f"{name}@{version}")
    return missing


def ensure_node_modules(root: Path) -> Path:
    """Install the pinned npm packages into ``root/node_modules`` (``npm ci``) if needed."""
    root = Path(root)
    if not (root / "package.json").is_file():
        raise RuntimeError(f"package.json not found in {root}: cannot vendor the book's JS assets")
    if not _missing(root):
        return root / "node_modules"
    with open(root / ".npm-install.lock", "w") as lock:  # two builds at once install once
        fcntl.flock(lock, fcntl.LOCK_EX)
        missing = _missing(root)
        if missing:
            npm = shutil.which("npm")
            if npm is None:
                raise RuntimeError(
                    f"the book vendors {', '.join(missing)} from npm, but npm is not installed "
                    "(install Node.js/npm, e.g. `apt-get install nodejs npm`)")
            print(f"[rnnbook] npm ci: installing {', '.join(missing)} into {root / 'node_modules'}")
            proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
                                  cwd=root, capture_output=True, text=True)
            if proc.returncode != 0 or _missing(root):
                raise RuntimeError(f"npm ci failed (exit {proc.returncode}):\n"
                                   f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return root / "node_modules"


#: The one combined MathJax bundle the pages load (_config.yml's mathjax_path).
MATHJAX_BUNDLE = "tex-svg-full.js"


def _other_mathjax_bundles(folder, names):
    """copytree filter: skip es5/'s other combined bundles (about 14 MB the pages never load).

    The subfolders (a11y/, ui/, sre/, input/, output/, adaptors/) stay: MathJax loads parts of
    them lazily, e.g. when a reader opens its menu.
    """
    if Path(folder).name != "es5":
        return []
    return [n for n in names if n.endswith(".js") and n not in (MATHJAX_BUNDLE, "startup.js", "loader.js", "core.js")]


def copy_assets(node_modules: Path, static: Path) -> None:
    """Copy the vendored files from ``node_modules`` into ``static/vendor/``."""
    dest_root = Path(static) / VENDOR
    for package, inner, dest, is_dir in ASSETS:
        source = Path(node_modules) / package / inner
        target = dest_root / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        if is_dir:
            shutil.copytree(source, target, dirs_exist_ok=True, ignore=_other_mathjax_bundles)
        else:
            shutil.copyfile(source, target)
    dist = Path(node_modules) / "@jupyter-widgets/html-manager/dist"
    for font in dist.iterdir():
        if font.suffix in FONT_SUFFIXES:
            shutil.copyfile(font, dest_root / "html-manager" / font.name)


#: embed-amd.js defines the AMD module ``@jupyter-widgets/html-manager/dist/libembed-amd`` and
#: takes its public path (where its font files are) from that module's require.js URL, by default
#: relative to the page (``book/@jupyter-widgets/...``: 404s). A global ``require`` config object,
#: read by require.js when it loads, maps the module's folder to _static/vendor/html-manager/.
WIDGETS_ASSETS_JS = (
    "if (typeof window.require === 'undefined') { window.require = {paths: {"
    "'@jupyter-widgets/html-manager/dist': new URL("
    "(document.documentElement.dataset.content_root || '') + '_static/vendor/html-manager', "
    "location.href).href}}; }"
)
#: The html-manager (ipywidgets 8) typesets widget labels with MathJax 2's
#: ``MathJax.Hub.Queue(["Typeset", MathJax.Hub, el])``; the book loads MathJax 3, which has no
#: ``Hub`` ("Cannot read properties of undefined (reading 'Queue')"). Map it onto MathJax 3.
#: MathJax is a deferred script, so it is loaded when DOMContentLoaded fires.
MATHJAX_HUB_SHIM_JS = (
    "document.addEventListener('DOMContentLoaded', function () {"
    " var MJ = window.MathJax; if (!MJ || MJ.Hub) return;"
    " MJ.Hub = {Queue: function (job) {"
    "  var el = Array.isArray(job) ? job[2] : undefined;"
    "  (MJ.startup && MJ.startup.promise ? MJ.startup.promise : Promise.resolve())"
    "   .then(function () { return MJ.typesetPromise ? MJ.typesetPromise(el ? [el] : undefined)"
    " : null; });"
    " }};"
    "});"
)


def _dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    """Drop repeated identical scripts from a page.

    sphinx-thebe's inline ``const THEBE_JS_URL = ...`` reaches every page twice: Sphinx keeps
    an inline script once with filename ``None`` and, after re-reading its registry, once with
    ``''``, which its own duplicate check treats as different. The second copy is a console
    SyntaxError ("Identifier 'THEBE_JS_URL' has already been declared").
    """
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen, unique = set(), []
    for script in scripts:
        attributes = getattr(script, "attributes", {}) or {}
        key = (str(getattr(script, "filename", script) or ""), tuple(sorted(attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app) -> None:
    """Make sure the npm packages are there (before notebooks execute); copy them at the end."""
    root = Path(app.srcdir)
    node_modules = ensure_node_modules(root)
    app.add_js_file(None, body=WIDGETS_ASSETS_JS, priority=450)  # before require.js (500)
    app.add_js_file(None, body=MATHJAX_HUB_SHIM_JS, priority=450)
    app.connect("html-page-context", _dedupe_scripts, priority=900)  # after others add scripts

    def on_build_finished(app, exception) -> None:
        if exception is None and app.builder.format == "html":
            copy_assets(node_modules, Path(app.outdir) / "_static")

    app.connect("build-finished", on_build_finished)
