"""Platform components: Nacos registry, Higress gateway and its plugins, Services, standard labels."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Iterator, Optional

from pulumi_policy import EnforcementLevel

from .framework import ENVIRONMENT_PROPS, require_environment, resource_policy, schema, stack_policy, string_list
from .model import (
    GATEWAY_NAMESPACE,
    L_AUTH,
    L_COMPONENT,
    L_NAME,
    L_MANAGED_BY,
    L_PART_OF,
    MANAGED_BY,
    PART_OF,
    T_STATEFULSET,
    Res,
    as_dict,
    as_int,
    as_list,
    containers,
    from_args,
    in_range,
    is_nacos_workload,
    is_unknown,
    nacos_image,
    parse_version,
    pod_template,
    split_image,
    truthy,
)

GATEWAY_NS_PROP = {"type": "string", "default": GATEWAY_NAMESPACE, "description": "Namespace of the Higress gateway."}


# ---------------------------------------------------------------- Services
def check_load_balancers(res: Res, cfg: dict) -> Iterator[str]:
    if res.kind != "Service" or res.group != "core":
        return
    if res.spec.get("type") != "LoadBalancer":
        return
    ident = f"{res.namespace}/{res.k8s_name}"
    allowed = list(cfg.get("allowedLoadBalancerServices") or [])
    if ident not in allowed:
        yield (
            f"{res.where()}: Service type LoadBalancer opens a public entry point that bypasses the gateway. "
            f"Fix: use type ClusterIP and publish through a Higress Ingress (only {allowed} may be LoadBalancers)."
        )


# ---------------------------------------------------------------- Nacos
def _nacos_container(res: Res) -> Optional[Any]:
    tpl = pod_template(res)
    if tpl is None:
        return None
    regular = list(containers(tpl.spec, ("containers",)))
    for c in regular:
        if nacos_image(c.body.get("image")) or c.name == "nacos":
            return c
    return regular[0] if regular else None


def check_nacos_replicas(res: Res, cfg: dict) -> Iterator[str]:
    if not is_nacos_workload(res):
        return
    require_environment(cfg)
    minimum = int(cfg.get("minReplicas", 3))
    replicas = res.spec.get("replicas", 1)
    if is_unknown(replicas):
        return
    count = as_int(replicas)
    if count is None or count < minimum:
        yield (
            f"{res.where()}: Nacos runs {replicas!r} replica(s) in {cfg.get('environment')}; at least {minimum} are "
            "required so the Raft group keeps a quorum through one failure. "
            f"Fix: set agent-runtime:nacos.replicas to {minimum} (or another odd number >= {minimum})."
        )


def check_nacos_auth(res: Res, cfg: dict) -> Iterator[str]:
    if not is_nacos_workload(res):
        return
    c = _nacos_container(res)
    if c is None:
        return
    env = {as_dict(v).get("name"): as_dict(v) for v in as_list(c.body.get("env"))}
    enable = env.get("NACOS_AUTH_ENABLE", {})
    if not truthy(enable.get("value")):
        yield (
            f"{res.where()}: {c.label} does not set NACOS_AUTH_ENABLE=true, so the registry accepts anonymous "
            "writes (any pod could register or overwrite agents). Fix: set env NACOS_AUTH_ENABLE: \"true\"."
        )
    token = env.get("NACOS_AUTH_TOKEN")
    if not token or not as_dict(as_dict(token.get("valueFrom")).get("secretKeyRef")).get("name"):
        yield (
            f"{res.where()}: {c.label} does not take NACOS_AUTH_TOKEN from a Secret. "
            "Fix: set env NACOS_AUTH_TOKEN with valueFrom.secretKeyRef (the nacos-auth Secret, key 'token')."
        )


def check_nacos_image(res: Res, cfg: dict) -> Iterator[str]:
    tpl = pod_template(res)
    if tpl is None:
        return
    repository = cfg.get("imageRepository", "nacos/nacos-server")
    version_range = cfg.get("versionRange", ">=3.1.0 <3.2.0")
    main = is_nacos_workload(res)
    for c in containers(tpl.spec):
        image = c.body.get("image")
        if is_unknown(image) or not isinstance(image, str):
            continue
        if not nacos_image(image) and not (main and c.section == "containers" and c.name == "nacos"):
            continue
        repo, tag, _ = split_image(image)
        if not (repo == repository or repo.endswith("/" + repository)):
            yield (
                f"{res.where()}: {c.label} runs {image!r}, not the supported Nacos image {repository}. "
                f"Fix: use {repository}:<tag in {version_range}>."
            )
            continue
        version = parse_version(tag) if tag else None
        if version is None or not in_range(version, version_range):
            yield (
                f"{res.where()}: {c.label} runs Nacos {image!r}, outside the supported range {version_range!r} "
                "(or without a version tag to check). "
                f"Fix: pin a supported tag, e.g. {repository}:v3.1.1 (a digest may follow the tag)."
            )


# ---------------------------------------------------------------- Higress chart
HELM_TYPES = ("kubernetes:helm.sh/v4:Chart", "kubernetes:helm.sh/v3:Chart", "kubernetes:helm.sh/v3:Release")


def chart_name(res: Res) -> Optional[str]:
    if res.type not in HELM_TYPES:
        return None
    chart = res.props.get("chart")
    if not isinstance(chart, str):
        return None
    base = chart.rstrip("/").rsplit("/", 1)[-1]
    if base.endswith(".tgz"):
        base = base[:-4].rsplit("-", 1)[0] if "-" in base else base[:-4]
    return base


def is_higress_chart(res: Res) -> bool:
    return chart_name(res) in ("higress", "higress-core")


def gateway_values(res: Res) -> dict:
    values = as_dict(res.props.get("values"))
    if "higress-core" in values or chart_name(res) == "higress":
        values = as_dict(values.get("higress-core"))
    return values


def check_gateway_replicas(res: Res, cfg: dict) -> Iterator[str]:
    if not is_higress_chart(res):
        return
    require_environment(cfg)
    minimum = int(cfg.get("minReplicas", 3))
    values = gateway_values(res)
    gateway = as_dict(values.get("gateway"))
    if truthy(as_dict(values.get("global")).get("local")):
        yield (
            f"{res.where()}: chart value global.local: true forces a single gateway replica. "
            f"Fix: set global.local: false and gateway.replicas >= {minimum}."
        )
        return
    autoscaling = as_dict(gateway.get("autoscaling"))
    if truthy(autoscaling.get("enabled")):
        floor, what = as_int(autoscaling.get("minReplicas", 1)), "gateway.autoscaling.minReplicas"
    else:
        # the chart's default is 2 replicas
        raw = gateway.get("replicas", 2)
        if is_unknown(raw):
            return
        floor, what = as_int(raw), "gateway.replicas"
    if floor is None or floor < minimum:
        yield (
            f"{res.where()}: Higress runs {floor} gateway replica(s) ({what}) in {cfg.get('environment')}; "
            f"at least {minimum} are required. Fix: set agent-runtime:gateway.replicas to {minimum} or more."
        )


def check_higress_chart(res: Res, cfg: dict) -> Iterator[str]:
    if not is_higress_chart(res):
        return
    version_range = cfg.get("versionRange", ">=2.1.0 <3.0.0")
    version = res.props.get("version")
    if is_unknown(version):
        return
    if not isinstance(version, str) or not version:
        chart = res.props.get("chart")
        local = isinstance(chart, str) and (chart.startswith((".", "/")) or chart.endswith(".tgz"))
        if local:
            return  # a local chart directory/archive carries its version in its own Chart.yaml
        yield (
            f"{res.where()}: Higress chart {chart!r} has no pinned version, so Helm takes whatever is newest. "
            f"Fix: pin agent-runtime:gateway.chart.version to a release in {version_range!r}, e.g. 2.2.1."
        )
        return
    parsed = parse_version(version)
    if parsed is None or not in_range(parsed, version_range):
        yield (
            f"{res.where()}: Higress chart version {version!r} is outside the supported range {version_range!r}. "
            "Fix: set agent-runtime:gateway.chart.version to a supported release (e.g. 2.2.1)."
        )


# ---------------------------------------------------------------- gateway plugins and discovery
def is_wasm_plugin(res: Res) -> bool:
    return res.kind == "WasmPlugin" and res.group == "extensions.higress.io"


def plugin_name(res: Res) -> Optional[str]:
    url = res.spec.get("url")
    if not isinstance(url, str):
        return None
    last = url.rstrip("/").rsplit("/", 1)[-1]
    return last.split("@")[0].split(":")[0]


AUTH_PLUGINS = {"jwt-auth", "key-auth", "basic-auth", "hmac-auth-plugin", "oauth"}


def check_auth_plugin(res: Res, cfg: dict) -> Iterator[str]:
    if not is_wasm_plugin(res):
        return
    name = plugin_name(res)
    auth = res.labels.get(L_AUTH)
    if name not in AUTH_PLUGINS and auth is None:
        return
    gateway_ns = cfg.get("gatewayNamespace", GATEWAY_NAMESPACE)
    if res.namespace != gateway_ns:
        yield (
            f"{res.where()}: Higress only reads WasmPlugins in '{gateway_ns}'; this auth plugin is ignored. "
            f"Fix: create it in namespace {gateway_ns}."
        )
    if name == "jwt-auth" and auth not in ("public", "internal"):
        yield (
            f"{res.where()}: jwt-auth plugin lacks label {L_AUTH}: public|internal (got {auth!r}), so no route can "
            f"count as covered by it. Fix: label it {L_AUTH}: public (end-user JWTs) or internal (A2A issuer)."
        )
    elif auth is not None and auth not in cfg.get("authLabels", ["public", "internal", "service"]):
        yield (
            f"{res.where()}: unknown {L_AUTH} label {auth!r}. "
            f"Fix: use one of {cfg.get('authLabels', ['public', 'internal', 'service'])}."
        )
    url = res.spec.get("url")
    if isinstance(url, str):
        _, tag, digest = split_image(url.replace("oci://", ""))
        if not digest and (tag is None or tag == "latest"):
            yield f"{res.where()}: plugin url {url!r} is not pinned. Fix: pin a version, e.g. {name}:2.0.0."
    if res.spec.get("failStrategy") == "FAIL_OPEN":
        yield (
            f"{res.where()}: auth plugin uses failStrategy FAIL_OPEN: a plugin failure lets unauthenticated "
            "requests through. Fix: use FAIL_CLOSE (or leave it unset)."
        )
    for i, rule in enumerate(as_list(res.spec.get("matchRules"))):
        rule = as_dict(rule)
        if not any(rule.get(k) for k in ("ingress", "domain", "service")):
            yield (
                f"{res.where()}: matchRules[{i}] has no ingress/domain/service condition and is rejected by Higress. "
                "Fix: list the routes it protects in ingress: ['<namespace>/<ingress>']."
            )


def check_mcp_bridge(res: Res, cfg: dict) -> Iterator[str]:
    if res.kind != "McpBridge" or res.group != "networking.higress.io":
        return
    gateway_ns = cfg.get("gatewayNamespace", GATEWAY_NAMESPACE)
    if res.k8s_name != "default" or res.namespace != gateway_ns:
        yield (
            f"{res.where()}: Higress reads only the McpBridge named 'default' in '{gateway_ns}'; this one is ignored. "
            f"Fix: name it default in namespace {gateway_ns}."
        )
    registries = res.spec.get("registries")
    if is_unknown(registries):
        return
    for i, reg in enumerate(as_list(registries)):
        reg = as_dict(reg)
        rtype = str(reg.get("type", ""))
        if not rtype.startswith("nacos"):
            continue
        label = f"registries[{i}] ({reg.get('name')!r})"
        groups = reg.get("nacosGroups")
        if not is_unknown(groups) and not [g for g in as_list(groups) if isinstance(g, str) and g.strip()]:
            yield (
                f"{res.where()}: {label} has no nacosGroups; an empty list makes Higress discover nothing. "
                "Fix: list the Nacos groups agents register in (agent-runtime:gateway.discovery.groups)."
            )
        if rtype == "nacos3" and not reg.get("authSecretName"):
            yield (
                f"{res.where()}: {label} has no authSecretName; Nacos auth is on, so discovery would fail. "
                "Fix: point authSecretName at the Secret with nacosUsername/nacosPassword."
            )
        interval = reg.get("nacosRefreshInterval")
        if interval is not None and not is_unknown(interval) and float(interval) < 10e9:
            yield (
                f"{res.where()}: {label} nacosRefreshInterval {interval} ns is below Higress's 10 s minimum. "
                "Fix: use at least 10000000000 (10 s)."
            )


# ---------------------------------------------------------------- message queue (RocketMQ)
QUEUE_APP = "rocketmq"
QUEUE_AUTH_KEYS = ("authenticationEnabled", "authorizationEnabled")


def _is_queue(res: Res) -> bool:
    return res.labels.get(L_NAME) == QUEUE_APP


def properties(text: str) -> dict[str, str]:
    """A Java properties file's key=value lines (what RocketMQ's broker and name server read)."""
    found = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "!")) and "=" in line:
            key, value = line.split("=", 1)
            found[key.strip()] = value.strip()
    return found


def queue_config_files(res: Res) -> tuple[dict[str, dict], Optional[dict]]:
    """The queue ConfigMap's broker files (key -> properties) and its proxy config (None when absent or unreadable)."""
    import json

    brokers, proxy = {}, None
    for key, value in as_dict(res.props.get("data")).items():
        if not isinstance(value, str):
            continue
        if key.endswith(".conf"):
            props = properties(value)
            if "brokerClusterName" in props:
                brokers[key] = props
        elif key == "rmq-proxy.json":
            try:
                proxy = json.loads(value)
            except ValueError:
                proxy = {}
    return brokers, proxy


def check_queue_acl(res: Res, cfg: dict) -> Iterator[str]:
    if res.kind != "ConfigMap" or res.group != "core" or not _is_queue(res):
        return
    require_environment(cfg)
    brokers, proxy = queue_config_files(res)
    for key, props in sorted(brokers.items()):
        off = [k for k in QUEUE_AUTH_KEYS if props.get(k, "false").lower() != "true"]
        if off:
            yield (
                f"{res.where()}: broker file '{key}' does not set {' and '.join(f'{k}=true' for k in off)}: any pod that "
                "reaches the broker could read and write every topic. Fix: set agent-runtime:messageQueue.acl: true."
            )
    if proxy is not None:
        off = [k for k in QUEUE_AUTH_KEYS if proxy.get(k) is not True]
        if off:
            yield (
                f"{res.where()}: rmq-proxy.json does not set {' and '.join(f'{k}: true' for k in off)}: the proxy "
                "would serve gRPC clients without credentials. Fix: set agent-runtime:messageQueue.acl: true."
            )


def _config_key(sts: Res) -> tuple[Optional[str], list[str]]:
    tpl = pod_template(sts)
    for volume in as_list((tpl.spec if tpl else {}).get("volumes")):
        cm = as_dict(as_dict(volume).get("configMap"))
        if cm.get("name"):
            return cm["name"], [as_dict(i).get("key") for i in as_list(cm.get("items"))]
    return None, []


def check_queue_replicated(resources: list[Res], cfg: dict):
    require_environment(cfg)
    min_brokers = int(cfg.get("minBrokersPerGroup", 2))
    min_namesrv = int(cfg.get("minNameServers", 3))
    maps = {(r.namespace, r.k8s_name): r for r in resources if r.kind == "ConfigMap" and _is_queue(r)}
    for sts in resources:
        if sts.type != T_STATEFULSET or not _is_queue(sts):
            continue
        replicas = sts.spec.get("replicas", 1)
        if is_unknown(replicas):
            continue
        count = as_int(replicas) or 1
        component = as_dict(as_dict(as_dict(sts.spec.get("template")).get("metadata")).get("labels")).get(L_COMPONENT)
        if component == "name-server" and count < min_namesrv:
            yield (
                f"{sts.where()}: {count} name server(s) in {cfg.get('environment')}; the controllers they host need "
                f"a Raft majority. Fix: set agent-runtime:messageQueue.nameServers to {min_namesrv} or more.",
                sts.urn,
            )
        if component != "broker":
            continue
        if count < min_brokers:
            yield (
                f"{sts.where()}: broker group of {count} broker(s) in {cfg.get('environment')}: losing its node loses "
                f"the group's messages and checkpoints. Fix: set agent-runtime:messageQueue.replicasPerGroup to {min_brokers} or more.",
                sts.urn,
            )
            continue
        name, keys = _config_key(sts)
        cm = maps.get((sts.namespace, name))
        props = properties(as_dict(cm.props.get("data")).get(keys[0], "")) if cm and keys and isinstance(
            as_dict(cm.props.get("data")).get(keys[0]), str) else {}
        if props.get("enableControllerMode", "false").lower() != "true":
            yield (
                f"{sts.where()}: replicated brokers without enableControllerMode=true (in ConfigMap {name!r}) get no "
                "automatic failover. Fix: render the group in controller mode (render/message_queue.py does with "
                "replicasPerGroup >= 2).",
                sts.urn,
            )


# ---------------------------------------------------------------- standard labels (remediated)
LABEL_SCHEMA = schema(
    partOf={"type": "string", "default": PART_OF, "description": "Value of app.kubernetes.io/part-of."},
    managedBy={"type": "string", "default": MANAGED_BY, "description": "Value of app.kubernetes.io/managed-by."},
)


def _label_targets(res: Res) -> bool:
    return res.is_kubernetes_object


def check_standard_labels(res: Res, cfg: dict) -> Iterator[str]:
    if not _label_targets(res):
        return
    labels = res.labels
    missing = [k for k in (L_PART_OF, L_MANAGED_BY) if k not in labels]
    if missing:
        want = {L_PART_OF: cfg.get("partOf", PART_OF), L_MANAGED_BY: cfg.get("managedBy", MANAGED_BY)}
        yield (
            f"{res.where()}: missing standard label(s) {', '.join(f'{k}: {want[k]}' for k in missing)}. "
            "Fix: add them to metadata.labels (render.k8s_common.standard_labels); with enforcement level "
            "'remediate' the pack adds them itself."
        )


def remediate_standard_labels(args: Any, cfg: dict) -> Optional[Any]:
    """Add the missing part-of/managed-by labels in place; never touch a label that is set."""
    res = from_args(args)
    if not _label_targets(res):
        return None
    want = {L_PART_OF: cfg.get("partOf", PART_OF), L_MANAGED_BY: cfg.get("managedBy", MANAGED_BY)}
    missing = {k: v for k, v in want.items() if k not in res.labels}
    if not missing:
        return None
    props = args.props
    if "metadata" not in props or not isinstance(props["metadata"], Mapping):
        props["metadata"] = {"labels": dict(missing)}
        return props
    metadata = props["metadata"]
    if "labels" not in metadata or not isinstance(metadata["labels"], Mapping):
        metadata["labels"] = dict(missing)
        return props
    labels = metadata["labels"]
    for key, value in missing.items():
        labels[key] = value
    return props


POLICIES = [
    resource_policy(
        "message-queue-acl",
        "In prod, the message queue's brokers and proxies run with authentication and authorization on (ACL 2.0).",
        check_queue_acl,
        config_schema=schema(**ENVIRONMENT_PROPS),
    ),
    stack_policy(
        "message-queue-replicated",
        "In prod, every broker group is replicated in controller mode and the name servers (controllers) keep a majority.",
        check_queue_replicated,
        config_schema=schema(
            **ENVIRONMENT_PROPS,
            minBrokersPerGroup={"type": "integer", "minimum": 1, "default": 2, "description": "Minimum brokers per group."},
            minNameServers={"type": "integer", "minimum": 1, "default": 3, "description": "Minimum name servers."},
        ),
    ),
    resource_policy(
        "no-loadbalancer-services",
        "No Service of type LoadBalancer except the Higress gateway's.",
        check_load_balancers,
        config_schema=schema(
            allowedLoadBalancerServices=string_list(
                [f"{GATEWAY_NAMESPACE}/higress-gateway"], "namespace/name of Services allowed to be LoadBalancers."
            )
        ),
    ),
    resource_policy(
        "nacos-replicas",
        "In prod, the Nacos registry runs at least 3 replicas (Raft quorum survives one loss).",
        check_nacos_replicas,
        config_schema=schema(
            **ENVIRONMENT_PROPS,
            minReplicas={"type": "integer", "minimum": 1, "default": 3, "description": "Minimum Nacos replicas."},
        ),
    ),
    resource_policy(
        "nacos-auth-enabled",
        "Nacos runs with auth on: NACOS_AUTH_ENABLE=true and NACOS_AUTH_TOKEN from a Secret.",
        check_nacos_auth,
    ),
    resource_policy(
        "nacos-image-supported",
        "Nacos runs the official image at a supported version (default v3.1.x).",
        check_nacos_image,
        config_schema=schema(
            imageRepository={"type": "string", "default": "nacos/nacos-server", "description": "Nacos image repository."},
            versionRange={"type": "string", "default": ">=3.1.0 <3.2.0", "description": "Supported Nacos versions."},
        ),
    ),
    resource_policy(
        "gateway-replicas",
        "In prod, the Higress gateway runs at least 3 replicas.",
        check_gateway_replicas,
        config_schema=schema(
            **ENVIRONMENT_PROPS,
            minReplicas={"type": "integer", "minimum": 1, "default": 3, "description": "Minimum gateway replicas."},
        ),
    ),
    resource_policy(
        "higress-chart-supported",
        "The Higress Helm chart is pinned to a supported version (default >=2.1.0 <3.0.0).",
        check_higress_chart,
        config_schema=schema(
            versionRange={"type": "string", "default": ">=2.1.0 <3.0.0", "description": "Supported chart versions."}
        ),
    ),
    resource_policy(
        "gateway-auth-plugins-well-formed",
        "Auth WasmPlugins live in the gateway namespace, carry a known auth label, are pinned and fail closed.",
        check_auth_plugin,
        config_schema=schema(
            gatewayNamespace=GATEWAY_NS_PROP,
            authLabels=string_list(["public", "internal", "service"], "Allowed values of the agent-runtime.io/auth label."),
        ),
    ),
    resource_policy(
        "mcp-bridge-discovery",
        "The McpBridge is the one Higress reads and every Nacos registry entry can actually discover agents.",
        check_mcp_bridge,
        config_schema=schema(gatewayNamespace=GATEWAY_NS_PROP),
    ),
    resource_policy(
        "standard-labels",
        "Kubernetes objects carry app.kubernetes.io/part-of and managed-by (the program and its chart "
        "transforms set them; set this policy to 'remediate' to have the pack add missing ones).",
        check_standard_labels,
        # Not 'remediate' by default: a remediation rewrites the inputs in every preview and prints
        # them as a change block each time (seen on the real engine), which hides real diffs in PRs.
        level=EnforcementLevel.MANDATORY,
        config_schema=LABEL_SCHEMA,
        remediate=remediate_standard_labels,
        remediation_steps="Adds app.kubernetes.io/part-of: agent-runtime and app.kubernetes.io/managed-by: pulumi.",
    ),
]
