"""An agent version's autoscaler: a HorizontalPodAutoscaler, or a KEDA ScaledObject when it scales to zero.

A scaled-to-zero version wakes from the gateway's request counts in Prometheus: the
requests the gateway sent to it, plus those it could not send because no pod was up.
"""

from __future__ import annotations

from models.agent_spec import AgentSpec, ResolvedVersion
from models.settings import KedaSettings
from render.agent.routes import backend_service

HPA_SCALE_DOWN_MAX_SECONDS = 3600


def _target(full: str) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "name": full}


def gateway_request_query(spec: AgentSpec, version: ResolvedVersion, namespace: str) -> str:
    """The PromQL rate of requests the gateway sent (or failed to send) to the version's Service."""
    cluster = f"outbound|{spec.port}||{backend_service(spec, version)}.{namespace}.svc.cluster.local"
    # requests the gateway sent to this version, plus those it could not send because no pod
    # was up (that is what wakes a scaled-to-zero agent)
    return (
        f'(sum(rate(envoy_cluster_upstream_rq_total{{cluster_name="{cluster}"}}[1m])) or vector(0))'
        f' + (sum(rate(envoy_cluster_upstream_cx_none_healthy{{cluster_name="{cluster}"}}[1m])) or vector(0))'
    )


def scaled_object_spec(spec: AgentSpec, version: ResolvedVersion, namespace: str, full: str, keda: KedaSettings) -> dict:
    """KEDA: from zero on gateway requests, and on CPU (and memory) once running."""
    a = spec.autoscaling
    triggers = [
        {
            "type": "prometheus",
            "name": "gateway-requests",
            "metadata": {
                "serverAddress": keda.prometheus_address,
                "query": gateway_request_query(spec, version, namespace),
                "threshold": f"{a.target_requests_per_second:g}",
                "activationThreshold": "0",
            },
        },
        {"type": "cpu", "metricType": "Utilization", "metadata": {"value": str(a.target_cpu_utilization)}},
    ]
    if a.target_memory_utilization:
        triggers.append({"type": "memory", "metricType": "Utilization", "metadata": {"value": str(a.target_memory_utilization)}})
    return {
        "scaleTargetRef": _target(full),
        "pollingInterval": keda.polling_interval_seconds,
        "cooldownPeriod": a.cooldown_seconds,
        "minReplicaCount": 0,
        "maxReplicaCount": a.max_replicas,
        "triggers": triggers,
    }


def _utilization(resource: str, target: int) -> dict:
    return {"type": "Resource", "resource": {"name": resource, "target": {"type": "Utilization", "averageUtilization": target}}}


def hpa_spec(spec: AgentSpec, full: str) -> dict:
    """An HPA on CPU (and memory); its scale-down window is the spec's cooldown, at most an hour."""
    a = spec.autoscaling
    metrics = [_utilization("cpu", a.target_cpu_utilization)]
    if a.target_memory_utilization:
        metrics.append(_utilization("memory", a.target_memory_utilization))
    return {
        "scaleTargetRef": _target(full),
        "minReplicas": a.min_replicas,
        "maxReplicas": a.max_replicas,
        "metrics": metrics,
        "behavior": {"scaleDown": {"stabilizationWindowSeconds": min(a.cooldown_seconds, HPA_SCALE_DOWN_MAX_SECONDS)}},
    }
