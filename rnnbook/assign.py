"""The student edition: ``python -m rnnbook.assign [NOTEBOOK...] [--out student/]``.

``make student`` writes it into ``student/`` at the repository's root, which is committed: the
book's launch buttons (Binder, Colab, JupyterHub; rnnbook/sphinx_ext.py) and the links in README
and book/instructors.md open ``student/<chapter>.ipynb``, and tests/test_assign.py fails when
the committed files differ from what this module makes of the masters in ``book/``.

Each student notebook is a copy of its master in which

* each code solution, the region between ``### BEGIN SOLUTION`` and ``### END SOLUTION``, is
  replaced by ``# YOUR CODE HERE`` and ``raise NotImplementedError()`` at the region's
  indentation (the ``def`` line and docstring outside the markers stay, as nbgrader does it);
  a region at the top level of a cell that only assigns the answer (``vanishing = {...}``)
  becomes ``vanishing = None`` instead, so "Run all" does not stop there (``check`` says
  "not attempted yet" for None); the cell loses its ``hide-input`` tag, so students see the stub;
* each written solution (a sphinx-exercise ```` ```{solution} ```` block, or the cells between
  ``solution-start`` and ``solution-end``) is removed, and a markdown cell left empty is dropped;
* every markdown cell's MyST is rewritten as plain Markdown, since JupyterLab, Notebook 7 and
  Colab render no MyST (:func:`convert_myst`): an exercise becomes a bold
  "**Exercise N (title)**" line (N the built book's number: the book's exercises counted in
  _toc.yml order) and its text, math and tables; admonitions blockquotes with a bold title; a
  ``literalinclude`` with ``:pyobject:`` a fenced block holding that function's source (read with
  ast); figures Markdown images; citations the author-year of book/references.bib; references
  the section title or "Exercise N"; glue roles a note that the value is computed in a cell
  above; ``:label:``/``:class:`` options and ``(label)=`` targets vanish; any other directive
  becomes a blockquote titled by its name, any other role its text. :func:`leftover_myst` finds
  what would still show as raw MyST;
* cells that check the book's claims (tagged ``remove-cell``, holding ``assert`` or ``glue``)
  are kept but collapsed (``"jupyter": {"source_hidden": true}``, JupyterLab's and Notebook 7's
  own format): removing them could change the state later cells see (an assert's expression may
  call code that draws random numbers or trains), and a student can still open them to see the
  claims verified;
* every output and execution count is cleared, and saved widget state removed;
* everything else (the setup cell, figures' code, the ``check(...)`` cells, nbgrader metadata) is
  kept, so nbgrader's own tools and ``python -m rnnbook.grade`` work on the result.

The chapters use the library's reference implementation after each exercise, so a student
notebook runs to its last cell and every ``check`` says "not attempted yet" until solved
(tests/test_assign.py executes every student notebook to make sure).
"""
from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import re
import sys
import textwrap
from pathlib import Path

from rnnbook.notebooks import BEGIN_SOLUTION, BOOK_DIR, END_SOLUTION, cell_source, directive_blocks

STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")


class SolutionMarkerError(ValueError):
    """A cell has unbalanced or nested solution markers."""


def _assigned_names(region):
    """Names a top-level solution region only assigns (``answer = {...}``), else None."""
    try:
        tree = ast.parse("\n".join(region))
    except SyntaxError:
        return None
    names = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
            names += [t.id for t in node.targets if t.id not in names]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names += [node.target.id] if node.target.id not in names else []
        else:
            return None
    return names or None


def _stub(region, indent):
    """The stub for one solution region.

    Inside a function (indented): ``# YOUR CODE HERE`` and ``raise NotImplementedError()``, as
    nbgrader writes it. At the top level of a cell, a region that only assigns an answer
    (``vanishing = {"A", "B"}``) becomes ``vanishing = None``: a top-level ``raise`` would stop
    "Run all" at that cell, while ``check`` reports an answer of None as "not attempted yet".
    """
    names = _assigned_names(region) if not indent else None
    if names:
        return ["# YOUR CODE HERE"] + [f"{name} = None  # replace None with your answer" for name in names]
    return [indent + line for line in STUB]


def stub_solution(source, where="cell"):
    """``source`` with every BEGIN/END SOLUTION region replaced by the stub (same indentation)."""
    lines = source.split("\n")
    out, inside, indent, region = [], False, "", []
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped == BEGIN_SOLUTION:
            if inside:
                raise SolutionMarkerError(f"{where}, line {number}: nested {BEGIN_SOLUTION}")
            inside, indent, region = True, line[: len(line) - len(line.lstrip())], []
        elif stripped == END_SOLUTION:
            if not inside:
                raise SolutionMarkerError(f"{where}, line {number}: {END_SOLUTION} without {BEGIN_SOLUTION}")
            inside = False
            out.extend(_stub(region, indent))
        elif inside:
            region.append(line)
        else:
            out.append(line)
    if inside:
        raise SolutionMarkerError(f"{where}: {BEGIN_SOLUTION} without {END_SOLUTION}")
    return "\n".join(out)


# ----------------------------------------------------------------------------------------------
# MyST markdown -> plain Markdown (JupyterLab, Notebook 7 and Colab render no MyST)
# ----------------------------------------------------------------------------------------------
_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|:{3,})\s*\{(?P<name>[\w:.+-]+)\}\s*(?P<arg>.*?)\s*$")
_CODE_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_OPTION = re.compile(r"^\s*:(?P<key>[\w-]+):(?:\s+(?P<value>.*?))?\s*$")
_TARGET = re.compile(r"^\s*\((?P<label>[^()\s]+)\)=\s*$")
_HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+?)\s*#*\s*$")
# an inline code span (kept as it is) or a role {name}`body`
_ROLE_OR_CODE = re.compile(
    r"\{(?P<name>[\w:.+-]+)\}(?P<tick>`+)(?P<body>.+?)(?P=tick)"
    r"|(?P<code>(?P<ctick>`+)(?!`).+?(?P=ctick))", re.S)
_EXPLICIT = re.compile(r"^(?P<title>.*?)\s*<(?P<target>[^<>]+)>$", re.S)
_SUBSTITUTION = re.compile(r"\{\{\s*(?P<name>[\w.-]+)\s*\}\}")

#: directives rendered as a blockquote with a bold title (the title is the argument, else this)
ADMONITIONS = {
    "note": "Note", "tip": "Tip", "hint": "Hint", "important": "Important", "warning": "Warning",
    "caution": "Caution", "attention": "Attention", "danger": "Danger", "error": "Error",
    "seealso": "See also", "admonition": "", "margin": "", "sidebar": "", "topic": "",
    "dropdown": "", "epigraph": "", "pull-quote": "", "card": "", "tab-item": "", "aside": "",
}
#: directives whose content is kept as it is (converted), without a frame
TRANSPARENT = {"only", "tab-set", "grid", "grid-item", "grid-item-card", "div", "container",
               "rst-class", "cssclass", "glossary", "centered", "exercise-end", "solution-end"}
#: directives that say nothing to a notebook reader (or hold a solution): dropped
DROPPED = {"solution", "solution-start", "bibliography", "toctree", "tableofcontents",
           "exercise-index", "index", "highlight", "sectionauthor", "meta", "footbibliography",
           "contents"}
#: directives whose content is code: a fenced block (the argument names the language)
CODE_DIRECTIVES = {"code-block", "code", "sourcecode", "code-cell", "parsed-literal", "mermaid",
                   "graphviz", "eval-rst", "ipython", "jupyter-execute", "doctest", "testcode"}
#: roles whose text is code
CODE_ROLES = {"code", "samp", "file", "command", "program", "envvar", "option", "literal",
              "kbd-code", "mod", "func", "class", "meth", "attr", "obj", "data", "const", "exc"}

_LANGUAGES = {".py": "python", ".json": "json", ".yml": "yaml", ".yaml": "yaml", ".md": "markdown",
              ".sh": "bash", ".toml": "toml", ".txt": "text", ".js": "javascript", ".css": "css"}


class BookContext:
    """What rewriting a chapter's MyST needs to know about the whole book.

    ``exercise_numbers`` (label -> the book's number: sphinx-exercise numbers the exercises of
    the whole book in table-of-contents order), ``targets`` (label -> text a reference to it
    shows: a section's title, "Exercise N"), ``doc_titles`` (docname -> title), ``citations``
    (bibtex key -> (authors, year)), ``substitutions`` (MyST ``{{ name }}`` values from
    _config.yml). ``out_dir`` is where the student notebooks go (image paths are rewritten
    relative to it); ``notebook`` the master being converted and ``glue_cells`` its glue keys
    -> index of the code cell that glues them.
    """

    def __init__(self, book_dir=None, out_dir=None):
        self.book_dir = Path(book_dir or BOOK_DIR).resolve()
        self.root = self.book_dir.parent
        self.out_dir = Path(out_dir).resolve() if out_dir is not None else None
        self.exercise_numbers, self.exercise_titles, self.targets, self.doc_titles = {}, {}, {}, {}
        self.citations = _read_bib(self.book_dir / "references.bib")
        self.substitutions = _read_substitutions(self.root / "_config.yml")
        self.notebook, self.glue_cells, self.cell_index = None, {}, 0
        number = 0
        for path in _toc_paths(self.root):
            docname = str(path.relative_to(self.root).with_suffix(""))
            for kind, text in _markdown_texts(path):
                if kind == "title" and docname not in self.doc_titles:
                    self.doc_titles[docname] = text
                    continue
                lines = text.split("\n")
                for i, line in enumerate(lines):
                    target = _TARGET.match(line)
                    if target:
                        heading = next((_HEADING.match(later) for later in lines[i + 1:] if later.strip()), None)
                        if heading:
                            self.targets[target["label"]] = heading["title"]
                for name, arg, options, _ in _iter_directives(lines):
                    if name == "exercise":
                        label = options.get("label")
                        if "nonumber" in options:
                            shown = "Exercise"
                        else:
                            number += 1
                            shown = f"Exercise {number}"
                        if label:
                            self.exercise_numbers[label] = None if "nonumber" in options else number
                            self.exercise_titles[label] = arg
                            self.targets[label] = shown
                    elif name in ("figure", "table", "math") and options.get("name", options.get("label")):
                        self.targets[options.get("name", options.get("label"))] = arg or options.get("name")

    def image_path(self, path):
        """A figure's path relative to the student notebook (masters' paths are relative to book/)."""
        if re.match(r"^[a-z]+:", path) or path.startswith("/") or self.out_dir is None:
            return path
        return os.path.relpath(self.book_dir / path, self.out_dir).replace(os.sep, "/")


def _toc_paths(root):
    """The files of _toc.yml (root first), in order, that exist (.ipynb or .md)."""
    toc = Path(root) / "_toc.yml"
    if not toc.is_file():
        return sorted(Path(root, "book").glob("*.ipynb"))
    paths = []
    for entry in re.findall(r"^\s*(?:-\s*)?(?:root|file):\s*['\"]?([^'\"\s#]+)", toc.read_text(), re.M):
        for suffix in ("", ".ipynb", ".md"):
            path = Path(root) / (entry + suffix)
            if path.is_file() and path.suffix in (".ipynb", ".md"):
                paths.append(path)
                break
    return paths


def _markdown_texts(path):
    """("title", first heading) then ("markdown", text) of every markdown cell of a notebook, or
    of a .md page (its text, front matter dropped)."""
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        texts = [cell_source(c) for c in cells if c.get("cell_type") == "markdown"]
    else:
        text = path.read_text(encoding="utf-8")
        texts = [re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)]
    for text in texts:
        heading = re.search(r"^# (.+)$", text, re.M)
        if heading:
            yield "title", heading[1].strip()
            break
    for text in texts:
        yield "markdown", text


def _read_substitutions(config):
    if not config.is_file():
        return {}
    found = {}
    block = re.search(r"^\s*myst_substitutions:\s*\n((?:\s{4,}.*\n?)+)", config.read_text(), re.M)
    for line in (block[1].splitlines() if block else []):
        match = re.match(r"^\s+([\w.-]+):\s*['\"]?(.*?)['\"]?\s*$", line)
        if match:
            found[match[1]] = match[2]
    return found


def _bib_fields(body):
    """{field: value} of one bibtex entry body (values without their outer braces or quotes)."""
    fields, i = {}, 0
    while True:
        match = re.compile(r"\s*,?\s*([\w-]+)\s*=\s*").match(body, i)
        if not match:
            return fields
        key, i = match[1].lower(), match.end()
        if i < len(body) and body[i] in "{\"":
            close, depth, j = ("}" if body[i] == "{" else '"'), 0, i
            while j < len(body):
                if body[j] == "{":
                    depth += 1
                elif body[j] == "}":
                    depth -= 1
                if (close == "}" and depth == 0) or (close == '"' and j > i and body[j] == '"' and depth == 0):
                    break
                j += 1
            fields[key], i = body[i + 1:j], j + 1
        else:
            match = re.compile(r"[^,}]*").match(body, i)
            fields[key], i = match[0].strip(), match.end()


def _plain_tex(text):
    text = re.sub(r"\\[a-zA-Z]+\s*", "", text)      # \emph, \"
    return re.sub(r"[{}\\]", "", text).strip()


def _read_bib(path):
    """{key: (authors as the book cites them, year)} from a bibtex file (author-year style:
    "Elman", "Hochreiter and Schmidhuber", "Goodfellow et al.")."""
    if not Path(path).is_file():
        return {}
    text = Path(path).read_text(encoding="utf-8")
    found = {}
    for match in re.finditer(r"@\w+\s*\{\s*([^,\s]+)\s*,", text):
        depth, j = 1, match.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        fields = _bib_fields(text[match.end():j - 1])
        names = [n.strip() for n in re.split(r"\s+and\s+", fields.get("author", fields.get("editor", ""))) if n.strip()]
        # "Last, First", "First Last", or {Corporate Name} (kept whole)
        last = [_plain_tex(n) if n.startswith("{") and n.endswith("}")
                else _plain_tex(n.split(",")[0]) if "," in n else _plain_tex(n).split()[-1]
                for n in names if _plain_tex(n)]
        if not last:
            authors = _plain_tex(fields.get("title", match[1]))
        elif len(last) == 1:
            authors = last[0]
        elif len(last) == 2:
            authors = f"{last[0]} and {last[1]}"
        else:
            authors = f"{last[0]} et al."
        found[match[1]] = (authors, _plain_tex(fields.get("year", "n.d.")))
    return found


def _iter_directives(lines):
    """(name, argument, options, content lines) of every directive in ``lines``, nested ones too
    (plain code fences are skipped with their content)."""
    for item in _parse_blocks(lines):
        if item[0] == "directive":
            _, name, arg, options, content, _ = item
            yield name, arg, options, content
            yield from _iter_directives(content)


def _closes(line, fence):
    stripped = line.strip()
    return bool(stripped) and set(stripped) == {fence[0]} and len(stripped) >= len(fence)


def _parse_blocks(lines):
    """Split markdown lines into ("text", lines), ("code", lines) and
    ("directive", name, argument, options, content lines, indent) items."""
    items, i = [], 0
    while i < len(lines):
        line = lines[i]
        directive = _DIRECTIVE.match(line)
        code = None if directive else _CODE_FENCE.match(line)
        if directive or code:
            match = directive or code
            indent, fence = match["indent"], match["fence"]
            end = i + 1
            while end < len(lines) and not _closes(lines[end], fence):
                end += 1
            body = [b[len(indent):] if b.startswith(indent) else b.lstrip() for b in lines[i + 1:end]]
            if code:
                items.append(("code", lines[i:end + 1]))
            else:
                options, k = {}, 0
                if body[:1] == ["---"]:                       # YAML options block
                    close = next((n for n in range(1, len(body)) if body[n] == "---"), None)
                    if close is not None:
                        for option_line in body[1:close]:
                            key, _, value = option_line.partition(":")
                            options[key.strip()] = value.strip()
                        k = close + 1
                while k < len(body):
                    option = _OPTION.match(body[k])
                    if not option:
                        break
                    options[option["key"]] = option["value"] or ""
                    k += 1
                content = body[k:]
                while content and not content[0].strip():
                    content = content[1:]
                while content and not content[-1].strip():
                    content = content[:-1]
                items.append(("directive", match["name"], match["arg"], options, content, indent))
            i = end + 1
            continue
        if items and items[-1][0] == "text":
            items[-1][1].append(line)
        else:
            items.append(("text", [line]))
        i += 1
    return items


def _glue_note(key, ctx, what="value"):
    where = ""
    if ctx is not None and key in ctx.glue_cells:
        where = " above" if ctx.glue_cells[key] < ctx.cell_index else " below"
    return f"*(the {what} `{key}`, computed in a cell{where})*"


def _cite(name, keys, ctx):
    """A citation role as the book's author-year style shows it."""
    found = [(ctx.citations.get(k) if ctx is not None else None) or (k, "") for k in keys]
    kind = name.partition(":")[2] or "p"
    if kind in ("t", "ts"):
        return "; ".join(f"{a} ({y})" if y else a for a, y in found)
    if kind in ("author", "authors"):
        return "; ".join(a for a, _ in found)
    if kind == "year":
        return ", ".join(y or a for a, y in found)
    if kind == "yearpar":
        return "(" + ", ".join(y or a for a, y in found) + ")"
    return "(" + "; ".join(f"{a}, {y}" if y else a for a, y in found) + ")"


def convert_role(name, body, ctx=None):
    """Readable plain Markdown for one MyST role ``{name}`body```."""
    explicit = _EXPLICIT.match(body)
    title, target = (explicit["title"], explicit["target"]) if explicit else ("", body)
    target = target.strip().lstrip("~!")
    base = name.split(":")[-1] if name.startswith(("py:", "std:", "c:", "cpp:", "js:", "rst:")) else name
    if name.startswith("glue"):
        return _glue_note(target.split(":")[0], ctx)
    if name.startswith("cite"):
        return _cite(name, [k.strip() for k in target.split(",") if k.strip()], ctx)
    if base in ("ref", "numref", "doc", "chapter", "any", "eq", "prf:ref", "download", "term", "abbr"):
        if base == "abbr" and explicit:
            return f"{title} ({target})"
        known = ctx.targets.get(target) if ctx is not None else None
        if base in ("doc", "chapter"):
            doc = target.removesuffix(".ipynb").removesuffix(".md").lstrip("/")
            known = ctx.doc_titles.get(doc if "/" in doc else f"book/{doc}") if ctx is not None else None
        if title:
            if "%s" in title or "{number}" in title:
                number = ctx.exercise_numbers.get(target) if ctx is not None else None
                shown = str(number) if number is not None else (known or target)
                return title.replace("%s", shown).replace("{number}", shown)
            return title
        if base == "eq":
            return f"({target})"
        if known:
            return known if known.startswith("Exercise") or base != "ref" else f"“{known}”"
        return target
    if base == "math":
        return f"${body}$"
    if base in ("sub", "sup"):
        return f"<{base}>{body}</{base}>"
    if base == "kbd":
        return f"<kbd>{body}</kbd>"
    if base in CODE_ROLES or name.startswith("py:"):
        return f"`{title or target}`"
    return title or target


def convert_roles(text, ctx=None):
    """Every role of ``text`` (outside inline code) as readable text; MyST substitutions filled."""
    def replace(match):
        if match["code"] is not None:
            return match["code"]
        return convert_role(match["name"], match["body"], ctx)

    paragraphs = re.split(r"(\n[ \t]*\n)", text)
    converted = "".join(_ROLE_OR_CODE.sub(replace, part) for part in paragraphs)
    substitutions = ctx.substitutions if ctx is not None else {}
    return _SUBSTITUTION.sub(lambda m: substitutions.get(m["name"], m["name"]), converted)


def _python_object_source(path, qualified):
    """The source of a function or class (``name`` or ``Class.method``) of a Python file, read
    with ast (decorators included), as literalinclude's ``:pyobject:`` shows it."""
    source = Path(path).read_text(encoding="utf-8")
    nodes = ast.parse(source).body
    node = None
    for part in qualified.split("."):
        node = next((n for n in nodes if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                     and n.name == part), None)
        if node is None:
            raise ValueError(f"{path}: no function or class {qualified!r} (literalinclude :pyobject:)")
        nodes = node.body
    first = min([node.lineno] + [d.lineno for d in node.decorator_list])
    lines = source.splitlines()[first - 1:node.end_lineno]
    return textwrap.dedent("\n".join(lines))


def _include_source(arg, options, ctx):
    book_dir = ctx.book_dir if ctx is not None else BOOK_DIR
    path = (Path(book_dir) / arg).resolve()
    if "pyobject" in options:
        text = _python_object_source(path, options["pyobject"])
    else:
        text = path.read_text(encoding="utf-8")
        if "start-after" in options and options["start-after"] in text:
            text = text.split(options["start-after"], 1)[1].lstrip("\n")
        if "end-before" in options and options["end-before"] in text:
            text = text.split(options["end-before"], 1)[0]
        if "lines" in options:
            keep, all_lines = [], text.splitlines()
            for part in options["lines"].split(","):
                lo, _, hi = part.strip().partition("-")
                lo = int(lo) if lo else 1
                hi = (int(hi) if hi else len(all_lines)) if _ else lo
                keep.extend(all_lines[lo - 1:hi])
            text = "\n".join(keep)
        text = textwrap.dedent(text).strip("\n")
    language = options.get("language") or _LANGUAGES.get(path.suffix, "")
    return language, text


def _fenced(language, text):
    longest = max([len(m) for m in re.findall(r"`{3,}", text)] + [2])
    fence = "`" * (longest + 1)
    return [f"{fence}{language}"] + text.split("\n") + [fence]


def _quoted(title, content):
    lines = [f"**{title}**", ""] + content if title else content
    return [("> " + line).rstrip() for line in lines]


def _render_directive(name, arg, options, content, ctx):
    """Plain Markdown lines for one directive (its content converted recursively)."""
    def body():
        return convert_myst("\n".join(content), ctx).split("\n") if content else []

    if name in DROPPED:
        return []
    if name in ("exercise", "exercise-start"):
        label = options.get("label")
        number = ctx.exercise_numbers.get(label) if (ctx is not None and label) else None
        title = convert_roles(arg, ctx)
        head = f"Exercise {number}" if number is not None else "Exercise"
        return [f"**{head} ({title})**" if title else f"**{head}**", ""] + body()
    if name in ADMONITIONS:
        title = convert_roles(arg, ctx) if arg else ADMONITIONS[name]
        return _quoted(title, body())
    if name in TRANSPARENT:
        return body()
    if name == "literalinclude":
        language, text = _include_source(arg, options, ctx)
        return _fenced(language, text)
    if name in ("math", "latex"):
        return ["$$"] + content + ["$$"]
    if name in CODE_DIRECTIVES:
        language = arg.split()[0] if arg else {"eval-rst": "rst", "mermaid": "mermaid", "graphviz": "dot"}.get(name, "")
        return _fenced(language, "\n".join(content))
    if name in ("figure", "image"):
        path = ctx.image_path(arg) if ctx is not None else arg
        alt = options.get("alt") or (" ".join(content).strip() if name == "figure" else "") or Path(arg).stem
        lines = [f"![{alt}]({path})"]
        if name == "figure" and content:
            lines += [""] + [f"*{line}*" if line.strip() else line for line in body()]
        return lines
    if name == "raw":
        return content if arg.strip() == "html" else []
    if name.startswith("glue"):
        return [_glue_note(arg.split()[0] if arg else options.get("name", "?"), ctx,
                           "figure" if "figure" in name else "math" if "math" in name else "output")]
    if name == "include":
        return [f"*(the text of `{arg}`)*"]
    if name == "table" or name in ("list-table", "csv-table"):
        return ([f"**{convert_roles(arg, ctx)}**", ""] if arg else []) + body()
    # anything else (a future directive): its name and argument as a bold title, the text kept
    title = name.split(":")[-1].replace("-", " ").capitalize() + (f": {convert_roles(arg, ctx)}" if arg else "")
    return _quoted(title, body())


def convert_myst(text, ctx=None):
    """A markdown cell's MyST as plain Markdown that JupyterLab, Notebook 7 and Colab render.

    Directives become Markdown (see ``_render_directive``: exercises a bold "Exercise N (title)"
    line and their text; admonitions blockquotes with a bold title; literalinclude a fenced
    block of the included source; figures images; solutions and index directives nothing; any
    other directive a blockquote titled by its name); roles become readable text
    (:func:`convert_role`); ``(label)=`` targets, ``%`` comments, ``+++`` breaks and the label
    after a ``$$ ... $$ (label)`` equation are dropped. Code blocks are kept as they are.
    """
    out = []
    for item in _parse_blocks(text.split("\n")):
        if item[0] == "code":
            out.extend(item[1])
        elif item[0] == "directive":
            _, name, arg, options, content, indent = item
            rendered = _render_directive(name, arg, options, content, ctx)
            out.extend((indent + line) if line else line for line in rendered)
        else:
            kept = []
            for line in item[1]:
                if _TARGET.match(line) or re.match(r"^\s*%", line) or line.strip() == "+++":
                    continue
                kept.append(re.sub(r"(\$\$)\s*\([\w:.-]+\)\s*$", r"\1", line))
            out.append(convert_roles("\n".join(kept), ctx))
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


#: MyST that must not be left in a student notebook's markdown (outside code blocks)
LEFTOVER_MYST = {
    "directive": re.compile(r"^\s*(`{3,}|:{3,})\s*\{[\w:.+-]+\}", re.M),
    "role": re.compile(r"\{[\w:.+-]+\}`"),
    "option": re.compile(r"^\s*:(label|class|name|pyobject|language|alt|width|align|nonumber|"
                         r"dropdown|caption|figclass|emphasize-lines|lines|linenos|tags):", re.M),
    "target": re.compile(r"^\s*\([^()\s]+\)=\s*$", re.M),
    "substitution": re.compile(r"\{\{[^}]*\}\}"),
}


def leftover_myst(text):
    """[(kind, the offending line)] of MyST syntax left in markdown ``text`` outside code blocks."""
    prose = []
    for item in _parse_blocks(text.split("\n")):
        if item[0] == "text":
            prose.append(re.sub(r"(?<!\})(`+)(?!`).+?\1", "", "\n".join(item[1]), flags=re.S))
        elif item[0] == "directive":
            prose.append(f"```{{{item[1]}}} {item[2]}")
    found = []
    for kind, pattern in LEFTOVER_MYST.items():
        for chunk in prose:
            for match in pattern.finditer(chunk):
                line_start = chunk.rfind("\n", 0, match.start()) + 1
                line_end = chunk.find("\n", match.end())
                found.append((kind, chunk[line_start:None if line_end < 0 else line_end].strip()))
    return found


def remove_written_solutions(source):
    """Markdown ``source`` without its ``{solution}`` directive blocks (and their blank lines)."""
    lines = source.split("\n")
    drop = set()
    for name, _, _, first, last in directive_blocks(source):
        if name == "solution":
            drop.update(range(first, last + 1))
            # the blank line that separated the block from the text before it
            if first > 0 and not lines[first - 1].strip():
                drop.add(first - 1)
    kept = [line for i, line in enumerate(lines) if i not in drop]
    return "\n".join(kept).strip("\n")


# ----------------------------------------------------------------------------------------------
# Code cells that only check the book's claims
# ----------------------------------------------------------------------------------------------
def _glue_keys(source):
    """Keys glued by a code cell (``glue("key", ...)``)."""
    return re.findall(r"""\bglue\(\s*["']([^"']+)["']""", source)


def is_claim_cell(cell):
    """A cell the book hides (tag ``remove-cell``) that checks the text's claims: it holds an
    ``assert`` or a ``glue(...)`` call (the setup cell, with neither, is not one)."""
    if cell.get("cell_type") != "code" or "remove-cell" not in cell.get("metadata", {}).get("tags", []):
        return False
    source = cell_source(cell)
    try:
        tree = ast.parse("\n".join("pass" if line.lstrip().startswith(("%", "!")) else line
                                   for line in source.split("\n")))
    except SyntaxError:
        return False
    return any(isinstance(node, ast.Assert) or (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "glue")
               for node in ast.walk(tree))


def student_notebook(nb, context=None, name=None):
    """The student edition of a notebook (a dict in nbformat 4's JSON layout); ``nb`` is not changed.

    ``context`` (a :class:`BookContext`, default: the book's, student notebooks in student/)
    gives exercise numbers, section titles, citations; ``name`` is the notebook's file name.
    """
    ctx = context if context is not None else BookContext(out_dir=BOOK_DIR.parent / "student")
    nb = copy.deepcopy(nb)
    nb.get("metadata", {}).pop("widgets", None)
    ctx.notebook = name
    ctx.glue_cells = {key: i for i, cell in enumerate(nb.get("cells", []))
                      if cell.get("cell_type") == "code" for key in _glue_keys(cell_source(cell))}
    cells, in_gated_solution = [], False
    for index, cell in enumerate(nb.get("cells", [])):
        ctx.cell_index = index
        source = cell_source(cell)
        if cell.get("cell_type") == "markdown":
            names = [item[1] for item in _parse_blocks(source.split("\n")) if item[0] == "directive"]
            if "solution-start" in names:
                in_gated_solution = "solution-end" not in names
                continue
            if "solution-end" in names:
                in_gated_solution = False
                continue
        if in_gated_solution:
            continue                      # a gated solution's cells (sphinx-exercise)
        if cell.get("cell_type") == "code":
            if BEGIN_SOLUTION in source or END_SOLUTION in source:
                where = f"cell {index} ({cell.get('id', '?')})"
                cell["source"] = stub_solution(source, where)
                tags = cell.get("metadata", {}).get("tags")
                if tags and "hide-input" in tags:
                    cell["metadata"]["tags"] = [tag for tag in tags if tag != "hide-input"]
            elif is_claim_cell(cell):
                cell.setdefault("metadata", {}).setdefault("jupyter", {})["source_hidden"] = True
            cell["outputs"] = []
            cell["execution_count"] = None
        elif cell.get("cell_type") == "markdown":
            cell["source"] = convert_myst(source, ctx)
            if not cell["source"].strip():
                continue
        cells.append(cell)
    nb["cells"] = cells
    return nb


def _as_lines(source):
    """A cell source in the JSON layout of the masters: a list of lines, each with its newline."""
    text = "".join(source) if isinstance(source, list) else source
    return text.splitlines(keepends=True)


def student_json(nb, context=None, name=None):
    """The student edition as the text written to its file (sources as lists of lines)."""
    student = student_notebook(nb, context, name)
    for cell in student["cells"]:
        cell["source"] = _as_lines(cell.get("source", ""))
    return json.dumps(student, indent=1, ensure_ascii=False) + "\n"


def write_student_edition(notebooks=None, out="student"):
    """Write the student edition of ``notebooks`` (default: every book/*.ipynb, and then a
    student notebook in ``out`` whose master is gone is removed) into ``out``; return the paths."""
    every = not notebooks
    notebooks = [Path(p) for p in notebooks] if notebooks else sorted(BOOK_DIR.glob("*.ipynb"))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if every:
        for stale in set(out.glob("*.ipynb")) - {out / p.name for p in notebooks}:
            stale.unlink()
    ctx = BookContext(out_dir=out)
    written = []
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        target = out / path.name
        target.write_text(student_json(nb, ctx, path.name), encoding="utf-8")
        written.append(target)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m rnnbook.assign",
                                     description="Write the student edition of the book's notebooks.")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="master notebooks (default: every book/*.ipynb)")
    parser.add_argument("--out", type=Path, default=Path("student"),
                        help="folder for the student notebooks (default: student/)")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.notebooks if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    try:
        written = write_student_edition(args.notebooks or None, args.out)
    except (SolutionMarkerError, json.JSONDecodeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    print(f"{len(written)} student notebooks in {args.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
