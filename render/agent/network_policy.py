"""An agent's NetworkPolicy. In: the gateway and the agents that call this one. Out: Nacos, MCP servers, model, declared egress."""

from __future__ import annotations

import ipaddress
import json
from urllib.parse import urlparse

from render.agent.context import AgentContext
from render.agent.queue import egress_rule as queue_egress_rule
from render.k8s_common import LABEL_AGENT, LABEL_SANDBOX_PROFILE, dns_egress_rule, ip_block_egress_rule
from render.nacos import nacos_client_egress_rule

# destinations outside the cluster: anything but private, CGNAT and link-local ranges
NON_PUBLIC = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16"]


def egress_for_url(url: str) -> dict:
    """A NetworkPolicy egress rule reaching `url`: in-cluster Service by namespace, else public IPs only."""
    parsed = urlparse(url)
    host = parsed.hostname or ""
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    ports = [{"protocol": "TCP", "port": port}]
    parts = host.split(".")
    if len(parts) >= 3 and parts[2] == "svc":
        return {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": parts[1]}}}], "ports": ports}
    try:
        ip = ipaddress.ip_address(host)
        return {"to": [{"ipBlock": {"cidr": f"{ip}/{32 if ip.version == 4 else 128}"}}], "ports": ports}
    except ValueError:
        pass
    return {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(NON_PUBLIC)}}], "ports": ports}


def dedupe(rules: list[dict]) -> list[dict]:
    """The rules in order, each only once."""
    seen, out = set(), []
    for rule in rules:
        key = json.dumps(rule, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(rule)
    return out


def _namespace(name: str) -> dict:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}


def ingress_rules(context: AgentContext) -> list[dict]:
    """From the gateway, and from the calling agents' pods in their namespaces, on the agent's port only."""
    port = [{"protocol": "TCP", "port": context.spec.port}]
    rules = [{"from": [_namespace(context.gateway_namespace)], "ports": port}]
    by_ns: dict[str, list[str]] = {}
    for peer in context.callers:
        by_ns.setdefault(peer.namespace, []).append(peer.agent)
    for caller_ns, agents in sorted(by_ns.items()):
        selector = {"matchExpressions": [{"key": LABEL_AGENT, "operator": "In", "values": sorted(set(agents))}]}
        rules.append({"from": [{**_namespace(caller_ns), "podSelector": selector}], "ports": port})
    return rules


def _callee_rules(context: AgentContext) -> list[dict]:
    """A2A calls go through the gateway (AgentCard url) or straight to the callee's pods, which admit exactly these callers."""
    if not context.callees:
        return []
    rules = [egress_for_url(context.gateway_base_url)]
    for peer in context.callees:
        rules.append(
            {
                "to": [{**_namespace(peer.namespace), "podSelector": {"matchLabels": {LABEL_AGENT: peer.agent}}}],
                "ports": [{"protocol": "TCP", "port": peer.port}],
            }
        )
    return rules


def _sandbox_rules(context: AgentContext) -> list[dict]:
    """The agent's sandbox pods, and the Kubernetes API it creates sandbox claims through."""
    spec = context.spec
    if spec.sandbox is None:
        return []
    return [
        {"to": [{"podSelector": {"matchLabels": {LABEL_SANDBOX_PROFILE: spec.sandbox.profile}}}]},
        {
            "to": [{"ipBlock": {"cidr": c}} for c in context.settings.api_server_cidrs],
            "ports": [{"protocol": "TCP", "port": p} for p in context.settings.api_server_ports],
        },
    ]


def egress_rules(context: AgentContext) -> list[dict]:
    """DNS, Nacos, the MCP servers, every version's model, memory, knowledge bases, callees, sandboxes, declared egress."""
    spec = context.spec
    rules = [dns_egress_rule(), nacos_client_egress_rule(context.nacos_namespace)]
    rules += [egress_for_url(s.url) for s in context.mcp_servers]
    for v in spec.versions():
        endpoint = v.model.endpoint() if v.model else None
        if endpoint:
            rules.append(egress_for_url(endpoint))
    if spec.memory is not None:
        rules.append(egress_for_url(spec.memory.index_host))
    rules += [egress_for_url(kb.url) for kb in spec.knowledge_bases]
    rules += _callee_rules(context)
    rules += _sandbox_rules(context)
    if context.queue is not None and context.queue_endpoints is not None:
        rules.append(queue_egress_rule(context.queue_endpoints))
    rules += [ip_block_egress_rule(rule) for rule in spec.egress]
    return dedupe(rules)


def network_policy_spec(context: AgentContext) -> dict:
    """The policy over all of the agent's pods, whatever their version."""
    return {
        "podSelector": {"matchLabels": {LABEL_AGENT: context.spec.name}},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": ingress_rules(context),
        "egress": egress_rules(context),
    }
