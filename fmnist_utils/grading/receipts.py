"""When each submission was received: a time the learner's own process cannot set.

A ``timestamp.txt`` is written by whoever hands the lesson in: on a hub, by the
learner's own server, which can write any time there. So lateness is judged from a
receipt kept in the instructor's area, ``instructor/receipts.json``:

- ``nbgrader collect`` (the exchange, :class:`ReceivedCollect`): the newest *change
  time* (``ctime``) of the files the learner put in the exchange's inbound folder.
  The operating system sets it whenever a file changes; no process can set it back;
- ``nbgrader zip_collect``: the time in the downloaded file's name, which the learning
  management system wrote (:class:`~fmnist_utils.grading.intake.SafeNameCollector`);
- a folder copied into ``submitted/`` by hand: what the instructor recorded
  (``python -m fmnist_utils.grading.receipts LESSON STUDENT "YYYY-MM-DD HH:MM:SS UTC"``,
  say the time of the mail that brought it). Without that, its hand-in time is
  *unknown*: when it was copied in says nothing about when it was handed in (usually
  after the due date), so it is never judged late, and the report says the time is
  unknown.

A receipt stands for the content it came with: when a later run finds the submission
changed, the receipt no longer applies.

At each run the intake (:mod:`~fmnist_utils.grading.intake`) writes the receipt into
the private copy's ``timestamp.txt``, which nbgrader reads for lateness, and records the
learner's own time beside it; the grading report shows both and flags a difference.
Nothing here runs at import time.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from nbgrader.exchange.default.collect import ExchangeCollect

__all__ = [
    "LEDGER",
    "Receipt",
    "ReceivedCollect",
    "format_time",
    "newest_change",
    "read_receipts",
    "record",
]

LEDGER = "receipts.json"
"""The receipts' file, in the instructor area."""

DIFFERENCE_S = 60
"""A learner's own time further than this from the receipt is flagged in the report."""


@dataclass
class Receipt:
    """When one submission was received, and what the learner's own file said.

    Attributes
    ----------
    received : str
        The receipt, ``YYYY-MM-DD HH:MM:SS.ffffff UTC``; empty when unknown.
    how : str
        ``exchange``, ``zip_collect``, ``instructor`` (recorded by hand) or ``unknown``.
    claimed : str or None
        The learner's own ``timestamp.txt``, read as a time, if any.
    digest : str or None
        What the submission held when received (None: not seen by a grading run yet).
    """

    received: str
    how: str
    claimed: str | None = None
    digest: str | None = None

    def difference_s(self) -> float | None:
        """Return the learner's time minus the receipt, in seconds (None: no own time)."""
        from fmnist_utils.grading.admit import read_time

        if self.claimed is None:
            return None
        claimed, received = read_time(self.claimed), read_time(self.received)
        if claimed is None or received is None:
            return None
        return (claimed - received).total_seconds()

    def disagrees(self) -> bool:
        """Tell whether the learner's own time is off by more than :data:`DIFFERENCE_S`."""
        difference = self.difference_s()
        return difference is not None and abs(difference) > DIFFERENCE_S


def format_time(when: dt.datetime) -> str:
    """Write a naive UTC time the way nbgrader writes ``timestamp.txt``."""
    return f"{when.isoformat(sep=' ')} UTC"


def newest_change(folder: Path) -> dt.datetime:
    """Return the newest change time (``ctime``) below ``folder``, as naive UTC.

    Links are never followed; the folder itself counts too.
    """
    newest = os.lstat(folder).st_ctime
    for top, dirs, files in os.walk(folder, followlinks=False):
        for name in dirs + files:
            newest = max(newest, os.lstat(os.path.join(top, name)).st_ctime)
    return dt.datetime.fromtimestamp(newest, dt.UTC).replace(tzinfo=None)


@contextmanager
def _locked(instructor: Path) -> Iterator[dict[str, Any]]:
    """Yield the ledger, read under a lock; write it back atomically."""
    instructor.mkdir(parents=True, exist_ok=True)
    path = instructor / LEDGER
    with open(instructor / f".{LEDGER}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = _load(path)
        yield data
        tmp = path.with_name(f".{LEDGER}.{os.getpid()}")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        tmp.replace(path)


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except ValueError as error:
        raise ValueError(f"{path} is damaged ({error}); move it aside to start anew") from error
    return data if isinstance(data, dict) else {}


def read_receipts(instructor: Path) -> dict[tuple[str, str], Receipt]:
    """Return every receipt: ``{(lesson, student): Receipt}``.

    Parameters
    ----------
    instructor : pathlib.Path
        The instructor area.
    """
    out = {}
    for lesson, students in _load(instructor / LEDGER).items():
        for student, fields in students.items():
            out[(lesson, student)] = Receipt(**fields)
    return out


def record(
    instructor: Path,
    lesson: str,
    student: str,
    *,
    received: dt.datetime | None = None,
    how: str = "unknown",
    digest: str | None = None,
    claimed: dt.datetime | None = None,
) -> Receipt:
    """Record a receipt, or read back the one that stands; return it.

    Called with ``received`` by a collection or the instructor (a new receipt, not yet
    seen by a grading run), and with ``digest`` by the intake: a receipt for the same
    content, or one no run has seen yet, stands; otherwise the hand-in time is unknown.

    Parameters
    ----------
    instructor : pathlib.Path
        The instructor area.
    lesson, student : str
        The submission (safe names).
    received : datetime.datetime, optional
        A collection's receipt (naive UTC).
    how : str, optional
        How it was received.
    digest : str, optional
        The intake's digest of the submission.
    claimed : datetime.datetime, optional
        The learner's own time.

    Returns
    -------
    Receipt
        The receipt that stands.
    """
    with _locked(instructor) as data:
        entries = data.setdefault(lesson, {})
        if received is not None:
            receipt = Receipt(format_time(received), how)
        else:
            old = entries.get(student)
            receipt = Receipt(**old) if old else None
            if receipt is None or receipt.digest not in (None, digest):
                receipt = Receipt("", "unknown")
            receipt.digest = digest
            receipt.claimed = None if claimed is None else format_time(claimed)
        entries[student] = asdict(receipt)
        return receipt


def main(argv: list[str] | None = None) -> int:
    """Record when you received a submission you copied in by hand; see the module docstring."""
    import argparse

    from fmnist_utils.grading.admit import read_time
    from fmnist_utils.grading.intake import safe_name
    from fmnist_utils.tooling.lessons import find_root

    parser = argparse.ArgumentParser(
        prog="python -m fmnist_utils.grading.receipts",
        description="Record when you received a learner's submission (its lateness is "
        "judged from it).",
    )
    parser.add_argument("lesson", help="e.g. 01_pixels_and_labels")
    parser.add_argument("student", help="the learner's id, as in instructor/submitted/")
    parser.add_argument("received", help='a time with its zone, e.g. "2025-03-07 16:58:00 UTC"')
    args = parser.parse_args(argv)
    when = read_time(args.received)
    if when is None:
        parser.error(f"{args.received!r} is not a time (write e.g. 2025-03-07 16:58:00 UTC)")
    if not (safe_name(args.lesson) and safe_name(args.student)):
        parser.error("a lesson or student id is letters, digits and _.@+- only")
    instructor = find_root() / "instructor"
    receipt = record(instructor, args.lesson, args.student, received=when, how="instructor")
    print(f"{args.student}/{args.lesson}: received {receipt.received} (recorded by you)")
    return 0


class ReceivedCollect(ExchangeCollect):
    """nbgrader's exchange collect, recording when each submission was received."""

    def do_copy(self, src: str, dest: str) -> None:
        """Copy one inbound submission, then record its receipt (its newest change time)."""
        from fmnist_utils.grading.intake import safe_name

        received = newest_change(Path(src))
        super().do_copy(src, dest)
        student, lesson = Path(dest).parent.name, Path(dest).name
        if not (safe_name(student) and safe_name(lesson)):
            return  # the intake refuses it
        instructor = Path(self.coursedir.root) / "instructor"
        record(instructor, lesson, student, received=received, how="exchange")


if __name__ == "__main__":
    import sys

    sys.exit(main())
