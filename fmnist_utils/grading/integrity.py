"""Submissions flagged when their code tampers with the kernel, or poses as plain data.

The grader's side of :mod:`fmnist_utils.grading.guard`. :class:`SandboxedExecute`
(:mod:`fmnist_utils.grading.sandbox`) calls :func:`guard_call` in the learner's
grading kernel: ``capture`` before any student code, ``check`` after every code cell
(so a finding names the cell that installed a hook); the tests kernel reports answers
that posed as plain data (:func:`fmnist_utils.grading.trusted.take_findings`). Each
finding becomes a flag in ``resources["fmnist_flags"]``
("suspicious: input transformer installed in cell 4"), and :class:`ApplyFlags`, after
nbgrader's ``SaveAutoGrades``, gives a flagged notebook 0 in the gradebook, marks it
*flagged* (the formgrader shows it), writes the reason into its comments and the log,
and puts a note at the top of the graded notebook. Findings that start with ``note:``
(a background thread) are logged only.

A rejected submission (:mod:`fmnist_utils.grading.intake`) is flagged the same way.
Nothing here runs at import time.
"""

from __future__ import annotations

import ast
import json
import secrets
from typing import Any

from nbconvert.preprocessors import Preprocessor
from nbformat.v4 import new_markdown_cell
from traitlets import Bool

__all__ = ["FLAGS", "ApplyFlags", "flag", "guard_call", "is_test_cell", "serious"]

FLAGS = "fmnist_flags"
"""The key of ``resources`` holding one notebook's flags."""

_MODULE = "fmnist_utils.grading.guard"


def is_test_cell(cell: Any) -> bool:
    """Tell whether a cell is an autograded test (nbgrader ``grade`` and not ``solution``)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def flag(resources: dict[str, Any], text: str) -> None:
    """Add one flag to a notebook's resources (once)."""
    flags = resources.setdefault(FLAGS, [])
    if text not in flags:
        flags.append(text)


def serious(flags: list[str]) -> list[str]:
    """Return the flags that score the notebook 0 (all but the ``note:`` ones)."""
    return [f for f in flags if "note:" not in f]


async def guard_call(executor: Any, function: str) -> list[str]:
    """Run ``guard.<function>`` in the kernel; return its findings.

    The request's code is empty and the call goes in ``user_expressions``, which IPython
    evaluates after the code without input transformers. An answer without this call's
    random nonce, an error or no answer at all is itself a finding.

    Parameters
    ----------
    executor : nbclient.NotebookClient
        The executor, with its kernel running.
    function : str
        ``capture`` or ``check``.

    Returns
    -------
    list of str
        What was found; empty when clean.
    """
    nonce = secrets.token_hex(12)
    expr = f"__import__({_MODULE!r}, fromlist=['_']).{function}({nonce!r})"
    msg_id = executor.kc.execute(
        "", silent=True, store_history=False, user_expressions={"g": expr}, allow_stdin=False
    )
    reply = await executor.async_wait_for_reply(msg_id)
    if reply is None:
        return ["the grader's integrity check got no answer (the kernel was busy or blocked)"]
    content = reply.get("content", {})
    if content.get("status") != "ok":
        return [f"the grader's integrity check was blocked ({content.get('ename', 'error')})"]
    value = content.get("user_expressions", {}).get("g", {})
    if value.get("status") != "ok":
        return [
            f"the grader's integrity check failed ({value.get('ename')}: {value.get('evalue')})"
        ]
    text = value.get("data", {}).get("text/plain", "")
    try:
        text = ast.literal_eval(text)
        assert isinstance(text, str) and text.startswith(nonce)
        found = json.loads(text[len(nonce) :])
        assert isinstance(found, list)
    except (ValueError, SyntaxError, AssertionError, json.JSONDecodeError):
        return ["the grader's integrity check got a forged answer"]
    return [str(f)[:300] for f in found]


class ApplyFlags(Preprocessor):
    """Score a flagged notebook 0 in the gradebook, mark it flagged, and say why."""

    enabled = Bool(True, help="Run this step (nbconvert steps are off by default).").tag(
        config=True
    )

    def preprocess(self, nb: Any, resources: Any) -> tuple[Any, Any]:
        """Apply ``resources["fmnist_flags"]`` (after nbgrader's ``SaveAutoGrades``)."""
        flags = resources.get(FLAGS, [])
        grading = resources.get("nbgrader", {})
        who = f"{grading.get('student')}/{grading.get('assignment')}"
        for text in flags:
            if serious([text]):
                self.log.error("FLAGGED %s: %s", who, text)
            else:
                self.log.warning("Note on %s (not flagged): %s", who, text)
        bad = serious(flags)
        if not bad or "db_url" not in grading:
            return nb, resources
        from nbgrader.api import Gradebook

        reason = "; ".join(bad)
        comment = (
            f"Flagged by the grader and scored 0: {reason}. Ask your instructor if you think "
            "this is wrong."
        )
        with Gradebook(grading["db_url"]) as gb:
            sub = gb.find_submission_notebook(
                grading["notebook"], grading["assignment"], grading["student"]
            )
            sub.flagged = True
            for grade in sub.grades:
                if grade.auto_score is not None:
                    grade.auto_score = 0
            for note in sub.comments:
                note.auto_comment = comment
            gb.db.commit()
        self.log.error("%s scored 0: %s", who, reason)
        nb.cells.insert(0, new_markdown_cell(f"**{comment}**"))
        nb.metadata["fmnist_grader"] = {"flags": flags}
        return nb, resources
