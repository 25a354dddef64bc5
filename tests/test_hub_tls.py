"""The class hub serves HTTPS itself, with a certificate the test makes (no reverse proxy)."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from .conftest import ROOT
from .hub_support import (
    Hub,
    hub_settings_env,
    make_certificate,
    new_test_state,
    start_as_the_unit_would,
)
from .support import skip_or_fail

sys.path.insert(0, str(ROOT / "hub"))
import fmnist_hub


def test_https_needs_both_files(tmp_path: Path) -> None:
    cert = tmp_path / "hub.crt"
    cert.write_text("x")
    with pytest.raises(
        fmnist_hub.HubError, match="both FMNIST_HUB_SSL_CERT and FMNIST_HUB_SSL_KEY"
    ):
        fmnist_hub.check_tls(fmnist_hub.Settings(state=tmp_path, ssl_cert=cert, ssl_key=None))
    with pytest.raises(fmnist_hub.HubError, match="is not a file"):
        fmnist_hub.check_tls(
            fmnist_hub.Settings(state=tmp_path, ssl_cert=cert, ssl_key=tmp_path / "missing.key")
        )
    assert fmnist_hub.Settings(state=tmp_path, ssl_cert=cert, ssl_key=cert).url.startswith(
        "https://"
    )


@pytest.mark.slow
def test_the_hub_serves_its_login_page_over_https() -> None:
    if os.geteuid() != 0:
        skip_or_fail("the HTTPS test starts the hub: run it as root")
    state = new_test_state()
    try:
        cert, key = make_certificate(state)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "FMNIST_"))}
        env.update(
            hub_settings_env(state), FMNIST_HUB_SSL_CERT=str(cert), FMNIST_HUB_SSL_KEY=str(key)
        )
        with pytest.MonkeyPatch.context() as patch:
            for name, value in env.items():
                if name.startswith("FMNIST_HUB_"):
                    patch.setenv(name, value)
            hub = Hub(fmnist_hub.Settings(), env, state / "hub.log", state)
            try:
                fmnist_hub.check_environment(hub.settings)
                fmnist_hub.check_proxy(hub.settings)
            except fmnist_hub.HubError as error:
                pytest.skip(str(error))
            start_as_the_unit_would(hub)
            try:
                assert hub.base.startswith("https://")
                status, page = hub.call("GET", "/hub/login")
                assert status == 200 and 'name="password"' in page
                try:
                    with urllib.request.urlopen(
                        f"http://127.0.0.1:{hub.settings.port}/hub/login", timeout=10
                    ) as response:
                        plain = response.status
                except (OSError, http.client.HTTPException) as error:
                    plain = type(error).__name__
                assert plain != 200, "plain HTTP is not served"
            finally:
                hub.stop()
    finally:
        subprocess.run(["rm", "-rf", str(state)], check=False)
