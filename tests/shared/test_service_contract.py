"""Every service keeps the shape of the service contract (README, "Design notes"): the same files,
the one request context in `dependencies.py`, no module over 600 lines (nor in `shared/`). A
service that drifts fails here; so does a gap below that has been closed (delete its entry then)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / p.name).is_dir())

# A module, or a package of the same name (`routes/`, `pages/` split by resource).
MODULES = (
    "main",
    "settings",
    "config",
    "models",
    "schemas",
    "dependencies",
    "workflow",
    "routes",
    "pages",
    "tasks",
    "cli",
    "errors",
    "demo",
)
FOLDERS = ("templates", "migrations")
CONTEXT_NAMES = ("Context", "get_context", "ContextDep", "context_of")
MAX_LINES = 600

# Known gaps (none today). An entry names a gap the contract tolerates until its work lands; the
# test fails for an entry that is no longer a gap.
MISSING_FILES_ALLOWED: set[tuple[str, str]] = set()
NO_CONTEXT_ALLOWED: set[str] = set()
LONG_MODULES_ALLOWED: set[str] = set()


def package(service: str) -> Path:
    return ROOT / "services" / service / service


def has_module(service: str, name: str) -> bool:
    return (package(service) / f"{name}.py").is_file() or (
        package(service) / name / "__init__.py"
    ).is_file()


def test_the_services_are_found() -> None:
    assert {"sabilulungan", "hayu", "erk"} <= set(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_the_same_files_in_every_service(service: str) -> None:
    missing = {(service, m) for m in MODULES if not has_module(service, m)}
    missing |= {(service, f) for f in FOLDERS if not (package(service) / f).is_dir()}
    allowed = {gap for gap in MISSING_FILES_ALLOWED if gap[0] == service}
    assert missing - allowed == set(), f"{service} lacks files of the service contract"
    assert allowed - missing == set(), "closed gaps: delete them from MISSING_FILES_ALLOWED"


def _top_level_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


@pytest.mark.parametrize("service", SERVICES)
def test_one_request_context_in_dependencies(service: str) -> None:
    path = package(service) / "dependencies.py"
    names = _top_level_names(path) if path.is_file() else set()
    lacking = [n for n in CONTEXT_NAMES if n not in names]
    if service in NO_CONTEXT_ALLOWED:
        assert lacking, f"{service} has its Context: delete it from NO_CONTEXT_ALLOWED"
        return
    assert not lacking, f"{service}/dependencies.py lacks {lacking}"


def _context_class(service: str) -> ast.ClassDef:
    tree = ast.parse((package(service) / "dependencies.py").read_text(encoding="utf-8"))
    return next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Context")


@pytest.mark.parametrize("service", SERVICES)
def test_one_clock_read_once_per_context(service: str) -> None:
    """`ctx.now` is a moment held by the context (a field), `ctx.today` its local date (a
    property) and `ctx.at(moment)` the same context at another moment: one convention, so a
    rule reads the same time in every service and within one request."""
    body = _context_class(service).body
    fields = {
        n.target.id: ast.unparse(n.annotation)
        for n in body
        if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
    }
    assert fields.get("now") == "dt.datetime", f"{service}: Context.now is not a datetime field"
    methods = {n.name: n for n in body if isinstance(n, ast.FunctionDef)}
    assert "today" in methods, f"{service}: Context.today is missing"
    decorators = [ast.unparse(d) for d in methods["today"].decorator_list]
    assert decorators == ["property"], f"{service}: Context.today is not a property"
    assert "at" in methods, f"{service}: Context.at(now) is missing"
    assert "clock" not in fields, f"{service}: Context holds a clock to call; hold `now` instead"


def _long_modules(service: str) -> set[str]:
    long = set()
    for path in package(service).rglob("*.py"):
        if "migrations" in path.relative_to(package(service)).parts:
            continue
        if len(path.read_text(encoding="utf-8").splitlines()) > MAX_LINES:
            long.add(f"{service}/{path.relative_to(package(service)).as_posix()}")
    return long


@pytest.mark.parametrize("service", SERVICES)
def test_no_module_over_600_lines(service: str) -> None:
    long = _long_modules(service)
    allowed = {m for m in LONG_MODULES_ALLOWED if m.startswith(f"{service}/")}
    assert long - allowed == set(), f"split these modules by resource (at most {MAX_LINES} lines)"
    assert allowed - long == set(), "closed gaps: delete them from LONG_MODULES_ALLOWED"


def test_no_shared_module_over_600_lines() -> None:
    """The plumbing in `shared/` keeps the same bound as the services."""
    long = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "shared").rglob("*.py")
        if len(path.read_text(encoding="utf-8").splitlines()) > MAX_LINES
    }
    assert long == set(), f"split these modules by responsibility (at most {MAX_LINES} lines)"


def test_the_test_plumbing_names_no_service() -> None:
    """shared.testing gets the services from the tests' conftest (`register_service`)."""
    text = (ROOT / "shared" / "testing.py").read_text(encoding="utf-8")
    named = [s for s in SERVICES if re.search(rf"\b{s}\b", text, re.IGNORECASE)]
    assert named == []
    assert "import_module" not in text
    assert "__import__" not in text


# Plumbing written once in shared/: a service that defines its own copy of one of these drifts.
SHARED_ONLY = {
    "record_transition": "shared.workflow",
    "store_upload": "shared.uploads",
    "login_redirect": "shared.pages",
    "page_router": "shared.pages",
    "attempt": "shared.pages",
    "PageExit": "shared.pages",
    "UsernameTakenError": "shared.registration",
}


@pytest.mark.parametrize("service", SERVICES)
def test_shared_plumbing_is_not_defined_again(service: str) -> None:
    again = []
    for path in sorted(package(service).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                and node.name in SHARED_ONLY
            ):
                again.append(
                    f"{path.relative_to(ROOT)}: {node.name} (use {SHARED_ONLY[node.name]})"
                )
    assert again == []


@pytest.mark.parametrize("service", SERVICES)
def test_one_problem_type_for_too_large(service: str) -> None:
    """A body or upload over its limit answers `payload-too-large` (shared.problems) everywhere."""
    text = "\n".join(
        p.read_text(encoding="utf-8")
        for p in package(service).rglob("*.py")
        if "migrations" not in p.parts
    )
    for other in ("file-too-large", "upload-too-large"):
        assert other not in text, f"{service}: say payload-too-large, not {other}"
