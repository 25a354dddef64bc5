"""Feedback pages a learner can read offline: exercise names, formulas, no MathJax.

``nbgrader generate_feedback`` renders each graded notebook with
:class:`FeedbackExporter` (``c.GenerateFeedback.exporter_class`` in
``nbgrader_config.py``): nbgrader's feedback page, with the contents list naming each
exercise by its title and saying whether its checks passed, and without the MathJax
script nbgrader loads from the web. Instead :class:`RenderMath` turns every ``$...$``
and ``$$...$$`` formula of the markdown cells into MathML when the feedback is made
(with ``latex2mathml``), which browsers draw by themselves, offline.
:class:`ExerciseTitles` names the graded cells for the contents list. Nothing runs at
import time.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from jinja2 import pass_context
from nbconvert.exporters import HTMLExporter
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, default

from fmnist_utils.grading.cells import exercise_titles, failure_of, is_test_cell
from fmnist_utils.grading.sanitize import clean_html, outside_code

__all__ = [
    "FEEDBACK_POLICY",
    "TEMPLATES",
    "ExerciseTitles",
    "FeedbackExporter",
    "RenderMath",
    "UNSAFE_LATEX",
    "latex_to_html",
]

TEMPLATES = Path(__file__).resolve().parent / "templates"
"""The folder holding the ``fmnist_feedback`` nbconvert template."""

_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE = re.compile(r"(?<![\\$\w])\$(?=\S)([^$\n]+?)(?<=\S)(?<!\\)\$(?![\w$])")


# commands that reach HTML or CSS (or load code) in the TeX dialects of the web; a
# formula using one is shown as text
UNSAFE_LATEX = re.compile(
    r"\\(style|class|cssId|href|url|html\w*|unicode|require|data\w*|mmlToken|bbox|tagged)"
    r"(?![A-Za-z])"
)


def latex_to_html(latex: str, *, display: bool = False) -> str:
    r"""Render one LaTeX formula as MathML; a formula that does not convert stays as text.

    Parameters
    ----------
    latex : str
        The formula, without its dollar signs.
    display : bool
        A displayed (block) formula rather than one inside a sentence.

    Returns
    -------
    str
        A ``<math>`` element, or the escaped formula in ``<code>`` when it cannot be read
        or uses a command of :data:`UNSAFE_LATEX` (``\style``, ``\href``, ...).
    """
    from latex2mathml.converter import convert

    if UNSAFE_LATEX.search(latex):
        return f"<code>{html.escape(latex)}</code>"
    try:
        return convert(latex.strip(), display="block" if display else "inline")
    except Exception:  # latex2mathml raises many kinds for bad input
        return f"<code>{html.escape(latex)}</code>"


def render_math(markdown: str) -> str:
    """Replace every formula of a markdown text by MathML, outside code.

    Parameters
    ----------
    markdown : str
        A markdown cell's source.

    Returns
    -------
    str
        The same text with ``$$...$$`` and ``$...$`` rendered.
    """

    def render(text: str) -> str:
        text = _DISPLAY.sub(
            lambda m: "\n\n" + latex_to_html(m.group(1), display=True) + "\n\n", text
        )
        return _INLINE.sub(lambda m: latex_to_html(m.group(1)), text)

    return outside_code(markdown, render)


class RenderMath(Preprocessor):
    """Render the formulas of every markdown cell as MathML (readable without MathJax)."""

    enabled = Bool(True, help="Run it (nbconvert skips a preprocessor that is not enabled).").tag(
        config=True
    )

    def preprocess_cell(self, cell: Any, resources: Any, index: int) -> Any:
        """Render one markdown cell's formulas."""
        if cell.get("cell_type") == "markdown" and "$" in cell.get("source", ""):
            cell["source"] = render_math(cell["source"])
        return cell, resources


class ExerciseTitles(Preprocessor):
    """Name each graded cell by its exercise, and note which checks failed.

    Sets ``cell.metadata.fmnist.title`` (the exercise's heading) and, for a failed test
    cell, ``cell.metadata.fmnist.failed`` (``"a visible check failed"`` or ``"a hidden
    check failed"``), which the ``fmnist_feedback`` template shows in the contents list.
    Run it before :class:`~fmnist_utils.grading.feedback.StripHiddenTests`, while the
    cells still hold the code the tracebacks refer to.
    """

    enabled = Bool(True, help="Run it (nbconvert skips a preprocessor that is not enabled).").tag(
        config=True
    )

    def preprocess(self, nb: Any, resources: Any) -> Any:
        """Name every graded cell of the notebook."""
        titles = exercise_titles(nb.cells)
        for cell in nb.cells:
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if grade_id not in titles:
                continue
            facts = cell.metadata.setdefault("fmnist", {})
            facts["title"] = titles[grade_id]
            failure = failure_of(cell) if is_test_cell(cell) else None
            if failure is not None:
                facts["failed"] = {
                    "visible": "a visible check failed",
                    "hidden": "a hidden check failed",
                }.get(failure.where, "a check failed")
        return nb, resources


FEEDBACK_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
    "base-uri 'none'; form-action 'none'"
)
"""A feedback page's Content-Security-Policy: it runs no script and fetches nothing,
whatever a sanitiser (:mod:`fmnist_utils.grading.sanitize`) might have missed."""


class FeedbackExporter(HTMLExporter):
    """nbgrader's feedback page with the course's ``fmnist_feedback`` template."""

    @default("template_name")
    def _template_name_default(self) -> str:
        return "fmnist_feedback"

    @default("extra_template_basedirs")
    def _extra_template_basedirs_default(self) -> list[str]:
        import nbgrader

        formgrader = Path(nbgrader.__file__).parent / "server_extensions/formgrader/templates"
        return [str(TEMPLATES), str(formgrader)]

    @pass_context
    def markdown2html(self, context: Any, source: str) -> str:
        """Render markdown as nbconvert does, then keep only the allow-list's HTML.

        The allow-list (:func:`fmnist_utils.grading.sanitize.clean_html`) is checked on
        the rendered page, after the renderer decoded character entities in links.
        """
        return clean_html(super().markdown2html(context, source))

    def _init_resources(self, resources: dict[str, Any] | None) -> dict[str, Any]:
        """Add the page's Content-Security-Policy (:data:`FEEDBACK_POLICY`)."""
        resources = super()._init_resources(resources)
        resources["content_security_policy"] = FEEDBACK_POLICY
        return resources
