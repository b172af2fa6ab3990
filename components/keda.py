"""Keda: the scale-to-zero engine, installed from its pinned official Helm chart.

A HorizontalPodAutoscaler cannot go below one replica; agents that declare
`autoscaling.scaleToZero` get a KEDA ScaledObject instead, which must wait for
this chart (it installs the ScaledObject CRD).
"""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_kubernetes as k8s
from pydantic import BaseModel, ConfigDict

from components.chart_hardening import KEDA_CHART
from models.settings import KedaSettings
from render.k8s_common import LABEL_ROLE, restricted_namespace_labels, standard_labels


class KedaArgs(BaseModel):
    model_config = ConfigDict(frozen=True)

    settings: KedaSettings
    labels: dict[str, str] = {}


def chart_values(settings: KedaSettings) -> dict:
    """Chart values: CRDs installed, one operator and metrics server, the chart's secure defaults kept."""
    return {
        "crds": {"install": True},
        "operator": {"replicaCount": 1},
        "metricsServer": {"replicaCount": 1},
        "webhooks": {"enabled": True},
    }


class Keda(pulumi.ComponentResource):
    """KEDA operator, metrics API server and admission webhooks in their own namespace."""

    chart: pulumi.Resource
    namespace: str

    def __init__(self, name: str, args: KedaArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("agent-runtime:agents:Keda", name, None, opts)
        s = args.settings
        namespace = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata={
                "name": s.namespace,
                # the chart's pods meet the restricted standard out of the box
                "labels": {**standard_labels("keda", "autoscaler", args.labels), **restricted_namespace_labels(), LABEL_ROLE: "autoscaler"},
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        chart_args: dict = {"namespace": s.namespace, "values": chart_values(s)}
        if s.local_path:
            chart_args["chart"] = s.local_path
        else:
            chart_args.update(
                chart="keda", version=s.chart_version, repository_opts=k8s.helm.v4.RepositoryOptsArgs(repo=s.repository)
            )
        self.chart = k8s.helm.v4.Chart(
            f"{name}-chart", **chart_args, opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace], transforms=[KEDA_CHART])
        )
        self.namespace = s.namespace
        self.register_outputs({"namespace": s.namespace, "chartVersion": s.chart_version})
