"""Write base/<service>/ for each service from the one template in template/.

    python deploy/kubernetes/generate.py          # (re)write base/sabilulungan, hayu, erk
    python deploy/kubernetes/generate.py --check  # exit 1 when a generated file is missing/edited

The template names its service `${service}` (lower case: resource names, the image, the command)
and `${SERVICE}` (the prefix of its environment variables). Nothing else differs between the three
services' manifests; the memory each needs is set in base/kustomization.yaml, from measured figures.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "template"
BASE = HERE / "base"
SERVICES = ("sabilulungan", "hayu", "erk")
_PLACEHOLDER = re.compile(r"\$\{(service|SERVICE)\}")


def render(text: str, service: str) -> str:
    """The template text with its placeholders filled in for `service`."""
    values = {"service": service, "SERVICE": service.upper()}
    result = _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)
    if "${" in result:
        raise ValueError(
            f"unknown placeholder left in the template: {result[result.index('${') :][:40]}"
        )
    return result


def expected_files() -> dict[Path, str]:
    """Every generated file and the text it must have."""
    files: dict[Path, str] = {}
    for source in sorted(TEMPLATE.glob("*.yaml")):
        text = source.read_text(encoding="utf-8")
        for service in SERVICES:
            files[BASE / service / source.name] = render(text, service)
    return files


def stale() -> list[str]:
    """Generated files that are missing, differ from the template or are not the template's."""
    problems = []
    expected = expected_files()
    for path, text in expected.items():
        if not path.exists():
            problems.append(f"{path.relative_to(HERE)} is missing")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{path.relative_to(HERE)} differs from the template")
    for service in SERVICES:
        for path in sorted((BASE / service).glob("*")):
            if path not in expected:
                problems.append(f"{path.relative_to(HERE)} is not generated from the template")
    return problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check, write nothing")
    args = parser.parse_args(argv)
    if args.check:
        problems = stale()
        for problem in problems:
            print(
                f"generate.py: {problem}; run python deploy/kubernetes/generate.py", file=sys.stderr
            )
        return 1 if problems else 0
    for service in SERVICES:
        folder = BASE / service
        folder.mkdir(parents=True, exist_ok=True)
        for path in folder.glob("*.yaml"):
            path.unlink()
    for path, text in expected_files().items():
        path.write_text(text, encoding="utf-8")
    print(
        f"generate.py: wrote {len(SERVICES)} services from {TEMPLATE.relative_to(HERE.parents[1])}/"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
