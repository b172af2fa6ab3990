"""PodMonitors for the gateway's Envoy stats and the agents' metrics (only with the Prometheus operator)."""

from __future__ import annotations

from typing import Sequence

from models.security import GatewaySecuritySettings
from render.gateway.routes import GatewayRoute

PODMONITOR_API_VERSION = "monitoring.coreos.com/v1"


def build_pod_monitors(
    settings: GatewaySecuritySettings,
    namespace: str,
    routes: Sequence[GatewayRoute],
    chart_creates_gateway_monitor: bool = False,
) -> list[dict]:
    """PodMonitors (only with monitoring.prometheusOperator): gateway Envoy stats and agents."""
    m = settings.monitoring
    if not m.prometheus_operator:
        return []
    labels = {"app.kubernetes.io/part-of": "agent-runtime", "app.kubernetes.io/managed-by": "pulumi", **m.labels}
    out = []
    if not chart_creates_gateway_monitor:  # the chart creates one itself when gateway.metrics is on
        out.append({
            "apiVersion": PODMONITOR_API_VERSION, "kind": "PodMonitor",
            "metadata": {"name": "ar-higress-gateway", "namespace": namespace, "labels": labels},
            "spec": {
                "jobLabel": "app.kubernetes.io/name",
                # the higress-core chart's gateway selector labels (helm/core/templates/_helpers.tpl)
                "selector": {"matchLabels": {"app": "higress-gateway", "higress": f"{namespace}-higress-gateway"}},
                "namespaceSelector": {"matchNames": [namespace]},
                "podMetricsEndpoints": [{"port": "istio-prom", "path": "/stats/prometheus", "interval": m.interval}],
            },
        })
    agent_namespaces = sorted({r.ingress_namespace for r in routes})
    if agent_namespaces:
        out.append({
            "apiVersion": PODMONITOR_API_VERSION, "kind": "PodMonitor",
            "metadata": {"name": "ar-agents", "namespace": namespace, "labels": labels},
            "spec": {
                "selector": {"matchLabels": dict(m.agent_selector)},
                "namespaceSelector": {"matchNames": agent_namespaces},
                "podMetricsEndpoints": [{"port": m.agent_metrics_port, "path": m.agent_metrics_path, "interval": m.interval}],
            },
        })
    return out
