"""What an agent version's runtime reads: config.json, its environment, and its credentials as files.

The config holds no secret: it names the files the credentials are mounted at, each a
key of a Secret in the tenant's namespace, all in one projected volume. It has two parts:
who the agent is (identity, ports, Nacos), always in the version's ConfigMap, and how it
behaves (prompt, model parameters, tools, memory, skills, sandbox), which is either in the
ConfigMap too or, with live configuration, a Nacos configuration item the pods subscribe to.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Optional

from models.agent_spec import ModelSpec, ResolvedVersion
from render.agent import live_config, queue
from render.agent.context import AgentContext
from render.agent.routes import A2A_PATH, AGENT_A2A_PATH, AGENT_CHAT_PATH
from render.nacos import nacos_address

CONFIG_DIR = "/etc/agent"
PROMPT_DIR = "/etc/agent-prompt"
CREDENTIALS_DIR = "/etc/agent-credentials"


def file_name(*parts: str) -> str:
    """A credential file name from its parts: lower case, anything but letters and digits made '-'."""
    return "-".join(re.sub(r"[^a-z0-9]+", "-", p.lower()).strip("-") for p in parts)


class CredentialFiles:
    """The secret values an agent reads, as files of one projected volume - never environment variables.

    Scanners flag secrets in env (they leak into crash dumps, child processes and `kubectl
    describe`); the agent runtime reads each value from the file its config.json names.
    """

    def __init__(self) -> None:
        self.items: list[tuple[str, Any]] = []

    def add(self, file_name: str, ref) -> str:
        """Mount `ref` (a Secret key) as `file_name`; the path the agent reads it from."""
        self.items.append((file_name, ref))
        return f"{CREDENTIALS_DIR}/{file_name}"

    def volume(self) -> Optional[dict]:
        """The one projected volume of every file added, or None when the agent reads no secret."""
        if not self.items:
            return None
        by_secret: dict[str, list[dict]] = {}
        for file_name, ref in self.items:
            by_secret.setdefault(ref.name, []).append({"key": ref.key, "path": file_name})
        sources = [{"secret": {"name": name, "items": items}} for name, items in sorted(by_secret.items())]
        # readable by the pod's group (fsGroup) only: the agent runs as that group, nothing else does
        return {"name": "credentials", "projected": {"defaultMode": 0o440, "sources": sources}}


@dataclass(frozen=True)
class RuntimeConfig:
    """One version's config.json (as a dict), its environment variables and the credential files it names.

    `live` is the behaviour document published to Nacos when the stack has live configuration
    (then config.json only says where to subscribe), else None (it is part of config.json).
    """

    config: dict
    env: list[dict]
    files: CredentialFiles
    live: Optional[dict] = None


def _env(context: AgentContext, version: ResolvedVersion) -> list[dict]:
    return [
        {"name": "AGENT_NAME", "value": context.spec.name},
        {"name": "AGENT_VERSION", "value": version.version},
        {"name": "AGENT_CONFIG", "value": f"{CONFIG_DIR}/config.json"},
        {"name": "AGENT_CARD", "value": f"{CONFIG_DIR}/agent-card.json"},
    ]


def _identity(context: AgentContext, version: ResolvedVersion) -> dict:
    """Who the agent is, where it listens and which Nacos namespace it registers in."""
    spec = context.spec
    return {
        "agent": {"name": spec.name, "tenant": spec.tenant, "version": version.version, "description": spec.description},
        "server": {"port": spec.port, "chatPath": AGENT_CHAT_PATH, "a2aPath": AGENT_A2A_PATH},
        "nacos": {"serverAddr": nacos_address(context.nacos_namespace), "namespaceId": context.tenant.nacos_namespace},
    }


def _system_prompt(context: AgentContext) -> Optional[dict]:
    """Where the prompt is: an inline one is config itself (text when live, else a ConfigMap file), others are mounted files."""
    prompt = context.spec.system_prompt
    if prompt is None:
        return None
    if prompt.inline is None:
        return {"file": f"{PROMPT_DIR}/system-prompt.txt"}
    return {"text": prompt.inline} if context.live_config else {"file": f"{CONFIG_DIR}/system-prompt.txt"}


def _model(model: ModelSpec, files: CredentialFiles) -> dict:
    """The LLM and its sampling parameters; secret headers and the API key as files."""
    headers = {k: v for k, v in model.headers.items() if isinstance(v, str)}
    header_files = {
        header: files.add(file_name("model-header", header), value.secret_key_ref)
        for header, value in model.headers.items()
        if not isinstance(value, str)
    }
    config: dict[str, Any] = {
        "provider": model.provider,
        "model": model.model,
        "baseUrl": model.endpoint(),
        "temperature": model.temperature,
        "maxTokens": model.max_tokens,
        "topP": model.top_p,
        "timeoutSeconds": model.timeout_seconds,
        "headers": headers,
        "headersFromFiles": header_files,
    }
    if model.api_key is not None:
        config["apiKeyFile"] = files.add("model-api-key", model.api_key.secret_key_ref)
    return config


def _tools(context: AgentContext, files: CredentialFiles) -> list[dict]:
    """The MCP servers the agent uses, each with the tools it may call and those that need approval."""
    tools = []
    for ref, server in zip(context.spec.tools, context.mcp_servers):
        tool = {
            "name": server.name,
            "url": server.url,
            "protocol": server.protocol,
            "timeoutSeconds": server.timeout_seconds,
            "toolNames": list(ref.tool_names),
            "requireApproval": list(ref.require_approval),
        }
        if server.auth is not None:
            path = files.add(file_name("mcp", server.name, "auth"), server.auth.secret_key_ref)
            tool["auth"] = {"header": server.auth.header, "prefix": server.auth.prefix, "valueFile": path}
        tools.append(tool)
    return tools


def _memory(context: AgentContext, files: CredentialFiles) -> Optional[dict]:
    m = context.spec.memory
    if m is None:
        return None
    return {
        "provider": m.provider,
        "indexHost": m.index_host,
        "namespace": m.namespace,
        "topK": m.top_k,
        "scoreThreshold": m.score_threshold,
        "apiKeyFile": files.add("memory-api-key", m.api_key.secret_key_ref),
    }


def _knowledge_bases(context: AgentContext, files: CredentialFiles) -> list[dict]:
    kbs = []
    for kb in context.spec.knowledge_bases:
        entry = {"name": kb.name, "description": kb.description, "url": kb.url, "topK": kb.top_k}
        if kb.api_key is not None:
            entry["apiKeyFile"] = files.add(file_name("kb", kb.name, "api-key"), kb.api_key.secret_key_ref)
        kbs.append(entry)
    return kbs


def _a2a(context: AgentContext) -> dict:
    """The skills the agent serves, and the other agents' skills it calls through the gateway."""
    spec = context.spec
    base = context.gateway_base_url.rstrip("/")
    return {
        "skills": [s.id for s in spec.a2a_skills],
        "calls": [
            {"agent": c.agent, "skill": c.skill, "url": f"{base}{A2A_PATH.format(agent=c.agent)}/{c.skill}"}
            for c in spec.a2a_calls
        ],
    }


def _sandbox(context: AgentContext) -> Optional[dict]:
    spec, p = context.spec, context.sandbox_profile
    if spec.sandbox is None or p is None:
        return None
    return {
        "profile": p.name,
        "tools": list(spec.sandbox.tools),
        "namespace": context.tenant.k8s_namespace,
        # the agent claims sandboxes from this warm pool, with this lifetime
        "warmPool": p.name,
        "ttlSeconds": p.ttl_seconds,
        "runtime": p.runtime,
    }


def _behaviour(context: AgentContext, version: ResolvedVersion, files: CredentialFiles) -> dict:
    """How the version behaves: what live configuration changes without a rollout."""
    behaviour: dict[str, Any] = {}
    prompt = _system_prompt(context)
    if prompt is not None:
        behaviour["systemPrompt"] = prompt
    if version.model is not None:
        behaviour["model"] = _model(version.model, files)
    behaviour["tools"] = _tools(context, files)
    memory = _memory(context, files)
    if memory is not None:
        behaviour["memory"] = memory
    behaviour["knowledgeBases"] = _knowledge_bases(context, files)
    behaviour["a2a"] = _a2a(context)
    sandbox = _sandbox(context)
    if sandbox is not None:
        behaviour["sandbox"] = sandbox
    return behaviour


def _subscription(context: AgentContext, version: ResolvedVersion, files: CredentialFiles) -> dict:
    """Where the pods read their behaviour live, and as whom (a read-only user of the agent's own)."""
    spec = context.spec
    return {
        "serverAddr": nacos_address(context.nacos_namespace),
        "namespaceId": context.tenant.nacos_namespace,
        "group": live_config.GROUP,
        "dataId": live_config.data_id(spec, version),
        "username": live_config.reader_username(spec),
        "passwordFile": files.add(live_config.PASSWORD_FILE, live_config.reader_secret(spec)),
    }


def _queue(context: AgentContext, config: dict, env: list[dict], files: CredentialFiles) -> None:
    """The agent's queue access (config.json `queue`, env), its password a file of the credentials volume."""
    access, endpoints = context.queue, context.queue_endpoints
    if access is None or endpoints is None:
        return
    path = files.add(queue.PASSWORD_FILE, queue.SecretKey(queue.credential_secret_name(context.spec.name), queue.PASSWORD_KEY))
    config["queue"] = queue.runtime_block(access, endpoints, path)
    env.extend(queue.env(access, endpoints, path))


def runtime_config(context: AgentContext, version: ResolvedVersion) -> RuntimeConfig:
    """The version's runtime config (no secrets: it names the files they are mounted at), env vars, credential files."""
    files = CredentialFiles()
    config = _identity(context, version)
    env = _env(context, version)
    _queue(context, config, env, files)
    behaviour = _behaviour(context, version, files)
    if context.live_config:
        config["liveConfig"] = _subscription(context, version, files)
        return RuntimeConfig(config, env, files, live=behaviour)
    return RuntimeConfig({**config, **behaviour}, env, files)


def config_map_data(context: AgentContext, runtime: RuntimeConfig, card: dict) -> dict[str, str]:
    """The files of the version's ConfigMap: config.json, agent-card.json and an inline system prompt."""
    data = {
        "config.json": json.dumps(runtime.config, indent=2, sort_keys=True),
        "agent-card.json": json.dumps(card, indent=2, sort_keys=True),
    }
    prompt = context.spec.system_prompt
    if prompt is not None and prompt.inline is not None and runtime.live is None:
        data["system-prompt.txt"] = prompt.inline
    return data


def config_hash(data: dict[str, str], env: list[dict]) -> str:
    """Changes with what the pods read, so a new config rolls the Deployment."""
    return hashlib.sha256(json.dumps([data, env], sort_keys=True).encode()).hexdigest()[:16]
