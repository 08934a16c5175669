"""Turn a CustomResourceDefinition into the JSON schema check.py validates its resources against.

    python deploy/kubernetes/schemas/vendor.py CRD.yaml [CRD.yaml ...]

For every served version of the CRD it writes `<group>_<version>_<kind>.json` here: the version's
openAPIV3Schema without descriptions (they are most of the size), with `additionalProperties: false`
on every object that lists its properties and does not preserve unknown fields, so that a misspelt
field is an error (what `kubectl apply --validate=strict` would say on a real cluster), and with
`apiVersion` and `kind` pinned. Run it again on a newer CRD to follow an operator's upgrade.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent


def strict(node: Any) -> Any:
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: strict(value) for key, value in node.items() if key != "description"}
    if (
        "properties" in node
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def vendor(crd: dict[str, Any]) -> list[Path]:
    spec = crd["spec"]
    group, kind = spec["group"], spec["names"]["kind"]
    written = []
    for version in spec["versions"]:
        if not version.get("served", True):
            continue
        schema = strict(version["schema"]["openAPIV3Schema"])
        schema["properties"]["apiVersion"] = {"const": f"{group}/{version['name']}"}
        schema["properties"]["kind"] = {"const": kind}
        schema["properties"]["metadata"] = {"type": "object"}  # checked like any other object's
        schema.setdefault("required", [])
        schema["required"] = sorted({*schema["required"], "apiVersion", "kind", "metadata"})
        path = HERE / f"{group}_{version['name']}_{kind.lower()}.json"
        path.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    for name in argv:
        for document in yaml.safe_load_all(Path(name).read_text(encoding="utf-8")):
            if document and document.get("kind") == "CustomResourceDefinition":
                for path in vendor(document):
                    print(f"vendor.py: wrote {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
