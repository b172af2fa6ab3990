"""A committed snapshot of every resource each stack registers, so reviewers see rendered changes in diffs.

Regenerate after an intended change with:  UPDATE_SNAPSHOTS=1 ./venv/bin/python -m pytest tests/test_snapshots.py
"""

import difflib
import json
import os
from pathlib import Path

import pytest

from harness import SECRET_MARK, ProgramRun

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"


def _mask(value, path: str, secret_paths: set[str]):
    if path in secret_paths:
        return SECRET_MARK
    if isinstance(value, dict):
        return {k: _mask(v, f"{path}.{k}" if path else k, secret_paths) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v, f"{path}[{i}]", secret_paths) for i, v in enumerate(value)]
    return value


def snapshot_of(run: ProgramRun) -> str:
    names = {r.urn: f"{r.typ}::{r.name}" for r in run.resources}
    entries = []
    for r in run.resources:
        inputs = {k: v for k, v in r.inputs.items() if not k.startswith("__")}
        entries.append(
            {
                "type": r.typ,
                "name": r.name,
                "parent": names.get(r.parent, "stack"),
                "inputs": _mask(inputs, "", r.secret_paths),
            }
        )
    entries.sort(key=lambda e: (e["type"], e["name"]))
    return json.dumps({"stack": run.stack, "outputs": run.outputs, "resources": entries}, indent=1, sort_keys=True) + "\n"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_registered_resources_match_the_committed_snapshot(stack, request):
    run = request.getfixturevalue(f"{stack}_run")
    current = snapshot_of(run)
    path = SNAPSHOTS / f"{stack}.json"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_text(current)
    assert path.exists(), f"no snapshot for {stack}: run with UPDATE_SNAPSHOTS=1"
    committed = path.read_text()
    if committed != current:
        diff = "".join(
            difflib.unified_diff(committed.splitlines(True), current.splitlines(True), f"committed/{stack}.json", f"current/{stack}.json", n=2)
        )
        pytest.fail(f"{stack} resources changed; review and regenerate with UPDATE_SNAPSHOTS=1:\n{diff[:6000]}")


def test_snapshots_never_contain_secret_values(dev_run):
    text = snapshot_of(dev_run)
    assert "mock-password" not in text and SECRET_MARK in text
