"""A Sphinx extension: formulas drawn as MathML when the site is built.

Browsers draw MathML themselves, so the site's formulas need no MathJax, no script
and no network. The conversion is the feedback pages'
(:func:`fmnist_utils.grading.feedback_html.latex_to_html`); a formula it cannot read
is a build warning (an error under ``sphinx -W``), never a silent fallback.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes

from fmnist_utils.grading.feedback_html import latex_to_html


def _convert(translator: Any, node: nodes.Node, latex: str, *, display: bool) -> str:
    html = latex_to_html(latex, display=display)
    if not html.startswith("<math"):
        from sphinx.util import logging

        logging.getLogger(__name__).warning("formula not rendered: %s", latex, location=node)
    return html


def visit_inline(translator: Any, node: nodes.math) -> None:
    """Write an inline formula as MathML."""
    translator.body.append(_convert(translator, node, node.astext(), display=False))
    raise nodes.SkipNode


def visit_block(translator: Any, node: nodes.math_block) -> None:
    """Write a displayed formula (or several, one per paragraph) as MathML."""
    # focusable: a long formula scrolls sideways, and keyboards must reach it too
    translator.body.append('<div class="math notranslate" tabindex="0">')
    for latex in node.astext().split("\n\n"):
        translator.body.append(_convert(translator, node, latex, display=True))
    translator.body.append("</div>")
    raise nodes.SkipNode


def setup(app: Any) -> dict[str, Any]:
    """Register the ``mathml`` renderer with Sphinx (``html_math_renderer = "mathml"``)."""
    app.add_html_math_renderer("mathml", (visit_inline, None), (visit_block, None))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
