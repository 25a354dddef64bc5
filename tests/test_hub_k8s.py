"""Kubernetes (Zero to JupyterHub, hub/k8s/): what can be checked without a cluster.

Nothing here installs or runs the chart (docs/instructors/kubernetes.md says so): the
values parse, run the course image, mount the exchange where the learners' nbgrader
configuration looks, and set the memory of that page's sizing table.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from benchmarks import page, results

from .conftest import LESSON_IDS, ROOT
from .support import gib

sys.path.insert(0, str(ROOT / "hub"))
import fmnist_hub

# --- Kubernetes (Zero to JupyterHub): what can be checked without a cluster ---------------

K8S = ROOT / "hub" / "k8s"


def _values() -> dict:
    import yaml

    return yaml.safe_load((K8S / "values.yaml").read_text())


def _init_containers(values: dict, image: str) -> list[dict]:
    """Run the chart's extra hub configuration against a spawner of ``image``."""

    class Config(dict):
        def __getattr__(self, name: str):
            return self.setdefault(name, Config())

    class Spawner:
        init_containers: list = []

    spawner = Spawner()
    spawner.image = image
    c = Config()
    for code in values["hub"]["extraConfig"].values():
        exec(code, {"c": c})  # the chart runs these snippets in jupyterhub_config.py
    c.KubeSpawner.pre_spawn_hook(spawner)
    return spawner.init_containers


def test_k8s_values_run_the_course_image() -> None:
    values = _values()
    compose = (ROOT / "compose.yaml").read_text()
    default_image = re.search(r"image: \$\{FMNIST_IMAGE:-([^}]+)\}", compose).group(1)
    image = values["singleuser"]["image"]
    assert f"{image['name']}:{image['tag']}" == default_image
    assert "initContainers" not in values["singleuser"], "the image is set in one place"
    assert _init_containers(values, "registry.example.org/course:v2")[0]["image"] == (
        "registry.example.org/course:v2"
    ), "--set singleuser.image.name=... reaches the init container too"
    config = values["hub"]["config"]
    assert "allowed_users" not in config.get("Authenticator", {}), (
        "a user list under Authenticator would outlive a change of authenticator_class"
    )
    assert config["DummyAuthenticator"]["allowed_users"]
    assert values["singleuser"]["cmd"] == "jupyterhub-singleuser"
    # the image carries JupyterHub's single-user server: the Dockerfile installs the hub extra
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert '".[hub]"' in dockerfile
    from fmnist_utils.tooling import deps

    assert "jupyterhub" in {d.name for d in deps.read_pyproject()["hub"]}
    assert values["cull"]["enabled"] is True and values["cull"]["timeout"] > 0


def test_k8s_exchange_is_where_learners_nbgrader_looks() -> None:
    import yaml

    single = _values()["singleuser"]
    mounts = {m["name"]: m["mountPath"] for m in single["storage"]["extraVolumeMounts"]}
    volumes = {v["name"]: v for v in single["storage"]["extraVolumes"]}
    exchange = Path(mounts["nbgrader-exchange"])
    claim = volumes["nbgrader-exchange"]["persistentVolumeClaim"]["claimName"]
    pvc = yaml.safe_load((K8S / "exchange-pvc.yaml").read_text())
    assert pvc["metadata"]["name"] == claim and pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    # the learners' configuration is the one-machine hub's, for a state folder above it
    settings = fmnist_hub.Settings(state=exchange.parent)
    assert settings.exchange == exchange
    files = {Path(f["mountPath"]): f["stringData"] for f in single["extraFiles"].values()}
    config_dir = Path(single["extraEnv"]["JUPYTER_CONFIG_PATH"])
    assert config_dir == settings.learner_config
    nbgrader_config = files[config_dir / "nbgrader_config.py"]
    expected = fmnist_hub.learner_nbgrader_config(settings)
    assert (
        nbgrader_config.strip() in expected
        and f"c.Exchange.root = {str(exchange)!r}" in nbgrader_config
    )
    lab = json.loads(files[config_dir / "labconfig" / "page_config.json"])
    assert lab == json.loads(fmnist_hub._lab_config(True))
    server = json.loads(files[config_dir / "jupyter_server_config.json"])
    assert server == json.loads(fmnist_hub._server_config(False))
    (init,) = _init_containers(_values(), "fmnist-course:latest")
    assert f"chmod 1777 {exchange}" in " ".join(init["command"])
    assert {m["name"]: m["mountPath"] for m in init["volumeMounts"]} == {
        "nbgrader-exchange": str(exchange)
    }


def test_k8s_memory_holds_what_learners_were_measured_to_need() -> None:
    memory = _values()["singleuser"]["memory"]
    guarantee, limit = gib(memory["guarantee"]), gib(memory["limit"])
    data = results.read()
    # every lesson's kernel peak (benchmarks/results.json, each lesson's solution run)
    records = results.section_records(data, "notebooks")
    peaks = {
        int(lesson[:2]): max(r["result"][mode]["peak_gib"] for mode in ("fast", "full"))
        for lesson, r in records.items()
    }
    assert len(peaks) == len(LESSON_IDS), peaks
    # a learner's server, and learners at work, measured on the hub (benchmarks/hub_sizing.py)
    sizing = page.sizing_figures(data["records"]["hub_sizing"]["result"])
    server = sizing["server_pss"]
    assert guarantee >= server + peaks[1], "the guarantee holds a server and lesson 1's kernel"
    assert limit >= server + max(peaks.values()), "the limit holds the largest lesson"
    at_work = {int(lesson[:2]): x["rss"] for lesson, x in sizing["lessons"].items()}
    assert 1 in at_work and guarantee >= at_work[1], at_work
    assert limit >= max(at_work.values()), at_work
