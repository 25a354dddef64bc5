"""The formgrader's Content-Security-Policy: a Jupyter server extension.

Graded notebooks are sanitised (:mod:`fmnist_utils.grading.sanitize`); this is the
browser's second line of defence where an instructor reads them, nbgrader's formgrader
(every page under ``/formgrader``). The course's server configuration
(``fmnist_utils/jupyter_config/fmnist_course.json``, installed into the environment's
``etc/jupyter/jupyter_server_config.d``) loads this module in the Jupyter server.

- Every response under ``/formgrader`` carries :func:`formgrader_policy`: a script runs
  only if it carries the response's *nonce* (a fresh random value per response), or is
  one of the few fixed ``onclick`` handlers written in nbgrader's templates (allowed by
  hash). Not ``'self'``: the server also serves the learners' own files.
- Only nbgrader's template files get the nonce: :class:`NonceTemplates` reads them with
  a secret marker on each ``<script>`` tag, which :class:`FormgraderPolicy` replaces by
  the response's nonce. What a learner wrote (a notebook's HTML, outputs, markdown)
  is inserted when the page is rendered, after that, and never carries it.
- MathJax, which nbgrader loads from the web, runs the ``text/x-mathjax-config`` blocks
  of a page as code (a learner could write one): it is replaced by
  :data:`MATHJAX_STAND_IN`, so nbgrader's page script works and formulas stay TeX source.
- nbgrader's list pages are rendered with HTML escaping (jinja's autoescape): they
  print names from the URL inside their inline scripts.

Nothing runs at import time.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader
from tornado.httputil import HTTPHeaders, HTTPServerRequest
from tornado.web import OutputTransform

__all__ = [
    "MATHJAX_STAND_IN",
    "FormgraderPolicy",
    "NonceTemplates",
    "formgrader_policy",
    "install",
    "template_handlers",
]

_SCRIPT_TAG = re.compile(r"<script\b", re.I)
# an event-handler attribute written in a template, without template code in it
_HANDLER = re.compile(r"""\son[a-z]+\s*=\s*"([^"{}]*)\"""", re.I)
_MATHJAX_CALL = "{{ mathjax() }}"

MATHJAX_STAND_IN = (
    "<script>\n"
    "// fmnist_utils.grading.csp: MathJax is not loaded (it would run the page's\n"
    "// text/x-mathjax-config blocks as code); formulas stay TeX source. What\n"
    "// nbgrader's formgrade.js asks of it:\n"
    "window.MathJax = {Hub: {Queue: function () {}, Startup: {signal: {Interest:\n"
    '  function (listener) { setTimeout(function () { listener("End"); }, 0); }}}}};\n'
    "</script>"
)
"""What the submission page gets in place of nbgrader's ``{{ mathjax() }}``."""


def nbgrader_templates() -> Path:
    """Return the folder of nbgrader's formgrader templates."""
    from nbgrader.server_extensions.formgrader import handlers

    return Path(handlers.template_path)


def _sha256(text: str) -> str:
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
    return f"'sha256-{digest}'"


def template_handlers(folder: Path | None = None) -> list[str]:
    """Return the event handlers written in nbgrader's templates, e.g. ``toggle_name(true);``.

    Parameters
    ----------
    folder : pathlib.Path, optional
        The templates (default: nbgrader's formgrader templates).

    Returns
    -------
    list of str
        Each handler's code once, sorted; none holds template code, so each is the
        same in every page.
    """
    folder = folder or nbgrader_templates()
    found: set[str] = set()
    for path in sorted(folder.rglob("*")):
        if path.suffix in (".tpl", ".j2"):
            found.update(_HANDLER.findall(path.read_text(encoding="utf-8")))
    return sorted(found)


def formgrader_policy(nonce: str, handlers: list[str], report_uri: str = "") -> str:
    """Return the Content-Security-Policy of one formgrader response.

    Parameters
    ----------
    nonce : str
        This response's nonce: only scripts carrying it run.
    handlers : list of str
        The event handlers of nbgrader's templates, allowed by hash (``'unsafe-hashes'``).
    report_uri : str, optional
        Where the browser reports a blocked script (Jupyter's own report handler,
        which writes it to the server's log).

    Returns
    -------
    str
        No inline script, ``eval``, ``javascript:`` link or script file without the
        nonce; styles and images from the server or inline; nothing from another
        site; no plugins, frames or workers; no ``<base>``; forms post only to the
        server; the page framed only by the instructor's own JupyterLab.
    """
    scripts = [f"'nonce-{nonce}'"]
    if handlers:
        scripts += ["'unsafe-hashes'", *(_sha256(h) for h in handlers)]
    parts = [
        "default-src 'self'",
        "script-src " + " ".join(scripts),
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "frame-src 'none'",
        "worker-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ]
    if report_uri:
        parts.append(f"report-uri {report_uri}")
    return "; ".join(parts)


class NonceTemplates(FileSystemLoader):
    """nbgrader's templates, each ``<script`` tag given ``nonce="MARKER"``.

    The marker is a secret of the server process; :class:`FormgraderPolicy` replaces it
    in each response by that response's nonce. The submission page's MathJax is
    replaced by :data:`MATHJAX_STAND_IN`.

    Parameters
    ----------
    searchpath : list of pathlib.Path
        Folders of nbgrader's templates.
    marker : str
        The secret marker.
    """

    def __init__(self, searchpath: list[Path], marker: str) -> None:
        super().__init__([str(p) for p in searchpath])
        self.marker = marker

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Any]:
        """Read a template, its scripts marked for the nonce."""
        source, filename, uptodate = super().get_source(environment, template)
        source = source.replace(_MATHJAX_CALL, MATHJAX_STAND_IN)
        return _SCRIPT_TAG.sub(f'<script nonce="{self.marker}"', source), filename, uptodate


class FormgraderPolicy(OutputTransform):
    """Send :func:`formgrader_policy` with every response under ``/formgrader``.

    :func:`install` subclasses it with the server's settings: ``prefix`` (the
    formgrader's URL), ``marker``, ``handlers``, ``report_uri`` and ``settings`` (the
    web application's, where nbgrader keeps its template environment and exporter).
    """

    prefix = "/formgrader"
    marker = ""
    handlers: list[str] = []
    report_uri = ""
    settings: dict[str, Any] = {}

    def __init__(self, request: HTTPServerRequest) -> None:
        super().__init__(request)
        path = request.path
        self._applies = path == self.prefix or path.startswith(self.prefix + "/")
        self._nonce = secrets.token_hex(len(self.marker) // 2)  # as long as the marker
        if self._applies:
            use_nonce_templates(self.settings, self.marker)

    def _mark(self, chunk: bytes) -> bytes:
        if not self.marker:
            return chunk
        return chunk.replace(self.marker.encode(), self._nonce.encode())

    def transform_first_chunk(
        self, status_code: int, headers: HTTPHeaders, chunk: bytes, finishing: bool
    ) -> tuple[int, HTTPHeaders, bytes]:
        """Set the policy; give nbgrader's own scripts this response's nonce.

        The page is never cached: tornado's ETag is computed before this transform,
        on the page with the marker, so it is the same at every visit, and a browser
        shown "304 Not Modified" would reuse the old page (old nonce) under this
        response's policy (new nonce), blocking all of nbgrader's scripts.
        """
        if self._applies:
            headers["Content-Security-Policy"] = formgrader_policy(
                self._nonce, self.handlers, self.report_uri
            )
            headers["Cache-Control"] = "no-store"
            if "Etag" in headers:
                del headers["Etag"]
            chunk = self._mark(chunk)
        return status_code, headers, chunk

    def transform_chunk(self, chunk: bytes, finishing: bool) -> bytes:
        """Give nbgrader's own scripts in a later part of the page the same nonce."""
        return self._mark(chunk) if self._applies else chunk


def use_nonce_templates(settings: dict[str, Any], marker: str) -> None:
    """Make nbgrader's formgrader render its pages with :class:`NonceTemplates`.

    Once per server (nbgrader's extension may load after this one): the list pages'
    jinja environment (then with autoescape) and the submission page's exporter.

    Parameters
    ----------
    settings : dict
        The web application's settings, where nbgrader keeps them.
    marker : str
        The secret marker.
    """
    folder = nbgrader_templates()
    env = settings.get("nbgrader_jinja2_env")
    if env is not None and not isinstance(env.loader, NonceTemplates):
        env.loader = NonceTemplates([folder], marker)
        env.autoescape = True
        if env.cache is not None:
            env.cache.clear()
    exporter = settings.get("nbgrader_exporter")
    if exporter is not None and not any(
        isinstance(loader, NonceTemplates) for loader in exporter.extra_loaders
    ):
        exporter.extra_loaders = [NonceTemplates([folder / "formgrade", folder], marker)]


def install(serverapp: Any) -> type[FormgraderPolicy]:
    """Install :class:`FormgraderPolicy` in a Jupyter server (first, before compression).

    Parameters
    ----------
    serverapp : jupyter_server.serverapp.ServerApp
        The server.

    Returns
    -------
    type
        The installed transform class.
    """
    base = serverapp.base_url.rstrip("/")
    policy = type(
        "CourseFormgraderPolicy",
        (FormgraderPolicy,),
        {
            "prefix": base + "/formgrader",
            "marker": secrets.token_hex(16),
            "handlers": template_handlers(),
            "report_uri": base + "/api/security/csp-report",
            "settings": serverapp.web_app.settings,
        },
    )
    serverapp.web_app.transforms.insert(0, policy)
    return policy


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Name this module as a Jupyter server extension."""
    return [{"module": "fmnist_utils.grading.csp"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Load the extension: the formgrader's pages get their Content-Security-Policy."""
    install(serverapp)
    serverapp.log.info("fmnist_utils: a Content-Security-Policy on the formgrader's pages")
