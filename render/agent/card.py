"""The A2A AgentCard of an agent, as Nacos stores it and as the agent serves it."""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentExtension,
    AgentInterface,
    AgentProvider,
    AgentSkill,
    HTTPAuthSecurityScheme,
    SecurityScheme,
)

from models.agent_spec import AgentSpec
from render.agent.routes import A2A_PATH, Caller, a2a_paths

A2A_PROTOCOL_VERSION = "0.3.0"
TRANSPORT = "JSONRPC"
INTERNAL_JWT_SCHEME = "internalJwt"


def build_agent_card(
    spec: AgentSpec,
    gateway_base_url: str,
    skill_callers: Mapping[str, Sequence[Caller]],
    version: Optional[str] = None,
    async_interface: Optional[dict] = None,
) -> dict:
    """The A2A AgentCard of an agent (validated by a2a-sdk), as the JSON dict Nacos stores.

    It names only routes the gateway has (render.agent.routes, from the same `skill_callers`):
    `url` is the agent-wide route when some caller may call every skill, else the first called
    skill's route; `additionalInterfaces` lists every A2A route, the `url` one first, so a caller
    of one skill finds its route. An agent no other agent calls has no A2A route: its `url` is
    where the agent-wide route would be, and the card lists no interface.
    """
    base = gateway_base_url.rstrip("/")
    paths = a2a_paths(spec, skill_callers)
    input_modes = sorted({m for s in spec.a2a_skills for m in s.input_modes}) or ["text/plain"]
    output_modes = sorted({m for s in spec.a2a_skills for m in s.output_modes}) or ["text/plain"]
    provider = spec.provider
    card = AgentCard(
        name=spec.name,
        description=spec.description,
        version=version or spec.version,
        url=base + (paths[0] if paths else A2A_PATH.format(agent=spec.name)),
        preferred_transport=TRANSPORT,
        additional_interfaces=[
            *(AgentInterface(url=base + p, transport=TRANSPORT) for p in paths),
            *([AgentInterface(url=async_interface["url"], transport=async_interface["transport"])] if async_interface else []),
        ]
        or None,
        protocol_version=A2A_PROTOCOL_VERSION,
        capabilities=AgentCapabilities(
            streaming=True,
            extensions=[AgentExtension(**async_interface["extension"])] if async_interface else None,
        ),
        default_input_modes=input_modes,
        default_output_modes=output_modes,
        skills=[
            AgentSkill(
                id=s.id,
                name=s.name,
                description=s.description,
                tags=list(s.tags),
                examples=list(s.examples) or None,
                input_modes=list(s.input_modes),
                output_modes=list(s.output_modes),
            )
            for s in spec.a2a_skills
        ],
        security_schemes={
            INTERNAL_JWT_SCHEME: SecurityScheme(
                root=HTTPAuthSecurityScheme(
                    type="http",
                    scheme="bearer",
                    bearer_format="JWT",
                    description="Platform-internal JWT issued to agents; checked by the gateway",
                )
            )
        },
        security=[{INTERNAL_JWT_SCHEME: []}],
        provider=AgentProvider(
            organization=provider.organization if provider else f"agent-runtime/{spec.tenant}",
            url=provider.url if provider else base,
        ),
    )
    return card.model_dump(mode="json", by_alias=True, exclude_none=True)
