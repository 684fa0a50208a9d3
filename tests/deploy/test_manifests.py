"""deploy/: the Kubernetes manifests and the compose file, checked offline.

No cluster and no schema registry here, so these are the checks `kubectl apply --dry-run` would
not even make: kinds and API versions, selectors that select the pods, probes on the health
endpoint, ports that exist, the Redis URL naming the Redis service, and the scenarios loading.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mockbay.cli import main
from mockbay.loading import load_yaml
from tests.conftest import REPO

DEPLOY = REPO / "deploy"
API_VERSIONS = {"Deployment": "apps/v1", "Service": "v1", "ConfigMap": "v1"}


def manifests() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((DEPLOY / "kubernetes" / "kustomization.yaml").read_text())
    docs: list[dict[str, Any]] = []
    for name in kustomization["resources"]:
        docs += [d for d in yaml.safe_load_all((DEPLOY / "kubernetes" / name).read_text()) if d]
    return docs


def of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in manifests() if d["kind"] == kind}


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def env_of(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container.get("env", [])}


def test_every_manifest_has_a_known_kind_api_version_and_a_unique_name() -> None:
    docs = manifests()
    assert {d["kind"] for d in docs} == set(API_VERSIONS)
    for doc in docs:
        assert doc["apiVersion"] == API_VERSIONS[doc["kind"]], doc["metadata"]["name"]
    names = [(d["kind"], d["metadata"]["name"]) for d in docs]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("name", ["mockbay", "mockbay-redis"])
def test_each_deployment_selects_its_pods_probes_them_and_requests_resources(name: str) -> None:
    deployment = of_kind("Deployment")[name]
    template = deployment["spec"]["template"]
    assert selects(deployment["spec"]["selector"]["matchLabels"], template["metadata"]["labels"])
    for container in template["spec"]["containers"]:
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        for probe in ("readinessProbe", "livenessProbe"):
            assert probe in container, f"{name}: {container['name']} has no {probe}"
            target = container[probe].get("httpGet") or container[probe].get("tcpSocket")
            if target is not None:
                assert target["port"] in ports or target["port"] in ports.values()
        assert {"cpu", "memory"} <= container["resources"]["requests"].keys()


def test_mockbay_runs_several_replicas_probed_on_health_with_the_scenarios_mounted() -> None:
    deployment = of_kind("Deployment")["mockbay"]
    spec = deployment["spec"]["template"]["spec"]
    assert deployment["spec"]["replicas"] >= 2
    (container,) = spec["containers"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/_mockbay/health"
    volumes = {v["name"]: v for v in spec["volumes"]}
    (mount,) = container["volumeMounts"]
    assert volumes[mount["name"]]["configMap"]["name"] in of_kind("ConfigMap")
    assert env_of(container)["MOCKBAY_SCENARIOS"] == mount["mountPath"]


def test_the_state_url_names_the_redis_service_and_its_port() -> None:
    (container,) = of_kind("Deployment")["mockbay"]["spec"]["template"]["spec"]["containers"]
    found = re.fullmatch(r"redis://([\w-]+):(\d+)/\d+", env_of(container)["MOCKBAY_STATE"])
    assert found, env_of(container)["MOCKBAY_STATE"]
    service = of_kind("Service")[found.group(1)]
    assert int(found.group(2)) in {p["port"] for p in service["spec"]["ports"]}


def test_each_service_selects_a_deployment_and_targets_a_named_container_port() -> None:
    deployments = of_kind("Deployment").values()
    for name, service in of_kind("Service").items():
        matching = [
            d
            for d in deployments
            if selects(service["spec"]["selector"], d["spec"]["template"]["metadata"]["labels"])
        ]
        assert len(matching) == 1, name
        port_names = {
            p["name"] for c in matching[0]["spec"]["template"]["spec"]["containers"] for p in c["ports"]
        }
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= port_names


def test_the_config_map_carries_the_example_scenarios_and_they_load() -> None:
    text = of_kind("ConfigMap")["mockbay-scenarios"]["data"]["scenarios.yaml"]
    assert text == (DEPLOY / "scenarios.yaml").read_text()
    assert [s.name for s in load_yaml(text, "deploy/scenarios.yaml")] == ["greeting", "flaky", "limited"]


def test_every_mockbay_variable_used_is_one_serve_reads(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--help"]) == 0
    help_text = capsys.readouterr().out
    (container,) = of_kind("Deployment")["mockbay"]["spec"]["template"]["spec"]["containers"]
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    used = set(env_of(container)) | set(compose["services"]["mockbay"]["environment"])
    assert used and all(name in help_text for name in used), used


def test_compose_runs_the_same_three_replicas_on_redis_behind_a_balancer() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"redis", "mockbay", "balancer"}
    mockbay = services["mockbay"]
    assert mockbay["deploy"]["replicas"] == 3
    assert mockbay["environment"]["MOCKBAY_STATE"].startswith("redis://redis:6379/")
    assert mockbay["depends_on"]["redis"]["condition"] == "service_healthy"
    assert (DEPLOY / mockbay["build"]["context"] / mockbay["build"]["dockerfile"]).is_file()
    for volume in [*mockbay["volumes"], *services["balancer"]["volumes"]]:
        assert (DEPLOY / volume.split(":")[0]).is_file(), volume
    # the example scenarios alone, not the image's bundled /scenarios beside them
    (scenarios,) = mockbay["volumes"]
    assert mockbay["environment"]["MOCKBAY_SCENARIOS"] == scenarios.split(":")[1] != "/scenarios"
    assert "server mockbay:8080;" in Path(DEPLOY / "nginx.conf").read_text()
