"""An instructor adds a learner from JupyterHub's admin panel, on a running hub.

The panel's *Add Users* sends ``POST /hub/api/users``: the test sends the same request
with the instructor's own token. The new learner must be a real learner of the course
(a Unix user in the learners' group, private home, a password the instructor can read
and hand out, in the class list), able to log in and get a server; the instructor must
not be able to put a system account on the hub, nor make anyone an admin.
"""

from __future__ import annotations

import csv
import grp
import io
import os
import pwd
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT
from .hub_support import login, running_test_hub
from .support import skip_or_fail

sys.path.insert(0, str(ROOT / "hub"))
import fmnist_hub

LEARNER, TEACHER, ADDED = "fxpnlada", "fxpnlteach", "fxpnlbo"


def _read_as(name: str, path: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["setpriv", f"--reuid={name}", f"--regid={name}", "--init-groups", "cat", path],
        capture_output=True, text=True, check=False, cwd="/",
    )  # fmt: skip


@pytest.mark.slow
def test_an_instructor_adds_a_learner_from_the_admin_panel() -> None:
    if os.geteuid() != 0:
        skip_or_fail("this test starts the hub and makes users: run it as root")
    with running_test_hub([LEARNER], instructors=(TEACHER,), others=(ADDED,)) as hub:
        settings = hub.settings
        token = hub.token(TEACHER)
        status, body = hub.call("POST", "/hub/api/users", token, {"usernames": [ADDED]})
        assert status == 201, (status, body)
        # a real learner: Unix user in the learners' group, private home
        entry = pwd.getpwnam(ADDED)
        assert ADDED in grp.getgrnam(settings.learners_group).gr_mem
        assert stat.S_IMODE(os.stat(entry.pw_dir).st_mode) == 0o700
        # their initial password: the instructor reads it, a learner does not
        passwords = str(settings.staff / "initial-passwords.csv")
        seen = _read_as(TEACHER, passwords)
        assert seen.returncode == 0, seen.stderr
        rows = {r["id"]: r["password"] for r in csv.DictReader(io.StringIO(seen.stdout))}
        assert _read_as(LEARNER, passwords).returncode != 0, "learners cannot read passwords"
        # they are in the class list, and they log in and get a server
        roster = fmnist_hub.gradebook_roster(settings).read_text()
        assert f"\n{ADDED}," in roster
        status, cookies = login(hub, ADDED, rows[ADDED])
        assert status == 302 and "jupyterhub-hub-login" in cookies, (status, cookies)
        hub.spawn(ADDED)
        status, _ = hub.user_call(ADDED, "GET", "/api/contents/lessons")
        assert status == 200
        # no system account, no admin, no bad name from the panel
        status, body = hub.call("POST", "/hub/api/users", token, {"usernames": ["root"]})
        assert status == 400 and "not of the course" in str(body), (status, body)
        status, _ = hub.call("GET", "/hub/api/users/root", token)
        assert status == 404, "the refused user is not left on the hub"
        status, _ = hub.call(
            "POST", "/hub/api/users", token, {"usernames": ["fxpnlcy"], "admin": True}
        )
        assert status == 403
        assert not fmnist_hub.known(pwd.getpwnam, "fxpnlcy")
        status, _ = hub.call("POST", "/hub/api/users", token, {"usernames": ["Bad Name"]})
        assert status == 400
        # names that would carry rights, or land on someone's files, are refused
        (Path(settings.homes) / "fxpnlold").mkdir()
        for name in ("admin", "fxpnl-instructors", "fxpnlold"):
            status, body = hub.call("POST", "/hub/api/users", token, {"usernames": [name]})
            assert status == 400, (name, status, body)
            assert not fmnist_hub.known(pwd.getpwnam, name), name
        # an instructor cannot become a learner by renaming: only admins rename
        assert hub.admin("POST", f"/users/{LEARNER}")[0] in (201, 409)
        status, _ = hub.call("DELETE", f"/hub/api/users/{ADDED}", token)
        assert status == 204
        status, body = hub.call("PATCH", f"/hub/api/users/{TEACHER}", token, {"name": ADDED})
        assert status == 403 and "rename" in str(body), (status, body)
        # a learner cannot add anyone
        status, _ = hub.call(
            "POST", "/hub/api/users", hub.token(LEARNER), {"usernames": ["fxpnlcy"]}
        )
        assert status == 403
