"""Check what a learner handed in before anything parses it: notebooks, names, times.

:class:`~fmnist_utils.grading.intake.Intake` calls :func:`admit_notebook` on each
notebook of a private copy, before nbgrader reads it:

- its size and number of cells are checked before it is parsed as a notebook
  (:class:`Caps`), so a 20,000-cell file never reaches a step outside the time limits;
- it must be JSON that nbformat reads as a version-4 notebook and validates;
- the grading metadata nbgrader keeps on cells (``metadata.nbgrader``) is checked with
  nbgrader's own validator: a cell whose metadata a learner changed gets the lesson's
  back, a cell the lesson does not have loses it, a second cell with the same grade id
  loses it, each with a note naming the cell; nbgrader would otherwise stop the whole
  class's run on an old or new schema version.

Anything else raises :class:`Refused`, with the reason in plain words; the submission
is then graded 0 without running it. :func:`read_time` reads a time a learner wrote
(``timestamp.txt``) without ever raising. Nothing here runs at import time.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Caps", "Refused", "admit_notebook", "printable", "read_time", "visible"]


class Refused(Exception):
    """A handed-in file the grader will not parse or run."""


@dataclass(frozen=True)
class Caps:
    """What one handed-in notebook may be.

    Attributes
    ----------
    max_bytes : int
        Size of the ``.ipynb`` file.
    max_cells : int
        Cells in it.
    """

    max_bytes: int = 25 * 2**20
    max_cells: int = 1000


def printable(text: str) -> str:
    r"""Show a line's control and format characters as escapes (ESC as ``\x1b``).

    Parameters
    ----------
    text : str
        One line for a terminal or a log; tabs are kept.

    Returns
    -------
    str
        The line, with nothing a terminal would act on: no escape sequence, carriage
        return, newline or bidirectional override.
    """
    return "".join(ch if ch.isprintable() or ch == "\t" else ascii(ch)[1:-1] for ch in text)


def visible(text: str, limit: int = 200) -> str:
    """Quote a learner's string for a terminal or log: control characters shown as escapes.

    Parameters
    ----------
    text : str
        A name, a time, a message the learner wrote.
    limit : int, optional
        Characters kept before the quoting (the rest is cut, with ``...``).

    Returns
    -------
    str
        Python's ``ascii()`` of it: in quotes, every non-ASCII or control character
        escaped, so that no look-alike slash, newline or escape code reaches the reader.
    """
    cut = text if len(text) <= limit else text[:limit] + "..."
    return ascii(cut)


def read_time(text: str) -> dt.datetime | None:
    """Read a time a learner wrote, as naive UTC, or None when it is not one.

    Parameters
    ----------
    text : str
        The text (the first 100 characters count).

    Returns
    -------
    datetime.datetime or None
        The time, or None for anything nbgrader's parser rejects, or a year outside
        1970-9999.
    """
    from nbgrader.utils import parse_utc

    text = text.strip()[:100]
    if not text or not text.isprintable():
        return None
    try:
        when = parse_utc(text)
    except Exception:  # dateutil raises ValueError, OverflowError, TypeError, ...
        return None
    if not isinstance(when, dt.datetime) or not 1970 <= when.year <= 9999:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return when


def _grade_id(meta: Any) -> str | None:
    value = meta.get("grade_id") if isinstance(meta, dict) else None
    return value if isinstance(value, str) else None


def _repair_grading_metadata(nb: Any, release: Any | None) -> list[str]:
    """Give every cell valid nbgrader metadata, or none; return what was changed."""
    from nbgrader.nbgraderformat import MetadataValidator

    validator = MetadataValidator()
    lesson = {}
    for cell in release.cells if release is not None else []:
        grade_id = _grade_id(cell.metadata.get("nbgrader"))
        if grade_id is not None:
            lesson[grade_id] = cell
    notes, seen = [], set()
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            continue
        grade_id = _grade_id(meta)
        try:
            validator.validate_cell(cell)
            problem = None
        except Exception as error:  # nbgrader's validator raises several kinds
            problem = str(error).splitlines()[0][:120] if str(error) else type(error).__name__
        if problem is None and grade_id in seen:
            problem = f"a second cell with the grade id {visible(grade_id)}"
        if problem is None:
            if grade_id is not None:
                seen.add(grade_id)
            continue
        original = lesson.get(grade_id) if grade_id not in seen else None
        if original is not None and original.cell_type == cell.cell_type:
            cell.metadata["nbgrader"] = json.loads(json.dumps(original.metadata["nbgrader"]))
            seen.add(grade_id)
            notes.append(f"cell {index}: its grading metadata was changed ({visible(problem)}): "
                         "the lesson's was put back")  # fmt: skip
        else:
            del cell.metadata["nbgrader"]
            notes.append(
                f"cell {index}: grading metadata the lesson does not have "
                f"({visible(problem)}): removed, the cell is graded as plain code"
            )
    try:
        validator.validate_nb(nb)
    except Exception as error:
        raise Refused(f"its grading metadata is invalid ({visible(str(error), 120)})") from error
    return notes


def admit_notebook(path: Path, caps: Caps, release: Path | None = None) -> list[str]:
    """Check one handed-in notebook and rewrite it in a form nbgrader can always read.

    Parameters
    ----------
    path : pathlib.Path
        The notebook, in the grader's private copy (a regular file).
    caps : Caps
        Its size and cell limits.
    release : pathlib.Path, optional
        The lesson's student copy, whose grading metadata is put back where a
        learner's was changed.

    Returns
    -------
    list of str
        Notes on what was repaired (empty when nothing was).

    Raises
    ------
    Refused
        When it is too big, has too many cells, or is not a valid notebook.
    """
    import nbformat

    size = path.stat().st_size
    if size > caps.max_bytes:
        raise Refused(f"{path.name} is {size / 2**20:.1f} MiB, over the limit of "
                      f"{caps.max_bytes // 2**20} MiB for a notebook")  # fmt: skip
    try:
        raw = json.loads(path.read_bytes())
    except (ValueError, RecursionError) as error:
        raise Refused(f"{path.name} is not a notebook file (not JSON: {visible(str(error), 80)})"
                      ) from error  # fmt: skip
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise Refused(f"{path.name} is not a notebook file (no list of cells)")
    if len(raw["cells"]) > caps.max_cells:
        raise Refused(f"{path.name} has {len(raw['cells'])} cells, over the limit of "
                      f"{caps.max_cells}")  # fmt: skip
    if raw.get("nbformat") != 4 or not isinstance(raw.get("nbformat_minor"), int):
        version = visible(str(raw.get("nbformat")), 20)
        raise Refused(f"{path.name} says it is notebook format {version}; only 4 is graded")
    raw["nbformat_minor"] = min(max(raw["nbformat_minor"], 0), nbformat.v4.nbformat_minor)
    try:
        nb = nbformat.from_dict(raw)
        nbformat.validate(nb)
    except Exception as error:  # nbformat's ValidationError, or a malformed value
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise Refused(f"{path.name} is not a valid notebook ({visible(first, 120)})") from error
    blank = nbformat.read(release, as_version=4) if release and release.is_file() else None
    notes = _repair_grading_metadata(nb, blank)
    nbformat.write(nb, path)
    return [f"{path.name}: {note}" for note in notes]
