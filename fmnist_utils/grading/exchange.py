"""The class hub's submit step: a submission only its learner and the instructors can read.

nbgrader's own ``ExchangeSubmit`` leaves a submission's folder mode 777 and its files
readable by all, hidden only by a random name in an unlistable ``inbound/``. On the
course's hub ``inbound/`` is set-group-id to the instructors' group
(``hub/fmnist_hub.py``, ``ensure_exchange``), so what is created in it belongs to that
group -- as long as nobody outside the group changes a folder's mode, which clears
the set-group-id bit (nbgrader's copy does, copying the learner's folder's mode).
:class:`PrivateSubmit` therefore copies the submission without touching the folders'
modes, and at the end takes every right away from other users. The hub's learners use
it through ``c.ExchangeFactory.submit``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable

from nbgrader.exchange.default.submit import ExchangeSubmit
from nbgrader.utils import ignore_patterns

FOLDER_MODE = 0o2770
FILE_MODE = 0o660


def make_private(folder: str) -> None:
    """Give a submission's folder and files to their owner and group only.

    Parameters
    ----------
    folder : str
        The submission's folder in the exchange; links in it are left alone, never
        followed.
    """
    for parent, dirs, files in os.walk(folder):
        for name in files:
            path = os.path.join(parent, name)
            if not os.path.islink(path):
                os.chmod(path, FILE_MODE)
        for name in dirs:
            path = os.path.join(parent, name)
            if not os.path.islink(path):
                os.chmod(path, FOLDER_MODE)
    os.chmod(folder, FOLDER_MODE)


def copy_into_group_folder(
    src: str, dest: str, ignore: Callable[[str, list[str]], set[str]]
) -> None:
    """Copy a folder's contents only: new folders keep their parent's group.

    Parameters
    ----------
    src, dest : str
        The learner's lesson folder, and the new submission folder (must not exist).
    ignore : callable
        ``ignore(folder, names)``: the names to leave out, as ``shutil.copytree``'s.
    """
    os.mkdir(dest)
    for parent, dirs, files in os.walk(src):
        skipped = set(ignore(parent, dirs + files))
        dirs[:] = [d for d in dirs if d not in skipped]
        target = os.path.join(dest, os.path.relpath(parent, src))
        for name in dirs:
            os.mkdir(os.path.join(target, name))
        for name in files:
            if name not in skipped:
                shutil.copyfile(os.path.join(parent, name), os.path.join(target, name))


class PrivateSubmit(ExchangeSubmit):
    """nbgrader's submit, copying into ``inbound/`` without losing its group, then private."""

    def _is_submission(self, dest: str) -> bool:
        """Tell whether ``dest`` is a new submission's folder, right in ``inbound/``."""
        return os.path.dirname(os.path.abspath(dest)) == os.path.abspath(self.inbound_path)

    def do_copy(self, src: str, dest: str, log: object = None) -> None:
        """Copy as nbgrader does, but into ``inbound/`` without changing folder modes."""
        if not self._is_submission(dest):
            return super().do_copy(src, dest, log)
        size = self.get_size(src)
        if size > 1000 * self.coursedir.max_dir_size:
            self.log.error("Directory size is too big")
            raise RuntimeError(
                f"Directory size is too big. Size is {size}, maximum size is "
                f"{1000 * self.coursedir.max_dir_size}"
            )
        ignore = ignore_patterns(
            exclude=self.coursedir.ignore,
            include=self.coursedir.include,
            max_file_size=self.coursedir.max_file_size,
            log=self.log,
        )
        copy_into_group_folder(src, dest, ignore)
        return None

    def set_perms(self, dest: str, fileperms: int, dirperms: int) -> None:
        """Leave ``inbound/``'s modes alone until :meth:`copy_files` closes the submission."""
        if not self._is_submission(dest):
            super().set_perms(dest, fileperms, dirperms)

    def copy_files(self) -> None:
        """Submit as nbgrader does, then close the submission to other learners."""
        super().copy_files()
        make_private(os.path.join(self.inbound_path, self.assignment_filename))
