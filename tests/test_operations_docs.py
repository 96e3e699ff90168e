"""The operations page's Kubernetes example, held to the server: the probes it names are the server's, its
grace period is above the drain, its variables are settings the server reads, and a budget keeps replicas."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from server.settings import Settings
from server.transport.http import CLOSE_SECONDS
from server.variables import VARIABLES

PAGE = Path(__file__).resolve().parent.parent / "docs" / "operations.md"


def example() -> dict[str, Any]:
    (block,) = re.findall(r"```yaml\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.DOTALL)
    return {document["kind"]: document for document in yaml.safe_load_all(block)}


def test_the_kubernetes_example_probes_drains_and_keeps_replicas():
    kinds = example()
    assert set(kinds) == {"Deployment", "PodDisruptionBudget", "Service"}
    deployment = kinds["Deployment"]["spec"]
    pod = deployment["template"]["spec"]
    (container,) = pod["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert "--http" in container["args"]

    env = {item["name"]: item for item in container["env"]}
    known = {variable.name for variable in VARIABLES}
    assert set(env) <= known, set(env) - known
    drain = (
        float(env["SEEDANCE_DRAIN_SECONDS"]["value"]) if "SEEDANCE_DRAIN_SECONDS" in env else Settings().drain_seconds
    )
    assert pod["terminationGracePeriodSeconds"] > drain + CLOSE_SECONDS
    assert all("value" not in env[name] for name in ("FAL_KEY", "SEEDANCE_HTTP_TOKEN", "SEEDANCE_DATABASE_URL"))

    budget = kinds["PodDisruptionBudget"]["spec"]
    assert deployment["replicas"] >= 2 and 1 <= budget["minAvailable"] < deployment["replicas"]
    assert budget["selector"] == deployment["selector"]
