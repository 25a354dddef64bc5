"""The container engine, for the container tests and the container benchmark.

``tests/test_container.py`` and ``benchmarks/container.py`` both build the course image
and run podman with these helpers: one engine configuration (``CONTAINERS_CONF`` for
machines without systemd), one build, one wait for a healthy container. A failure
raises ``pytest.fail`` with the command's output (outside pytest, an exception all the
same).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"  # logs and the engine's configuration (gitignored)
BIN = Path(sys.executable).parent
PROJECT = "fmnist-test"
IMAGE = "fmnist-course:test"
BASE = "docker.io/library/debian:bookworm-slim"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
ENGINE_CONF = """\
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
"""
_ENV: dict[str, str] = {}

TIMINGS: dict[str, float] = {}


def tool(name: str) -> str | None:
    here = BIN / name
    return str(here) if here.exists() else shutil.which(name)


def engine_env() -> dict[str, str]:
    """The environment every podman command runs in (CONTAINERS_CONF for these machines)."""
    if not _ENV:
        env = dict(os.environ)
        if "CONTAINERS_CONF" not in env and shutil.which("runc"):
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            conf = ARTIFACTS / "containers.conf"
            conf.write_text(ENGINE_CONF)
            env["CONTAINERS_CONF"] = str(conf)
        env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
        _ENV.update(env)
    return dict(_ENV)


def podman(
    *args: str, check: bool = True, timeout: float = 120, **kw
) -> subprocess.CompletedProcess:
    """Run ``podman ARGS``, output captured; fail the test with it when ``check``."""
    done = subprocess.run(
        ["podman", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        env=kw.pop("env", None) or engine_env(),
        **kw,
    )
    if check and done.returncode != 0:
        command = " ".join(args)
        pytest.fail(f"podman {command} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done


def compose(*args: str, extra_env: dict[str, str], check: bool = True, timeout: float = 300):
    """Run ``podman-compose -p fmnist-test ARGS`` in the repository, as the README does."""
    env = engine_env() | extra_env
    done = subprocess.run(
        [tool("podman-compose"), "-p", PROJECT, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        env=env,
    )
    if check and done.returncode != 0:
        pytest.fail(f"podman-compose {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done


def timed(label: str, timings: dict[str, float]):
    class _Timer:
        def __enter__(self):
            self.start = time.perf_counter()

        def __exit__(self, *exc):
            timings[label] = time.perf_counter() - self.start
            return False

    return _Timer()


def ensure_base(log) -> None:
    if podman("image", "exists", BASE, check=False).returncode == 0:
        return
    if shutil.which("debootstrap") is None:
        pytest.fail(f"{BASE} is not in podman's storage and debootstrap is not installed")
    rootfs = ARTIFACTS / "bookworm-rootfs"
    shutil.rmtree(rootfs, ignore_errors=True)
    try:
        with timed("debootstrap base", TIMINGS):
            done = subprocess.run(
                [
                    "debootstrap",
                    "--variant=minbase",
                    "bookworm",
                    str(rootfs),
                    "http://deb.debian.org/debian",
                ],
                capture_output=True,
                text=True,
                check=False,
                timeout=900,
            )
            log.write(done.stdout + done.stderr)
            assert done.returncode == 0, f"debootstrap failed:\n{done.stderr[-3000:]}"
            # What the official slim image leaves out: downloaded packages, apt lists.
            for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
                for path in (rootfs / junk).glob("*"):
                    if path.is_file():
                        path.unlink()
            tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
            podman("import", "--change", 'CMD ["bash"]', "-", BASE, stdin=tar.stdout, timeout=600)
            tar.wait()
    finally:
        shutil.rmtree(rootfs, ignore_errors=True)


def build_image() -> str:
    """Build the course image from the real Dockerfile (layers reused); return its tag.

    Also the container benchmark's build (``benchmarks/container.py``): one build
    helper. Fails (``pytest.fail`` or an assertion) with the build log's tail.
    """
    podman("info", timeout=60)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    old = podman("image", "inspect", "--format", "{{.Id}}", IMAGE, check=False).stdout.strip()
    with open(ARTIFACTS / "container-build.log", "w") as log:
        ensure_base(log)
        args = ["build", "--pull=never", "--format", "docker", "--layers", "-t", IMAGE]
        if CA_BUNDLE.is_file():  # a proxy that intercepts TLS: hand pip the host's CAs
            ca = "/etc/ssl/certs/host-ca.crt"
            args += ["--volume", f"{CA_BUNDLE}:{ca}:ro", "--build-arg", f"PIP_CERT={ca}"]
        with timed("image build", TIMINGS):
            done = podman(*args, str(ROOT), check=False, timeout=1500, cwd=ROOT)
        log.write(done.stdout + done.stderr)
    assert done.returncode == 0, f"image build failed:\n{(done.stdout + done.stderr)[-4000:]}"
    new = podman("image", "inspect", "--format", "{{.Id}} {{.Size}}", IMAGE).stdout.split()
    if old and old != new[0]:  # our previous build, now untagged: do not pile up 3 GB images
        podman("rmi", old, check=False)
    TIMINGS["image size (MB)"] = int(new[1]) / 1e6
    return IMAGE


def wait_healthy(name: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = podman("inspect", "--format", "{{.State.Status}}", name, check=False).stdout.strip()
        if state not in ("running", "created", "configured", ""):
            logs = podman("logs", name, check=False)
            pytest.fail(f"{name} is {state}, not running:\n{logs.stdout}{logs.stderr}")
        # podman 4.3 would run this from a systemd timer; none runs here, so run it ourselves.
        if podman("healthcheck", "run", name, check=False).returncode == 0:
            return
        time.sleep(2)
    logs = podman("logs", name, check=False)
    tail = logs.stdout[-3000:] + logs.stderr[-3000:]
    pytest.fail(f"{name} was not healthy within {timeout} s:\n{tail}")
