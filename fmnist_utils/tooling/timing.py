"""How long a lesson takes a newcomer, by one documented rule.

The rule, calibrated on a newcomer's review (someone who writes a little
Python and knows no deep learning) who needed 80-120 minutes for a lesson of
2,600 words and 10 exercise points, and 70-90 minutes for the others:

- reading: the lesson's prose (:func:`~fmnist_utils.tooling.lessons.prose_words`)
  at 80 words a minute, slow because it is technical text with formulas and
  figures to look at;
- exercises: 3 minutes per point, for reading the exercise, writing,
  running and reading the feedback;
- cells: half a minute per ungraded code cell, to run it and read its output;
- waiting: the lesson's full run on the course's 2-core machine, as the
  benchmark last measured it (``benchmarks/results.json``), in whole minutes.

Each lesson's first cell states the total, rounded to 5 minutes, and its parts::

    python -m fmnist_utils.tooling times            # print each lesson's sentence
    python -m fmnist_utils.tooling times --write    # put it into the sources
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from fmnist_utils.tooling.lessons import Lesson, prose_words, source_notebook

WORDS_PER_MINUTE = 80
MINUTES_PER_POINT = 3
MINUTES_PER_CELL = 0.5
RESULTS = Path("benchmarks") / "results.json"
SENTENCE = re.compile(r"Estimated time: about \d+ minutes \([^)]*\)\.")


@dataclass(frozen=True)
class TimeEstimate:
    """A lesson's time for a newcomer, in minutes, by part.

    Attributes
    ----------
    reading, exercises, cells, waiting : int
        Minutes reading the prose, doing the graded exercises, running the
        other code cells, and waiting for the full run's computation.
    """

    reading: int
    exercises: int
    cells: int
    waiting: int

    @property
    def total(self) -> int:
        """The sum of the parts, rounded to the nearest 5 minutes."""
        return 5 * round((self.reading + self.exercises + self.cells + self.waiting) / 5)

    def sentence(self) -> str:
        """Write the sentence a lesson's first cell carries."""
        parts = [
            f"{self.reading} reading",
            f"{self.exercises} on the exercises",
            f"{self.cells} running the examples",
        ]
        if self.waiting:
            parts.append(f"{self.waiting} waiting for the computer")
        return f"Estimated time: about {self.total} minutes ({', '.join(parts)})."


def full_run_seconds(root: Path, lesson_id: str) -> float | None:
    """Read the seconds the benchmark last measured for a full run of a lesson.

    Parameters
    ----------
    root : pathlib.Path
        The course directory.
    lesson_id : str
        The lesson, ``NN_slug``.

    Returns
    -------
    float or None
        The wall-clock seconds of the full run, or None when never measured.
    """
    path = root / RESULTS
    if not path.is_file():
        return None
    record = json.loads(path.read_text(encoding="utf-8"))["records"].get(f"notebooks.{lesson_id}")
    return None if record is None else float(record["result"]["full"]["seconds"])


def estimate(lesson: Lesson, run_seconds: float | None = None) -> TimeEstimate:
    """Apply the rule to one lesson.

    Parameters
    ----------
    lesson : Lesson
        The lesson.
    run_seconds : float, optional
        Its full run's seconds; by default, the benchmark's last measurement
        (no waiting when never measured).

    Returns
    -------
    TimeEstimate
        The minutes, by part.
    """
    if run_seconds is None:
        run_seconds = full_run_seconds(lesson.root, lesson.lesson_id) or 0.0
    cells = source_notebook(lesson).cells
    graded = [c.metadata.get("nbgrader", {}) for c in cells]
    points = sum(float(g.get("points", 0)) for g in graded if g.get("grade"))
    examples = sum(
        1
        for cell, meta in zip(cells, graded, strict=True)
        if cell.cell_type == "code" and not meta.get("grade")
    )
    return TimeEstimate(
        reading=round(prose_words(lesson) / WORDS_PER_MINUTE),
        exercises=round(points * MINUTES_PER_POINT),
        cells=round(examples * MINUTES_PER_CELL),
        waiting=math.floor(run_seconds / 60),
    )


def write_sentence(lesson: Lesson, sentence: str) -> bool:
    """Put the sentence in place of the one in the lesson's source.

    Parameters
    ----------
    lesson : Lesson
        The lesson.
    sentence : str
        The new sentence, from :meth:`TimeEstimate.sentence`.

    Returns
    -------
    bool
        Whether the source changed.

    Raises
    ------
    ValueError
        If the source has no "Estimated time: about N minutes (...)." sentence.
    """
    text = lesson.source_py.read_text(encoding="utf-8")
    if not SENTENCE.search(text):
        raise ValueError(
            f"{lesson.source_py}: no 'Estimated time: about N minutes (...).' sentence in the "
            "first cell; add one, on one line"
        )
    if sentence in text:
        return False
    lesson.source_py.write_text(SENTENCE.sub(sentence, text, count=1), encoding="utf-8")
    return True
