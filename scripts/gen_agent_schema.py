#!/usr/bin/env python3
"""Write the JSON Schemas of agent and MCP server specs (from the pydantic models).

    ./venv/bin/python scripts/gen_agent_schema.py          # (re)write agents/schema.json, agents/mcp/schema.json
    ./venv/bin/python scripts/gen_agent_schema.py --check  # exit 1 if they are stale

Editors pick the schema up through the `# yaml-language-server: $schema=./schema.json`
line at the top of each spec. The models stay the source of truth; cross-field and
cross-file rules (weights summing to 100, known tenants, ...) are only enforced by
the loader.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from components.agent_spec import MCP_SUBDIR, AgentSpec, McpServerSpec  # noqa: E402

TARGETS = {
    REPO / "agents" / "schema.json": (AgentSpec, "Agent Runtime agent spec", "agents/<name>.yaml: one agent"),
    REPO / "agents" / MCP_SUBDIR / "schema.json": (
        McpServerSpec,
        "Agent Runtime MCP server spec",
        "agents/mcp/<name>.yaml: one remote MCP server agents may use",
    ),
}


def render(model, title: str, description: str) -> str:
    schema = model.model_json_schema(by_alias=True, mode="validation")
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://agent-runtime.io/schemas/{model.__name__}.json",
        **schema,
        "title": title,
        "description": description,
    }
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for path, (model, title, description) in TARGETS.items():
        text = render(model, title, description)
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path.relative_to(REPO)))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path.relative_to(REPO)}")
    if stale:
        print(f"stale: {', '.join(stale)}; run scripts/gen_agent_schema.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
