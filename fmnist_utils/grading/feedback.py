"""Keep the hidden tests out of the feedback learners get.

``nbgrader autograde`` restores every test cell from the gradebook, *with* its
``### BEGIN HIDDEN TESTS`` region, and ``nbgrader generate_feedback`` renders that
notebook as it is: the hidden tests would show twice, in the cell's source and in the
traceback of a failing hidden assert. :class:`StripHiddenTests`, first in
``c.GenerateFeedback.preprocessors``, removes the hidden regions from the source (with
nbgrader's own ``ClearHiddenTests`` logic and settings) and, in those cells only,
shortens each error to ``ExceptionName: message`` and a label saying whether a
visible or a hidden check failed (:func:`fmnist_utils.grading.cells.failure_of`): the
learner still sees which check failed and its message, never a hidden check's code.
Scores come from the gradebook, unchanged.
"""

from __future__ import annotations

import re
from typing import Any

from nbgrader.preprocessors import ClearHiddenTests

from fmnist_utils.grading.cells import failure_of

__all__ = ["StripHiddenTests"]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class StripHiddenTests(ClearHiddenTests):
    """Remove hidden-test code from cell sources and from their tracebacks."""

    def preprocess_cell(self, cell: Any, resources: Any, cell_index: int) -> Any:
        """Strip one cell's hidden region and reduce its tracebacks to one line."""
        # where the failure is (a visible or a hidden check) is read before the hidden
        # region is removed: the traceback's line numbers refer to the full cell
        failure = failure_of(cell) if cell.cell_type == "code" else None
        removed = self._remove_hidden_test_region(cell)
        if removed and cell.cell_type == "code":
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    ename = _ANSI.sub("", output.get("ename", "Error"))
                    evalue = _ANSI.sub("", output.get("evalue", ""))
                    output["traceback"] = [
                        f"{ename}: {evalue}" if evalue else ename,
                        failure.label if failure else "(a check in this cell failed)",
                    ]
        return cell, resources
