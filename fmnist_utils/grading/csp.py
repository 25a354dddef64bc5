"""The Content-Security-Policy of a feedback page: student HTML stays inert in the browser.

Feedback is sanitised (:mod:`fmnist_utils.grading.sanitize`); the browser enforces a
second line of defence, in case a sanitiser ever lets something by: every feedback page
carries :data:`FEEDBACK_POLICY` as a ``<meta>`` tag
(:class:`~fmnist_utils.grading.feedback_html.FeedbackExporter`), so it runs no script at
all and loads nothing from anywhere (images are inline PNGs, styles inline, math is
MathML).

Nothing runs at import time.
"""

from __future__ import annotations

__all__ = ["FEEDBACK_POLICY"]

FEEDBACK_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
    "base-uri 'none'; form-action 'none'"
)
"""The policy of a feedback page: no script, nothing fetched."""
