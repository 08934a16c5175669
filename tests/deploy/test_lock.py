"""The lock files agree with pyproject.toml, and the environment running the tests is the lock's.

`python3 dev.py lock` writes requirements-dev.lock (runtime + dev extras) and requirements.lock
(runtime only, constrained to the same versions); the images install requirements.lock with
`--require-hashes`, `python3 dev.py install` installs requirements-dev.lock the same way.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
RUNTIME_LOCK = ROOT / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"
PROJECT = "layanan-daerah"


@dataclass(frozen=True)
class LockEntry:
    name: str
    version: str
    marker: str
    hashes: list[str]
    via: set[str]

    def applies_here(self) -> bool:
        if not self.marker:
            return True
        marker = Requirement(f"x; {self.marker}").marker
        return marker is None or marker.evaluate()


def parse_lock(text: str) -> dict[str, LockEntry]:
    """name -> entry, from uv's `pip compile --generate-hashes` output."""
    entries: dict[str, LockEntry] = {}
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text)
    for block in blocks:
        head = re.match(r"([A-Za-z0-9_.\-]+)==([^\s;\\]+)\s*(?:;\s*([^\\\n]+?))?\s*\\?\n", block)
        if head is None:
            continue
        name = canonicalize_name(head.group(1))
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", block)
        via_text = block.split("# via", 1)[1] if "# via" in block else ""
        via = {
            v.strip().split(" ")[0]
            for v in re.findall(r"#\s+([^\n#]+)", via_text) or [via_text]
            if v.strip()
        }
        if re.search(rf"{PROJECT} \(pyproject\.toml\)", via_text):
            via.add(PROJECT)
        entries[name] = LockEntry(name, head.group(2), head.group(3) or "", hashes, via)
    return entries


def project_requirements(extras: tuple[str, ...]) -> list[Requirement]:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    texts = list(project["dependencies"])
    for extra in extras:
        texts += project["optional-dependencies"][extra]
    return [Requirement(t) for t in texts]


def disagreements(lock_text: str, requirements: list[Requirement]) -> list[str]:
    """What makes a lock disagree with the requirements it was made from (empty: it agrees)."""
    entries = parse_lock(lock_text)
    problems = []
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        entry = entries.get(name)
        if entry is None:
            problems.append(f"{requirement} is not in the lock")
        elif not requirement.specifier.contains(entry.version, prereleases=True):
            problems.append(f"{requirement} but the lock pins {entry.version}")
    wanted = {canonicalize_name(r.name) for r in requirements}
    for name, entry in entries.items():
        if PROJECT in entry.via and name not in wanted:
            problems.append(f"{name} is locked for pyproject.toml, which no longer asks for it")
        if not entry.hashes:
            problems.append(f"{name} has no hash")
    return problems


@pytest.mark.parametrize(
    ("lock", "extras"), [(RUNTIME_LOCK, ()), (DEV_LOCK, ("dev",))], ids=["runtime", "dev"]
)
def test_lock_agrees_with_pyproject(lock: Path, extras: tuple[str, ...]) -> None:
    assert disagreements(lock.read_text(), project_requirements(extras)) == []


def test_a_changed_requirement_makes_the_lock_disagree() -> None:
    """The check above is not vacuous: a range the pin misses, a new or a dropped dependency."""
    lock = RUNTIME_LOCK.read_text()
    requirements = project_requirements(())
    fastapi = parse_lock(lock)["fastapi"].version
    narrowed = [r for r in requirements if r.name != "fastapi"]
    narrowed.append(Requirement(f"fastapi>{fastapi}"))
    assert disagreements(lock, narrowed) == [f"fastapi>{fastapi} but the lock pins {fastapi}"]
    added = [*requirements, Requirement("left-pad-never-locked>=1")]
    assert disagreements(lock, added) == ["left-pad-never-locked>=1 is not in the lock"]
    dropped = [r for r in requirements if r.name != "qrcode"]
    assert disagreements(lock, dropped) == [
        "qrcode is locked for pyproject.toml, which no longer asks for it"
    ]


def test_runtime_lock_pins_the_same_versions_as_the_dev_lock() -> None:
    runtime, dev = parse_lock(RUNTIME_LOCK.read_text()), parse_lock(DEV_LOCK.read_text())
    assert runtime, "empty lock"
    assert {n: e.version for n, e in runtime.items()} == {
        n: dev[n].version for n in runtime if n in dev
    }
    assert set(runtime) <= set(dev)


def test_the_tests_run_on_the_locked_versions() -> None:
    """What CI installed is the lock: every locked package that applies here, at its version."""
    mismatched = {}
    for name, entry in parse_lock(DEV_LOCK.read_text()).items():
        if not entry.applies_here():
            continue
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "missing"
        if installed != entry.version:
            mismatched[name] = (entry.version, installed)
    assert mismatched == {}
