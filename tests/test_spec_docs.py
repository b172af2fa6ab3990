"""Spec documentation stays true: schemas and field references generated from the models, every field described, one version.

(That the example agents validate against the schemas is tests/test_agent_specs.py's job.)
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
GENERATOR = REPO / "scripts" / "gen_agent_schema.py"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_agent_schema", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


gen = _generator()
GENERATED = gen.outputs()
SCHEMAS = [t.schema for t in gen.TARGETS]


# ---------------------------------------------------------------- (a) committed = generated


def test_the_generator_covers_both_schemas_and_both_references():
    assert set(GENERATED) == {
        Path("agents/schema.json"),
        Path("agents/mcp/schema.json"),
        Path("docs/agent-spec-reference.md"),
        Path("docs/mcp-spec-reference.md"),
    }


@pytest.mark.parametrize("path", sorted(GENERATED), ids=str)
def test_committed_file_is_what_the_models_generate(path: Path):
    committed = REPO / path
    assert committed.exists(), f"{path} is missing; run {gen.REGENERATE}"
    assert committed.read_text(encoding="utf-8") == GENERATED[path], (
        f"{path} is stale: the models in models/agent_spec.py (or the example it shows) changed; "
        f"run {gen.REGENERATE} and commit the result"
    )


def test_check_mode_passes_now_and_names_a_stale_file(tmp_path: Path, monkeypatch):
    done = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # the same check against a copy whose reference is out of date
    for path, text in GENERATED.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    (tmp_path / "docs" / "mcp-spec-reference.md").write_text("# hand-edited\n", encoding="utf-8")
    monkeypatch.setattr(gen, "REPO", tmp_path)
    monkeypatch.setattr(gen, "outputs", lambda: GENERATED)
    assert gen.stale_files() == ["docs/mcp-spec-reference.md"]
    assert gen.main(["--check"]) == 1


def test_generation_is_deterministic():
    assert gen.outputs() == GENERATED


# ---------------------------------------------------------------- (b) every field described


def _properties(node, path: str = ""):
    """(path, property schema) of every property at every depth: root, $defs/definitions, items, unions, maps."""
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            yield f"{path}/properties/{name}", sub
        for key, value in node.items():
            yield from _properties(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _properties(value, f"{path}/{i}")


@pytest.mark.parametrize("schema_path", SCHEMAS, ids=str)
def test_every_property_and_object_has_a_description(schema_path: Path):
    schema = json.loads((REPO / schema_path).read_text())
    props = list(_properties(schema))
    assert len(props) >= 10, "the walk found too few properties to be walking this schema"
    missing = [
        where for where, sub in props if not (isinstance(sub, dict) and str(sub.get("description", "")).strip())
    ]
    assert not missing, (
        f"{schema_path}: {len(missing)} propert(y/ies) without a description (add Field(description=...) in "
        f"models/agent_spec.py, then run {gen.REGENERATE}):\n  " + "\n  ".join(missing)
    )
    objects = {"(root)": schema, **schema.get("$defs", {}), **schema.get("definitions", {})}
    undescribed = [name for name, node in objects.items() if not str(node.get("description", "")).strip()]
    assert not undescribed, f"{schema_path}: objects without a description (a class docstring): {undescribed}"


@pytest.mark.parametrize("target", gen.TARGETS, ids=lambda t: str(t.doc))
def test_the_reference_has_a_row_for_every_property(target):
    schema = json.loads((REPO / target.schema).read_text())
    doc = (REPO / target.doc).read_text()
    rows = re.findall(r"^\| `([^`]+)` \|", doc, flags=re.M)
    names = {row.rsplit(".", 1)[-1] for row in rows}
    expected = {where.rsplit("/", 1)[-1] for where, _ in _properties(schema)}
    assert expected <= names, sorted(expected - names)
    assert len(rows) == sum(1 for _ in _properties(schema))


# ---------------------------------------------------------------- (d) one version


def test_changelog_newest_version_is_the_version_file():
    version = (REPO / "VERSION").read_text().strip()
    assert re.fullmatch(r"\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?", version), f"VERSION holds {version!r}, not a semantic version"
    headings = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?", (REPO / "CHANGELOG.md").read_text(), flags=re.M)
    released = [(v, date) for v, date in headings if v.lower() != "unreleased"]
    assert released, "CHANGELOG.md has no '## [x.y.z] - YYYY-MM-DD' heading"
    newest, date = released[0]
    assert newest == version, f"CHANGELOG.md's newest version is {newest}, VERSION says {version}"
    assert date, f"CHANGELOG.md: version {newest} has no release date"
