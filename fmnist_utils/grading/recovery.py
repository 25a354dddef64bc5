"""Let the next ``nbgrader autograde`` finish what a killed run left half done.

nbgrader skips a submission whose ``autograded/<student>/<lesson>`` folder exists. A
run stopped with Ctrl-C removes the half-graded folder itself, but a run that is
killed (``kill -9``, a closed laptop lid, a full disk, the machine going down) leaves
it behind, and the next run would skip that student, whose grades stay incomplete.

So :mod:`~fmnist_utils.grading.config` installs two nbgrader hooks
(:class:`InProgress`): before a submission is graded, a marker naming its output
folder is written to ``instructor/.autograde-in-progress/``; after it is graded, the
marker is removed. When ``nbgrader autograde`` starts, every marker left over from a
killed run has its output folder removed, so the student is graded again, and the
gradebook is completed. A marker whose process is still running
(another ``nbgrader autograde`` in the same course) is left alone.

The first hook also names a submission whose lesson notebook was handed in under
another name (``01_pixels_and_labels-Copy1.ipynb``), which nbgrader skips with only
"No notebooks found". Nothing here runs at import time.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

__all__ = ["InProgress"]


class InProgress:
    """Markers for the submissions being graded.

    Parameters
    ----------
    markers : pathlib.Path
        The folder holding one marker per submission being graded.
    autograded : pathlib.Path
        nbgrader's ``autograded`` folder (``<student>/<lesson>`` inside).
    durations : pathlib.Path, optional
        Where to record how long each lesson's submission took to grade (the parallel
        grader's ``durations.json``, :func:`fmnist_utils.grading.course.record_durations`);
        ``None`` records nothing.
    """

    def __init__(self, markers: Path, autograded: Path, durations: Path | None = None) -> None:
        self.markers = markers
        self.autograded = autograded
        self.durations = durations

    def _marker(self, notebooks: list[str]) -> tuple[Path, Path] | None:
        if not notebooks:
            return None
        submission = Path(notebooks[0]).parent  # submitted/<student>/<lesson>
        student, lesson = submission.parent.name, submission.name
        return self.markers / f"{student}__{lesson}", self.autograded / student / lesson

    def started(self, assignment: str, student: str, notebooks: list[str]) -> None:
        """Write the marker of the submission about to be graded (nbgrader's pre-hook).

        Also say plainly when the lesson's notebook is missing but another one was
        handed in (a renamed copy): nbgrader would only say "No notebooks found".
        """
        found = self._marker(notebooks)
        if found is not None:
            folder = Path(notebooks[0]).parent
            names = sorted(Path(n).name for n in notebooks)
            expected = f"{folder.name}.ipynb"
            if expected not in names:
                sys.stderr.write(
                    f"[nbgrader_config.py] {folder.parent.name} handed in {', '.join(names)}, "
                    f"not {expected}: it cannot be graded under another name. Rename it to "
                    f"{expected} and grade again with --student {folder.parent.name} --force.\n"
                )
            marker, output = found
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text(f"{os.getpid()}\n{output}\n", encoding="utf-8")

    def finished(self, assignment: str, student: str, notebooks: list[str]) -> None:
        """Remove the marker of the submission just graded (nbgrader's post-hook).

        Also records how long it took (since its marker was written), so that the
        parallel grader starts the longest lessons first even after plain
        ``nbgrader autograde`` runs.
        """
        found = self._marker(notebooks)
        if found is None:
            return
        marker, output = found
        try:
            seconds = time.time() - marker.stat().st_mtime
        except OSError:
            seconds = None
        marker.unlink(missing_ok=True)
        if seconds is not None and self.durations is not None:
            from fmnist_utils.grading.course import record_durations

            try:  # output is autograded/<student>/<lesson>
                record_durations(self.durations, {output.name: seconds})
            except Exception as error:  # only an ordering hint: never fail grading for it
                sys.stderr.write(f"[nbgrader_config.py] cannot record durations: {error!r}\n")

    def recover(self) -> list[Path]:
        """Remove the output of every submission a killed run left half graded.

        Returns
        -------
        list of pathlib.Path
            The output folders removed (their students are graded again).
        """
        import shutil

        removed = []
        if not self.markers.is_dir():
            return removed
        for marker in sorted(self.markers.iterdir()):
            pid, _, rest = marker.read_text(encoding="utf-8").partition("\n")
            if _alive(int(pid or 0)):
                continue  # another autograde run is grading it right now
            output = Path(rest.strip())
            # only ever a folder inside autograded/, whatever the marker says
            if output.resolve().parent.parent == self.autograded.resolve() and output.is_dir():
                shutil.rmtree(output)
                removed.append(output)
            marker.unlink()
        return removed


def _alive(pid: int) -> bool:
    if pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
