"""Agent specs: `agents/<name>.yaml` (one agent each) and `agents/mcp/<name>.yaml` (MCP servers).

Validated once, at the edge, before any resource exists: `load_agent_specs()` parses
every file with line tracking, checks each against the pydantic models below and
then across files (tenants, MCP servers, A2A references, sandbox profiles), and
raises ONE `AgentSpecError` listing every problem as
`agents/<file>.yaml:<line> <dotted.field>: <message>`. Components get typed,
already-checked objects and never re-validate.

Naming: `a2aSkills` are the A2A skills an agent exposes (they become AgentCard
skills); `a2aCalls` are references to other agents' A2A skills. Nothing else is
called a "skill".
"""

from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Iterable, Iterator, Literal, Optional, Union
from urllib.parse import urlparse

import pulumi
import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from models import queue_names
from models.async_spec import AsyncSpec
from models.names import skill_slug
from models.settings import DEFAULT_INCLUDE, DEFAULT_MCP_INCLUDE, PinnedImage, Resources, SandboxEgressRule

MCP_SUBDIR = "mcp"
AGENT_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")  # DNS-1035: Service names start with a letter
AGENT_NAME_MAX = 40
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")
VERSION = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z]+(\.[0-9A-Za-z]+)*)?$")
SKILL_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
MIME = re.compile(r"^[\w.+-]+/[\w.+*-]+$")
HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,128}$")
MCP_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")  # Nacos mcpName chars, and usable in K8s names

# Strings that are credentials whatever field they sit in.
CREDENTIAL_PATTERNS = [
    re.compile(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}"),  # OpenAI / Anthropic
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),  # AWS access key id
    re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),  # Google API key
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),  # GitHub tokens
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),  # Slack
    re.compile(r"\bpcsk_[A-Za-z0-9_]{20,}"),  # Pinecone
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{16,}"),  # a literal bearer token
    re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\."),  # a JWT
]
SENSITIVE_HEADERS = {"authorization", "proxy-authorization", "x-api-key", "api-key", "cookie", "x-auth-token"}

DEFAULT_MODEL_BASE_URLS = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
    "gemini": "https://generativelanguage.googleapis.com",
    "dashscope": "https://dashscope.aliyuncs.com/compatible-mode/v1",
    "deepseek": "https://api.deepseek.com",
}


class AgentSpecError(pulumi.RunError):
    """One or more agent files are invalid. RunError: Pulumi prints the message, no traceback."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            f"{len(problems)} problem(s) in agent specs (nothing was deployed):\n  " + "\n  ".join(problems)
        )


# --------------------------------------------------------------------------- field types


def _check(pattern: re.Pattern, what: str, max_len: int | None = None):
    def check(value: str) -> str:
        if not pattern.match(value) or (max_len is not None and len(value) > max_len):
            limit = f", at most {max_len} characters" if max_len else ""
            raise ValueError(f"{value!r} is not {what}{limit}")
        return value

    return AfterValidator(check)


AgentName = Annotated[
    str, _check(AGENT_NAME, "a valid agent name (lower-case letters, digits, '-', starting with a letter)", AGENT_NAME_MAX)
]
DnsLabel = Annotated[str, _check(DNS_LABEL, "a DNS-1123 label (lower-case letters, digits and '-')", 63)]
K8sName = Annotated[str, _check(DNS_SUBDOMAIN, "a Kubernetes object name (lower-case letters, digits, '-', '.')", 253)]
SecretKeyName = Annotated[str, _check(SECRET_KEY, "a Secret/ConfigMap key (letters, digits, '-', '_', '.')")]
Version = Annotated[str, _check(VERSION, "a semantic version (e.g. 1.2.0 or 2.0.0-rc.1)")]
SkillId = Annotated[str, _check(SKILL_ID, "a skill id (lower-case letters, digits, '.', '_', '-'; used in URLs)", 63)]
Mime = Annotated[str, _check(MIME, "a media type such as text/plain")]
HeaderName = Annotated[str, _check(HEADER_NAME, "an HTTP header name")]
McpServerName = Annotated[str, _check(MCP_NAME, "a valid MCP server name (lower-case letters, digits, '-')", 52)]


def _http_url(value: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL")
    if parsed.username or parsed.password:
        raise ValueError("must not carry credentials; use a secretKeyRef")
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]


def _no_literal_secret(value: Any) -> Any:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        raise ValueError(
            "literal credentials are not allowed: reference a Secret in the tenant namespace with "
            "`secretKeyRef: {name: <secret>, key: <key>}`"
        )
    return value


class Spec(BaseModel):
    """Base of every spec block: camelCase keys as written in the YAML, no unknown keys."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True)


class KeyRef(Spec):
    """One key of a Secret (of a ConfigMap for `systemPrompt.fromConfigMap`) in the namespace of the tenant that uses it."""

    name: K8sName = Field(
        description="Name of the Secret or ConfigMap: a Kubernetes object name (lower-case letters, digits, '-', '.'; "
        "at most 253 characters). It must be provided in that tenant namespace: supplied by the stack "
        "(secret `agentSecrets`, or `agents.configMaps`) or listed as created elsewhere (`agents.externalSecrets`, "
        "`agents.externalConfigMaps`); a reference nothing provides is refused at its spec line."
    )
    key: SecretKeyName = Field(
        description="Key inside that object (letters, digits, '-', '_', '.'; at most 253 characters)."
    )


class SecretRef(Spec):
    """A value that only ever comes from a Secret in the agent's tenant namespace.

    Literal strings or numbers are refused at the spec line; the value reaches the container
    only as a file of its credentials volume, never as an env var, in a ConfigMap or in the Pulumi state.
    """

    secret_key_ref: KeyRef = Field(description="The Secret and key holding the value (`{name: <secret>, key: <key>}`).")


SecretValue = Annotated[SecretRef, BeforeValidator(_no_literal_secret)]


class PromptSource(Spec):
    """The system prompt: inline, or a key of a ConfigMap or Secret in the tenant namespace.

    Set exactly one of `inline`, `fromConfigMap`, `fromSecret`.
    """

    inline: Optional[str] = Field(
        default=None,
        min_length=1,
        description="The prompt text itself (at least 1 character). Stored in the version's ConfigMap "
        "(`system-prompt.txt`), so changing it rolls the pods.",
    )
    from_config_map: Optional[KeyRef] = Field(
        default=None,
        description="A ConfigMap key holding the prompt, mounted read-only at /etc/agent-prompt/system-prompt.txt. "
        "The ConfigMap must be provided (see `name`); the platform does not restart pods when it changes.",
    )
    from_secret: Optional[KeyRef] = Field(
        default=None,
        description="A Secret key holding the prompt (for prompts you keep confidential), mounted read-only at "
        "/etc/agent-prompt/system-prompt.txt. The Secret must be provided (see `name`); the platform does not restart pods when it changes.",
    )

    def problems(self) -> list[tuple[tuple, str]]:
        given = [k for k in ("inline", "fromConfigMap", "fromSecret") if getattr(self, to_snake(k)) is not None]
        if len(given) != 1:
            return [((), f"set exactly one of inline, fromConfigMap, fromSecret (got {given or 'none'})")]
        return []


ModelProvider = Literal["openai", "anthropic", "azure-openai", "gemini", "ollama", "bedrock", "dashscope", "deepseek"]


class ModelSpec(Spec):
    """The LLM a declarative agent talks to, and its sampling parameters (written to the version's config.json)."""

    provider: ModelProvider = Field(
        description="Model API: openai, anthropic, azure-openai, gemini, ollama, bedrock, dashscope or deepseek. "
        "azure-openai, ollama and bedrock have no public default endpoint and need `baseUrl`; "
        "every provider but ollama and bedrock needs `apiKey`."
    )
    model: str = Field(
        min_length=1,
        max_length=256,
        description="The provider's model id, passed through as is (e.g. gpt-4.1, claude-sonnet-4-5); 1-256 characters.",
    )
    base_url: Optional[HttpUrl] = Field(
        default=None,
        description="http(s) URL of the model API, without credentials in it. Default: the provider's public endpoint "
        "(openai https://api.openai.com/v1, anthropic https://api.anthropic.com, gemini "
        "https://generativelanguage.googleapis.com, dashscope https://dashscope.aliyuncs.com/compatible-mode/v1, "
        "deepseek https://api.deepseek.com); required for azure-openai, ollama and bedrock. "
        "The agent's NetworkPolicy opens egress to this host and port.",
    )
    api_key: Optional[SecretValue] = Field(
        default=None,
        description="API key as `{secretKeyRef: {name, key}}` in the tenant namespace (literal keys are refused); "
        "reaches the container as the file /etc/agent-credentials/model-api-key (never an env var). Required unless provider is ollama or bedrock.",
    )
    temperature: float = Field(default=0.7, ge=0, le=2, description="Sampling temperature, 0-2; default 0.7. Lower is more deterministic.")
    max_tokens: int = Field(
        default=4096, ge=1, le=1_000_000, description="Upper bound on tokens generated per model response, 1-1000000; default 4096."
    )
    top_p: float = Field(default=1.0, gt=0, le=1, description="Nucleus-sampling probability mass, greater than 0 and at most 1; default 1.0 (off).")
    timeout_seconds: int = Field(
        default=120, ge=1, le=3600, description="Timeout of one model API call in seconds, 1-3600; default 120."
    )
    headers: dict[HeaderName, Union[SecretRef, str]] = Field(
        default_factory=dict,
        description="Extra HTTP headers sent with every model API call: header name -> literal string or "
        "`{secretKeyRef: {name, key}}`. Literal values are written to the ConfigMap in plain text; credential headers "
        "(Authorization, Proxy-Authorization, X-API-Key, Api-Key, Cookie, X-Auth-Token) must use secretKeyRef "
        "(they become files /etc/agent-credentials/model-header-<name>). Default: none.",
    )

    def endpoint(self) -> Optional[str]:
        return self.base_url or DEFAULT_MODEL_BASE_URLS.get(self.provider)

    def problems(self) -> list[tuple[tuple, str]]:
        found = []
        if self.endpoint() is None:
            found.append((("baseUrl",), f"is required for provider {self.provider!r} (it has no public default endpoint)"))
        if self.api_key is None and self.provider not in ("ollama", "bedrock"):
            found.append((("apiKey",), f"provider {self.provider!r} needs an API key: `apiKey: {{secretKeyRef: {{name, key}}}}`"))
        for name, value in self.headers.items():
            if isinstance(value, str) and name.lower() in SENSITIVE_HEADERS:
                found.append(
                    (("headers", name), "carries credentials: use `{secretKeyRef: {name, key}}`, not a literal value")
                )
        return found


AGENT_REF = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z]([-a-z0-9]*[a-z0-9])?$")
AgentRef = Annotated[str, _check(AGENT_REF, "an agent named as <tenant>/<agent>", 104)]
RetryCondition = Literal["error", "timeout", "invalid_header", "http_429", "http_500", "http_502", "http_503", "http_504"]
FallbackStatus = Annotated[int, Field(ge=500, le=599)]
MAX_RETRIES = 5


class _AccessRule(Spec):
    """Who may call: agents of the owning tenant, of the listed tenants, and the named agents."""

    allow_tenants: list[DnsLabel] = Field(
        default_factory=list,
        description="Other tenants whose agents may name the skill(s) this rule covers in their `a2aCalls`. "
        "Default: none (same-tenant callers only). Not allowed with `sensitive: true` (only named agents call a "
        "sensitive skill).",
    )
    allow_agents: list[AgentRef] = Field(
        default_factory=list,
        description="Agents allowed by name, as `<tenant>/<agent>`, whatever their tenant: the only callers of a "
        "sensitive skill, and extra callers from tenants `allowTenants` does not list. Default: none.",
    )
    sensitive: bool = Field(
        default=False,
        description="Default policy deny: only the agents `allowAgents` names may call, even agents of the owning "
        "tenant. Default false (every agent of the owning tenant may call).",
    )

    def problems(self) -> list[tuple[tuple, str]]:
        if self.sensitive and self.allow_tenants:
            return [(("allowTenants",), _SENSITIVE_TENANTS)]
        return []


_SENSITIVE_TENANTS = "a sensitive rule admits only the agents allowAgents names; list callers there instead of tenants"


@dataclass(frozen=True)
class SkillRule:
    """The access rule that decides one skill's callers, resolved from the skill's `access` or the agent's `a2aAccess`."""

    skill: str
    tenant: str  # the target agent's tenant
    allow_tenants: tuple[str, ...]
    allow_agents: tuple[str, ...]
    sensitive: bool
    source: str  # where the rule is written: "a2aAccess" or "a2aSkills[<i>].access"

    def refusal(self, agent: str, caller_tenant: str, caller: str) -> Optional[str]:
        """Why `caller_tenant/caller` may not call this skill of `agent`; None when it may."""
        if f"{caller_tenant}/{caller}" in self.allow_agents:
            return None
        if self.sensitive:
            return (
                f"skill {self.skill!r} of agent {agent!r} is sensitive: only the agents its {self.source}.allowAgents "
                f"names may call it ({list(self.allow_agents)}), not {caller_tenant}/{caller}"
            )
        if caller_tenant == self.tenant or caller_tenant in self.allow_tenants:
            return None
        return (
            f"agent {agent!r} is in tenant {self.tenant!r} and does not allow callers from {caller_tenant!r} "
            f"to skill {self.skill!r} (its {self.source}.allowTenants: {list(self.allow_tenants)}; "
            f"allowAgents: {list(self.allow_agents)})"
        )


class SkillAccess(_AccessRule):
    """This skill's own access rule; it replaces the agent's `a2aAccess` for the skill (nothing is merged).

    The agent's `a2aAccess.sensitive: true` still applies: a skill of a sensitive agent cannot opt out.
    """


class SkillRetries(Spec):
    """Retries the gateway makes when a call to the skill fails (Higress `higress.io/proxy-next-upstream*`).

    A retry replays the whole POST on another pod: set it only for skills that are safe to repeat.
    A response already streaming to the caller is never retried.
    """

    attempts: int = Field(
        default=0,
        ge=0,
        le=MAX_RETRIES,
        description=f"Retries after the first attempt, 0-{MAX_RETRIES}; default 0 (`proxy-next-upstream: off`). "
        "Becomes `higress.io/proxy-next-upstream-tries`.",
    )
    per_try_timeout_seconds: Optional[int] = Field(
        default=None,
        ge=1,
        le=3600,
        description="Timeout of each attempt in seconds, 1-3600, at most the skill's `timeoutSeconds` "
        "(`higress.io/proxy-next-upstream-timeout`). Default: unset (attempts share the skill's timeout). "
        "Needs attempts >= 1.",
    )
    retry_on: list[RetryCondition] = Field(
        default_factory=lambda: ["error", "timeout"],
        min_length=1,
        description="When to retry (`higress.io/proxy-next-upstream`): error, timeout, invalid_header (Higress maps "
        "these three to Envoy's 5xx), http_429, http_500, http_502, http_503, http_504 (those status codes). "
        "Default [error, timeout]. Needs attempts >= 1 when set.",
    )

    def problems(self) -> list[tuple[tuple, str]]:
        found = []
        if self.attempts == 0:
            for name in ("per_try_timeout_seconds", "retry_on"):
                if name in self.model_fields_set:
                    found.append(((to_camel(name),), "has no effect without retries: set attempts >= 1 or remove it"))
        return found


class SkillResilience(Spec):
    """Timeout, retries and version fallback of one skill's gateway route, as Higress Ingress annotations.

    Circuit breaking and a fallback skill cannot be expressed per skill with Higress 2.2.1 and are refused.
    """

    timeout_seconds: Optional[int] = Field(
        default=None,
        ge=1,
        le=3600,
        description="Gateway timeout of one call to the skill in seconds, 1-3600, retries included "
        "(`higress.io/timeout`). Default: the agent's `route.timeoutSeconds`.",
    )
    retries: SkillRetries = Field(default=SkillRetries(), description="Retries of failed calls. Default: none.")
    version: Optional[Version] = Field(
        default=None,
        description="Pin: every call to the skill goes to this version's pods, whatever the rollout weights and "
        "canary matches. Must be deployed (the agent's `version` or one of `rollout.versions`). "
        "Default: unpinned (the rollout's weights and canaries apply).",
    )
    fallback_version: Optional[Version] = Field(
        default=None,
        description="Version that answers when the pinned `version` has no ready pod or answers one of `fallbackOn` "
        "(Higress `higress.io/default-backend` on that version's Service, with `higress.io/custom-http-errors`). "
        "Needs `version`; must be deployed (one of `rollout.versions`) and differ from it. Default: none.",
    )
    fallback_on: list[FallbackStatus] = Field(
        default_factory=lambda: [502, 503, 504],
        min_length=1,
        description="Status codes of the pinned version (500-599) that send the call to `fallbackVersion`; "
        "default [502, 503, 504]. Needs `fallbackVersion` when set.",
    )
    circuit_breaker: Optional[dict[str, Any]] = Field(
        default=None,
        description="Refused: Higress 2.2.1 has no circuit-breaker Ingress annotation, its chart installs no "
        "DestinationRule, and outlier detection acts on a whole Service (every skill of the version), never on one "
        "skill. Use `retries` and `fallbackVersion`.",
    )
    fallback_skill: Optional[Any] = Field(
        default=None,
        description="Refused: Higress falls back only to another Service at the same path (`higress.io/default-backend`), "
        "so a different skill (another path) cannot be a fallback. Use `fallbackVersion`.",
    )

    def problems(self, route_timeout: int) -> list[tuple[tuple, str]]:
        """Checks within the block; `route_timeout` is the agent's default timeout."""
        found = [(("retries", *loc), msg) for loc, msg in self.retries.problems()]
        timeout = self.timeout_seconds or route_timeout
        per_try = self.retries.per_try_timeout_seconds
        if per_try is not None and per_try > timeout:
            found.append((("retries", "perTryTimeoutSeconds"), f"must be <= the skill's timeout ({timeout} s)"))
        if self.fallback_version is not None and self.version is None:
            found.append((("fallbackVersion",), "needs a pinned `version` to fall back from"))
        if self.fallback_version is not None and self.fallback_version == self.version:
            found.append((("fallbackVersion",), "must differ from the pinned version"))
        if "fallback_on" in self.model_fields_set and self.fallback_version is None:
            found.append((("fallbackOn",), "has no effect without fallbackVersion"))
        if self.circuit_breaker is not None:
            found.append((("circuitBreaker",), "is not supported: " + _CIRCUIT_BREAKER_REFUSAL))
        if self.fallback_skill is not None:
            found.append((("fallbackSkill",), "is not supported: " + _FALLBACK_SKILL_REFUSAL))
        return found


_CIRCUIT_BREAKER_REFUSAL = (
    "Higress 2.2.1 has no circuit-breaker Ingress annotation and its chart installs no DestinationRule CRD; "
    "outlier detection would act on the whole version Service (every skill), not this skill. Use retries and fallbackVersion"
)
_FALLBACK_SKILL_REFUSAL = (
    "Higress falls back only to another Service at the same path (higress.io/default-backend); a different skill is "
    "another path. Use fallbackVersion"
)


class A2ASkill(Spec):
    """A skill this agent exposes over A2A; becomes an AgentCard skill."""

    id: SkillId = Field(
        description="Skill id, unique within the agent: lower-case letters, digits, '.', '_', '-', at most 63 characters. "
        "Part of the A2A URL (/api/v1/internal/a2a/<agent>/<id>) and what callers name in `a2aCalls[].skill`; "
        "renaming it breaks those callers."
    )
    name: str = Field(min_length=1, max_length=128, description="Human-readable skill name on the AgentCard, 1-128 characters.")
    description: str = Field(
        min_length=1, max_length=2048, description="What the skill does, on the AgentCard (1-2048 characters); callers and their models read it."
    )
    tags: list[str] = Field(default_factory=list, description="Free-form keywords on the AgentCard, for discovery. Default: none.")
    examples: list[str] = Field(default_factory=list, description="Example requests shown on the AgentCard. Default: none.")
    input_modes: list[Mime] = Field(
        default_factory=lambda: ["text/plain"],
        min_length=1,
        description="Media types the skill accepts (e.g. text/plain, application/json); at least one; default [text/plain]. "
        "The AgentCard's defaultInputModes are the union over all skills.",
    )
    output_modes: list[Mime] = Field(
        default_factory=lambda: ["text/plain"],
        min_length=1,
        description="Media types the skill returns; at least one; default [text/plain]. "
        "The AgentCard's defaultOutputModes are the union over all skills.",
    )
    access: Optional[SkillAccess] = Field(
        default=None,
        description="Who may call this skill; replaces the agent's `a2aAccess` for it as a whole. "
        "Default: the agent's `a2aAccess`.",
    )
    resilience: SkillResilience = Field(
        default=SkillResilience(),
        description="Timeout, retries and version pin/fallback of this skill's gateway route. "
        "Default: the agent's route timeout, no retries, unpinned.",
    )


class A2ACall(Spec):
    """A reference to another agent's A2A skill this agent may call.

    Each reference lets this agent through the target's A2A route (gateway JWT consumer and
    allow list) and opens the NetworkPolicies between the two agents; calls go to
    <gateway>/api/v1/internal/a2a/<agent>/<skill>.
    """

    agent: AgentName = Field(
        description="Name of the agent to call (an agent under agents/, not this one). The skill's access rule (its "
        "`access`, else the agent's `a2aAccess`) must admit this agent: same tenant unless sensitive, a tenant in "
        "`allowTenants`, or this agent in `allowAgents`; otherwise the call is refused at this line."
    )
    skill: SkillId = Field(
        description="Id of one of that agent's `a2aSkills`. Each agent/skill pair may appear once; it lets this agent "
        "through that skill's gateway route only."
    )


class A2AAccess(_AccessRule):
    """Who may call this agent's A2A skills: the rule of every skill without an `access` of its own.

    Agents of the agent's own tenant may call (unless `sensitive`), plus those of `allowTenants` and the agents
    `allowAgents` names; each caller still has to name the skill in its `a2aCalls`.
    """


class McpAuth(Spec):
    """The credential the agent sends to an MCP server: `<header>: <prefix><secret value>` on every request."""

    secret_key_ref: KeyRef = Field(
        description="Secret and key holding the credential. For a server under agents/mcp/ the Secret must exist in "
        "the namespace of every tenant whose agents use it; for an inline `remote`, in the agent's tenant. "
        "Reaches the container as the file /etc/agent-credentials/mcp-<server>-auth."
    )
    header: HeaderName = Field(
        default="Authorization", description="HTTP header carrying the credential (at most 128 letters, digits, '-'); default Authorization."
    )
    prefix: str = Field(
        default="Bearer ",
        description='Text put before the secret value in the header, trailing space included; default "Bearer ". '
        'Use "" for a bare API key.',
    )


McpProtocol = Literal["sse", "streamable-http"]


class RemoteMcp(Spec):
    """An MCP server declared inline in one agent; unlike agents/mcp/ servers it is not registered in Nacos."""

    name: McpServerName = Field(
        description="Name of the server within this agent (lower-case letters, digits, '-'; at most 52 characters); "
        "must be unique among the agent's tools and names its credential file."
    )
    url: HttpUrl = Field(
        description="http(s) endpoint of the MCP server, without credentials in it. "
        "The agent's NetworkPolicy opens egress to this host and port."
    )
    protocol: McpProtocol = Field(
        default="streamable-http", description="MCP transport: streamable-http (default) or sse."
    )
    timeout_seconds: int = Field(default=30, ge=1, le=600, description="Timeout of one MCP call in seconds, 1-600; default 30.")
    auth: Optional[McpAuth] = Field(default=None, description="Credential sent with every request. Default: none.")


class ToolRef(Spec):
    """An MCP tool source: a server declared under agents/mcp/, or a remote URL inline. Set exactly one of `mcpServer`, `remote`."""

    mcp_server: Optional[McpServerName] = Field(
        default=None,
        description="Name of a server declared as agents/mcp/<name>.yaml. The server's `tenants` must include this "
        "agent's tenant (when it lists any).",
    )
    remote: Optional[RemoteMcp] = Field(default=None, description="A server declared inline, for this agent only.")
    tool_names: list[str] = Field(
        default_factory=list,
        description="The server's tools this agent may use. Default: empty, meaning all of them. "
        "When the server declares its `tools`, every name here must be one of them.",
    )
    require_approval: list[str] = Field(
        default_factory=list,
        description="Tools that need a human approval before each call (passed to the agent runtime). "
        "When `toolNames` is set, each must be listed there. Default: none.",
    )

    @property
    def server_name(self) -> str:
        return self.mcp_server or (self.remote.name if self.remote else "")

    def problems(self) -> list[tuple[tuple, str]]:
        if (self.mcp_server is None) == (self.remote is None):
            return [((), "set exactly one of mcpServer (a server under agents/mcp/) or remote")]
        extra = sorted(set(self.require_approval) - set(self.tool_names)) if self.tool_names else []
        if extra:
            return [(("requireApproval",), f"names tools not listed in toolNames: {extra}")]
        return []


class MemorySpec(Spec):
    """Long-term memory: a vector index the agent runtime queries (settings written to the version's config.json)."""

    provider: Literal["pinecone"] = Field(description="Vector store; only pinecone is supported.")
    index_host: HttpUrl = Field(
        description="http(s) host URL of the index (e.g. https://<index>-<project>.svc.<region>.pinecone.io). "
        "The agent's NetworkPolicy opens egress to it."
    )
    namespace: str = Field(
        min_length=1, max_length=128, description="Namespace inside the index that keeps this agent's memories apart (1-128 characters)."
    )
    top_k: int = Field(default=5, ge=1, le=100, description="Memories retrieved per query, 1-100; default 5.")
    score_threshold: float = Field(
        default=0.0, ge=0, le=1, description="Minimum similarity score (0-1) a memory needs to be used; default 0 (no cut-off)."
    )
    api_key: SecretValue = Field(
        description="Pinecone API key as `{secretKeyRef: {name, key}}` (required; literal keys are refused); "
        "reaches the container as the file /etc/agent-credentials/memory-api-key."
    )


class KnowledgeBase(Spec):
    """A retrieval endpoint the agent queries for documents."""

    name: DnsLabel = Field(
        description="Name of the knowledge base, unique within the agent: DNS label (lower-case letters, digits, '-'; "
        "at most 63 characters). Names its credential file kb-<name>-api-key."
    )
    description: str = Field(default="", description="What the knowledge base holds, passed to the agent runtime. Default: empty.")
    url: HttpUrl = Field(
        description="http(s) URL of the retrieval endpoint, without credentials in it. "
        "The agent's NetworkPolicy opens egress to it."
    )
    top_k: int = Field(default=5, ge=1, le=100, description="Documents retrieved per query, 1-100; default 5.")
    api_key: Optional[SecretValue] = Field(
        default=None,
        description="API key as `{secretKeyRef: {name, key}}`; reaches the container as the file /etc/agent-credentials/kb-<name>-api-key. Default: none.",
    )


class Autoscaling(Spec):
    """Replica bounds and targets of each served version: a HorizontalPodAutoscaler, or a KEDA ScaledObject with `scaleToZero`."""

    min_replicas: int = Field(
        default=1,
        ge=0,
        le=100,
        description="Fewest replicas per version, 0-100; default 1. 0 only with `scaleToZero: true` "
        "(then leave it out or set 0): a HorizontalPodAutoscaler stops at 1.",
    )
    max_replicas: int = Field(
        default=3, ge=1, le=100, description="Most replicas per version, 1-100; default 3. Must be at least `minReplicas`."
    )
    target_cpu_utilization: int = Field(
        default=70,
        ge=1,
        le=100,
        description="Average CPU use, in percent of the CPU request, that the autoscaler keeps replicas at, 1-100; "
        "default 70 (the HPA's cpu metric, or KEDA's cpu trigger).",
    )
    target_memory_utilization: Optional[int] = Field(
        default=None,
        ge=1,
        le=100,
        description="Average memory use, in percent of the memory request, to scale on as well, 1-100. "
        "Default: unset (CPU only).",
    )
    scale_to_zero: bool = Field(
        default=False,
        description="Wake from zero through KEDA: a ScaledObject (minReplicaCount 0) replaces the HPA and scales on the "
        "gateway's request rate from Prometheus. Needs `agents.keda.enabled` and the gateway's metrics "
        "(`gateway.metrics` or `security.monitoring.prometheusOperator`) in the stack config; otherwise the spec is "
        "refused at this line. The first request after idling waits for a pod to start. Default false.",
    )
    cooldown_seconds: int = Field(
        default=300,
        ge=0,
        le=86400,
        description="Seconds of lower load before scaling down, 0-86400; default 300. With scaleToZero it is KEDA's "
        "cooldownPeriod (idle time before going to zero); otherwise the HPA's scale-down stabilization window, "
        "capped at 3600.",
    )
    # gateway requests per second per replica the KEDA trigger aims at
    target_requests_per_second: float = Field(
        default=5.0,
        gt=0,
        le=10000,
        description="Gateway requests per second per replica the KEDA trigger aims at (greater than 0, at most 10000); "
        "default 5. Used only with `scaleToZero`.",
    )

    def problems(self) -> list[tuple[tuple, str]]:
        found = []
        if self.scale_to_zero and "min_replicas" in self.model_fields_set and self.min_replicas != 0:
            found.append((("minReplicas",), "must be 0 (or left out) when scaleToZero is true"))
        if not self.scale_to_zero and self.min_replicas == 0:
            found.append((("minReplicas",), "0 replicas needs scaleToZero: true (KEDA); a HorizontalPodAutoscaler stops at 1"))
        if self.effective_min > self.max_replicas:
            found.append((("maxReplicas",), f"must be >= minReplicas ({self.min_replicas})"))
        return found

    @property
    def effective_min(self) -> int:
        return 0 if self.scale_to_zero else self.min_replicas


class SandboxUse(Spec):
    """Dangerous tools this agent runs only in a sandbox of the given stack profile.

    The agent gets a mounted service-account token, a Role to create sandbox claims in its
    namespace, and egress to the profile's sandbox pods and the Kubernetes API
    (`agents.apiServerCidrs`/`apiServerPorts`); the tenant namespace gets the profile's
    SandboxTemplate, warm pool, NetworkPolicy and a sandbox ResourceQuota.
    """

    profile: DnsLabel = Field(
        description="Name of a sandbox profile in the stack config's `sandboxProfiles` (runtime gvisor or kata, image, "
        "resources, egress allow-list, TTL, warm pool); an unknown name is refused."
    )
    tools: list[Literal["shell", "python", "browser", "files", "vscode"]] = Field(
        min_length=1, description="Tools that run in the sandbox: any of shell, python, browser, files, vscode; at least one."
    )


class HeaderMatch(Spec):
    """A request header that pins a request to a canary version."""

    name: HeaderName = Field(description="HTTP header name (letters, digits, '-'; at most 128 characters), e.g. x-agent-canary.")
    value: str = Field(
        min_length=1, max_length=256, description="Exact header value that selects the version (1-256 characters)."
    )


class CanaryMatch(Spec):
    """Requests matching this go to the version regardless of weights. Set exactly one of `header`, `cookie`; only on a canary."""

    header: Optional[HeaderMatch] = Field(
        default=None, description="Requests carrying this header with this value go to the version (Higress canary-by-header)."
    )
    cookie: Optional[Annotated[str, _check(re.compile(r"^[A-Za-z0-9_-]{1,64}$"), "a cookie name")]] = Field(
        default=None,
        description="Name of a cookie (1-64 letters, digits, '_', '-'); requests whose cookie is set to `always` go to "
        "the version (Higress canary-by-cookie).",
    )

    def problems(self) -> list[tuple[tuple, str]]:
        if (self.header is None) == (self.cookie is None):
            return [((), "set exactly one of header or cookie")]
        return []


class RolloutVersion(Spec):
    """One served version: its own ConfigMap, Deployment and autoscaler named `<agent>-v<version>`, and a route weight."""

    version: Version = Field(
        description="Semantic version of this entry, unique in the list. The entry equal to the agent's top-level "
        "`version` is the primary; the others are canaries."
    )
    weight: int = Field(
        ge=0,
        le=100,
        description="Percent of unmatched traffic this version gets, 0-100; the weights of all versions must sum to 100. "
        "A canary with weight 0 gets only the requests its `match` selects (none without one): setting a canary's weight to 0 "
        "is the rollback.",
    )
    image: Optional[PinnedImage] = Field(
        default=None,
        description="Pinned image of this version (explicit tag other than latest, or @sha256 digest). Only for "
        "bring-your-own agents (with a top-level `image`). Default: the top-level image.",
    )
    model: Optional[ModelSpec] = Field(
        default=None,
        description="Model of this version; replaces the top-level `model` as a whole (nothing is merged). "
        "Default: the top-level model.",
    )
    match: Optional[CanaryMatch] = Field(
        default=None,
        description="Requests that go to this version whatever the weights. Not allowed on the primary version "
        "(it takes all unmatched traffic).",
    )


class Rollout(Spec):
    """Versions served side by side; the spec's `version` is the primary, the others are canaries.

    Canaries are extra Higress Ingresses (canary weight, header or cookie) next to the primary's,
    and each version has its own Service while several are served; a rollback is a weight change.
    """

    versions: list[RolloutVersion] = Field(
        min_length=1,
        max_length=5,
        description="1-5 versions; must include the agent's `version`; weights sum to 100. "
        "Removing an entry deletes that version's Deployment.",
    )


class Probes(Spec):
    """HTTP GET health checks on the container's `port` (3 s timeout each)."""

    readiness_path: str = Field(
        default="/.well-known/agent-card.json",
        pattern=r"^/\S*$",
        description="Path of the startup probe (every 2 s, up to 60 failures: 2 min to start) and of the readiness "
        "probe (every 5 s, 3 failures take the pod out of the Service). Starts with '/', no spaces; "
        "default /.well-known/agent-card.json.",
    )
    liveness_path: str = Field(
        default="/healthz",
        pattern=r"^/\S*$",
        description="Path of the liveness probe (every 10 s; 6 failures restart the container). "
        "Starts with '/', no spaces; default /healthz.",
    )


class RouteSpec(Spec):
    """Gateway settings of the agent's chat and A2A routes."""

    # chat answers stream over SSE: the route timeout covers the whole stream
    timeout_seconds: int = Field(
        default=600,
        ge=30,
        le=3600,
        description="Gateway timeout of one request in seconds, 30-3600; default 600. Chat answers stream over SSE, "
        "so it bounds the whole stream. Pods get min(timeoutSeconds, 300) s to finish open streams on shutdown.",
    )


class ProviderSpec(Spec):
    """The AgentCard's provider. Default when unset: organization `agent-runtime/<tenant>`, url the gateway base URL."""

    organization: str = Field(min_length=1, max_length=128, description="Organization that provides the agent, 1-128 characters.")
    url: HttpUrl = Field(description="http(s) URL of the provider, without credentials in it.")


class _SchemaDescriptions:
    """JSON-Schema-only annotation: descriptions for a stack-config model (models/settings.py) reused in specs.

    Those models carry no descriptions of their own; this adds them to the spec schemas where
    the model has none (its own, if it ever gets some, win). Validation is not affected.
    `fields` maps a property to its description, or to (description, nested descriptions)
    for a property that is itself such a model.
    """

    def __init__(self, description: str, fields: dict[str, Any]):
        self.description = description
        self.fields = fields

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict:
        json_schema = handler(core_schema)
        self._apply(handler.resolve_ref_schema(json_schema), handler)
        return json_schema

    def _apply(self, target: dict, handler: Any) -> None:
        target.setdefault("description", self.description)
        for prop, text in self.fields.items():
            nested = None
            if isinstance(text, tuple):
                text, nested = text
            target["properties"][prop].setdefault("description", text)
            if nested is not None:
                nested._apply(handler.resolve_ref_schema(target["properties"][prop]), handler)


_AMOUNTS = _SchemaDescriptions(
    "CPU and memory amounts, as Kubernetes quantities.",
    {
        "cpu": "CPU as a Kubernetes quantity: cores (1, 2) or millicores (500m).",
        "memory": "Memory as a Kubernetes quantity: bytes with a suffix (256Mi, 1Gi).",
    },
)
_RESOURCES_SCHEMA = _SchemaDescriptions(
    "Requests and limits of the agent container; both are required when the block is given.",
    {
        "requests": (
            "What the scheduler reserves per pod; the autoscaler's utilization targets are percentages of it.",
            _AMOUNTS,
        ),
        "limits": ("The most a pod may use: more CPU is throttled, more memory gets the container killed.", _AMOUNTS),
    },
)
_EGRESS_RULE_SCHEMA = _SchemaDescriptions(
    "One NetworkPolicy egress rule: an IP block and the ports allowed to it.",
    {
        "cidr": "Destination IP block in CIDR notation (e.g. 203.0.113.0/24), host bits zero. 0.0.0.0/0 or ::/0 "
        "(anywhere) must come with `except`.",
        "except": "CIDR blocks inside `cidr` that stay closed (e.g. the private ranges). Default: none.",
        "ports": "Destination ports, at least one, each 1-65535.",
        "protocol": "TCP (default) or UDP.",
    },
)


def to_snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@dataclass(frozen=True)
class ResolvedVersion:
    """One served version: its Deployment, Service and route weight."""

    version: str
    slug: str
    weight: int
    primary: bool
    image: Optional[str]
    model: Optional[ModelSpec]
    match: Optional[CanaryMatch]


def version_slug(version: str) -> str:
    return "v" + re.sub(r"[^a-z0-9]+", "-", version.lower()).strip("-")


class AgentSpec(Spec):
    """One agent: `agents/<name>.yaml`.

    Declarative (the platform's runtime image, configured by `systemPrompt` and `model`) or
    bring-your-own (`image`). Deployed in its tenant's namespace behind the gateway at
    /api/v1/agents/<name>/chat, with an AgentCard registered in the tenant's Nacos namespace.
    """

    name: AgentName = Field(
        description="Agent name: lower-case letters, digits and '-', starting with a letter, at most 40 characters; "
        "must equal the file name and be unique across all tenants. It names the gateway paths "
        "(/api/v1/agents/<name>/chat, /api/v1/internal/a2a/<name>/<skill>) and the Kubernetes objects, so renaming "
        "replaces the agent."
    )
    tenant: DnsLabel = Field(
        description="Tenant that owns the agent: one of the stack config's `tenants` (DNS label). Its objects go in "
        "that tenant's namespace, its AgentCard in the tenant's Nacos namespace, and its Secrets are read from there."
    )
    version: Version = Field(
        description="Semantic version of the agent (e.g. 1.2.0 or 2.0.0-rc.1): the AgentCard version and the "
        "`agent-runtime.io/version` label; it names the version's Deployment (1.2.0 -> <name>-v1-2-0). "
        "With `rollout` it is the primary version."
    )
    description: str = Field(
        min_length=1, max_length=1024, description="What the agent does (1-1024 characters); the AgentCard description."
    )
    system_prompt: Optional[PromptSource] = Field(
        default=None, description="The system prompt. Required for a declarative agent (no `image`); optional otherwise."
    )
    model: Optional[ModelSpec] = Field(
        default=None,
        description="The model the agent calls. Required for a declarative agent (no `image`); optional otherwise. "
        "A rollout version may replace it.",
    )
    a2a_skills: list[A2ASkill] = Field(
        default_factory=list,
        alias="a2aSkills",
        description="Skills this agent exposes to other agents over A2A (the AgentCard skills); ids unique. "
        "Each skill that some agent calls gets its own A2A route /api/v1/internal/a2a/<name>/<id>, guarded by "
        "internal JWTs that only its callers pass; the agents that call every skill also get the agent-wide route "
        "/api/v1/internal/a2a/<name> (the AgentCard's url when it exists). Default: none.",
    )
    a2a_calls: list[A2ACall] = Field(
        default_factory=list,
        alias="a2aCalls",
        description="Other agents' A2A skills this agent calls; each must exist. Default: none.",
    )
    a2a_access: A2AAccess = Field(
        default=A2AAccess(),
        alias="a2aAccess",
        description="Who may call this agent's skills (the rule of every skill without its own `access`): other "
        "tenants, named agents, or only named agents (`sensitive`). Default: same tenant only.",
    )
    tools: list[ToolRef] = Field(
        default_factory=list, description="MCP servers whose tools the agent uses, at most one entry per server. Default: none."
    )
    memory: Optional[MemorySpec] = Field(default=None, description="Long-term vector memory. Default: none.")
    knowledge_bases: list[KnowledgeBase] = Field(
        default_factory=list, description="Retrieval endpoints the agent queries; names unique. Default: none."
    )
    image: Optional[PinnedImage] = Field(
        default=None,
        description="Bring-your-own container image, pinned: an explicit tag other than latest, or an @sha256 digest. "
        "Setting it makes `systemPrompt` and `model` optional. Default: the stack's `agents.runtimeImage`, "
        "the declarative runtime.",
    )
    port: int = Field(
        default=8080,
        ge=1024,
        le=65535,
        description="Container port serving /chat, /a2a and the probes, 1024-65535; default 8080. Also the Service port "
        "and the port the NetworkPolicy admits.",
    )
    resources: Optional[Annotated[Resources, _RESOURCES_SCHEMA]] = Field(
        default=None,
        description="CPU and memory requests and limits of each agent container. Default: the stack's "
        "`agents.defaultResources`.",
    )
    autoscaling: Autoscaling = Field(
        default=Autoscaling(),
        description="Replica bounds and scaling targets, per version. Default: 1-3 replicas at 70% CPU.",
    )
    sandbox: Optional[SandboxUse] = Field(
        default=None, description="Run dangerous tools in isolated sandbox pods of a stack profile. Default: no sandbox."
    )
    rollout: Optional[Rollout] = Field(
        default=None, description="Serve several versions side by side (canary). Default: only `version`, with all traffic."
    )
    egress: list[Annotated[SandboxEgressRule, _EGRESS_RULE_SCHEMA]] = Field(
        default_factory=list,
        description="Extra destinations the agent's NetworkPolicy lets it reach. What the spec implies is open "
        "already: DNS, Nacos, the model, MCP, memory and knowledge-base URLs (for a host name: public addresses on "
        "the URL's port), A2A peers and the gateway, sandboxes. Default: none.",
    )
    probes: Probes = Field(default=Probes(), description="Health-check paths. Default: readiness /.well-known/agent-card.json, liveness /healthz.")
    route: RouteSpec = Field(default=RouteSpec(), description="Gateway route settings. Default: 600 s timeout.")
    provider: Optional[ProviderSpec] = Field(
        default=None, description="Provider shown on the AgentCard. Default: organization agent-runtime/<tenant>, the gateway URL."
    )
    async_: Optional[AsyncSpec] = Field(
        default=None,
        alias="async",
        description="Take long A2A tasks through the stack's message queue (RocketMQ) besides the HTTP route: per-skill "
        "task topics, a result inbox per caller, checkpoints keyed by task id, retries and a dead-letter queue, and a "
        "queue credential of its own. Needs `messageQueue.enabled` in the stack config; otherwise the spec is refused "
        "at this line. Default: none (HTTP only).",
    )

    @property
    def byo(self) -> bool:
        """Bring-your-own agent: the image is the user's, prompt and model are optional."""
        return self.image is not None

    def versions(self) -> list[ResolvedVersion]:
        if self.rollout is None:
            return [ResolvedVersion(self.version, version_slug(self.version), 100, True, self.image, self.model, None)]
        return [
            ResolvedVersion(
                v.version,
                version_slug(v.version),
                v.weight,
                v.version == self.version,
                v.image or self.image,
                v.model or self.model,
                v.match,
            )
            for v in self.rollout.versions
        ]

    @property
    def primary(self) -> ResolvedVersion:
        return next(v for v in self.versions() if v.primary)

    def problems(self) -> list[tuple[tuple, str]]:
        """Checks across fields of one file (pydantic has done types and ranges)."""
        found: list[tuple[tuple, str]] = []
        if not self.byo:
            if self.model is None:
                found.append((("model",), "is required for a declarative agent (no `image`)"))
            if self.system_prompt is None:
                found.append((("systemPrompt",), "is required for a declarative agent (no `image`)"))
        if self.system_prompt is not None:
            found += [(("systemPrompt", *loc), msg) for loc, msg in self.system_prompt.problems()]
        if self.model is not None:
            found += [(("model", *loc), msg) for loc, msg in self.model.problems()]
        found += [(("autoscaling", *loc), msg) for loc, msg in self.autoscaling.problems()]
        found += _duplicates([s.id for s in self.a2a_skills], ("a2aSkills",), "id", "skill id")
        found += _duplicates([t.server_name for t in self.tools], ("tools",), None, "tool source")
        found += _duplicates([k.name for k in self.knowledge_bases], ("knowledgeBases",), "name", "knowledge base")
        for i, tool in enumerate(self.tools):
            found += [(("tools", i, *loc), msg) for loc, msg in tool.problems()]
        calls = [(c.agent, c.skill) for c in self.a2a_calls]
        for i, call in enumerate(self.a2a_calls):
            if calls.index((call.agent, call.skill)) != i:
                found.append((("a2aCalls", i), f"duplicate reference to {call.agent}/{call.skill}"))
            if call.agent == self.name:
                found.append((("a2aCalls", i, "agent"), "an agent cannot call its own A2A skills over the gateway"))
        if (self.a2a_access.allow_tenants or self.a2a_access.allow_agents) and not self.a2a_skills:
            found.append((("a2aAccess",), "allows callers but the agent exposes no a2aSkills"))
        found += [(("a2aAccess", *loc), msg) for loc, msg in self.a2a_access.problems()]
        for i, skill in enumerate(self.a2a_skills):
            found += [(("a2aSkills", i, *loc), msg) for loc, msg in self._skill_problems(skill)]
        ids = [s.id for s in self.a2a_skills]
        if len(set(ids)) == len(ids):  # equal ids are reported as such
            found += _duplicates([skill_slug(i) for i in ids], ("a2aSkills",), "id", "route name (skill ids differing only in '.' or '_')")
        found += self._rollout_problems()
        if self.async_ is not None:
            found += [(("async", *loc), msg) for loc, msg in self.async_.problems()]
        for i, rule in enumerate(self.egress):
            if rule.cidr in ("0.0.0.0/0", "::/0") and not rule.except_:
                found.append((("egress", i, "cidr"), "egress to anywhere must exclude private ranges with `except`"))
        return found

    def _skill_problems(self, skill: A2ASkill) -> list[tuple[tuple, str]]:
        """A skill's access and resilience, against the agent's rule and its deployed versions."""
        found: list[tuple[tuple, str]] = []
        if skill.access is not None:
            found += [(("access", *loc), msg) for loc, msg in skill.access.problems()]
            if self.a2a_access.sensitive and not skill.access.sensitive and skill.access.allow_tenants:
                found.append((("access", "allowTenants"), _SENSITIVE_TENANTS + " (the agent is sensitive)"))
            if self.a2a_access.sensitive and "sensitive" in skill.access.model_fields_set and not skill.access.sensitive:
                found.append((("access", "sensitive"), "the agent is sensitive (a2aAccess.sensitive): its skills cannot opt out"))
        resilience = skill.resilience
        found += [(("resilience", *loc), msg) for loc, msg in resilience.problems(self.route.timeout_seconds)]
        deployed = [v.version for v in self.versions()]
        for name, value in (("version", resilience.version), ("fallbackVersion", resilience.fallback_version)):
            if value is not None and value not in deployed:
                found.append((("resilience", name), f"version {value} is not deployed (deployed: {deployed}; add it to rollout.versions)"))
        return found

    def skill_rule(self, skill_id: str) -> SkillRule:
        """The rule deciding who may call one of this agent's skills (its `access`, else `a2aAccess`)."""
        index, skill = next((i, s) for i, s in enumerate(self.a2a_skills) if s.id == skill_id)
        rule: _AccessRule = skill.access if skill.access is not None else self.a2a_access
        return SkillRule(
            skill=skill_id,
            tenant=self.tenant,
            allow_tenants=tuple(rule.allow_tenants),
            allow_agents=tuple(rule.allow_agents),
            sensitive=self.a2a_access.sensitive or rule.sensitive,
            source=f"a2aSkills[{index}].access" if skill.access is not None else "a2aAccess",
        )

    def _rollout_problems(self) -> list[tuple[tuple, str]]:
        if self.rollout is None:
            return []
        found: list[tuple[tuple, str]] = []
        versions = [v.version for v in self.rollout.versions]
        found += _duplicates(versions, ("rollout", "versions"), "version", "version")
        if self.version not in versions:
            found.append((("rollout", "versions"), f"must include the agent's version {self.version} (the primary)"))
        total = sum(v.weight for v in self.rollout.versions)
        if total != 100:
            found.append((("rollout", "versions"), f"weights sum to {total}; they must sum to 100"))
        for i, v in enumerate(self.rollout.versions):
            if v.match is not None:
                found += [(("rollout", "versions", i, "match", *loc), msg) for loc, msg in v.match.problems()]
                if v.version == self.version:
                    found.append((("rollout", "versions", i, "match"), "the primary version takes all unmatched traffic; put match on a canary"))
            if v.model is not None:
                found += [(("rollout", "versions", i, "model", *loc), msg) for loc, msg in v.model.problems()]
            if v.image is not None and not self.byo:
                found.append((("rollout", "versions", i, "image"), "only bring-your-own agents (with a top-level image) can change image per version"))
        slugs = [version_slug(v) for v in versions]
        if len(set(slugs)) != len(slugs) and len(set(versions)) == len(versions):
            found.append((("rollout", "versions"), f"versions map to the same name: {slugs}"))
        return found


def _duplicates(values: list[str], loc: tuple, leaf: Optional[str], what: str) -> list[tuple[tuple, str]]:
    seen: set[str] = set()
    found = []
    for i, value in enumerate(values):
        if value in seen:
            found.append(((*loc, i, leaf) if leaf else (*loc, i), f"duplicate {what} {value!r}"))
        seen.add(value)
    return found


class McpServerSpec(Spec):
    """A remote MCP server agents may use: `agents/mcp/<name>.yaml`.

    Registered in the Nacos MCP registry of every tenant allowed to use it; agents refer to it
    by name in `tools[].mcpServer`.
    """

    name: McpServerName = Field(
        description="Server name: lower-case letters, digits and '-', at most 52 characters; must equal the file name. "
        "Agents refer to it in `tools[].mcpServer`; it is the Nacos mcpName."
    )
    description: str = Field(
        default="", description="What the server offers, for its Nacos registry record. Default: empty (the record shows the name)."
    )
    url: HttpUrl = Field(
        description="http(s) endpoint of the server, without credentials in it. Agents using it get egress to this host "
        "and port in their NetworkPolicy."
    )
    protocol: McpProtocol = Field(
        default="streamable-http",
        description="MCP transport: streamable-http (default) or sse; registered in Nacos as mcp-streamable or mcp-sse.",
    )
    timeout_seconds: int = Field(
        default=30, ge=1, le=600, description="Timeout of one MCP call in seconds, 1-600; default 30."
    )
    # a Secret of that name/key must exist in the namespace of every tenant that uses the server
    auth: Optional[McpAuth] = Field(
        default=None,
        description="Credential agents send with every request; its Secret must exist in the namespace of every "
        "tenant that uses the server. Default: none.",
    )
    # tenants allowed to use it; empty = every tenant
    tenants: list[DnsLabel] = Field(
        default_factory=list,
        description="Tenants whose agents may use the server (it is registered in their Nacos namespaces); an agent of "
        "another tenant is refused. Default: empty, meaning every tenant.",
    )
    # tool names the server offers, if known: agents' toolNames are checked against it
    tools: list[str] = Field(
        default_factory=list,
        description="Names of the tools the server offers, if known: registered in Nacos, and agents' `toolNames` "
        "must be among them. Default: empty (not checked).",
    )


# --------------------------------------------------------------------------- catalog


@dataclass(frozen=True)
class Reference:
    """A Secret or ConfigMap key a spec reads, and where the spec says so."""

    kind: str  # "Secret" or "ConfigMap"
    name: str
    key: str
    loc: tuple


def references(spec: BaseModel, loc: tuple = ()) -> Iterator[Reference]:
    """Every KeyRef in a validated spec, with its path (`systemPrompt.fromConfigMap` is the ConfigMap one)."""
    for name, info in type(spec).model_fields.items():
        key = info.alias or name
        yield from _references_in(getattr(spec, name), (*loc, key), key)


def _references_in(value: Any, loc: tuple, field_key: str) -> Iterator[Reference]:
    if isinstance(value, KeyRef):
        yield Reference("ConfigMap" if field_key == "fromConfigMap" else "Secret", value.name, value.key, loc)
    elif isinstance(value, BaseModel):
        yield from references(value, loc)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _references_in(item, (*loc, i), field_key)
    elif isinstance(value, dict):
        for k, item in value.items():
            yield from _references_in(item, (*loc, k), field_key)


@dataclass(frozen=True)
class ProvidedObjects:
    """The Secrets and ConfigMaps a stack provides per tenant namespace.

    Created by the stack: `(tenant, name) -> its keys`; created elsewhere (listed as external):
    `(tenant, name) -> None`, any key.
    """

    secrets: dict = field(default_factory=dict)
    config_maps: dict = field(default_factory=dict)

    def problem(self, ref: Reference, tenant: str) -> Optional[str]:
        provided = self.secrets if ref.kind == "Secret" else self.config_maps
        what = f"{ref.kind} {ref.name!r} (key {ref.key!r})"
        if (tenant, ref.name) not in provided:
            if ref.kind == "Secret":
                supply = (
                    f"supply it with `scripts/stack.py set-secret --stack <stack> agentSecrets.{tenant}.{ref.name}.{ref.key}` "
                    "(the value on stdin; or `pulumi config set --secret --path` the same key)"
                )
                external = "agents.externalSecrets"
            else:
                supply = f"supply it under agents.configMaps.{tenant}.{ref.name}.{ref.key}"
                external = "agents.externalConfigMaps"
            return (
                f"{what} is provided by nothing in tenant {tenant!r}: {supply}, or list "
                f"'{tenant}/{ref.name}' in {external} if it is created outside the stack"
            )
        keys = provided[(tenant, ref.name)]
        if keys is not None and ref.key not in keys:
            return f"{what}: the stack supplies {ref.kind} {ref.name!r} in tenant {tenant!r} without that key (it has {sorted(keys)})"
        return None


@dataclass
class AgentCatalog:
    """Every agent and MCP server, validated, in file-name order."""

    agents: list[AgentSpec] = field(default_factory=list)
    mcp_servers: dict[str, McpServerSpec] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # agent name -> file label

    def __post_init__(self) -> None:
        # indexes, so per-agent lookups stay O(1) and the program linear in the number of agents
        self._by_name = {a.name: a for a in self.agents}
        self._callers: dict[str, list[AgentSpec]] = {}
        for a in self.agents:
            for target in dict.fromkeys(c.agent for c in a.a2a_calls):
                self._callers.setdefault(target, []).append(a)

    def agent(self, name: str) -> AgentSpec:
        return self._by_name[name]

    def skill_callers(self, name: str) -> dict[str, list[AgentSpec]]:
        """Per skill id of `name`, the agents whose `a2aCalls` name it (each already checked against the skill's rule)."""
        out: dict[str, list[AgentSpec]] = {}
        for caller in self._callers.get(name, []):
            for call in caller.a2a_calls:
                if call.agent == name:
                    out.setdefault(call.skill, []).append(caller)
        return out

    def callers_of(self, name: str) -> list[AgentSpec]:
        """Agents that reference one of `name`'s A2A skills."""
        return list(self._callers.get(name, []))

    def mcp_for(self, spec: AgentSpec) -> list[McpServerSpec | RemoteMcp]:
        return [self.mcp_servers[t.mcp_server] if t.mcp_server else t.remote for t in spec.tools]  # type: ignore[misc]


# --------------------------------------------------------------------------- YAML with lines


_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_$<>-]+$")


def _dotted(loc: tuple) -> str:
    """`model.headers[0]`; odd keys quoted so a problem always stays one line without spaces."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(str(part)):
            out += f".{part}" if out else str(part)
        else:
            out += "[" + json.dumps(str(part)).replace(" ", "\\u0020") + "]"
    return out


class _Doc:
    """A parsed file: plain data plus the line of every node (path tuple -> 1-based line)."""

    def __init__(self, label: str):
        self.label = label
        self.lines: dict[tuple, int] = {}
        self.numbered: list[tuple[int, str]] = []
        self.credential_locs: set[tuple] = set()

    def line_of(self, loc: tuple) -> int:
        loc = tuple(loc)
        while loc and loc not in self.lines:
            loc = loc[:-1]
        return self.lines.get(loc, 1)

    def report(self, loc: tuple, message: str) -> None:
        self.add(self.line_of(loc), f"{_dotted(loc) or '<file>'}: {message}")

    def add(self, line: int, text: str) -> None:
        self.numbered.append((line, f"{self.label}:{line} {text}"))

    @property
    def problems(self) -> list[str]:
        return [p for _, p in self.numbered]

    def to_data(self, node: yaml.Node, path: tuple = ()) -> Any:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            out: dict = {}
            for key_node, value_node in node.value:
                key = _construct(key_node)
                if not isinstance(key, str):
                    self.lines[(*path, str(key))] = key_node.start_mark.line + 1
                    self.report((*path, str(key)), "keys must be strings")
                    continue
                if key in out:
                    self.lines[(*path, key)] = key_node.start_mark.line + 1
                    self.report((*path, key), "duplicate key (YAML would silently keep the last one)")
                    continue
                out[key] = self.to_data(value_node, (*path, key))
                self.lines[(*path, key)] = key_node.start_mark.line + 1
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.to_data(item, (*path, i)) for i, item in enumerate(node.value)]
        return _construct(node)


_CONSTRUCTOR = yaml.SafeLoader("")
# libyaml's parser when PyYAML has it (its wheels do): same nodes and marks, several times faster
_COMPOSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _construct(node: yaml.Node) -> Any:
    """Plain value of a scalar (or a key) node with the safe loader's YAML 1.1 rules."""
    try:
        return _CONSTRUCTOR.construct_object(node, deep=True)
    finally:
        _CONSTRUCTOR.constructed_objects.clear()


def _compose_all(text: str) -> list:
    """YAML nodes of `text`; on a syntax error, the pure-Python parser's error (its wording is the documented one)."""
    try:
        return list(yaml.compose_all(text, Loader=_COMPOSER))
    except yaml.MarkedYAMLError:
        if _COMPOSER is yaml.SafeLoader:
            raise
        return list(yaml.compose_all(text, Loader=yaml.SafeLoader))


def _label_for(path: Path) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def _parse(path: Path, doc: _Doc) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        doc.report((), f"cannot read the file ({exc})")
        return None
    try:
        nodes = _compose_all(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        doc.add(line, f"<file>: not valid YAML: {exc.problem or exc}")
        return None
    nodes = [n for n in nodes if n is not None]
    if not nodes:
        doc.report((), "the file is empty")
        return None
    if len(nodes) > 1:
        doc.add(nodes[1].start_mark.line + 1, "<file>: one spec per file: remove the second YAML document (after ---)")
        return None
    if not isinstance(nodes[0], yaml.MappingNode):
        doc.report((), "the file must hold a mapping (name: ..., tenant: ..., ...)")
        return None
    try:
        return doc.to_data(nodes[0])
    except yaml.constructor.ConstructorError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        doc.add(line, f"<file>: {exc.problem}")
        return None


def _scan_literal_credentials(value: Any, path: tuple, doc: _Doc) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _scan_literal_credentials(v, (*path, k), doc)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _scan_literal_credentials(v, (*path, i), doc)
    elif isinstance(value, str) and any(p.search(value) for p in CREDENTIAL_PATTERNS):
        doc.credential_locs.add(path)
        doc.report(path, "looks like a literal credential; keep it in a Secret and use `secretKeyRef: {name, key}`")


_ALL_FIELDS: set[str] = set()


def _collect_fields(model: type[BaseModel], seen: set | None = None) -> None:
    """Every field name a spec can have: the vocabulary for 'did you mean' hints."""
    seen = set() if seen is None else seen
    if model in seen:
        return
    seen.add(model)
    stack = []
    for name, info in model.model_fields.items():
        _ALL_FIELDS.add(info.alias or name)
        stack.append(info.annotation)
    while stack:
        typ = stack.pop()
        if isinstance(typ, type) and issubclass(typ, BaseModel):
            _collect_fields(typ, seen)
        stack.extend(getattr(typ, "__args__", ()) or ())
        stack.extend(getattr(typ, "__origin__", None) and [typ.__origin__] or [])


def _message(item: dict) -> str:
    kind, ctx = item["type"], item.get("ctx") or {}
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        field_name = str(item["loc"][-1])
        close = difflib.get_close_matches(field_name, sorted(_ALL_FIELDS), n=1)
        return "unknown field" + (f" (did you mean {close[0]!r}?)" if close else "")
    if kind in ("less_than_equal", "less_than", "greater_than_equal", "greater_than"):
        op = {"less_than_equal": "<=", "less_than": "<", "greater_than_equal": ">=", "greater_than": ">"}[kind]
        bound = next(iter(ctx.values()))
        bound = int(bound) if isinstance(bound, float) and bound.is_integer() else bound
        return f"must be {op} {bound} (got {item.get('input')!r})"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')} (got {item.get('input')!r})"
    if kind in ("too_short", "string_too_short") and ctx.get("min_length") is not None:
        return f"needs at least {ctx['min_length']} {'item' if kind == 'too_short' else 'character'}(s)"
    if kind in ("too_long", "string_too_long") and ctx.get("max_length") is not None:
        return f"allows at most {ctx['max_length']} {'item' if kind == 'too_long' else 'character'}(s)"
    if kind == "string_pattern_mismatch":
        return f"{item.get('input')!r} does not match {ctx.get('pattern')}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a mapping (got {type(item.get('input')).__name__})"
    if kind == "list_type":
        return f"must be a list (got {type(item.get('input')).__name__})"
    msg = item["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if kind in ("int_parsing", "int_from_float", "float_parsing", "bool_parsing", "string_type", "int_type", "float_type", "bool_type"):
        msg = f"{msg} (got {item.get('input')!r})"
    return msg


def _clean_loc(loc: Iterable) -> tuple:
    """Drop pydantic's union/validator tags so the location is the user's field path."""
    return tuple(p for p in loc if isinstance(p, int) or ("[" not in p and p not in ("str", "SecretRef")))


def _validate(model: type[Spec], data: dict, doc: _Doc) -> Optional[Spec]:
    try:
        spec = model.model_validate(data)
    except ValidationError as exc:
        seen = set()
        for item in exc.errors(include_url=False):
            loc = _clean_loc(item["loc"])
            msg = _message(item)
            if loc in doc.credential_locs:
                continue
            if (loc, msg) not in seen:
                seen.add((loc, msg))
                doc.report(loc, msg)
        return None
    # cross-field checks; the typed spec still takes part in the cross-file checks
    for loc, msg in spec.problems() if isinstance(spec, AgentSpec) else []:
        doc.report(loc, msg)
    return spec


def _selected(root: Path, patterns: Iterable[str], setting: str, defaults: Iterable[str]) -> tuple[list[Path], list[str]]:
    """The spec files the stack's glob patterns select, and a problem per non-default pattern that selects none."""
    files: set[Path] = set()
    problems = []
    for pattern in patterns:
        found = {p for p in root.glob(pattern) if p.is_file() and p.suffix in (".yaml", ".yml")}
        if not found and pattern not in defaults:
            problems.append(f"{_label_for(root)}: {setting} pattern {pattern!r} selects no file")
        files |= found
    return sorted(files), problems


def load_agent_specs(
    directory: str | os.PathLike,
    tenants: Optional[Iterable[str]] = None,
    sandbox_profiles: Optional[Iterable[str]] = None,
    scale_to_zero_blocker: Optional[str] = None,
    include: Iterable[str] = DEFAULT_INCLUDE,
    mcp_include: Iterable[str] = DEFAULT_MCP_INCLUDE,
    provided: Optional[ProvidedObjects] = None,
    queue_blocker: Optional[str] = None,
) -> AgentCatalog:
    """Load and validate the specs of `directory` the stack selects; raise one AgentSpecError listing all problems.

    `tenants` and `sandbox_profiles` come from the stack config (None skips those checks);
    `scale_to_zero_blocker` says why this stack cannot wake agents from zero (None: it can);
    `include`/`mcp_include` are the stack's glob patterns (agents.include, agents.mcpInclude);
    `provided` are the Secrets and ConfigMaps the stack provides (None skips that check);
    `queue_blocker` says why this stack cannot give agents `async` task queues (None: it can).
    """
    root = Path(directory)
    if not root.is_dir():
        raise AgentSpecError([f"{_label_for(root)}: the agents directory does not exist"])
    agent_files, selection_problems = _selected(root, include, "agents.include", DEFAULT_INCLUDE)
    mcp_files, mcp_problems = _selected(root, mcp_include, "agents.mcpInclude", DEFAULT_MCP_INCLUDE)
    selection_problems += mcp_problems
    # a file selected as both is an MCP server (the mcp/ folder wins over a broad agent pattern)
    agent_files = [p for p in agent_files if p not in set(mcp_files)]
    if selection_problems:
        raise AgentSpecError(selection_problems)
    if not _ALL_FIELDS:
        _collect_fields(AgentSpec)
        _collect_fields(McpServerSpec)

    docs: list[_Doc] = []
    agent_docs: list[tuple[AgentSpec, _Doc]] = []
    mcp_docs: list[tuple[McpServerSpec, _Doc]] = []
    for kind, files in ((McpServerSpec, mcp_files), (AgentSpec, agent_files)):
        for path in files:
            doc = _Doc(_label_for(path))
            docs.append(doc)
            data = _parse(path, doc)
            if data is None:
                continue
            _scan_literal_credentials(data, (), doc)
            spec = _validate(kind, data, doc)
            if spec is not None and spec.name != path.stem:
                what = "agent" if kind is AgentSpec else "MCP server"
                doc.report(("name",), f"must match the file name {path.stem!r} (one {what} per file, named after it)")
            elif spec is not None:
                (agent_docs if kind is AgentSpec else mcp_docs).append((spec, doc))  # type: ignore[arg-type]

    catalog = AgentCatalog(
        agents=[a for a, _ in agent_docs],
        mcp_servers={s.name: s for s, _ in mcp_docs},
        sources={a.name: d.label for a, d in agent_docs},
    )
    _cross_file_checks(catalog, agent_docs, tenants, sandbox_profiles, scale_to_zero_blocker)
    _async_checks(catalog, agent_docs, queue_blocker)
    if provided is not None:
        _reference_checks(catalog, agent_docs, provided, tenants)
    # grouped by file, in line order: the order someone fixing them reads the file
    problems = [p for doc in docs for _, p in sorted(doc.numbered)]
    if problems:
        raise AgentSpecError(problems)
    return catalog


def _reference_checks(catalog: AgentCatalog, agent_docs: list, provided: ProvidedObjects, tenants: Optional[Iterable[str]]) -> None:
    """Every Secret and ConfigMap an agent reads exists in its tenant: supplied by the stack or listed as external."""
    known = set(tenants) if tenants is not None else None
    for spec, doc in agent_docs:
        if known is not None and spec.tenant not in known:
            continue  # reported as an unknown tenant already
        for ref in references(spec):
            problem = provided.problem(ref, spec.tenant)
            if problem:
                doc.report(ref.loc, problem)
        for i, tool in enumerate(spec.tools):
            server = catalog.mcp_servers.get(tool.mcp_server) if tool.mcp_server else None
            if server is not None and server.auth is not None:
                # the agent's pods read the MCP server's credential: it must be in the agent's tenant
                ref = Reference("Secret", server.auth.secret_key_ref.name, server.auth.secret_key_ref.key, ("tools", i, "mcpServer"))
                problem = provided.problem(ref, spec.tenant)
                if problem:
                    doc.report(ref.loc, f"MCP server {server.name!r}: {problem}")


def _cross_file_checks(
    catalog: AgentCatalog,
    agent_docs: list[tuple[AgentSpec, _Doc]],
    tenants: Optional[Iterable[str]],
    sandbox_profiles: Optional[Iterable[str]],
    scale_to_zero_blocker: Optional[str],
) -> None:
    known_tenants = sorted(tenants) if tenants is not None else None
    known_profiles = sorted(sandbox_profiles) if sandbox_profiles is not None else None
    by_name: dict[str, list[AgentSpec]] = {}
    for spec, _ in agent_docs:
        by_name.setdefault(spec.name, []).append(spec)
    for spec, doc in agent_docs:
        if known_tenants is not None and spec.tenant not in known_tenants:
            doc.report(("tenant",), f"unknown tenant {spec.tenant!r}; this stack has {known_tenants}")
        for i, tool in enumerate(spec.tools):
            if tool.mcp_server is None:
                continue
            server = catalog.mcp_servers.get(tool.mcp_server)
            if server is None:
                doc.report(("tools", i, "mcpServer"), f"unknown MCP server {tool.mcp_server!r}; declared under agents/mcp/: {sorted(catalog.mcp_servers)}")
                continue
            if server.tenants and spec.tenant not in server.tenants:
                doc.report(("tools", i, "mcpServer"), f"MCP server {server.name!r} is only for tenants {server.tenants}")
            unknown = sorted(set(tool.tool_names) - set(server.tools)) if server.tools else []
            if unknown:
                doc.report(("tools", i, "toolNames"), f"{unknown} are not tools of {server.name!r} (it offers {server.tools})")
        for i, call in enumerate(spec.a2a_calls):
            target = by_name.get(call.agent)
            if not target:
                doc.report(("a2aCalls", i, "agent"), f"unknown agent {call.agent!r}")
                continue
            skills = [s.id for s in target[0].a2a_skills]
            if call.skill not in skills:
                doc.report(("a2aCalls", i, "skill"), f"agent {call.agent!r} has no A2A skill {call.skill!r} (it has {skills})")
                continue
            rule = target[0].skill_rule(call.skill)
            refusal = rule.refusal(call.agent, spec.tenant, spec.name)
            if refusal:
                # the agent-wide rule is about the agent; a skill's own rule is about that skill
                doc.report(("a2aCalls", i, "agent" if rule.source == "a2aAccess" else "skill"), refusal)
        if len(by_name[spec.name]) > 1:
            doc.report(("name",), f"duplicate agent name {spec.name!r} (agent names are global: they are gateway paths)")
        if spec.sandbox is not None and known_profiles is not None and spec.sandbox.profile not in known_profiles:
            doc.report(("sandbox", "profile"), f"unknown sandbox profile {spec.sandbox.profile!r}; the stack's sandboxProfiles: {known_profiles}")
        if spec.autoscaling.scale_to_zero and scale_to_zero_blocker:
            doc.report(("autoscaling", "scaleToZero"), scale_to_zero_blocker)


def _async_checks(catalog: AgentCatalog, agent_docs: list[tuple[AgentSpec, _Doc]], queue_blocker: Optional[str]) -> None:
    """An `async` agent needs the stack's queue, skills to take tasks for, and topic names RocketMQ accepts."""
    for spec, doc in agent_docs:
        if spec.async_ is None:
            continue
        if queue_blocker:
            doc.report(("async",), queue_blocker)
        if not spec.a2a_skills:
            doc.report(("async",), "takes tasks per A2A skill, but the agent exposes no a2aSkills")
        for i, skill in enumerate(spec.a2a_skills):
            problem = queue_names.name_problem(queue_names.task_topic(spec.tenant, spec.name, skill.id))
            if problem:
                doc.report(("a2aSkills", i, "id"), f"its task topic {problem}")
