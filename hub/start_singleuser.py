"""Start a hub user's JupyterLab: give them the lessons they lack, then run the server.

Runs as the user (the hub's spawner calls it with the course's Python), so it can
only ever write what the user may write. A lesson file the user already has, edited
or not, is never replaced; one they deleted comes back fresh at the next start, and
new lessons appear.
"""

import os
import shutil
import sys
from pathlib import Path


def copy_missing(source: Path, dest: Path) -> list[Path]:
    """Copy every file of ``source`` that ``dest`` lacks; never follow or replace a link.

    Returns the files copied.
    """
    copied = []
    for path in sorted(source.rglob("*")):
        target = dest / path.relative_to(source)
        if path.is_dir() or os.path.lexists(target):
            continue
        folders = [
            dest / Path(*path.relative_to(source).parts[:i])
            for i in range(len(path.relative_to(source).parts))
        ]
        if any(folder.is_symlink() for folder in folders):
            continue  # the learner made a link where a folder was: leave it alone
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        copied.append(target)
    return copied


def main() -> None:
    """Copy the lessons into ``~/lessons``, then replace this process with the server."""
    os.umask(0o077)
    source = os.environ.get("FMNIST_HUB_LESSONS")
    if source and Path(source).is_dir():
        copy_missing(Path(source), Path.home() / "lessons")
    server = Path(sys.executable).parent / "jupyterhub-singleuser"
    os.execv(server, [str(server), *sys.argv[1:]])


if __name__ == "__main__":
    main()
