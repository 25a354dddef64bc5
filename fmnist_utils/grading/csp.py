"""Content-Security-Policies that keep student HTML inert where an instructor reads it.

Graded notebooks and feedback are sanitised (:mod:`fmnist_utils.grading.sanitize`); the
browser enforces a second line of defence, in case a sanitiser ever lets something by:

- :data:`FEEDBACK_POLICY`, put in every feedback page as a ``<meta>`` tag: the page
  runs no script at all and loads nothing from anywhere (images are inline PNGs, styles
  inline, math is MathML);
- :class:`FormgraderPolicy`, a Jupyter server extension (enabled by the course's
  ``etc/jupyter/jupyter_server_config.d/fmnist_course.json``) that sends a
  ``Content-Security-Policy`` header with every formgrader page. The formgrader's own
  scripts are files (``'self'``) or the inline scripts and ``on...`` handlers of
  nbgrader's page template, allowed by their SHA-256 hash; in a submission's page only
  what precedes the notebook (nbgrader's head and navigation bar) is hashed, so no
  inline script or handler inside the learner's notebook can run, and nothing loads
  from another site.

Nothing runs at import time.
"""

from __future__ import annotations

import base64
import hashlib
from html.parser import HTMLParser
from typing import Any

from tornado.httputil import HTTPHeaders, HTTPServerRequest
from tornado.web import OutputTransform

__all__ = ["FEEDBACK_POLICY", "FormgraderPolicy", "formgrader_policy", "trusted_hashes"]

FEEDBACK_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
    "base-uri 'none'; form-action 'none'"
)
"""The policy of a feedback page: no script, nothing fetched."""

# Where a learner's notebook starts in a formgrader submission page (nbgrader's
# formgrade/index.html.j2); everything before it comes from nbgrader's template.
NOTEBOOK_START = '<div id="notebook"'


class _InlineCode(HTMLParser):
    """Collect the inline scripts and ``on...`` attribute handlers of an HTML text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[str] = []
        self.handlers: list[str] = []
        self._script: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handlers += [v or "" for k, v in attrs if k.lower().startswith("on")]
        if tag == "script" and not any(k == "src" for k, _ in attrs):
            self._script = []

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.scripts.append("".join(self._script))
            self._script = None


def _sha256(text: str) -> str:
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
    return f"'sha256-{digest}'"


def trusted_hashes(html: str) -> tuple[list[str], bool]:
    """Hash the inline code a formgrader page may run.

    Parameters
    ----------
    html : str
        The page. In a submission page only the part before the learner's notebook
        counts.

    Returns
    -------
    hashes : list of str
        CSP source expressions (``'sha256-...'``), sorted, without repeats.
    handlers : bool
        Whether some of them are ``on...`` attribute handlers (which need
        ``'unsafe-hashes'``).
    """
    parser = _InlineCode()
    parser.feed(html.split(NOTEBOOK_START, 1)[0])
    parser.close()
    hashes = sorted({_sha256(s) for s in parser.scripts + parser.handlers})
    return hashes, bool(parser.handlers)


def formgrader_policy(html: str) -> str:
    """Return the Content-Security-Policy header for one formgrader page.

    Parameters
    ----------
    html : str
        The page the formgrader is about to send.

    Returns
    -------
    str
        Scripts from the server itself or hashed from nbgrader's template
        (``'unsafe-eval'`` for the templates its Backbone views compile), styles and
        images from the server or inline, no plugins, no frames, no other site, and the
        page shown only inside the instructor's own JupyterLab.
    """
    hashes, handlers = trusted_hashes(html)
    scripts = ["'self'", "'unsafe-eval'", *(["'unsafe-hashes'"] if handlers else []), *hashes]
    return "; ".join(
        [
            "default-src 'self'",
            "script-src " + " ".join(scripts),
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "frame-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'self'",
        ]
    )


class FormgraderPolicy(OutputTransform):
    """Send :func:`formgrader_policy` with every HTML page under ``/formgrader``."""

    prefix = "/formgrader"
    """The formgrader's URL prefix; :func:`_load_jupyter_server_extension` adds the
    server's base URL."""

    def __init__(self, request: HTTPServerRequest) -> None:
        super().__init__(request)
        self._applies = request.path.startswith(self.prefix)

    def transform_first_chunk(
        self, status_code: int, headers: HTTPHeaders, chunk: bytes, finishing: bool
    ) -> tuple[int, HTTPHeaders, bytes]:
        """Set the policy on the response's headers (the page itself is unchanged)."""
        if self._applies and headers.get("Content-Type", "").startswith("text/html"):
            headers["Content-Security-Policy"] = formgrader_policy(chunk.decode("utf-8", "replace"))
        return status_code, headers, chunk


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Name this module as a Jupyter server extension."""
    return [{"module": "fmnist_utils.grading.csp"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Install :class:`FormgraderPolicy` in a Jupyter server (first, before any encoding)."""
    base = serverapp.base_url.rstrip("/")
    policy = type("CourseFormgraderPolicy", (FormgraderPolicy,), {"prefix": base + "/formgrader"})
    serverapp.web_app.transforms.insert(0, policy)
    serverapp.log.info("fmnist_utils: a Content-Security-Policy on the formgrader's pages")
