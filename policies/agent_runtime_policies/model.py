"""Shared reading of resources as the policy engine hands them over.

Properties arrive in wire form (camelCase, numbers possibly floats) and, under the
real analyzer, wrapped in pulumi-policy's unknown-checking proxy that raises on any
value that is not known during preview. `plain()` turns such a structure into plain
dicts/lists with `UNKNOWN` in place of unknown values, so one unknown field cannot
abort a whole stack-level check; each check decides what an unknown means for it.
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Optional

from pulumi_policy.proxy import UnknownValueError

# ---------------------------------------------------------------- conventions of the program
PART_OF = "agent-runtime"
MANAGED_BY = "pulumi"
L_NAME = "app.kubernetes.io/name"
L_COMPONENT = "app.kubernetes.io/component"
L_PART_OF = "app.kubernetes.io/part-of"
L_MANAGED_BY = "app.kubernetes.io/managed-by"
L_TENANT = "agent-runtime.io/tenant"
L_TIER = "agent-runtime.io/tier"
L_AGENT = "agent-runtime.io/agent"
L_ROUTE_KIND = "agent-runtime.io/route-kind"
L_AUTH = "agent-runtime.io/auth"

GATEWAY_NAMESPACE = "higress-system"
INGRESS_CLASS = "higress"
A2A_PATH_PREFIX = "/api/v1/internal/a2a/"
# what the program writes on each A2A Ingress (render/agent/routes.py): the skill's access rule
A_A2A_SKILL = "agent-runtime.io/a2a-skill"
A_A2A_ALLOW_TENANTS = "agent-runtime.io/a2a-allow-tenants"
A_A2A_ALLOW_AGENTS = "agent-runtime.io/a2a-allow-agents"
A_A2A_SENSITIVE = "agent-runtime.io/a2a-sensitive"
# on the agent-wide A2A Ingress (/api/v1/internal/a2a/<agent>): every skill it reaches
A_A2A_SKILLS = "agent-runtime.io/a2a-skills"
A_TIMEOUT = "higress.io/timeout"
AGENT_CONSUMER_PREFIX = "agent:"  # internal jwt-auth consumers are agent:<tenant>/<agent>

T_DEPLOYMENT = "kubernetes:apps/v1:Deployment"
T_STATEFULSET = "kubernetes:apps/v1:StatefulSet"
T_NAMESPACE = "kubernetes:core/v1:Namespace"
T_SERVICE = "kubernetes:core/v1:Service"
T_CONFIGMAP = "kubernetes:core/v1:ConfigMap"
T_QUOTA = "kubernetes:core/v1:ResourceQuota"
T_LIMITRANGE = "kubernetes:core/v1:LimitRange"
T_NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
T_INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
T_PDB = "kubernetes:policy/v1:PodDisruptionBudget"
T_HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
DYNAMIC_PREFIX = "pulumi-python:dynamic"


class _Unknown:
    """A value the engine does not know yet (preview)."""

    _instance: Optional["_Unknown"] = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown>"

    def __bool__(self) -> bool:
        return False


UNKNOWN = _Unknown()

_UNKNOWN_SENTINELS = {
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
    "030794c1-ac77-496b-92df-f27374a8bd58",
    "e48ece36-62e2-4504-bad9-02848725956a",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
}


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN or (isinstance(value, str) and value in _UNKNOWN_SENTINELS)


def plain(value: Any) -> Any:
    """Deep copy into plain dicts/lists; unknown values (proxied or raw sentinels) become UNKNOWN."""
    if isinstance(value, str):
        return UNKNOWN if value in _UNKNOWN_SENTINELS else value
    if isinstance(value, Mapping):
        out = {}
        for key in list(value):
            try:
                item = value[key]
            except UnknownValueError:
                out[key] = UNKNOWN
                continue
            out[key] = plain(item)
        return out
    if isinstance(value, Sequence):
        items = []
        for i in range(len(value)):
            try:
                items.append(plain(value[i]))
            except UnknownValueError:
                items.append(UNKNOWN)
        return items
    return value


def dig(value: Any, *path: Any, default: Any = None) -> Any:
    """value[p0][p1]... on plain data; `default` when a step is missing, UNKNOWN when a step is unknown."""
    cur = value
    for step in path:
        if cur is UNKNOWN:
            return UNKNOWN
        if isinstance(step, int):
            if not isinstance(cur, list) or step >= len(cur):
                return default
            cur = cur[step]
        else:
            if not isinstance(cur, dict) or step not in cur:
                return default
            cur = cur[step]
    return cur


def as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def truthy(value: Any) -> bool:
    """Kubernetes booleans may arrive as bools or strings."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value is True


def as_int(value: Any) -> Optional[int]:
    if isinstance(value, bool) or value is None or value is UNKNOWN:
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value):
        return int(value)
    return None


# ---------------------------------------------------------------- resources
@dataclass
class Res:
    """One resource as a policy sees it: type, URN, Pulumi name and plain props."""

    type: str
    urn: str
    name: str
    props: dict

    @property
    def kind(self) -> str:
        return self.type.rsplit(":", 1)[-1]

    @property
    def group(self) -> str:
        """API group of a Kubernetes type (`core` for the core group)."""
        parts = self.type.split(":")
        return parts[1].split("/")[0] if len(parts) == 3 else ""

    @property
    def is_kubernetes_object(self) -> bool:
        parts = self.type.split(":")
        return (
            len(parts) == 3
            and parts[0] == "kubernetes"
            and "/" in parts[1]
            and parts[1].split("/")[0] not in ("helm.sh", "yaml", "kustomize")
        )

    @property
    def metadata(self) -> dict:
        return as_dict(self.props.get("metadata"))

    @property
    def k8s_name(self) -> Any:
        return self.metadata.get("name")

    @property
    def namespace(self) -> Any:
        ns = self.metadata.get("namespace")
        return "default" if ns is None else ns

    @property
    def labels(self) -> dict:
        return as_dict(self.metadata.get("labels"))

    @property
    def spec(self) -> dict:
        return as_dict(self.props.get("spec"))

    def where(self) -> str:
        """How messages name the resource: Kind namespace/name (Pulumi name, URN)."""
        name = self.k8s_name if isinstance(self.k8s_name, str) else f"<auto-named {self.name}>"
        scoped = self.type not in (T_NAMESPACE,) and self.kind not in ("RuntimeClass", "ClusterRole", "ClusterRoleBinding")
        ident = f"{self.namespace}/{name}" if scoped and self.is_kubernetes_object else name
        return f"{self.kind} {ident} [{self.urn}]"


def res_of(resource_type: str, props: Any, urn: str, name: str) -> Res:
    return Res(resource_type, urn, name, as_dict(plain(props)))


def from_args(args: Any) -> Res:
    """From ResourceValidationArgs (or anything with resource_type/props/urn/name)."""
    return res_of(args.resource_type, args.props, args.urn, args.name)


def stack_resources(args: Any) -> list[Res]:
    return [res_of(r.resource_type, r.props, r.urn, r.name) for r in args.resources]


# ---------------------------------------------------------------- workloads and pods
POD_TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
    "PodTemplate": ("template",),
    "Sandbox": ("spec", "podTemplate"),
    "SandboxTemplate": ("spec", "podTemplate"),
    "ScaledJob": ("spec", "jobTargetRef", "template"),
}


@dataclass
class PodTemplate:
    labels: dict
    spec: dict


def pod_template(res: Res) -> Optional[PodTemplate]:
    """The pod template of a workload (or the pod itself), or None if the resource has none."""
    if res.kind == "Pod" and res.group == "core":
        return PodTemplate(res.labels, res.spec)
    path = POD_TEMPLATE_PATHS.get(res.kind)
    if path is None:
        return None
    template = dig(res.props, *path)
    if not isinstance(template, dict):
        return PodTemplate({}, {}) if template is UNKNOWN else None
    return PodTemplate(as_dict(dig(template, "metadata", "labels")), as_dict(template.get("spec")))


@dataclass
class Container:
    name: str
    section: str  # containers | initContainers | ephemeralContainers
    body: dict

    @property
    def label(self) -> str:
        kind = {"containers": "container", "initContainers": "init container"}.get(self.section, "ephemeral container")
        return f"{kind} '{self.name}'"


def containers(spec: dict, sections: Iterable[str] = ("initContainers", "containers", "ephemeralContainers")) -> Iterator[Container]:
    for section in sections:
        for i, c in enumerate(as_list(spec.get(section))):
            if isinstance(c, dict):
                name = c.get("name") if isinstance(c.get("name"), str) else f"#{i}"
                yield Container(name, section, c)


def workload_labels(res: Res) -> dict:
    """Resource labels merged with pod template labels (template wins)."""
    tpl = pod_template(res)
    return {**res.labels, **(tpl.labels if tpl else {})}


def is_agent_deployment(res: Res) -> bool:
    return res.type == T_DEPLOYMENT and workload_labels(res).get(L_COMPONENT) == "agent"


def is_sandbox_workload(res: Res) -> bool:
    if res.kind in ("Sandbox", "SandboxTemplate") and "agents.x-k8s.io" in res.group:
        return True
    return pod_template(res) is not None and workload_labels(res).get(L_COMPONENT) == "sandbox"


def nacos_image(image: Any) -> bool:
    return isinstance(image, str) and image_repository(image).endswith("nacos-server")


def is_nacos_workload(res: Res) -> bool:
    if res.kind not in ("StatefulSet", "Deployment"):
        return False
    labels = workload_labels(res)
    if labels.get(L_NAME) == "nacos" and labels.get(L_COMPONENT) == "registry":
        return True
    tpl = pod_template(res)
    return bool(tpl) and any(nacos_image(c.body.get("image")) for c in containers(tpl.spec, ("containers",)))


# ---------------------------------------------------------------- selectors
def selector_matches(selector: Any, labels: dict) -> bool:
    """Kubernetes label-selector semantics; an empty selector selects everything."""
    if selector is UNKNOWN:
        return False
    selector = as_dict(selector)
    for key, value in as_dict(selector.get("matchLabels")).items():
        if labels.get(key) != value:
            return False
    for expr in as_list(selector.get("matchExpressions")):
        expr = as_dict(expr)
        key, op, values = expr.get("key"), expr.get("operator"), as_list(expr.get("values"))
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def selector_is_empty(selector: Any) -> bool:
    selector = as_dict(selector) if selector is not UNKNOWN else {"?": 1}
    return not selector.get("matchLabels") and not selector.get("matchExpressions") and "?" not in selector


# ---------------------------------------------------------------- images and versions
def split_image(image: str) -> tuple[str, Optional[str], Optional[str]]:
    """(repository, tag, digest) of an image reference."""
    digest = None
    if "@" in image:
        image, digest = image.split("@", 1)
    last = image.rsplit("/", 1)[-1]
    tag = None
    if ":" in last:
        image, tag = image.rsplit(":", 1)
    return image, tag, digest


def image_repository(image: str) -> str:
    return split_image(image)[0]


_VERSION = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?")


def parse_version(text: str) -> Optional[tuple[int, int, int]]:
    match = _VERSION.match(text.strip())
    if not match:
        return None
    return tuple(int(p) if p is not None else 0 for p in match.groups())  # type: ignore[return-value]


def in_range(version: tuple[int, int, int], spec: str) -> bool:
    """`spec` is space-separated comparators, e.g. '>=2.1.0 <3.0.0' (all must hold)."""
    for part in spec.split():
        m = re.fullmatch(r"(>=|<=|>|<|==|=)?v?(\d+(?:\.\d+){0,2})", part)
        if not m:
            raise ValueError(f"bad version constraint {part!r} in {spec!r}")
        op, bound = m.group(1) or "=", parse_version(m.group(2))
        assert bound is not None
        ok = {
            ">=": version >= bound,
            "<=": version <= bound,
            ">": version > bound,
            "<": version < bound,
            "=": version == bound,
            "==": version == bound,
        }[op]
        if not ok:
            return False
    return True


def glob_any(value: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(value, p) for p in patterns)


def scaled(value: Any, total: int, round_up: bool = True) -> Optional[int]:
    """An int-or-percent field (PDB minAvailable/maxUnavailable) against `total` pods."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            pct = float(value.strip()[:-1])
        except ValueError:
            return None
        amount = pct * total / 100.0
        return math.ceil(amount) if round_up else math.floor(amount)
    return as_int(value)


# ---------------------------------------------------------------- secrets
_SECRET_LAST_WORDS = {"password", "passwd", "pwd", "secret", "token", "apikey", "credential", "credentials", "passphrase", "privatekey"}
_SECRET_PAIRS = {
    ("api", "key"), ("access", "key"), ("secret", "key"), ("private", "key"), ("signing", "key"),
    ("encryption", "key"), ("master", "key"), ("auth", "key"), ("license", "key"), ("client", "secret"),
    ("identity", "value"), ("connection", "string"),
}
SECRET_VALUE_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("an OpenAI/Anthropic-style API key", re.compile(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}")),
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a private key", re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----")),
    ("a GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}")),
    ("a Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    ("a JWT", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
]
# `password: hunter2` / `"apiKey": "..."` lines inside embedded config files
_SECRET_ASSIGNMENT = re.compile(
    r"""(?im)^\s*["']?[\w.-]*?(password|passwd|secret|api[_-]?key|apikey|access[_-]?key|private[_-]?key|token)["']?\s*[:=]\s*["']?([^\s"'#,}]+)"""
)


def words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [w.lower() for w in re.split(r"[^A-Za-z0-9]+|\s+", spaced) if w]


def secret_like_name(name: str) -> bool:
    w = words(name)
    if not w:
        return False
    if w[-1] in _SECRET_LAST_WORDS:
        return True
    return len(w) >= 2 and (w[-2], w[-1]) in _SECRET_PAIRS


def harmless_literal(value: str) -> bool:
    """Values that cannot be a secret: empty, booleans, numbers, references and placeholders."""
    v = value.strip()
    return (
        v == ""
        or v.lower() in ("true", "false", "yes", "no", "on", "off", "none", "null")
        or re.fullmatch(r"[0-9.]+[a-zA-Z]{0,2}", v) is not None
        or v.startswith("${")
        or v.startswith("$(")
        or v.startswith("{{")
        or re.fullmatch(r"<[^>]*>", v) is not None
    )


def secret_value_kind(value: str) -> Optional[str]:
    for label, pattern in SECRET_VALUE_PATTERNS:
        if pattern.search(value):
            return label
    return None


def embedded_secret_assignment(value: str) -> Optional[str]:
    for m in _SECRET_ASSIGNMENT.finditer(value):
        if not harmless_literal(m.group(2)):
            return m.group(0).split(":")[0].split("=")[0].strip().strip("\"'")
    return None

