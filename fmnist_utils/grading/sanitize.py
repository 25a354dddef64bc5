"""Inert student HTML, and feedback that shows a test's result, never its code.

- :class:`SanitizeOutputs` -- nbconvert's ``SanitizeHTML`` (bleach) for autograded
  notebooks and feedback: no ``<script>``, event-handler attributes, ``javascript:``
  links, iframes, SVG or JavaScript outputs, widget state. Markdown cells are cleaned
  tag by tag (bleach on whole markdown text would mangle ``a < b`` and blockquotes);
  code spans and blocks are left alone (the renderer escapes them).
- :class:`FeedbackTestOutputs` -- in feedback, a graded test cell's outputs become one
  line: passed, or the error's name and the test's own assertion message. Anything the
  student's code printed or raised during the test is not shown (it could quote the
  hidden tests), nor is a message that quotes a hidden line.
- :func:`copy_submission_files` -- ``nbgrader generate_feedback`` copies only the
  notebook into feedback, and this hook the submission's time and secret.

:mod:`~fmnist_utils.grading.config` puts them in the pipelines.

Nothing here runs at import time.
"""

from __future__ import annotations

import ast
import re
import stat
from pathlib import Path
from typing import Any

import bleach
from nbconvert.preprocessors import Preprocessor
from nbconvert.preprocessors.sanitize import SanitizeHTML
from nbformat.v4 import new_output
from traitlets import Bool

from fmnist_utils.tooling.lessons import HIDDEN_MARKERS

__all__ = [
    "SUBMISSION_FILES",
    "FeedbackTestOutputs",
    "SanitizeOutputs",
    "clean_markdown",
    "copy_submission_files",
]

TAGS = sorted(
    set(bleach.ALLOWED_TAGS)
    | {"p", "br", "hr", "pre", "span", "div", "img", "sub", "sup", "details", "summary"}
    | {"table", "thead", "tbody", "tr", "th", "td", "caption", "h1", "h2", "h3", "h4", "h5", "h6"}
)
ATTRIBUTES = {
    "*": ["class", "title"],
    "a": ["href", "title"],
    "img": ["src", "alt", "width", "height"],
    "td": ["colspan", "rowspan"],
    "th": ["colspan", "rowspan"],
}
PROTOCOLS = ["http", "https", "mailto", "data"]
_TAG = re.compile(r"<[A-Za-z!/?][^>]*>?")
_CODE = re.compile(r"(```.*?```|~~~.*?~~~|`[^`\n]*`)", re.DOTALL)
_JS = re.compile(r"(?i)(java|vb)script\s*:")


def _clean_fragment(text: str) -> str:
    text = _TAG.sub(
        lambda m: bleach.clean(
            m.group(0), tags=TAGS, attributes=ATTRIBUTES, protocols=PROTOCOLS, strip_comments=True
        ),
        text,
    )
    # not an entity (the markdown renderer decodes those in links): no scheme at all
    return _JS.sub(lambda m: m.group(1) + "script-blocked-", text)


def clean_markdown(source: str) -> str:
    """Make the HTML in a markdown cell inert, leaving markdown and code alone.

    Parameters
    ----------
    source : str
        A markdown cell's source.

    Returns
    -------
    str
        The source with unsafe tags escaped and ``javascript:`` links broken.
    """
    parts = _CODE.split(source)
    return "".join(p if i % 2 else _clean_fragment(p) for i, p in enumerate(parts))


class SanitizeOutputs(SanitizeHTML):
    """nbconvert's ``SanitizeHTML`` with the course's allowed tags, markdown done safely."""

    enabled = Bool(True, help="Run this step (nbconvert steps are off by default).").tag(
        config=True
    )

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("tags", TAGS)
        kwargs.setdefault("attributes", ATTRIBUTES)
        super().__init__(**kwargs)

    def preprocess(self, nb: Any, resources: Any) -> tuple[Any, Any]:
        """Clean every cell, and drop widget state (it would run in the browser)."""
        nb.metadata.pop("widgets", None)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell: Any, resources: Any, index: int) -> tuple[Any, Any]:
        """Clean one cell; markdown tag by tag, attachments other than PNG/JPEG dropped."""
        if cell.cell_type == "markdown":
            cell.source = clean_markdown(cell.source)
            for attachment in cell.get("attachments", {}).values():
                for key in [k for k in attachment if k not in ("image/png", "image/jpeg")]:
                    del attachment[key]
            return cell, resources
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                if "data" in output and "text/markdown" in output.data:
                    output.data["text/markdown"] = clean_markdown(output.data["text/markdown"])
        out = super().preprocess_cell(cell, resources, index)
        return out if out is not None else (cell, resources)

    def sanitize_html_tags(self, html_str: str) -> str:
        """Clean an HTML fragment with bleach (the course's tags and protocols)."""
        return bleach.clean(
            html_str, tags=TAGS, attributes=ATTRIBUTES, protocols=PROTOCOLS, strip_comments=True
        )


def hidden_lines(source: str) -> list[str]:
    """Return the lines of a cell's hidden-test regions (stripped, 8 characters or more)."""
    begin, end = (re.escape(m) for m in HIDDEN_MARKERS)
    lines = []
    for region in re.findall(rf"{begin}(.*?){end}", source, re.DOTALL):
        lines += [ln.strip() for ln in region.splitlines() if len(ln.strip()) >= 8]
    return lines


def _message_patterns(source: str) -> list[re.Pattern[str]]:
    """Return the assertion messages of a test cell (literal, or f-string shapes)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    nodes: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert) and node.msg is not None:
            nodes.append(node.msg)
        elif isinstance(node, ast.Call):
            nodes += [k.value for k in node.keywords if k.arg in ("err_msg", "msg")]
    out = []
    for node in nodes:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append(re.compile(re.escape(node.value)))
        elif isinstance(node, ast.JoinedStr):
            parts = [
                re.escape(v.value) if isinstance(v, ast.Constant) else ".{0,200}?"
                for v in node.values
            ]
            out.append(re.compile("".join(parts), re.DOTALL))
    return out


_NUMPY_PREFIXES = ("Arrays are not", "Not equal to tolerance", "Items are not equal")


class FeedbackTestOutputs(Preprocessor):
    """In feedback, a graded test cell shows only passed/failed and the test's message.

    Put it before ``StripHiddenTests`` (it reads the hidden regions to withhold them).
    """

    enabled = Bool(True, help="Run this step (nbconvert steps are off by default).").tag(
        config=True
    )

    def preprocess_cell(self, cell: Any, resources: Any, index: int) -> tuple[Any, Any]:
        """Replace one test cell's outputs by its result."""
        from fmnist_utils.grading.integrity import is_test_cell

        if not is_test_cell(cell):
            return cell, resources
        hidden = hidden_lines(cell.source)
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        stderr = [o for o in cell.get("outputs", []) if o.get("name") == "stderr"]
        if errors:
            ename = re.sub(r"\x1b\[[0-9;]*m", "", str(errors[0].get("ename", "Error")))[:100]
            evalue = self._message(cell.source, hidden, errors[0])
            text = f"{ename}: {evalue}" if evalue else ename
            cell.outputs = [new_output("error", ename=ename, evalue=evalue, traceback=[text])]
        elif stderr:
            cell.outputs = [
                new_output("stream", name="stderr", text="Failed: the test wrote to stderr.\n")
            ]
        else:
            cell.outputs = [new_output("stream", name="stdout", text="Passed.\n")]
        return cell, resources

    def _message(self, source: str, hidden: list[str], error: Any) -> str:
        evalue = re.sub(r"\x1b\[[0-9;]*m", "", str(error.get("evalue", "")))[:600]
        if any(line in evalue for line in hidden):
            return "(its message is not shown: it quoted the test's code)"
        if not hidden:
            return evalue
        if any(p.fullmatch(evalue.strip()) for p in _message_patterns(source)):
            return evalue
        if error.get("ename") == "AssertionError" and evalue.strip().startswith(_NUMPY_PREFIXES):
            return evalue
        if not evalue:
            return ""
        return "(its message is not shown: it did not come from the test's own checks)"


#: What ``nbgrader release_feedback`` reads from a feedback folder besides the pages.
SUBMISSION_FILES = ("timestamp.txt", "submission_secret.txt")


def copy_submission_files(feedback: Path, notebooks: list[str], **_: Any) -> None:
    """Copy a graded folder's :data:`SUBMISSION_FILES` into its feedback folder.

    nbgrader's post-convert hook of ``generate_feedback``, called after each submission
    with the graded notebooks (``.../<student>/<lesson>/<name>.ipynb``). Only small
    regular files are copied (the intake copy's), never through a link.

    Parameters
    ----------
    feedback : pathlib.Path
        The course's feedback folder (``instructor/feedback``).
    notebooks : list of str
        The graded notebooks just converted.
    """
    for folder in {Path(nb).parent for nb in notebooks}:
        target = feedback / folder.parent.name / folder.name
        for name in SUBMISSION_FILES:
            try:
                info = (folder / name).lstat()
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode) and info.st_size <= 1024 and target.is_dir():
                (target / name).write_text((folder / name).read_text(errors="replace"))
