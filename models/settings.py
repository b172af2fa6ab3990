"""Stack configuration: one pydantic model, validated once at the edge.

Every setting a stack file can hold is declared here. `load_stack_config()` reads
the raw config of the `agent-runtime` namespace, validates it, and raises a
`ConfigError` naming the config key, what is wrong and what is allowed - so a bad
stack file fails `pulumi preview` with one readable message instead of a
traceback from inside a component.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

import pulumi
import yaml
from pulumi.runtime import config as runtime_config
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from models.did_you_mean import unknown_key_hint
from models.security import GatewaySecuritySettings, Tier, environment_problems
from models.settings_base import Settings
from nacos_registry.settings import RegistrySettings
from rocketmq_provider.settings import DEFAULT_CLUSTER, QueueAdminSettings

PROJECT = "agent-runtime"

# Kubernetes names
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
NACOS_IMAGE = re.compile(r"^(?:[\w.\-/]+/)?nacos/nacos-server(?::v3\.1\.\d+(?:-[\w.]+)?)?(?:@sha256:[0-9a-f]{64})?$")
NACOS_NAMESPACE_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
SEMVER = re.compile(r"^\d+\.\d+\.\d+$")


def _dns_label(value: str) -> str:
    if len(value) > 63 or not DNS_LABEL.match(value):
        raise ValueError(
            f"{value!r} is not a DNS-1123 label (lower-case letters, digits and '-', at most 63, "
            "starting and ending with a letter or digit)"
        )
    return value


def _quantity(value: Any) -> str:
    text = str(value)
    if not QUANTITY.match(text):
        raise ValueError(f"{value!r} is not a Kubernetes quantity (e.g. 500m, 2, 4Gi)")
    return text


DnsLabel = Annotated[str, AfterValidator(_dns_label)]
Quantity = Annotated[str, AfterValidator(_quantity)]


class ResourceAmounts(Settings):
    cpu: Quantity
    memory: Quantity


class Resources(Settings):
    requests: ResourceAmounts
    limits: ResourceAmounts


class KubernetesSettings(Settings):
    """Where manifests go: a cluster (kubeconfig/context) or a directory (no cluster needed)."""

    kubeconfig: Optional[str] = None
    context: Optional[str] = None
    render_yaml_to_directory: Optional[str] = None

    @model_validator(mode="after")
    def _one_target(self) -> "KubernetesSettings":
        if self.render_yaml_to_directory and (self.kubeconfig or self.context):
            raise ValueError(
                "renderYamlToDirectory renders manifests without a cluster; "
                "set it OR kubeconfig/context, not both"
            )
        return self


class MysqlSettings(Settings):
    host: str = Field(min_length=1)
    port: int = Field(default=3306, ge=1, le=65535)
    database: str = Field(default="nacos", min_length=1)
    user: str = Field(default="nacos", min_length=1)
    params: str = "characterEncoding=utf8&connectTimeout=1000&socketTimeout=3000&autoReconnect=true&useSSL=true"


class NacosStorage(Settings):
    type: Literal["embedded", "mysql"] = "embedded"
    size: Quantity = "10Gi"
    storage_class_name: Optional[str] = None
    mysql: Optional[MysqlSettings] = None

    @model_validator(mode="after")
    def _mysql_needs_settings(self) -> "NacosStorage":
        if self.type == "mysql" and self.mysql is None:
            raise ValueError("type 'mysql' needs a 'mysql' block (host, port, database, user)")
        if self.type == "embedded" and self.mysql is not None:
            raise ValueError("a 'mysql' block is only allowed with type 'mysql'")
        return self


class JvmSettings(Settings):
    xms: str = "1g"
    xmx: str = "1g"
    xmn: str = "512m"


PINNED_IMAGE = re.compile(r"^[\w.\-/:]+?(?::[\w][\w.\-]{0,127})?(?:@sha256:[0-9a-f]{64})?$")


def _pinned_image(value: str) -> str:
    """An image reference with an explicit tag other than 'latest', or a sha256 digest."""
    last = value.split("/")[-1]
    tag = last.split("@")[0].split(":")[1] if ":" in last.split("@")[0] else None
    if not PINNED_IMAGE.match(value) or ("@sha256:" not in value and (tag is None or tag == "latest")):
        raise ValueError(f"{value!r} must be pinned: an explicit tag other than 'latest' or an @sha256 digest")
    return value


PinnedImage = Annotated[str, AfterValidator(_pinned_image)]


class NacosSettings(Settings):
    namespace: DnsLabel = "agent-runtime"
    image: str = "nacos/nacos-server:v3.1.1"
    replicas: int = Field(default=1, ge=1, le=9)
    storage: NacosStorage = NacosStorage()
    resources: Resources = Resources(
        requests=ResourceAmounts(cpu="500m", memory="2Gi"),
        limits=ResourceAmounts(cpu="2", memory="2Gi"),
    )
    jvm: JvmSettings = JvmSettings()
    admin_username: str = "nacos"
    # the one-shot Job that creates the admin user on first boot (any image with curl and sh)
    admin_init_image: PinnedImage = "curlimages/curl:8.11.1"

    @field_validator("image")
    @classmethod
    def _pinned_nacos_31(cls, value: str) -> str:
        if not NACOS_IMAGE.match(value) or (":" not in value.split("/")[-1] and "@" not in value):
            raise ValueError(
                f"{value!r} must be the official nacos/nacos-server image pinned to a v3.1.x tag "
                "(e.g. nacos/nacos-server:v3.1.1) or a sha256 digest; 'latest' and other lines are not allowed"
            )
        return value

    @field_validator("replicas")
    @classmethod
    def _raft_quorum(cls, value: int) -> int:
        if value != 1 and value % 2 == 0:
            raise ValueError(
                f"{value} replicas cannot keep a Raft quorum through one failure; use 1 (standalone) or an odd number >= 3"
            )
        return value

    @property
    def standalone(self) -> bool:
        return self.replicas == 1


class ChartSettings(Settings):
    """The official Higress chart, pinned. `localPath` points at an unpacked chart for offline runs."""

    name: Literal["higress-core", "higress"] = "higress-core"
    version: str = "2.2.1"
    repository: str = "https://higress.io/helm-charts"
    local_path: Optional[str] = None

    @field_validator("version")
    @classmethod
    def _pinned(cls, value: str) -> str:
        if not SEMVER.match(value):
            raise ValueError(f"{value!r} is not a pinned chart version (x.y.z)")
        major, minor, _ = (int(p) for p in value.split("."))
        if (major, minor) < (2, 1):
            raise ValueError(f"chart {value} is older than 2.1: the nacos3 McpBridge registry needs Higress >= 2.1")
        return value


class DiscoverySettings(Settings):
    """What the McpBridge reads from Nacos."""

    groups: list[str] = Field(default_factory=lambda: ["DEFAULT_GROUP"])
    refresh_interval_seconds: int = Field(default=30, ge=10, le=3600)
    mcp_server_base_url: str = "/mcp"

    @field_validator("groups")
    @classmethod
    def _non_empty(cls, value: list[str]) -> list[str]:
        if not value or any(not g.strip() for g in value):
            raise ValueError("needs at least one non-empty Nacos group: an empty list makes Higress discover nothing")
        return value


class GatewaySettings(Settings):
    namespace: DnsLabel = "higress-system"
    chart: ChartSettings = ChartSettings()
    replicas: int = Field(default=2, ge=1, le=50)
    controller_replicas: int = Field(default=1, ge=1, le=5)
    resources: Resources = Resources(
        requests=ResourceAmounts(cpu="2000m", memory="2Gi"),
        limits=ResourceAmounts(cpu="2000m", memory="2Gi"),
    )
    spread_across_nodes: bool = False
    redis: bool = False
    metrics: bool = False
    service_type: Literal["LoadBalancer", "NodePort", "ClusterIP"] = "LoadBalancer"
    discovery: DiscoverySettings = DiscoverySettings()


# hardening profiles: every environment follows one (dev-like or prod-like rules, here and in the policy pack)
PROFILES = ("dev", "prod")
Profile = Literal["dev", "prod"]

TIER_QUOTAS: dict[str, dict[str, str]] = {
    "free": {"requests.cpu": "2", "requests.memory": "4Gi", "limits.cpu": "4", "limits.memory": "8Gi", "pods": "20"},
    "standard": {"requests.cpu": "8", "requests.memory": "16Gi", "limits.cpu": "16", "limits.memory": "32Gi", "pods": "100"},
    "premium": {"requests.cpu": "32", "requests.memory": "64Gi", "limits.cpu": "64", "limits.memory": "128Gi", "pods": "400"},
}


class TenantQuota(Settings):
    """Overrides of the tier's quota; unset fields keep the tier default."""

    requests_cpu: Optional[Quantity] = None
    requests_memory: Optional[Quantity] = None
    limits_cpu: Optional[Quantity] = None
    limits_memory: Optional[Quantity] = None
    pods: Optional[int] = Field(default=None, ge=1)
    persistent_volume_claims: int = Field(default=10, ge=0)


class ContainerDefaults(Settings):
    """LimitRange defaults for containers that declare nothing."""

    default_request: ResourceAmounts = ResourceAmounts(cpu="100m", memory="128Mi")
    default_limit: ResourceAmounts = ResourceAmounts(cpu="1", memory="1Gi")
    max: ResourceAmounts = ResourceAmounts(cpu="4", memory="8Gi")


class TenantSettings(Settings):
    name: DnsLabel
    tier: Tier
    namespace: Optional[DnsLabel] = None
    nacos_namespace_id: Optional[str] = None
    quota: TenantQuota = TenantQuota()
    container_defaults: ContainerDefaults = ContainerDefaults()

    @field_validator("nacos_namespace_id")
    @classmethod
    def _nacos_ns(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and (value == "public" or not NACOS_NAMESPACE_ID.match(value)):
            raise ValueError(f"{value!r} must match [A-Za-z0-9_-]{{1,128}} and must not be 'public' (shared by all)")
        return value

    @property
    def k8s_namespace(self) -> str:
        return self.namespace or f"tenant-{self.name}"

    @property
    def nacos_namespace(self) -> str:
        return self.nacos_namespace_id or f"tenant-{self.name}"

    def quota_hard(self) -> dict[str, str]:
        hard = dict(TIER_QUOTAS[self.tier])
        overrides = {
            "requests.cpu": self.quota.requests_cpu,
            "requests.memory": self.quota.requests_memory,
            "limits.cpu": self.quota.limits_cpu,
            "limits.memory": self.quota.limits_memory,
            "pods": None if self.quota.pods is None else str(self.quota.pods),
        }
        hard.update({k: v for k, v in overrides.items() if v is not None})
        hard["persistentvolumeclaims"] = str(self.quota.persistent_volume_claims)
        # Tenants never get their own external entry points: all traffic comes through the gateway.
        hard["services.loadbalancers"] = "0"
        hard["services.nodeports"] = "0"
        return hard




def _cidr(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a CIDR block ({exc})") from None
    return value


Cidr = Annotated[str, AfterValidator(_cidr)]


class KedaSettings(Settings):
    """KEDA, the scale-to-zero engine. `enabled` installs its pinned official chart."""

    enabled: bool = False
    chart_version: str = "2.20.2"
    repository: str = "https://kedacore.github.io/charts"
    local_path: Optional[str] = None
    namespace: DnsLabel = "keda"
    # the prometheus trigger reads the gateway's per-upstream request rate from here
    prometheus_address: str = "http://prometheus-operated.monitoring.svc.cluster.local:9090"
    polling_interval_seconds: int = Field(default=15, ge=5, le=300)

    @field_validator("chart_version")
    @classmethod
    def _pinned(cls, value: str) -> str:
        if not SEMVER.match(value):
            raise ValueError(f"{value!r} is not a pinned chart version (x.y.z)")
        return value

    @field_validator("prometheus_address")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+(:\d+)?(/\S*)?$", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value


K8S_OBJECT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
DATA_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


def _object_name(value: str) -> str:
    if len(value) > 253 or not K8S_OBJECT_NAME.match(value):
        raise ValueError(f"{value!r} is not a Kubernetes object name (lower-case letters, digits, '-', '.')")
    return value


def _data_key(value: str) -> str:
    if len(value) > 253 or not DATA_KEY.match(value):
        raise ValueError(f"{value!r} is not a Secret/ConfigMap key (letters, digits, '-', '_', '.')")
    return value


def _tenant_object(value: str) -> str:
    tenant, _, name = value.partition("/")
    if not name:
        raise ValueError(f"{value!r} must be '<tenant>/<name>'")
    _dns_label(tenant)
    _object_name(name)
    return value


K8sObjectName = Annotated[str, AfterValidator(_object_name)]
DataKey = Annotated[str, AfterValidator(_data_key)]
TenantObject = Annotated[str, AfterValidator(_tenant_object)]

# the agent and MCP spec files a stack deploys unless it says otherwise (agents.include, agents.mcpInclude)
DEFAULT_INCLUDE = ("*.yaml", "*.yml")
DEFAULT_MCP_INCLUDE = ("mcp/*.yaml", "mcp/*.yml")


class AgentsSettings(Settings):
    """Declarative agents: where the specs live and what every agent gets by default."""

    directory: str = "agents"
    # which files of the directory this stack deploys: glob patterns relative to it, so one repo
    # serves stacks with different tenants (e.g. prod adds "prod-only/*.yaml")
    include: list[str] = Field(default_factory=lambda: list(DEFAULT_INCLUDE), min_length=1)
    # likewise for the MCP server records
    mcp_include: list[str] = Field(default_factory=lambda: list(DEFAULT_MCP_INCLUDE))
    runtime_image: PinnedImage = "ghcr.io/agent-runtime/declarative-agent:0.1.0"
    # base of AgentCard URLs; default: the gateway Service inside the cluster
    gateway_base_url: Optional[str] = None
    # Ingress host of agent routes; unset = any host
    gateway_host: Optional[str] = None
    default_resources: Resources = Resources(
        requests=ResourceAmounts(cpu="100m", memory="256Mi"),
        limits=ResourceAmounts(cpu="1", memory="1Gi"),
    )
    # where the Kubernetes API is reachable from agents that create sandbox claims
    api_server_cidrs: list[Cidr] = Field(default_factory=lambda: ["0.0.0.0/0"])
    api_server_ports: list[int] = Field(default_factory=lambda: [443, 6443])
    keda: KedaSettings = KedaSettings()
    # Secrets and ConfigMaps the agents read that are created outside the stack ("<tenant>/<name>"),
    # e.g. by External Secrets or kubectl; every other one must be supplied by the stack
    external_secrets: list[TenantObject] = Field(default_factory=list)
    external_config_maps: list[TenantObject] = Field(default_factory=list)
    # ConfigMaps the stack creates in tenant namespaces (prompts): tenant -> name -> key -> text
    config_maps: dict[DnsLabel, dict[K8sObjectName, dict[DataKey, str]]] = Field(default_factory=dict)
    # each version's runtime configuration (prompt, model parameters, tools, skills; never a secret)
    # as a Nacos configuration item its pods subscribe to, so changing it rolls no pod; false keeps
    # it in the version's ConfigMap (every change rolls the Deployment). Default: on where the
    # registry is enabled (the registry provider publishes the items).
    live_config: Optional[bool] = None

    @field_validator("gateway_base_url")
    @classmethod
    def _base_url(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not re.match(r"^https?://[^\s/]+(/\S*)?$", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value.rstrip("/") if value else value

    @field_validator("include", "mcp_include")
    @classmethod
    def _relative_globs(cls, value: list[str]) -> list[str]:
        bad = [g for g in value if not g or g.startswith("/") or ".." in Path(g).parts or not g.endswith((".yaml", ".yml"))]
        if bad:
            raise ValueError(f"{bad}: patterns are relative to the agents directory, stay inside it and end in .yaml or .yml")
        return value


class SandboxEgressRule(Settings):
    cidr: Cidr
    except_: list[Cidr] = Field(default_factory=list, alias="except")
    ports: list[int] = Field(min_length=1)
    protocol: Literal["TCP", "UDP"] = "TCP"

    @field_validator("ports")
    @classmethod
    def _ports(cls, value: list[int]) -> list[int]:
        bad = [p for p in value if not 1 <= p <= 65535]
        if bad:
            raise ValueError(f"ports {bad} are outside 1-65535")
        return value


class SandboxProfileSettings(Settings):
    """One kind of sandbox agents may run dangerous tools in (shell, browser, code)."""

    name: DnsLabel
    runtime: Literal["gvisor", "kata"]
    image: PinnedImage
    resources: Resources = Resources(
        requests=ResourceAmounts(cpu="250m", memory="512Mi"),
        limits=ResourceAmounts(cpu="1", memory="1Gi"),
    )
    ephemeral_storage: Quantity = "1Gi"
    # nothing but these destinations (plus cluster DNS) is reachable from a sandbox
    egress: list[SandboxEgressRule] = Field(default_factory=list)
    ttl_seconds: int = Field(default=900, ge=60, le=86400)
    warm_pool_size: int = Field(default=1, ge=0, le=50)
    max_sandboxes: int = Field(default=10, ge=1, le=500)

    @model_validator(mode="after")
    def _pool_fits(self) -> "SandboxProfileSettings":
        if self.warm_pool_size > self.max_sandboxes:
            raise ValueError(
                f"warmPoolSize {self.warm_pool_size} exceeds maxSandboxes {self.max_sandboxes}: "
                "warm sandboxes count against the sandbox quota"
            )
        return self


ROCKETMQ_IMAGE = re.compile(r"^(?:[\w.\-/]+/)?apache/rocketmq:5\.3\.3(?:@sha256:[0-9a-f]{64})?$")
HEAP = re.compile(r"^[1-9][0-9]*[mg]$")


class QueueRoleSettings(Settings):
    """Size of one RocketMQ role's pods: resources and JVM heap (the rest of the limit is off-heap and page cache)."""

    resources: Resources
    heap: str

    @field_validator("heap")
    @classmethod
    def _heap(cls, value: str) -> str:
        if not HEAP.match(value):
            raise ValueError(f"{value!r} is not a JVM heap size (e.g. 512m, 2g)")
        return value


class QueueStorage(Settings):
    size: Quantity = "20Gi"
    storage_class_name: Optional[str] = None


class MessageQueueSettings(Settings):
    """Apache RocketMQ 5 for agents' long tasks: name servers, brokers and the gRPC proxy, ACL 2.0 on.

    One broker group of one broker is dev; `replicasPerGroup` >= 2 makes each group a replicated
    master/slave set whose failover the controllers decide (embedded in the name servers, so the
    name servers then need a Raft majority: 3 or more).
    """

    enabled: bool = False
    namespace: DnsLabel = "rocketmq"
    # the official image, the version the test broker runs (tools/rocketmq-server/pom.xml)
    image: str = "apache/rocketmq:5.3.3"
    cluster: str = Field(default=DEFAULT_CLUSTER, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    name_servers: int = Field(default=1, ge=1, le=7)
    broker_groups: int = Field(default=1, ge=1, le=16)
    replicas_per_group: int = Field(default=1, ge=1, le=5)
    proxies: int = Field(default=1, ge=1, le=16)
    # queues of each task topic: the most workers that receive tasks of one skill in parallel per broker group
    queues_per_topic: int = Field(default=4, ge=1, le=64)
    # authentication and ACL 2.0 on brokers and proxies; off only for a throwaway dev queue
    acl: bool = True
    storage: QueueStorage = QueueStorage()
    name_server: QueueRoleSettings = QueueRoleSettings(
        resources=Resources(requests=ResourceAmounts(cpu="100m", memory="512Mi"), limits=ResourceAmounts(cpu="1", memory="512Mi")),
        heap="256m",
    )
    broker: QueueRoleSettings = QueueRoleSettings(
        resources=Resources(requests=ResourceAmounts(cpu="500m", memory="2Gi"), limits=ResourceAmounts(cpu="2", memory="2Gi")),
        heap="1g",
    )
    proxy: QueueRoleSettings = QueueRoleSettings(
        resources=Resources(requests=ResourceAmounts(cpu="250m", memory="1Gi"), limits=ResourceAmounts(cpu="1", memory="1Gi")),
        heap="512m",
    )
    # where the machine running `pulumi up` reaches the cluster's admin interface (the queue provider)
    admin: QueueAdminSettings = QueueAdminSettings()

    @field_validator("image")
    @classmethod
    def _pinned_rocketmq(cls, value: str) -> str:
        if not ROCKETMQ_IMAGE.match(value):
            raise ValueError(
                f"{value!r} must be the official apache/rocketmq:5.3.3 image (optionally @sha256:<digest>): the "
                "version the stack's admin path and tests are checked against"
            )
        return value

    @property
    def replicated(self) -> bool:
        return self.replicas_per_group >= 2

    def problems(self, profile: str) -> list[str]:
        """Whole-block rules, each naming its key (`messageQueue.<key>`)."""
        if not self.enabled:
            return []
        found = []
        if self.admin.cluster not in (None, self.cluster):
            found.append(f"messageQueue.admin.cluster: {self.admin.cluster!r} is not the queue's cluster {self.cluster!r}; leave it out")
        if self.replicated and self.name_servers < 3:
            found.append(
                "messageQueue.nameServers: replicated brokers (replicasPerGroup >= 2) need at least 3 name servers: "
                "they host the controllers that elect each group's master, and those need a Raft majority"
            )
        if profile == "prod":
            if not self.acl:
                found.append("messageQueue.acl: prod requires authentication and ACLs on the queue")
            if not self.replicated:
                found.append("messageQueue.replicasPerGroup: prod requires replicated brokers (at least 2 per group)")
            if self.proxies < 2:
                found.append("messageQueue.proxies: prod needs at least 2 proxies (the clients' only way in)")
        return found


class PlatformSecrets(BaseModel):
    """Secret settings, validated in plain text here and wrapped as Pulumi secrets right after."""

    model_config = ConfigDict(frozen=True)

    nacos_admin_password: Optional[str] = None
    nacos_auth_token: Optional[str] = None
    nacos_identity_value: Optional[str] = None
    nacos_mysql_password: Optional[str] = None
    registry_password: Optional[str] = None
    # the queue's initial (super) user and the seed each agent's queue password is derived from
    message_queue_admin_password: Optional[str] = None
    message_queue_credential_seed: Optional[str] = None
    gateway_redis_password: Optional[str] = None
    # JSON object: key-auth consumer name -> credential
    gateway_key_auth_credentials: Optional[str] = None
    # JSON object: tenant -> Secret name -> key -> value; the Secrets agents read, created by the stack
    agent_secrets: Optional[str] = None

    @field_validator("agent_secrets")
    @classmethod
    def _agent_secrets(cls, value: Optional[str]) -> Optional[str]:
        if value is None:
            return value
        shape = "must be tenant -> Secret name -> key -> value (`pulumi config set --secret --path agentSecrets.<tenant>.<secret>.<key> ...`)"
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            raise ValueError(shape) from None
        if not isinstance(parsed, dict):
            raise ValueError(shape)
        for tenant, secrets in parsed.items():
            if not isinstance(secrets, dict):
                raise ValueError(shape)
            try:
                _dns_label(tenant)
                for name, data in secrets.items():
                    _object_name(name)
                    if not isinstance(data, dict) or not data or not all(isinstance(v, str) for v in data.values()):
                        raise ValueError(shape)
                    for key in data:
                        _data_key(key)
            except ValueError as exc:
                # names only: the values are secret
                raise ValueError(str(exc) if "must be" in str(exc) else f"{exc}; {shape}") from None
        return value

    def agent_secret_data(self) -> dict[str, dict[str, dict[str, str]]]:
        return json.loads(self.agent_secrets) if self.agent_secrets else {}

    @field_validator("gateway_key_auth_credentials")
    @classmethod
    def _key_auth(cls, value: Optional[str]) -> Optional[str]:
        if value is None:
            return value
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            raise ValueError("must be a JSON object of consumer name -> credential") from None
        if not isinstance(parsed, dict) or not all(isinstance(v, str) and v for v in parsed.values()):
            raise ValueError("must be a JSON object of consumer name -> credential")
        return value

    @field_validator("nacos_auth_token")
    @classmethod
    def _token(cls, value: Optional[str]) -> Optional[str]:
        if value is None:
            return value
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("must be base64 (Nacos refuses to start with anything else)") from None
        if len(raw) < 32:
            raise ValueError(f"decodes to {len(raw)} bytes; Nacos needs at least 32 (HS256)")
        return value

    @field_validator("nacos_admin_password")
    @classmethod
    def _password(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and len(value) < 12:
            raise ValueError("must be at least 12 characters")
        return value

    @field_validator("message_queue_admin_password")
    @classmethod
    def _queue_password(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and (len(value) < 16 or not re.match(r"^[A-Za-z0-9_-]+$", value)):
            raise ValueError("must be at least 16 of A-Z a-z 0-9 _ - (it goes into the brokers' configuration files)")
        return value

    @field_validator("message_queue_credential_seed")
    @classmethod
    def _queue_seed(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and len(value) < 32:
            raise ValueError("must be at least 32 characters: every agent's queue password is derived from it")
        return value

    @field_validator("nacos_identity_value")
    @classmethod
    def _identity(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and len(value) < 16:
            raise ValueError("must be at least 16 characters: it bypasses auth inside the cluster")
        return value


class StackConfig(Settings):
    """Everything one environment's stack file configures."""

    # the environment's own name (dev, staging, eu-prod, ...): labels, exports and the policy report
    environment: DnsLabel
    # which hardening rules it follows; `dev` and `prod` environments imply their own profile
    profile: Optional[Profile] = None
    kubernetes: KubernetesSettings
    nacos: NacosSettings = NacosSettings()
    gateway: GatewaySettings = GatewaySettings()
    tenants: list[TenantSettings] = Field(min_length=1)
    labels: dict[str, str] = Field(default_factory=dict)
    agents: AgentsSettings = AgentsSettings()
    sandbox_profiles: list[SandboxProfileSettings] = Field(default_factory=list)
    security: GatewaySecuritySettings
    registry: RegistrySettings = RegistrySettings()
    message_queue: MessageQueueSettings = MessageQueueSettings()

    @property
    def live_config(self) -> bool:
        """Whether agents read their runtime configuration live from Nacos (agents.liveConfig, default registry.enabled)."""
        return self.registry.enabled if self.agents.live_config is None else self.agents.live_config

    @property
    def hardening(self) -> Profile:
        """The profile whose rules apply: the stack's `profile`, or its `environment` when that is dev or prod."""
        return self.profile or self.environment  # type: ignore[return-value]  (checked in _profile)

    @model_validator(mode="after")
    def _profile(self) -> "StackConfig":
        if self.profile is None and self.environment not in PROFILES:
            raise ValueError(
                f"profile: required for environment {self.environment!r}: say which rules it follows, "
                f"{' or '.join(PROFILES)} (e.g. staging follows prod)"
            )
        return self

    @model_validator(mode="after")
    def _environment_rules(self) -> "StackConfig":
        if self.profile is None and self.environment not in PROFILES:
            return self  # reported by _profile
        problems = [*self._profile_problems(), *self._tenant_problems(), *self._agent_problems()]
        if problems:
            # every whole-stack problem at once, one a line, each naming its own key
            raise ValueError("\n".join(problems))
        return self

    def _profile_problems(self) -> list[str]:
        problems = []
        if self.hardening == "prod":
            if self.nacos.replicas < 3:
                problems.append("nacos.replicas: prod needs at least 3 Nacos replicas (Raft quorum survives one loss)")
            if self.gateway.replicas < 3:
                problems.append("gateway.replicas: prod needs at least 3 gateway replicas")
            if self.kubernetes.render_yaml_to_directory:
                problems.append("kubernetes.renderYamlToDirectory: prod deploys to a cluster; rendering is for dev")
        problems.extend(environment_problems(self.security, self.hardening))
        problems.extend(self.message_queue.problems(self.hardening))
        if self.registry.enabled and not self.registry.server_addr:
            problems.append("registry.serverAddr: required when registry.enabled (the address this machine reaches Nacos at)")
        return problems

    def _tenant_problems(self) -> list[str]:
        problems = []
        names = [t.name for t in self.tenants]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            problems.append(f"tenants: duplicate tenant names {dupes}")
        clash = sorted({t.k8s_namespace for t in self.tenants} & self._reserved_namespaces())
        if clash:
            problems.append(f"tenants: namespace(s) {clash} are reserved for the platform")
        nacos_ids = [t.nacos_namespace for t in self.tenants]
        if len(set(nacos_ids)) != len(nacos_ids):
            problems.append("tenants: two tenants share a Nacos namespace id; each tenant needs its own")
        return problems

    def _agent_problems(self) -> list[str]:
        problems = []
        profiles = [p.name for p in self.sandbox_profiles]
        dupes = sorted({n for n in profiles if profiles.count(n) > 1})
        if dupes:
            problems.append(f"sandboxProfiles: duplicate profile names {dupes}")
        mentioned = {o.split("/")[0] for o in [*self.agents.external_secrets, *self.agents.external_config_maps]}
        unknown = sorted((mentioned | set(self.agents.config_maps)) - {t.name for t in self.tenants})
        if unknown:
            problems.append(f"agents: {unknown} are not tenants of this stack (externalSecrets, externalConfigMaps, configMaps)")
        taken = {t.k8s_namespace for t in self.tenants} | self._reserved_namespaces()
        if self.agents.live_config and not self.registry.enabled:
            problems.append("agents.liveConfig: needs registry.enabled (the registry provider publishes the configuration items to Nacos)")
        if self.agents.keda.enabled and self.agents.keda.namespace in taken:
            problems.append(f"agents.keda.namespace: {self.agents.keda.namespace!r} is used by a tenant or the platform")
        return problems

    def _reserved_namespaces(self) -> set[str]:
        return {self.nacos.namespace, self.gateway.namespace, "kube-system", "default", "kube-public"}

    def tenant(self, name: str) -> Optional[TenantSettings]:
        return next((t for t in self.tenants if t.name == name), None)

    def sandbox_profile(self, name: str) -> Optional[SandboxProfileSettings]:
        return next((p for p in self.sandbox_profiles if p.name == name), None)


SECRET_KEYS = {
    "registryPassword": "registry_password",
    "messageQueueAdminPassword": "message_queue_admin_password",
    "messageQueueCredentialSeed": "message_queue_credential_seed",
    "gatewayRedisPassword": "gateway_redis_password",
    "gatewayKeyAuthCredentials": "gateway_key_auth_credentials",
    "agentSecrets": "agent_secrets",
    "nacosAdminPassword": "nacos_admin_password",
    "nacosAuthToken": "nacos_auth_token",
    "nacosIdentityValue": "nacos_identity_value",
    "nacosMysqlPassword": "nacos_mysql_password",
}


class ConfigError(pulumi.RunError):
    """Stack settings are wrong. Raised as RunError so Pulumi prints only the message: every problem, one a line."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("invalid stack configuration:\n  " + "\n  ".join(self.problems))


def _format_errors(error: ValidationError) -> list[str]:
    lines = []
    for item in error.errors(include_url=False):
        loc = [str(p) for p in item["loc"]]
        path = ".".join(loc)
        key = f"{PROJECT}:{path}" if path else f"{PROJECT}"
        if item["type"] == "extra_forbidden":
            lines.append(f"{key}: unknown setting{unknown_key_hint(StackConfig, tuple(item['loc'])) or ' (see README: Stack settings)'}")
        elif item["type"] == "missing":
            lines.append(f"{key}: required setting is missing")
        else:
            msg = item["msg"].removeprefix("Value error, ")
            if not path and all(re.match(r"^[\w.]+: ", line) for line in msg.splitlines()):
                # whole-stack rules name their own key, one problem a line
                lines.extend(f"{PROJECT}:{line}" for line in msg.splitlines())
                continue
            got = item.get("input")
            suffix = "" if isinstance(got, (dict, list)) or got is None else f" (got {got!r})"
            lines.append(f"{key}: {msg}{suffix}")
    return lines


def _raw_project_config() -> tuple[dict[str, Any], set[str]]:
    """All `agent-runtime:*` values the engine (or a test) provided, JSON-decoded, and the secret ones."""

    merged: dict[str, Any] = {}
    merged.update(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    values: dict[str, Any] = {}
    for full_key, raw in merged.items():
        if not full_key.startswith(f"{PROJECT}:"):
            continue
        key = full_key.split(":", 1)[1]
        if isinstance(raw, str):
            try:
                values[key] = json.loads(raw)
            except json.JSONDecodeError:
                values[key] = raw
        else:
            values[key] = raw
    secret = {
        key
        for key in values
        if runtime_config.is_config_secret(f"{PROJECT}:{key}")
        or f"{PROJECT}:{key}" in runtime_config.get_config_secret_keys_env()
    }
    return values, secret


def parse_stack_config(
    raw: dict[str, Any], secret_keys: set[str] | None = None
) -> tuple[StackConfig, PlatformSecrets]:
    """Validate raw config values (keys without the project prefix). Raises ConfigError.

    `secret_keys` are the keys the engine marks secret; a secret setting stored in
    plain text in a stack file is refused.
    """
    plain = {k: v for k, v in raw.items() if k not in SECRET_KEYS}
    secrets_raw = {SECRET_KEYS[k]: (v if isinstance(v, str) else json.dumps(v)) for k, v in raw.items() if k in SECRET_KEYS}
    problems: list[str] = []
    if secret_keys is not None:
        for key in sorted(k for k in raw if k in SECRET_KEYS and k not in secret_keys):
            problems.append(
                f"{PROJECT}:{key}: is stored in plain text; set it with `pulumi config set --secret {key} ...`"
            )
    stack: StackConfig | None = None
    try:
        stack = StackConfig.model_validate(plain)
    except ValidationError as exc:
        problems.extend(_format_errors(exc))
    secrets = PlatformSecrets()
    try:
        secrets = PlatformSecrets.model_validate(secrets_raw)
    except ValidationError as exc:
        inverse = {v: k for k, v in SECRET_KEYS.items()}
        for item in exc.errors(include_url=False):
            # never echo a secret's value back
            problems.append(f"{PROJECT}:{inverse[str(item['loc'][0])]}: {item['msg']}")
    if stack is not None and stack.nacos.storage.type == "mysql" and not secrets.nacos_mysql_password:
        problems.append(
            f"{PROJECT}:nacosMysqlPassword: required when nacos.storage.type is 'mysql' "
            f"(set it with `pulumi config set --secret nacosMysqlPassword ...`)"
        )
    if stack is not None and secrets.agent_secrets:
        unknown = sorted(set(secrets.agent_secret_data()) - {t.name for t in stack.tenants})
        if unknown:
            problems.append(f"{PROJECT}:agentSecrets: {unknown} are not tenants of this stack")
    if (
        stack is not None
        and stack.registry.enabled
        and not (secrets.registry_password or secrets.nacos_admin_password)
    ):
        problems.append(
            f"{PROJECT}:registryPassword: required when registry.enabled (or set nacosAdminPassword) - "
            "`pulumi config set --secret registryPassword ...`"
        )
    if stack is not None and stack.message_queue.enabled:
        for key, value in (
            ("messageQueueAdminPassword", secrets.message_queue_admin_password),
            ("messageQueueCredentialSeed", secrets.message_queue_credential_seed),
        ):
            if not value:
                problems.append(
                    f"{PROJECT}:{key}: required when messageQueue.enabled - `venv/bin/python scripts/stack.py "
                    f"init-secrets --stack <stack>` generates it (or `pulumi config set --secret {key} ...`)"
                )
    if problems:
        raise ConfigError(problems)
    assert stack is not None
    return stack, secrets


def _expand(path: str, project_dir: Path) -> Path:
    """A stack-file path as the program and the Kubernetes provider read it: `~/` is home, relative is the project dir."""
    expanded = Path(path).expanduser()
    return expanded if expanded.is_absolute() else project_dir / expanded


def _is_path(kubeconfig: str) -> bool:
    """The provider takes a kubeconfig path or its contents; contents span lines or start as YAML/JSON."""
    return "\n" not in kubeconfig and not kubeconfig.lstrip().startswith(("apiVersion", "{"))


def _is_chart(path: Path) -> bool:
    return (path / "Chart.yaml").is_file()


def local_path_problems(stack: StackConfig, project_dir: Path) -> list[str]:
    """Files and directories the stack names that are not there (found before anything is deployed)."""
    chart = "no Helm chart there (a directory with Chart.yaml)"
    checks = [("gateway.chart.localPath", stack.gateway.chart.local_path, _is_chart, chart)]
    if stack.agents.keda.enabled:
        checks.append(("agents.keda.localPath", stack.agents.keda.local_path, _is_chart, chart))
    if stack.kubernetes.kubeconfig and _is_path(stack.kubernetes.kubeconfig):
        checks.append((
            "kubernetes.kubeconfig", stack.kubernetes.kubeconfig, Path.is_file,
            "no such kubeconfig file (the local plane writes it: `venv/bin/python scripts/local_plane.py start`)",
        ))
    return [
        f"{PROJECT}:{key}: {value!r} - {why}"
        for key, value, exists, why in checks
        if value and not exists(_expand(value, project_dir))
    ]


DISABLE_DEFAULT_PROVIDERS = "pulumi:disable-default-providers"


def _disabled_default_providers() -> list[str]:
    merged: dict[str, Any] = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    raw = merged.get(DISABLE_DEFAULT_PROVIDERS)
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        value = [raw]
    return [str(v) for v in value] if isinstance(value, list) else []


def default_provider_problems(stack: StackConfig, disabled: list[str]) -> list[str]:
    """The registry's dynamic providers run as Pulumi's default `pulumi-python` provider: it must stay enabled."""
    if stack.registry.enabled and ({"*", "pulumi-python"} & set(disabled)):
        return [
            f"{DISABLE_DEFAULT_PROVIDERS}: {disabled} also disables the registry's dynamic provider (pulumi-python), "
            "which has no explicit form; list the packages instead, e.g. [kubernetes, random]"
        ]
    return []


PROBLEM_KEY = re.compile(r"^((?:agent-runtime|pulumi):[\w-]+)((?:\.[\w-]+)*):")


def stack_file_path(project_dir: Path) -> Path:
    """The stack file the engine read this run's settings from (Pulumi.<stack>.yaml in the project)."""
    return project_dir / f"Pulumi.{pulumi.get_stack()}.yaml"


def _line_of(node: Optional[yaml.Node], parts: list[str]) -> Optional[int]:
    """The 1-based line of the key at `parts` under a composed YAML mapping, or of its deepest known parent."""
    line = None
    for part in parts:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == part), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
            line = node.start_mark.line + 1
        else:
            break
    return line


def located(problems: list[str], stack_file: Path) -> list[str]:
    """Each problem prefixed with `<stack file>:<line>` where the stack file holds its key (as agent errors are)."""
    try:
        root = yaml.compose(stack_file.read_text())
    except (OSError, yaml.YAMLError):
        return problems
    config = next((v for k, v in root.value if k.value == "config"), None) if isinstance(root, yaml.MappingNode) else None
    out = []
    for problem in problems:
        match = PROBLEM_KEY.match(problem)
        line = _line_of(config, [match.group(1), *match.group(2).split(".")[1:]]) if match and config is not None else None
        out.append(f"{stack_file.name}:{line} {problem}" if line else problem)
    return out


def load_stack_config(project_dir: Optional[Path] = None) -> tuple[StackConfig, PlatformSecrets]:
    """Read and validate this stack's configuration (and, given the project dir, the paths it names).

    Given the project dir, every problem names the line of the stack file that holds its key.
    """
    values, secret = _raw_project_config()
    try:
        stack, secrets = parse_stack_config(values, secret)
        problems = default_provider_problems(stack, _disabled_default_providers())
        problems += local_path_problems(stack, project_dir) if project_dir is not None else []
    except ConfigError as exc:
        problems = exc.problems
    if problems:
        if project_dir is not None:
            problems = located(problems, stack_file_path(project_dir))
        raise ConfigError(problems)
    return stack, secrets
