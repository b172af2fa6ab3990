#!/usr/bin/env python3
"""Write the JSON Schemas and field references of agent and MCP server specs (from the pydantic models).

    ./venv/bin/python scripts/gen_agent_schema.py          # (re)write the four files below
    ./venv/bin/python scripts/gen_agent_schema.py --check  # exit 1 naming every stale file

    agents/schema.json, agents/mcp/schema.json          JSON Schemas (editors, CI)
    docs/agent-spec-reference.md, docs/mcp-spec-reference.md   readable field references

Editors pick the schema up through the `# yaml-language-server: $schema=./schema.json`
line at the top of each spec. The models in models/agent_spec.py stay the one source
of truth: every description in the schemas and the references is written there (field
descriptions and class docstrings); this script only renders them. Cross-field and
cross-file rules (weights summing to 100, known tenants, ...) are enforced by the loader;
the descriptions say so where they apply. The output is deterministic: same models, same bytes.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pydantic import BaseModel  # noqa: E402
from pydantic.json_schema import GenerateJsonSchema  # noqa: E402

from models.agent_spec import MCP_SUBDIR, AgentSpec, McpServerSpec  # noqa: E402

REGENERATE = "venv/bin/python scripts/gen_agent_schema.py"


@dataclass(frozen=True)
class Target:
    model: type[BaseModel]
    title: str
    schema: Path  # relative to the repository
    doc: Path
    doc_title: str
    file_form: str  # where such a spec lives
    example: Path  # a real spec shown at the top of the reference
    loader_rules: str  # examples of what only the loader checks


TARGETS = [
    Target(
        AgentSpec,
        "Agent Runtime agent spec",
        Path("agents/schema.json"),
        Path("docs/agent-spec-reference.md"),
        "Agent spec reference",
        "agents/<name>.yaml",
        Path("agents/orchestrator.yaml"),
        "the name matching the file, known tenants, MCP servers and A2A targets, rollout weights summing to 100",
    ),
    Target(
        McpServerSpec,
        "Agent Runtime MCP server spec",
        Path("agents") / MCP_SUBDIR / "schema.json",
        Path("docs/mcp-spec-reference.md"),
        "MCP server spec reference",
        f"agents/{MCP_SUBDIR}/<name>.yaml",
        Path("agents") / MCP_SUBDIR / "product-catalog.yaml",
        "the name matching the file, agents of other tenants refused, agents' toolNames among `tools`",
    ),
]


class _WithFactoryDefaults(GenerateJsonSchema):
    """Also show defaults that come from a `default_factory` ([], {}, [text/plain]): editors and readers see them."""

    def get_default_value(self, schema: Any) -> Any:
        if "default_factory" in schema and not schema.get("default_factory_takes_data"):
            return schema["default_factory"]()
        return super().get_default_value(schema)


def schema_of(target: Target) -> dict:
    """The JSON Schema of a spec model, properties in declaration order."""
    schema = target.model.model_json_schema(by_alias=True, mode="validation", schema_generator=_WithFactoryDefaults)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://agent-runtime.io/schemas/{target.model.__name__}.json",
        **schema,
        "title": target.title,
    }


def render_schema(target: Target) -> str:
    return json.dumps(schema_of(target), indent=2, sort_keys=True) + "\n"


# --------------------------------------------------------------------------- the Markdown reference


def _ref_name(node: dict) -> Optional[str]:
    ref = node.get("$ref")
    return ref.rsplit("/", 1)[-1] if ref else None


def _object_refs(node: dict) -> list[tuple[str, str]]:
    """(path suffix, def name) of every object a property leads to: itself, list items, map values, union members."""
    name = _ref_name(node)
    if name:
        return [("", name)]
    found: list[tuple[str, str]] = []
    for member in node.get("anyOf", []):
        found += _object_refs(member)
    if isinstance(node.get("items"), dict):
        found += [("[]" + suffix, n) for suffix, n in _object_refs(node["items"])]
    if isinstance(node.get("additionalProperties"), dict):
        found += [(".<name>" + suffix, n) for suffix, n in _object_refs(node["additionalProperties"])]
    return list(dict.fromkeys(found))


def _sections(schema: dict) -> tuple[list[str], dict[str, list[str]]]:
    """Object names in reading order (depth first, declaration order) and every path each appears at."""
    defs = schema.get("$defs", {})
    order: list[str] = []
    paths: dict[str, list[str]] = {}

    def visit(name: str, node: dict, path: str, stack: tuple) -> None:
        if name not in paths:
            order.append(name)
            paths[name] = []
        if path and path not in paths[name]:
            paths[name].append(path)
        for prop, sub in node.get("properties", {}).items():
            for suffix, target in _object_refs(sub):
                if target not in stack:
                    visit(target, defs[target], f"{path}.{prop}{suffix}" if path else f"{prop}{suffix}", (*stack, target))

    visit("", schema, "", ("",))
    return order, paths


def _anchor(name: str) -> str:
    return name.lower()


def _bounds(node: dict, unit: str = "") -> str:
    """Ranges the schema states: `1 to 3600`, `> 0, <= 1`, `at least 1 item`, `matching ^/\\S*$`."""
    low = node.get("minimum", node.get("minLength", node.get("minItems")))
    high = node.get("maximum", node.get("maxLength", node.get("maxItems")))
    units = lambda n: f" {unit}{'' if n == 1 else 's'}" if unit else ""  # noqa: E731
    parts = []
    if "exclusiveMinimum" in node:
        parts.append(f"> {node['exclusiveMinimum']}")
    if "exclusiveMaximum" in node:
        parts.append(f"< {node['exclusiveMaximum']}")
    if low is not None and high is not None:
        parts.append(f"{low} to {high}{units(high)}")
    elif low is not None:
        parts.append(f"at least {low}{units(low)}" if unit else f">= {low}")
    elif high is not None:
        parts.append(f"at most {high}{units(high)}" if unit else f"<= {high}")
    if "pattern" in node:
        parts.append(f"matching `{node['pattern']}`")
    return ", ".join(parts)


def _type(node: dict) -> str:
    name = _ref_name(node)
    if name:
        return f"[{name}](#{_anchor(name)})"
    if "anyOf" in node:
        members = [m for m in node["anyOf"] if m.get("type") != "null"]
        return " or ".join(_type(m) for m in members)
    if "const" in node:
        return f"`{node['const']}`"
    if "enum" in node:
        return " | ".join(f"`{v}`" for v in node["enum"])
    kind = node.get("type")
    if kind == "array":
        text = "list of " + _type(node.get("items", {}))
        bounds = _bounds(node, "item")
    elif kind == "object" and isinstance(node.get("additionalProperties"), dict):
        text = "map of string to " + _type(node["additionalProperties"])
        bounds = ""
    elif kind == "string":
        text, bounds = "string", _bounds(node, "character")
    else:
        text, bounds = str(kind or "any"), _bounds(node)
    return f"{text} ({bounds})" if bounds else text


def _default(name: str, node: dict, required: list[str]) -> str:
    if name in required:
        return "required"
    if "default" not in node:
        return "optional"
    value = node["default"]
    if value is None:
        return "unset"
    if isinstance(value, dict) and value and _object_refs(node):
        return "its fields' defaults"
    return "`" + json.dumps(value, sort_keys=True) + "`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render_doc(target: Target, schema: Optional[dict] = None) -> str:
    schema = schema if schema is not None else schema_of(target)
    defs = schema.get("$defs", {})
    order, paths = _sections(schema)
    root = target.model.__name__
    example = (REPO / target.example).read_text(encoding="utf-8").rstrip("\n")
    out = [
        f"<!-- Generated by scripts/gen_agent_schema.py from models/agent_spec.py. Do not edit: change the models "
        f"and run `{REGENERATE}`. -->",
        "",
        f"# {target.doc_title}",
        "",
        f"`{target.file_form}`, validated against [`{target.schema}`](../{target.schema}) by editors and by "
        "`load_agent_specs()` before anything is deployed. Every problem is reported as "
        "`<file>:<line> <field.path>: <message>`, all of them at once. Rules that span fields or files "
        f"({target.loader_rules}, ...) are checked by the loader only; the descriptions below name them.",
        "",
        "## Example",
        "",
        f"[`{target.example}`](../{target.example}):",
        "",
        "```yaml",
        example,
        "```",
        "",
        "## Objects",
        "",
    ]
    for name in order:
        title = root if name == "" else name
        where = "top level" if name == "" else ", ".join(f"`{p}`" for p in paths[name])
        out.append(f"- [{title}](#{_anchor(title)}): {where}")
    for name in order:
        node = schema if name == "" else defs[name]
        title = root if name == "" else name
        out += ["", f"## {title}", ""]
        out.append("The top level of the file." if name == "" else "At " + ", ".join(f"`{p}`" for p in paths[name]) + ".")
        for paragraph in node.get("description", "").split("\n\n"):
            if paragraph.strip():
                out += ["", " ".join(paragraph.split())]
        prefix = "" if name == "" else (paths[name][0] + "." if len(paths[name]) == 1 else "")
        out += ["", "| Field | Type | Required / default | Description |", "|---|---|---|---|"]
        required = node.get("required", [])
        for prop, sub in node.get("properties", {}).items():
            out.append(
                f"| `{prefix}{prop}` | {_cell(_type(sub))} | {_cell(_default(prop, sub, required))} "
                f"| {_cell(sub.get('description', ''))} |"
            )
    return "\n".join(out) + "\n"


def outputs() -> dict[Path, str]:
    """Every generated file (path relative to the repository) and the text the models give it now."""
    files: dict[Path, str] = {}
    for target in TARGETS:
        schema = schema_of(target)
        files[target.schema] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
        files[target.doc] = render_doc(target, schema)
    return files


def stale_files() -> list[str]:
    """Committed files that differ from what the models generate (or are missing)."""
    return [
        str(path)
        for path, text in outputs().items()
        if not (REPO / path).exists() or (REPO / path).read_text(encoding="utf-8") != text
    ]


def main(argv: list[str]) -> int:
    if "--check" in argv:
        stale = stale_files()
        if stale:
            print(f"stale: {', '.join(stale)} (the models in models/agent_spec.py changed); run {REGENERATE}", file=sys.stderr)
            return 1
        print("schemas and references match the models")
        return 0
    for path, text in outputs().items():
        (REPO / path).parent.mkdir(parents=True, exist_ok=True)
        (REPO / path).write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
