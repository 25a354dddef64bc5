"""The README's first command, `make lab`, really serves the course on 127.0.0.1 with a token."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from .conftest import ROOT
from .support import free_port

pytestmark = pytest.mark.slow


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0  # not listening (yet)


def _own_address() -> str | None:
    """An address of this machine other than loopback, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("10.255.255.255", 1))  # UDP: sends nothing
            address = sock.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_make_lab_serves_the_course_on_loopback_with_a_token() -> None:
    port, token = free_port(), "test-token-1234"
    env = dict(os.environ, JUPYTER_TOKEN=token)
    lab = subprocess.Popen(
        ["make", "lab", f"PORT={port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while _status(f"{base}/api/status?token={token}") != 200:
            assert lab.poll() is None, f"make lab stopped:\n{lab.stdout.read()}"
            assert time.monotonic() < deadline, "JupyterLab did not answer within 180 s"
            time.sleep(1)
        assert _status(f"{base}/api/status") == 403, (
            "the server must refuse requests without the token"
        )
        assert _status(f"{base}/api/contents/lessons?token={token}") == 200
        other = _own_address()
        if other:
            with pytest.raises(OSError):
                socket.create_connection((other, port), timeout=3)
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        try:
            output, _ = lab.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(lab.pid, signal.SIGKILL)
            output, _ = lab.communicate()
    assert f"127.0.0.1:{port}/lab" in output and "token=" in output, (
        "make lab must print the URL with its token:\n" + output[-3000:]
    )
