"""Pulumi transforms that give the objects of upstream charts the platform's defaults.

The official Higress and KEDA charts are installed unmodified; what their values cannot
express is set here, on each object the chart renders, before it reaches the API server
(the real engine's policy pack found these gaps; mocks never see chart objects):

- every object carries `app.kubernetes.io/part-of: agent-runtime` (and a managed-by label:
  the chart's own, else `pulumi`), so the policy pack's label rule holds and `kubectl -l`
  finds the whole platform;
- every container that does not say otherwise gets `allowPrivilegeEscalation: false`
  (the restricted Pod Security Standard; the Higress controller's discovery container
  has no value for it);
- named workloads whose chart has no securityContext setting at all (Higress's bundled
  Redis) get the full restricted baseline: a non-root user, all capabilities dropped, a
  read-only root filesystem and emptyDirs where the process writes.

- the CRDs a chart installs belong to the stack: Helm's `helm.sh/resource-policy: keep`
  (which pulumi-kubernetes honours by retaining the object) is dropped, so `pulumi destroy`
  leaves nothing behind (seen on the real engine: the four Higress CRDs outlived destroy).

Empty `metadata.annotations` maps are dropped: the API server stores none, so the Higress
chart's PodMonitor (`annotations: {}`) otherwise showed as an update in every preview.
Only metadata labels, that empty map and pod security fields change; selectors, names and
everything else stay as the chart rendered them.
"""

from __future__ import annotations

import copy
from typing import Any, Optional

import pulumi

from render.k8s_common import PART_OF

POD_TEMPLATE_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
LABEL_PART_OF = "app.kubernetes.io/part-of"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
HELM_RESOURCE_POLICY = "helm.sh/resource-policy"
MANAGED_BY = "pulumi"


def _container_defaults(pod_spec: dict) -> None:
    for section in ("initContainers", "containers"):
        for container in pod_spec.get(section) or []:
            context = container.setdefault("securityContext", {}) or {}
            container["securityContext"] = context
            context.setdefault("allowPrivilegeEscalation", False)


def _restricted_baseline(pod_spec: dict, user: int, writable: list[str]) -> None:
    """Non-root, no capabilities, read-only root filesystem, no API token; emptyDirs at the paths it writes."""
    pod_spec["automountServiceAccountToken"] = False  # it never calls the Kubernetes API
    pod_context = pod_spec.setdefault("securityContext", {}) or {}
    pod_spec["securityContext"] = pod_context
    pod_context.update(runAsNonRoot=True, runAsUser=user, runAsGroup=user, fsGroup=user, seccompProfile={"type": "RuntimeDefault"})
    volumes = pod_spec.setdefault("volumes", []) or []
    pod_spec["volumes"] = volumes
    for i, path in enumerate(writable):
        volumes.append({"name": f"writable-{i}", "emptyDir": {"sizeLimit": "1Gi"}})
    for container in pod_spec.get("containers") or []:
        container["securityContext"] = {
            **(container.get("securityContext") or {}),
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        }
        mounts = container.setdefault("volumeMounts", []) or []
        container["volumeMounts"] = mounts
        mounts.extend({"name": f"writable-{i}", "mountPath": path} for i, path in enumerate(writable))


class ChartHardening:
    """A `transforms` callback for a chart: labels and pod security on each object it renders.

    `restricted` maps a workload name to (user id, paths it writes) for charts that leave
    its security context out entirely.
    """

    def __init__(self, restricted: Optional[dict[str, tuple[int, list[str]]]] = None):
        self.restricted = restricted or {}

    def apply(self, obj: dict) -> dict:
        """The hardened copy of one rendered object (plain values, as the chart rendered them)."""
        obj = copy.deepcopy(obj)
        metadata = obj.setdefault("metadata", {}) or {}
        obj["metadata"] = metadata
        labels = metadata.setdefault("labels", {}) or {}
        metadata["labels"] = labels
        labels.setdefault(LABEL_PART_OF, PART_OF)
        labels.setdefault(LABEL_MANAGED_BY, MANAGED_BY)
        annotations = metadata.get("annotations")
        if isinstance(annotations, dict) and annotations.get(HELM_RESOURCE_POLICY) == "keep":
            del annotations[HELM_RESOURCE_POLICY]
        if metadata.get("annotations") == {}:
            del metadata["annotations"]
        if obj.get("kind") in POD_TEMPLATE_KINDS:
            pod_spec = ((obj.get("spec") or {}).get("template") or {}).get("spec")
            if isinstance(pod_spec, dict):
                if metadata.get("name") in self.restricted:
                    user, writable = self.restricted[metadata["name"]]
                    _restricted_baseline(pod_spec, user, writable)
                _container_defaults(pod_spec)
        return obj

    def __call__(self, args: pulumi.ResourceTransformArgs) -> Optional[pulumi.ResourceTransformResult]:
        if not args.custom or not args.type_.startswith("kubernetes:") or "kind" not in args.props:
            return None
        props: dict[str, Any] = dict(args.props)
        # whatever the chart asked to keep is deleted with the stack (the annotation is gone too)
        opts = pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(retain_on_delete=False))
        return pulumi.ResourceTransformResult(props=self.apply(props), opts=opts)


# The Higress chart's Redis (`redis-stack-server`, used by the rate-limit plugins) has no
# securityContext values: it runs as uid 999 (the redis user of the official Redis images)
# with writable /data and /tmp. Checked by the API server and the policy pack; kwok nodes run
# no containers, so the image's behaviour as that user is not exercised here.
HIGRESS_CHART = ChartHardening(restricted={"redis-stack-server": (999, ["/data", "/tmp"])})
KEDA_CHART = ChartHardening()
