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
from typing import Annotated, Any, Iterable, Literal, Optional, Union
from urllib.parse import urlparse

import pulumi
import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from components.config import PinnedImage, Resources, SandboxEgressRule

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
# labels shared by agent and sandbox objects (network policies select on them)
LABEL_AGENT = "agent-runtime.io/agent"
from components.k8s_common import LABEL_SANDBOX_PROFILE  # noqa: E402  (re-exported)


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
    name: K8sName
    key: SecretKeyName


class SecretRef(Spec):
    """A value that only ever comes from a Secret in the agent's tenant namespace."""

    secret_key_ref: KeyRef


SecretValue = Annotated[SecretRef, BeforeValidator(_no_literal_secret)]


class PromptSource(Spec):
    """The system prompt: inline, or a key of a ConfigMap or Secret in the tenant namespace."""

    inline: Optional[str] = Field(default=None, min_length=1)
    from_config_map: Optional[KeyRef] = None
    from_secret: Optional[KeyRef] = None

    def problems(self) -> list[tuple[tuple, str]]:
        given = [k for k in ("inline", "fromConfigMap", "fromSecret") if getattr(self, to_snake(k)) is not None]
        if len(given) != 1:
            return [((), f"set exactly one of inline, fromConfigMap, fromSecret (got {given or 'none'})")]
        return []


ModelProvider = Literal["openai", "anthropic", "azure-openai", "gemini", "ollama", "bedrock", "dashscope", "deepseek"]


class ModelSpec(Spec):
    provider: ModelProvider
    model: str = Field(min_length=1, max_length=256)
    base_url: Optional[HttpUrl] = None
    api_key: Optional[SecretValue] = None
    temperature: float = Field(default=0.7, ge=0, le=2)
    max_tokens: int = Field(default=4096, ge=1, le=1_000_000)
    top_p: float = Field(default=1.0, gt=0, le=1)
    timeout_seconds: int = Field(default=120, ge=1, le=3600)
    headers: dict[HeaderName, Union[SecretRef, str]] = Field(default_factory=dict)

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


class A2ASkill(Spec):
    """A skill this agent exposes over A2A; becomes an AgentCard skill."""

    id: SkillId
    name: str = Field(min_length=1, max_length=128)
    description: str = Field(min_length=1, max_length=2048)
    tags: list[str] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list)
    input_modes: list[Mime] = Field(default_factory=lambda: ["text/plain"], min_length=1)
    output_modes: list[Mime] = Field(default_factory=lambda: ["text/plain"], min_length=1)


class A2ACall(Spec):
    """A reference to another agent's A2A skill this agent may call."""

    agent: AgentName
    skill: SkillId


class A2AAccess(Spec):
    """Who may call this agent's A2A skills besides agents of its own tenant that reference them."""

    allow_tenants: list[DnsLabel] = Field(default_factory=list)


class McpAuth(Spec):
    secret_key_ref: KeyRef
    header: HeaderName = "Authorization"
    prefix: str = "Bearer "


McpProtocol = Literal["sse", "streamable-http"]


class RemoteMcp(Spec):
    name: McpServerName
    url: HttpUrl
    protocol: McpProtocol = "streamable-http"
    timeout_seconds: int = Field(default=30, ge=1, le=600)
    auth: Optional[McpAuth] = None


class ToolRef(Spec):
    """An MCP tool source: a server declared under agents/mcp/, or a remote URL inline."""

    mcp_server: Optional[McpServerName] = None
    remote: Optional[RemoteMcp] = None
    tool_names: list[str] = Field(default_factory=list)
    require_approval: list[str] = Field(default_factory=list)

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
    provider: Literal["pinecone"]
    index_host: HttpUrl
    namespace: str = Field(min_length=1, max_length=128)
    top_k: int = Field(default=5, ge=1, le=100)
    score_threshold: float = Field(default=0.0, ge=0, le=1)
    api_key: SecretValue


class KnowledgeBase(Spec):
    name: DnsLabel
    description: str = ""
    url: HttpUrl
    top_k: int = Field(default=5, ge=1, le=100)
    api_key: Optional[SecretValue] = None


class Autoscaling(Spec):
    min_replicas: int = Field(default=1, ge=0, le=100)
    max_replicas: int = Field(default=3, ge=1, le=100)
    target_cpu_utilization: int = Field(default=70, ge=1, le=100)
    target_memory_utilization: Optional[int] = Field(default=None, ge=1, le=100)
    scale_to_zero: bool = False
    cooldown_seconds: int = Field(default=300, ge=0, le=86400)
    # gateway requests per second per replica the KEDA trigger aims at
    target_requests_per_second: float = Field(default=5.0, gt=0, le=10000)

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
    """Dangerous tools this agent runs only in a sandbox of the given stack profile."""

    profile: DnsLabel
    tools: list[Literal["shell", "python", "browser", "files", "vscode"]] = Field(min_length=1)


class HeaderMatch(Spec):
    name: HeaderName
    value: str = Field(min_length=1, max_length=256)


class CanaryMatch(Spec):
    """Requests matching this go to the version regardless of weights."""

    header: Optional[HeaderMatch] = None
    cookie: Optional[Annotated[str, _check(re.compile(r"^[A-Za-z0-9_-]{1,64}$"), "a cookie name")]] = None

    def problems(self) -> list[tuple[tuple, str]]:
        if (self.header is None) == (self.cookie is None):
            return [((), "set exactly one of header or cookie")]
        return []


class RolloutVersion(Spec):
    version: Version
    weight: int = Field(ge=0, le=100)
    image: Optional[PinnedImage] = None
    model: Optional[ModelSpec] = None
    match: Optional[CanaryMatch] = None


class Rollout(Spec):
    """Versions served side by side; the spec's `version` is the primary, the others are canaries."""

    versions: list[RolloutVersion] = Field(min_length=1, max_length=5)


class Probes(Spec):
    readiness_path: str = Field(default="/.well-known/agent-card.json", pattern=r"^/\S*$")
    liveness_path: str = Field(default="/healthz", pattern=r"^/\S*$")


class RouteSpec(Spec):
    # chat answers stream over SSE: the route timeout covers the whole stream
    timeout_seconds: int = Field(default=600, ge=30, le=3600)


class ProviderSpec(Spec):
    organization: str = Field(min_length=1, max_length=128)
    url: HttpUrl


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
    """One agent: `agents/<name>.yaml`."""

    name: AgentName
    tenant: DnsLabel
    version: Version
    description: str = Field(min_length=1, max_length=1024)
    system_prompt: Optional[PromptSource] = None
    model: Optional[ModelSpec] = None
    a2a_skills: list[A2ASkill] = Field(default_factory=list, alias="a2aSkills")
    a2a_calls: list[A2ACall] = Field(default_factory=list, alias="a2aCalls")
    a2a_access: A2AAccess = Field(default=A2AAccess(), alias="a2aAccess")
    tools: list[ToolRef] = Field(default_factory=list)
    memory: Optional[MemorySpec] = None
    knowledge_bases: list[KnowledgeBase] = Field(default_factory=list)
    image: Optional[PinnedImage] = None
    port: int = Field(default=8080, ge=1024, le=65535)
    resources: Optional[Resources] = None
    autoscaling: Autoscaling = Autoscaling()
    sandbox: Optional[SandboxUse] = None
    rollout: Optional[Rollout] = None
    egress: list[SandboxEgressRule] = Field(default_factory=list)
    probes: Probes = Probes()
    route: RouteSpec = RouteSpec()
    provider: Optional[ProviderSpec] = None

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
        if self.a2a_access.allow_tenants and not self.a2a_skills:
            found.append((("a2aAccess",), "allows callers but the agent exposes no a2aSkills"))
        found += self._rollout_problems()
        for i, rule in enumerate(self.egress):
            if rule.cidr in ("0.0.0.0/0", "::/0") and not rule.except_:
                found.append((("egress", i, "cidr"), "egress to anywhere must exclude private ranges with `except`"))
        return found

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
    """A remote MCP server agents may use: `agents/mcp/<name>.yaml`."""

    name: McpServerName
    description: str = ""
    url: HttpUrl
    protocol: McpProtocol = "streamable-http"
    timeout_seconds: int = Field(default=30, ge=1, le=600)
    # a Secret of that name/key must exist in the namespace of every tenant that uses the server
    auth: Optional[McpAuth] = None
    # tenants allowed to use it; empty = every tenant
    tenants: list[DnsLabel] = Field(default_factory=list)
    # tool names the server offers, if known: agents' toolNames are checked against it
    tools: list[str] = Field(default_factory=list)


# --------------------------------------------------------------------------- catalog


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


def load_agent_specs(
    directory: str | os.PathLike,
    tenants: Optional[Iterable[str]] = None,
    sandbox_profiles: Optional[Iterable[str]] = None,
    scale_to_zero_blocker: Optional[str] = None,
) -> AgentCatalog:
    """Load and validate every spec under `directory`; raise one AgentSpecError listing all problems.

    `tenants` and `sandbox_profiles` come from the stack config (None skips those checks);
    `scale_to_zero_blocker` says why this stack cannot wake agents from zero (None: it can).
    """
    root = Path(directory)
    if not root.is_dir():
        raise AgentSpecError([f"{_label_for(root)}: the agents directory does not exist"])
    if not _ALL_FIELDS:
        _collect_fields(AgentSpec)
        _collect_fields(McpServerSpec)

    docs: list[_Doc] = []
    agent_docs: list[tuple[AgentSpec, _Doc]] = []
    mcp_docs: list[tuple[McpServerSpec, _Doc]] = []
    for kind, folder in ((McpServerSpec, root / MCP_SUBDIR), (AgentSpec, root)):
        files = sorted(p for p in folder.glob("*.y*ml") if p.suffix in (".yaml", ".yml")) if folder.is_dir() else []
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
    # grouped by file, in line order: the order someone fixing them reads the file
    problems = [p for doc in docs for _, p in sorted(doc.numbered)]
    if problems:
        raise AgentSpecError(problems)
    return catalog


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
            if target[0].tenant != spec.tenant and spec.tenant not in target[0].a2a_access.allow_tenants:
                doc.report(
                    ("a2aCalls", i, "agent"),
                    f"agent {call.agent!r} is in tenant {target[0].tenant!r} and does not allow callers from "
                    f"{spec.tenant!r} (its a2aAccess.allowTenants)",
                )
        if len(by_name[spec.name]) > 1:
            doc.report(("name",), f"duplicate agent name {spec.name!r} (agent names are global: they are gateway paths)")
        if spec.sandbox is not None and known_profiles is not None and spec.sandbox.profile not in known_profiles:
            doc.report(("sandbox", "profile"), f"unknown sandbox profile {spec.sandbox.profile!r}; the stack's sandboxProfiles: {known_profiles}")
        if spec.autoscaling.scale_to_zero and scale_to_zero_blocker:
            doc.report(("autoscaling", "scaleToZero"), scale_to_zero_blocker)
