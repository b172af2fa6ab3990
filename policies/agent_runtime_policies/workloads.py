"""Pod-level security and hygiene: every workload, agent or platform, sandbox or not."""

from __future__ import annotations

from typing import Iterator

from pulumi_policy import EnforcementLevel

from .framework import resource_policy, schema, string_list
from .model import (
    UNKNOWN,
    Res,
    as_dict,
    as_int,
    as_list,
    containers,
    embedded_secret_assignment,
    glob_any,
    harmless_literal,
    is_agent_deployment,
    is_sandbox_workload,
    is_unknown,
    pod_template,
    secret_like_name,
    secret_value_kind,
    split_image,
    truthy,
)


def _pods(res: Res):
    tpl = pod_template(res)
    return tpl.spec if tpl is not None else None


# ---------------------------------------------------------------- privilege
def check_privileged(res: Res, cfg: dict) -> Iterator[str]:
    spec = _pods(res)
    if spec is None:
        return
    for c in containers(spec):
        ctx = as_dict(c.body.get("securityContext"))
        if truthy(ctx.get("privileged")):
            yield (
                f"{res.where()}: {c.label} runs privileged (securityContext.privileged: true). "
                "Fix: remove privileged and grant nothing beyond the restricted baseline "
                "(render.k8s_common.restricted_container_security())."
            )
        ape = ctx.get("allowPrivilegeEscalation")
        if ape is not UNKNOWN and ape is not False and str(ape).lower() != "false":
            yield (
                f"{res.where()}: {c.label} does not set securityContext.allowPrivilegeEscalation: false "
                f"(got {ape!r}). Fix: set allowPrivilegeEscalation: false (restricted Pod Security Standard)."
            )


def check_host_namespaces(res: Res, cfg: dict) -> Iterator[str]:
    spec = _pods(res)
    if spec is None:
        return
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if truthy(spec.get(field)):
            yield (
                f"{res.where()}: pod spec sets {field}: true, sharing the node's namespace. "
                f"Fix: remove {field}; expose traffic through a Service and the Higress gateway instead."
            )
    for c in containers(spec, ("initContainers", "containers")):
        for port in as_list(c.body.get("ports")):
            if as_dict(port).get("hostPort"):
                yield (
                    f"{res.where()}: {c.label} binds hostPort {as_dict(port).get('hostPort')}. "
                    "Fix: drop hostPort and use a ClusterIP Service."
                )


def check_host_path(res: Res, cfg: dict) -> Iterator[str]:
    spec = _pods(res)
    if spec is None:
        return
    for vol in as_list(spec.get("volumes")):
        vol = as_dict(vol)
        if "hostPath" in vol:
            path = as_dict(vol.get("hostPath")).get("path")
            yield (
                f"{res.where()}: volume '{vol.get('name')}' mounts hostPath {path!r} from the node. "
                "Fix: use an emptyDir (with sizeLimit), a PersistentVolumeClaim, a ConfigMap or a Secret."
            )


def _effective(ctx: dict, pod_ctx: dict, key: str):
    if key in ctx:
        return ctx.get(key)
    return pod_ctx.get(key)


def check_non_root(res: Res, cfg: dict) -> Iterator[str]:
    spec = _pods(res)
    if spec is None:
        return
    pod_ctx = as_dict(spec.get("securityContext"))
    for c in containers(spec):
        ctx = as_dict(c.body.get("securityContext"))
        non_root = _effective(ctx, pod_ctx, "runAsNonRoot")
        uid = _effective(ctx, pod_ctx, "runAsUser")
        if non_root is not UNKNOWN and not truthy(non_root):
            yield (
                f"{res.where()}: {c.label} may run as root (runAsNonRoot is not true at container or pod level). "
                "Fix: set securityContext.runAsNonRoot: true and a non-zero runAsUser (the platform uses 10001)."
            )
        if as_int(uid) == 0:
            yield (
                f"{res.where()}: {c.label} sets runAsUser: 0 (root). "
                "Fix: run as a non-root UID, e.g. runAsUser: 10001."
            )


def check_read_only_root(res: Res, cfg: dict) -> Iterator[str]:
    spec = _pods(res)
    if spec is None:
        return
    for c in containers(spec):
        value = as_dict(c.body.get("securityContext")).get("readOnlyRootFilesystem")
        if value is not UNKNOWN and not truthy(value):
            yield (
                f"{res.where()}: {c.label} has a writable root filesystem. "
                "Fix: set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where it must write (e.g. /tmp)."
            )


def check_capabilities(res: Res, cfg: dict) -> Iterator[str]:
    spec = _pods(res)
    if spec is None:
        return
    allowed_add = {a.upper() for a in cfg.get("allowedAdd", ["NET_BIND_SERVICE"])}
    for c in containers(spec):
        caps = as_dict(as_dict(c.body.get("securityContext")).get("capabilities"))
        drop = caps.get("drop")
        if drop is not UNKNOWN and "ALL" not in {str(d).upper() for d in as_list(drop)}:
            yield (
                f"{res.where()}: {c.label} does not drop all Linux capabilities. "
                "Fix: set securityContext.capabilities.drop: [ALL]."
            )
        extra = sorted({str(a).upper() for a in as_list(caps.get("add"))} - allowed_add)
        if extra:
            yield (
                f"{res.where()}: {c.label} adds capabilities {extra}. "
                f"Fix: remove them (only {sorted(allowed_add)} may be added back)."
            )


# ---------------------------------------------------------------- resources and images
def check_resources(res: Res, cfg: dict) -> Iterator[str]:
    spec = _pods(res)
    if spec is None:
        return
    for c in containers(spec, ("initContainers", "containers")):
        resources = c.body.get("resources")
        if resources is UNKNOWN:
            continue
        resources = as_dict(resources)
        missing = [
            f"{section}.{kind}"
            for section in ("requests", "limits")
            for kind in ("cpu", "memory")
            if as_dict(resources.get(section)).get(kind) in (None, "")
        ]
        if missing:
            yield (
                f"{res.where()}: {c.label} has no {', '.join('resources.' + m for m in missing)}. "
                "Fix: declare CPU and memory requests and limits for every container "
                "(the tenant quota and the scheduler depend on them)."
            )


def check_images(res: Res, cfg: dict) -> Iterator[str]:
    spec = _pods(res)
    if spec is None:
        return
    for c in containers(spec):
        image = c.body.get("image")
        if is_unknown(image):
            continue
        if not isinstance(image, str) or not image:
            yield f"{res.where()}: {c.label} has no image. Fix: set an image pinned by tag or digest."
            continue
        _, tag, digest = split_image(image)
        if digest:
            continue
        if cfg.get("requireDigest") and res.namespace not in (cfg.get("digestExemptNamespaces") or []):
            yield (
                f"{res.where()}: {c.label} image {image!r} is not pinned by digest, and this profile requires digests. "
                "Fix: use image@sha256:<digest> (every image setting of the stack and the agent specs accepts one)."
            )
            continue
        if tag is None:
            yield (
                f"{res.where()}: {c.label} image {image!r} has no tag (means 'latest'). "
                "Fix: pin a version tag (e.g. repo/image:1.2.3) or a digest (@sha256:...)."
            )
        elif tag.lower() == "latest":
            yield (
                f"{res.where()}: {c.label} image {image!r} uses the mutable 'latest' tag. "
                "Fix: pin a version tag or a digest (@sha256:...)."
            )


# ---------------------------------------------------------------- secrets
def check_configmap_secrets(res: Res, cfg: dict) -> Iterator[str]:
    if res.kind != "ConfigMap" or res.group != "core":
        return
    for key, value in as_dict(res.props.get("data")).items():
        if not isinstance(value, str):
            continue
        if secret_like_name(key) and not harmless_literal(value):
            yield (
                f"{res.where()}: data key '{key}' looks like a credential stored in plain text. "
                "Fix: move it to a Kubernetes Secret (from a Pulumi secret) and reference it with secretKeyRef or a secret volume."
            )
            continue
        kind = secret_value_kind(value)
        if kind:
            yield (
                f"{res.where()}: data key '{key}' contains {kind}. "
                "Fix: move the credential to a Kubernetes Secret and reference it; never put it in a ConfigMap."
            )
            continue
        assignment = embedded_secret_assignment(value)
        if assignment:
            yield (
                f"{res.where()}: data key '{key}' embeds a literal '{assignment}' setting. "
                "Fix: keep the credential in a Secret and inject it (env valueFrom.secretKeyRef or a secret volume); "
                "leave only a reference such as ${ENV_VAR} in the config file."
            )


def check_literal_env(res: Res, cfg: dict) -> Iterator[str]:
    spec = _pods(res)
    if spec is None:
        return
    for c in containers(spec):
        for var in as_list(c.body.get("env")):
            var = as_dict(var)
            name, value = var.get("name"), var.get("value")
            if not isinstance(name, str) or not isinstance(value, str):
                continue
            if secret_like_name(name) and not harmless_literal(value):
                yield (
                    f"{res.where()}: {c.label} sets env {name} to a literal value. "
                    f"Fix: put the value in a Kubernetes Secret and use env[].valueFrom.secretKeyRef for {name}."
                )
                continue
            kind = secret_value_kind(value)
            if kind:
                yield (
                    f"{res.where()}: {c.label} env {name} holds {kind} as a literal. "
                    f"Fix: move it to a Kubernetes Secret and reference it with valueFrom.secretKeyRef."
                )


def check_agent_credentials_as_files(res: Res, cfg: dict) -> Iterator[str]:
    if not is_agent_deployment(res):
        return
    for c in containers(_pods(res) or {}):
        from_secrets = [as_dict(v).get("name") for v in as_list(c.body.get("env")) if "secretKeyRef" in as_dict(as_dict(v).get("valueFrom"))]
        from_secrets += ["envFrom secretRef" for v in as_list(c.body.get("envFrom")) if as_dict(v).get("secretRef")]
        if from_secrets:
            yield (
                f"{res.where()}: agent {c.label} takes credentials through the environment ({', '.join(map(str, from_secrets))}). "
                "Fix: mount them as files of a Secret volume (the agent runtime reads the file its config names)."
            )


# ---------------------------------------------------------------- agents
def check_agent_probes(res: Res, cfg: dict) -> Iterator[str]:
    if not is_agent_deployment(res):
        return
    spec = _pods(res) or {}
    regular = list(containers(spec, ("containers",)))
    if not regular and spec:
        yield f"{res.where()}: agent Deployment has no containers. Fix: declare the agent container."
    for c in regular:
        missing = [p for p in ("readinessProbe", "livenessProbe") if not c.body.get(p)]
        if missing:
            yield (
                f"{res.where()}: agent {c.label} has no {' and no '.join(missing)}. "
                "Fix: add an HTTP readinessProbe (e.g. GET /.well-known/agent-card.json) and a livenessProbe "
                "so rollouts and the gateway only send traffic to serving pods."
            )


def check_topology_spread(res: Res, cfg: dict) -> Iterator[str]:
    if not is_agent_deployment(res):
        return
    spec = _pods(res) or {}
    if spec.get("topologySpreadConstraints") or as_dict(spec.get("affinity")).get("podAntiAffinity"):
        return
    yield (
        f"{res.where()}: agent pods have no topologySpreadConstraints or podAntiAffinity, so replicas may "
        "share one node. Fix (decide per agent): add a topologySpreadConstraint on kubernetes.io/hostname "
        "(whenUnsatisfiable: ScheduleAnyway) for agents that must survive a node loss."
    )


# ---------------------------------------------------------------- sandboxes
RUNTIME_CLASS_SCHEMA = schema(
    allowedRuntimeClasses=string_list(["gvisor", "kata*"], "RuntimeClass names (globs) sandboxes may use."),
    allowedHandlers=string_list(["runsc", "kata*"], "Handlers (globs) an allowed RuntimeClass must map to."),
)


def check_sandbox_runtime_class(res: Res, cfg: dict) -> Iterator[str]:
    allowed = list(cfg.get("allowedRuntimeClasses") or [])
    if res.kind == "RuntimeClass" and res.group.startswith("node.k8s.io"):
        name, handler = res.k8s_name, res.props.get("handler")
        if isinstance(name, str) and glob_any(name, allowed) and isinstance(handler, str):
            if not glob_any(handler, cfg.get("allowedHandlers") or []):
                yield (
                    f"{res.where()}: RuntimeClass '{name}' is on the sandbox allow-list but maps to handler "
                    f"{handler!r}, which does not isolate. Fix: use handler runsc (gVisor) or kata-* (Kata Containers)."
                )
        return
    if not is_sandbox_workload(res):
        return
    tpl = pod_template(res)
    rc = tpl.spec.get("runtimeClassName") if tpl else None
    if is_unknown(rc):
        return
    if not isinstance(rc, str) or not glob_any(rc, allowed):
        yield (
            f"{res.where()}: sandbox pods use runtimeClassName {rc!r}, not an isolating runtime. "
            f"Fix: set the pod template's runtimeClassName to one of {allowed} (gVisor or Kata)."
        )


POLICIES = [
    resource_policy(
        "no-privileged-containers",
        "Containers never run privileged and never allow privilege escalation.",
        check_privileged,
    ),
    resource_policy(
        "no-host-namespaces",
        "Pods never share the node's network, PID or IPC namespace, nor bind host ports.",
        check_host_namespaces,
    ),
    resource_policy(
        "no-host-path-volumes",
        "Pods never mount hostPath volumes.",
        check_host_path,
    ),
    resource_policy(
        "containers-run-as-non-root",
        "Every container runs as a non-root user (runAsNonRoot: true, runAsUser != 0).",
        check_non_root,
    ),
    resource_policy(
        "read-only-root-filesystem",
        "Every container has a read-only root filesystem.",
        check_read_only_root,
    ),
    resource_policy(
        "drop-all-capabilities",
        "Every container drops ALL Linux capabilities (only NET_BIND_SERVICE may be added back).",
        check_capabilities,
        config_schema=schema(allowedAdd=string_list(["NET_BIND_SERVICE"], "Capabilities that may be added back.")),
    ),
    resource_policy(
        "container-resources-required",
        "Every container declares CPU and memory requests and limits.",
        check_resources,
    ),
    resource_policy(
        "images-pinned",
        "Every image is pinned by a version tag or digest, never 'latest' or untagged (or by digest, where the profile requires it).",
        check_images,
        config_schema=schema(
            requireDigest={"type": "boolean", "default": False, "description": "Require image@sha256:<digest> on every image (scanners' rule for prod)."},
            digestExemptNamespaces=string_list(
                ["higress-system", "keda"], "Namespaces whose images only a chart sets (pinned by the chart's version tag)."
            ),
        ),
    ),
    resource_policy(
        "no-secrets-in-configmaps",
        "ConfigMaps hold no credentials (API keys, tokens, passwords, private keys).",
        check_configmap_secrets,
    ),
    resource_policy(
        "no-literal-secret-env",
        "Credentials reach containers only through secretKeyRef, never as literal env values.",
        check_literal_env,
    ),
    resource_policy(
        "agent-credentials-as-files",
        "Agent containers read credentials from mounted Secret files, never from environment variables.",
        check_agent_credentials_as_files,
    ),
    resource_policy(
        "agent-probes-required",
        "Every agent Deployment's containers have readiness and liveness probes.",
        check_agent_probes,
    ),
    resource_policy(
        "agent-topology-spread",
        "Agent Deployments should spread their pods across nodes (advisory: a person decides per agent).",
        check_topology_spread,
        level=EnforcementLevel.ADVISORY,
    ),
    resource_policy(
        "sandbox-runtime-class-allowed",
        "Sandbox workloads run under an isolating RuntimeClass (gVisor or Kata), and allowed RuntimeClasses really isolate.",
        check_sandbox_runtime_class,
        config_schema=RUNTIME_CLASS_SCHEMA,
    ),
]
