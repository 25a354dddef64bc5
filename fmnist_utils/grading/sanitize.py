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
import html
import re
import stat
from collections.abc import Callable
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
    "clean_html",
    "FeedbackTestOutputs",
    "SanitizeOutputs",
    "clean_markdown",
    "outside_code",
    "copy_submission_files",
]

TAGS = sorted(
    set(bleach.ALLOWED_TAGS)
    | {"p", "br", "hr", "pre", "span", "div", "img", "sub", "sup", "details", "summary"}
    | {"table", "thead", "tbody", "tr", "th", "td", "caption", "h1", "h2", "h3", "h4", "h5", "h6"}
)
MATHML_TAGS = sorted(
    {"math", "semantics", "annotation", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace"}
    | {"msub", "msup", "msubsup", "mfrac", "msqrt", "mroot", "mover", "munder", "munderover"}
    | {"mtable", "mtr", "mtd", "mlabeledtr", "mstyle", "menclose", "mpadded", "mphantom"}
    | {"mfenced", "merror", "mmultiscripts", "mprescripts", "none"}
)
"""What formulas (:mod:`~fmnist_utils.grading.feedback_html`) are drawn with."""
MATHML_ATTRIBUTES = sorted(
    {"display", "xmlns", "mathvariant", "mathsize", "stretchy", "fence", "separator"}
    | {"lspace", "rspace", "accent", "accentunder", "columnalign", "rowspacing", "rowlines"}
    | {"columnspacing", "columnlines", "frame", "displaystyle", "scriptlevel", "form"}
    | {"linethickness", "width", "height", "depth", "notation", "minsize", "maxsize"}
    | {"movablelimits", "largeop", "symmetric", "encoding", "open", "close", "separators"}
)
ATTRIBUTES = {
    "*": ["class", "title", "id", "name"],
    "a": ["href", "title"],
    "img": ["src", "alt", "width", "height"],
    "td": ["colspan", "rowspan"],
    "th": ["colspan", "rowspan"],
    **{tag: MATHML_ATTRIBUTES for tag in MATHML_TAGS},
}
"""The attributes kept, per tag; never ``style`` or an event handler."""
PROTOCOLS = ["http", "https", "mailto", "data"]
# classes the page's own renderer gives: code highlighting (Pygments' short names),
# anchors; never one of the page's style sheet (Bootstrap's "navbar-fixed-top", "modal"
# ...), which would let a learner's text cover the page
_SAFE_CLASS = re.compile(
    r"^(highlight|anchor-link|hl-[a-z0-9]+|language-[a-z0-9+-]+|[a-z]{1,3}\d?)$"
)
_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif);base64,", re.I)
_TAG = re.compile(r"<[A-Za-z!/?][^>]*>?")
_CODE = re.compile(r"(```.*?```|~~~.*?~~~|`[^`\n]*`)", re.DOTALL)  # fenced blocks, spans
_JS = re.compile(r"(?i)(java|vb)script\s*:")
# a markdown link's destination: [text](URL ...), [id]: URL, <URL>
_LINK = re.compile(r"(\]\(\s*<?|^[ ]{0,3}\[[^\]\n]+\]:[ \t]*<?|<)([^\s)>]+)", re.M)
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):")
_ATTACHMENT = re.compile(r"attachment:([^\s)\"'>]*)")
IMAGE_TYPES = ("image/png", "image/jpeg")
"""The attachments of a markdown cell that are kept."""


def _allowed(tag: str, name: str, value: str) -> bool:
    """Tell whether one attribute may stay (after bleach has decoded its entities)."""
    if name not in ATTRIBUTES.get(tag, []) and name not in ATTRIBUTES["*"]:
        return False
    if name == "class":
        return all(_SAFE_CLASS.match(word) for word in value.split())
    if name in ("href", "src"):
        plain = html.unescape(value).strip().lower()
        if plain.startswith("data:"):  # an inline image only; never a page
            return tag == "img" and bool(_DATA_IMAGE.match(plain))
    return True


def clean_html(text: str) -> str:
    """Keep only allowed tags, attributes and link schemes of an HTML fragment.

    The allow-list (:data:`TAGS`, :data:`MATHML_TAGS`, :data:`ATTRIBUTES`,
    :data:`PROTOCOLS`) is checked by bleach on the parsed HTML, after character
    entities are decoded: ``jav&#x61;script:`` is a ``javascript:`` link, and dropped.
    Everything else is escaped, so it shows as text.

    Parameters
    ----------
    text : str
        HTML from a learner's notebook (a rendered markdown cell, an output).

    Returns
    -------
    str
        The fragment, inert: no script, event handler, style, frame or form.
    """
    return bleach.clean(
        text,
        tags=[*TAGS, *MATHML_TAGS],
        attributes=_allowed,
        protocols=PROTOCOLS,
        strip_comments=True,
    )


def _safe_link(match: re.Match[str]) -> str:
    """Keep a markdown link's destination if its scheme, entities decoded, is allowed."""
    plain = "".join(ch for ch in html.unescape(match.group(2)) if ch.isprintable()).lower()
    scheme = _SCHEME.match(plain.replace(" ", ""))
    ok = scheme is None or scheme.group(1) in PROTOCOLS and scheme.group(1) != "data"
    ok = ok or bool(_DATA_IMAGE.match(plain))
    return match.group(0) if ok else match.group(1) + "#link-blocked"


def _clean_fragment(text: str) -> str:
    text = _LINK.sub(_safe_link, text)
    text = _TAG.sub(lambda m: clean_html(m.group(0)), text)
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
    return outside_code(source, _clean_fragment)


def outside_code(markdown: str, change: Callable[[str], str]) -> str:
    """Apply ``change`` to a markdown text's parts outside code blocks and spans.

    Parameters
    ----------
    markdown : str
        A markdown cell's source.
    change : callable
        Takes and returns one part of the text (the renderer escapes code itself).

    Returns
    -------
    str
        The text, code left as it was.
    """
    parts = _CODE.split(markdown)
    return "".join(p if i % 2 else change(p) for i, p in enumerate(parts))


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
            kept = {}
            for name, bundle in (cell.get("attachments") or {}).items():
                images = {
                    k: v for k, v in bundle.items() if k in IMAGE_TYPES and isinstance(v, str)
                }
                if images:
                    kept[name] = images
            if "attachments" in cell:
                cell.attachments = kept
            # a reference to an attachment that is not there (or not an image) would stop
            # the page's renderer: it becomes a plain missing link
            cell.source = _ATTACHMENT.sub(
                lambda m: m.group(0) if m.group(1) in kept else "#missing-attachment",
                cell.source,
            )
            return cell, resources
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                if "data" in output and "text/markdown" in output.data:
                    output.data["text/markdown"] = clean_markdown(output.data["text/markdown"])
        out = super().preprocess_cell(cell, resources, index)
        return out if out is not None else (cell, resources)

    def sanitize_html_tags(self, html_str: str) -> str:
        """Clean an HTML fragment with the course's allow-list (:func:`clean_html`)."""
        return clean_html(html_str)


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
