#!/usr/bin/env python3
"""Render a stack's Kubernetes objects without a Pulumi engine - a labelled fallback, not a deployment.

    venv/bin/python scripts/render_offline.py [--stack dev] [--out rendered/dev-offline]

Where no Pulumi CLI can be installed (see docs/real-engine.md), this still lets a
newcomer see what the dev stack would create: it runs the real `__main__.py` with
Pulumi's mock monitor, validates every object strictly against the Kubernetes and
CRD schemas, and writes each as YAML. Differences from `pulumi up` with
renderYamlToDirectory, all stated in the output:
- Helm charts (Higress, KEDA) are listed with their values, not expanded;
- generated secrets (pulumi-random) do not exist yet: Secret data is written as
  `<generated at deploy time>` / `<from stack secret>`, never a value;
- registry records (AgentCards, MCP servers) are listed, not published.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]

from offline.stack import run_stack  # noqa: E402
from testing.k8s_schema import (  # noqa: E402
    HIGRESS_GROUPS, HIGRESS_VENDORED_CRDS, SchemaUnavailableError, known_custom_kinds, known_schema_gap,
    pulumi_resource_to_object, unknown_field, validate_object,
)

SECRET_PLACEHOLDER = "<secret: generated at deploy time or read from the stack's secret config>"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    out = Path(args.out or REPO / "rendered" / f"{args.stack}-offline")

    run, _ = run_stack(args.stack, REPO)
    if out.exists():
        shutil.rmtree(out)
    (out / "manifests").mkdir(parents=True)
    notes, problems, written = [], [], 0
    for r in run.resources:
        if r.typ.startswith("kubernetes:helm.sh/"):
            notes.append({"chart": r.inputs.get("chart"), "version": r.inputs.get("version"), "namespace": r.inputs.get("namespace"), "values": r.inputs.get("values")})
            continue
        if r.typ == "pulumi-python:dynamic:Resource":
            notes.append({"registryRecord": r.inputs.get("registryKind"), "name": r.inputs.get("agentName") or r.inputs.get("mcpName") or r.inputs.get("namespaceId")})
            continue
        obj = pulumi_resource_to_object(r.typ, r.name, r.inputs)
        if obj is None:
            continue
        for key in ("data", "stringData"):
            if obj.get("kind") == "Secret" and key in obj:
                obj[key] = {k: SECRET_PLACEHOLDER for k in obj[key]}
        problems += validate_object(obj)
        ns = obj["metadata"].get("namespace", "_cluster")
        path = out / "manifests" / ns / f"{obj['kind']}-{obj['metadata']['name']}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(obj, sort_keys=False))
        written += 1
    (out / "NOT-EXPANDED.yaml").write_text(
        "# Rendered WITHOUT a Pulumi engine (scripts/render_offline.py): these were not expanded or published.\n"
        + yaml.safe_dump(notes, sort_keys=False)
    )
    print(f"{written} Kubernetes objects of stack {args.stack!r} written to {out}/manifests "
          f"({len(notes)} charts/registry records listed in NOT-EXPANDED.yaml)")
    print("outputs:", run.outputs)
    gaps = [p for p in problems if known_schema_gap(p)]
    problems = [p for p in problems if not known_schema_gap(p)]
    try:
        higress = sorted({f"{e['source_label']} [{e['source']}]" for e in known_custom_kinds().values()
                          if e["group"] in HIGRESS_GROUPS})
    except SchemaUnavailableError:
        higress = ["unavailable"]  # validate_object reported it as a problem
    print(f"Higress CRD schemas from: {'; '.join(higress)}")
    if gaps:
        fields = sorted({".".join(unknown_field(g)) for g in gaps})
        print(f"unchecked fields ({len(gaps)} uses): {', '.join(fields)} exist only in the Higress 2.x CRD; the "
              f"vendored one ({HIGRESS_VENDORED_CRDS}) is missing, so the 1.4.2 fallback was used")
    else:
        print("unchecked fields: none")
    if problems:
        print(f"{len(problems)} schema problems:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
