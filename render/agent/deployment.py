"""An agent version's Deployment: the runtime container under the restricted baseline, its config and credentials mounted.

No `replicas`: the HPA or the KEDA ScaledObject owns the replica count.
"""

from __future__ import annotations

from typing import Optional

from models.agent_spec import ResolvedVersion
from render.agent.context import AgentContext
from render.agent.runtime_config import CONFIG_DIR, CREDENTIALS_DIR, PROMPT_DIR, RuntimeConfig
from render.k8s_common import resources_dict, restricted_container_security, restricted_pod_security

ANNOTATION_CONFIG_HASH = "agent-runtime.io/config-hash"


def _volumes_and_mounts(context: AgentContext, full: str, credentials: Optional[dict]) -> tuple[list[dict], list[dict]]:
    """The version's ConfigMap, a scratch /tmp, the credentials volume and a system prompt kept in a ConfigMap or Secret."""
    volumes = [
        {"name": "config", "configMap": {"name": f"{full}-config"}},
        {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}},
    ]
    mounts = [
        {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    if credentials is not None:
        volumes.append(credentials)
        mounts.append({"name": "credentials", "mountPath": CREDENTIALS_DIR, "readOnly": True})
    prompt = context.spec.system_prompt
    if prompt is not None and prompt.inline is None:
        ref = prompt.from_config_map or prompt.from_secret
        assert ref is not None
        items = [{"key": ref.key, "path": "system-prompt.txt"}]
        source = {"configMap": {"name": ref.name, "items": items}} if prompt.from_config_map else {"secret": {"secretName": ref.name, "items": items}}
        volumes.append({"name": "prompt", **source})
        mounts.append({"name": "prompt", "mountPath": PROMPT_DIR, "readOnly": True})
    return volumes, mounts


def _spread(match: dict) -> list[dict]:
    """Pods of a version spread over nodes and zones, as far as the scheduler can."""
    return [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": match},
        }
        for key in ("kubernetes.io/hostname", "topology.kubernetes.io/zone")
    ]


def _container(context: AgentContext, version: ResolvedVersion, env: list[dict], mounts: list[dict]) -> dict:
    spec = context.spec
    resources = spec.resources or context.settings.default_resources
    probe = lambda path, **extra: {"httpGet": {"path": path, "port": "http"}, "timeoutSeconds": 3, **extra}  # noqa: E731
    return {
        "name": "agent",
        "image": version.image or context.settings.runtime_image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": spec.port, "protocol": "TCP"}],
        "env": env,
        "resources": resources_dict(resources),
        "securityContext": restricted_container_security(),
        "startupProbe": probe(spec.probes.readiness_path, periodSeconds=2, failureThreshold=60),
        "readinessProbe": probe(spec.probes.readiness_path, periodSeconds=5, failureThreshold=3),
        "livenessProbe": probe(spec.probes.liveness_path, periodSeconds=10, failureThreshold=6),
        "volumeMounts": mounts,
    }


def deployment_spec(
    context: AgentContext,
    version: ResolvedVersion,
    full: str,
    labels: dict,
    match: dict,
    runtime: RuntimeConfig,
    config_hash: str,
) -> dict:
    """The Deployment spec of one version; `full` is its object name, `match` its pods' selector."""
    spec = context.spec
    credentials = runtime.files.volume()
    volumes, mounts = _volumes_and_mounts(context, full, credentials)
    return {
        # no `replicas`: the HPA / KEDA owns the replica count
        "selector": {"matchLabels": match},
        "revisionHistoryLimit": 5,
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
        "template": {
            "metadata": {"labels": labels, "annotations": {ANNOTATION_CONFIG_HASH: config_hash}},
            "spec": {
                "serviceAccountName": spec.name,
                "automountServiceAccountToken": spec.sandbox is not None,
                "enableServiceLinks": False,
                # fsGroup: the mounted credential files are group-readable (0440) and nothing else
                "securityContext": restricted_pod_security(fs_group=credentials is not None),
                "topologySpreadConstraints": _spread(match),
                # open SSE streams get time to finish on scale-down and rollouts
                "terminationGracePeriodSeconds": min(spec.route.timeout_seconds, 300),
                "containers": [_container(context, version, runtime.env, mounts)],
                "volumes": volumes,
            },
        },
    }
