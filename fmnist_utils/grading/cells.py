"""What a graded notebook says about its exercises: titles, failures, where they failed.

Shared by the feedback (:mod:`fmnist_utils.grading.feedback`,
:mod:`fmnist_utils.grading.feedback_html`) and the grading report
(:mod:`fmnist_utils.grading.report`), so that both name an exercise and a failure the
same way. Nothing here runs at import time, and nothing imports nbgrader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fmnist_utils.tooling.lessons import HIDDEN_MARKERS

__all__ = [
    "Failure",
    "exercise_titles",
    "failure_of",
    "hidden_lines",
    "is_test_cell",
    "strip_ansi",
]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# IPython names the cell's own frame "Cell In[7], line 12" (ANSI colours removed).
_CELL_FRAME = re.compile(r"Cell In\s*\[(\d+)\],\s*line (\d+)")
_POINTS = re.compile(r"\s*\(\s*\d+(?:\.\d+)?\s+points?\s*\)\s*$", re.I)
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$", re.M)
MESSAGE_CHARS = 200
"""Longest failure message kept (the rest is cut with an ellipsis)."""


def strip_ansi(text: str) -> str:
    """Remove terminal colour codes (IPython colours its tracebacks)."""
    return _ANSI.sub("", text)


def is_test_cell(cell: Any) -> bool:
    """Tell whether a cell is an autograded test cell (graded, not an answer)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution") and cell.get("cell_type") == "code"


def _source(cell: Any) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def exercise_titles(cells: list[Any]) -> dict[str, str]:
    """Name every graded cell by the exercise it belongs to.

    The title is the last markdown heading before the cell that starts with
    "Exercise" (``### Exercise 2 — scale the pixels (2 points)`` gives
    "Exercise 2 — scale the pixels"), else the last heading before it, else the first
    line of the test cell's docstring, else its ``grade_id``.

    Parameters
    ----------
    cells : list
        The notebook's cells (dicts or ``NotebookNode``).

    Returns
    -------
    dict
        ``grade_id`` of each graded or answer cell, mapped to its title.
    """
    titles: dict[str, str] = {}
    exercise = heading = None
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            for hashes, found in _HEADING.findall(_source(cell)):
                text = _POINTS.sub("", found).strip()
                heading = text
                if text.lower().startswith("exercise"):
                    exercise = text
                elif len(hashes) <= 2:  # a new section ends the previous exercise
                    exercise = None
        meta = cell.get("metadata", {}).get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if not grade_id or not (meta.get("grade") or meta.get("solution") or meta.get("task")):
            continue
        titles[grade_id] = exercise or heading or _docstring(_source(cell)) or grade_id
    return titles


def _docstring(source: str) -> str | None:
    match = re.match(r'\s*(?:"""|\'\'\')\s*(.+?)(?:\n|"""|\'\'\')', source)
    return match.group(1).strip() if match else None


def hidden_lines(source: str) -> set[int]:
    """Return the 1-based line numbers of a cell's hidden-test region, markers included."""
    begin, end = HIDDEN_MARKERS
    lines: set[int] = set()
    inside = False
    for number, line in enumerate(source.splitlines(), start=1):
        stripped = line.strip()
        if stripped == begin:
            inside = True
        if inside:
            lines.add(number)
        if stripped == end:
            inside = False
    return lines


@dataclass(frozen=True)
class Failure:
    """Why a test cell failed, as a learner and an instructor should read it.

    Attributes
    ----------
    message : str
        ``ExceptionName: first line of its message``, shortened.
    where : str
        ``"visible"`` (a check the learner sees failed), ``"hidden"`` (a hidden check
        failed) or ``"unknown"`` (the traceback does not say).
    """

    message: str
    where: str

    @property
    def label(self) -> str:
        """The one-line label shown under the message in the feedback."""
        if self.where == "visible":
            return "(a visible check failed: it is in the cell above)"
        if self.where == "hidden":
            return "(a hidden check failed; its code is not shown)"
        return "(a check in this cell failed)"


def _message(output: Any) -> str:
    ename = strip_ansi(str(output.get("ename", "Error"))).strip() or "Error"
    evalue = strip_ansi(str(output.get("evalue", ""))).strip()
    first = evalue.splitlines()[0].strip() if evalue else ""
    if not first and evalue:  # numpy's assert messages start with a blank line
        first = next((ln.strip() for ln in evalue.splitlines() if ln.strip()), "")
    text = f"{ename}: {first}" if first else ename
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 1] + "…"


def failure_of(cell: Any, source: str | None = None) -> Failure | None:
    """Tell why a test cell failed, and whether a visible or a hidden check failed.

    Parameters
    ----------
    cell : dict or NotebookNode
        An executed code cell (from the autograded notebook).
    source : str, optional
        The source the cell ran with (default: its own), hidden tests included.

    Returns
    -------
    Failure or None
        None when the cell has no error output.
    """
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    if not errors:
        return None
    error = errors[0]
    text = strip_ansi("\n".join(error.get("traceback", []) or []))
    hidden = hidden_lines(_source(cell) if source is None else source)
    count = cell.get("execution_count")
    where = "unknown"
    for number, line in _CELL_FRAME.findall(text):
        if count is not None and int(number) != int(count):
            continue
        where = "hidden" if int(line) in hidden else "visible"
        break
    return Failure(_message(error), where)
