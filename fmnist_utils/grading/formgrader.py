"""nbgrader's formgrader on this course's layout, with or without an exchange.

The formgrader (JupyterLab's Nbgrader → Formgrader) expects an nbgrader *exchange*
(``/srv/nbgrader/exchange``) to tell which assignments are released. A class that hands
out ``lessons/`` without a JupyterHub has none, and stock nbgrader then shows an error
banner and every lesson as a "draft". :func:`configure`:

- lists assignments with :class:`CourseList`: the real exchange when its folder exists
  (a JupyterHub class), else every lesson registered in the gradebook, as released;
- in a Jupyter server (where the formgrader runs), makes its Generate button write the
  student copy to ``instructor/release``, never into ``lessons/`` (which only ``make
  lessons`` writes: the command line keeps ``lessons`` as the release folder).

Nothing runs at import time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from nbgrader.exchange.default.list import ExchangeList

__all__ = ["CourseList", "configure", "in_jupyter_server"]


class CourseList(ExchangeList):
    """List the exchange; without one, the lessons of the gradebook count as released."""

    def start(self) -> Any:
        """List released (or, with an exchange, inbound and cached) assignments."""
        if os.path.isdir(self.root) or self.inbound or self.cached:
            return super().start()
        return self.registered()

    def registered(self) -> list[dict[str, Any]]:
        """Return the lessons registered in the gradebook, as an exchange lists them."""
        from nbgrader.api import Gradebook

        url = self.coursedir.db_url
        if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).is_file():
            return []
        course = self.coursedir.course_id
        with Gradebook(url) as gb:
            names = [a.name for a in gb.assignments]
        wanted = self.coursedir.assignment_id
        return [
            {"course_id": course, "assignment_id": name, "status": "released", "path": ""}
            for name in names
            if wanted in ("", "*", name)
        ]


def in_jupyter_server(argv: list[str]) -> bool:
    """Tell whether the config is being read by a Jupyter server (JupyterLab, a hub's)."""
    program = Path(argv[0]) if argv else Path()
    return program.name.startswith("jupyter") or program.parent.name in ("jupyterlab", "notebook")


def configure(c: Any, instructor: Path, argv: list[str]) -> None:
    """Make the formgrader work on this layout (see the module docstring).

    Parameters
    ----------
    c : traitlets.config.Config
        The config being loaded.
    instructor : pathlib.Path
        The instructor area (``release/`` inside gets the formgrader's student copies).
    argv : list of str
        The command line.
    """
    c.ExchangeFactory.list = "fmnist_utils.grading.formgrader.CourseList"
    if in_jupyter_server(argv):
        c.CourseDirectory.release_directory = str(
            (instructor / "release").relative_to(instructor.parent)
        )
