"""The transforms that give upstream chart objects the platform's defaults (components/chart_hardening.py).

Chart objects only exist on the real engine (mocks never expand a chart), so the rendered
shapes below are the ones the vendored charts produced there: the Higress controller pod,
its bundled Redis, a CRD with Helm's keep policy, the PodMonitor with an empty annotations map.
"""

import copy

import pulumi
import pytest

from components.chart_hardening import HIGRESS_CHART, KEDA_CHART, ChartHardening

CONTROLLER = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "higress-controller", "namespace": "higress-system", "labels": {"app": "higress-controller"}},
    "spec": {
        "selector": {"matchLabels": {"app": "higress-controller"}},
        "template": {
            "metadata": {"labels": {"app": "higress-controller"}},
            "spec": {
                "containers": [
                    {"name": "higress-core", "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False}},
                    {"name": "discovery", "securityContext": {"readOnlyRootFilesystem": True, "runAsUser": 1337}},
                ]
            },
        },
    },
}
REDIS = {
    "apiVersion": "apps/v1",
    "kind": "StatefulSet",
    "metadata": {"name": "redis-stack-server", "namespace": "higress-system"},
    "spec": {
        "selector": {"matchLabels": {"app": "redis"}},
        "template": {"spec": {"containers": [{"name": "redis", "volumeMounts": [{"name": "config", "mountPath": "/redis-stack.conf"}]}], "volumes": [{"name": "config", "configMap": {"name": "redis-stack-server"}}]}},
    },
}
CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "wasmplugins.extensions.higress.io", "annotations": {"helm.sh/resource-policy": "keep"}},
    "spec": {"group": "extensions.higress.io"},
}
POD_MONITOR = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor", "metadata": {"name": "higress-gateway-metrics", "annotations": {}}, "spec": {}}


def test_every_object_gets_the_platform_labels_and_keeps_its_own():
    out = HIGRESS_CHART.apply(CONTROLLER)
    assert out["metadata"]["labels"] == {"app": "higress-controller", "app.kubernetes.io/part-of": "agent-runtime", "app.kubernetes.io/managed-by": "pulumi"}
    helm_labelled = copy.deepcopy(CONTROLLER)
    helm_labelled["metadata"]["labels"]["app.kubernetes.io/managed-by"] = "Helm"
    assert HIGRESS_CHART.apply(helm_labelled)["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"


def test_containers_never_escalate_and_explicit_settings_win():
    out = HIGRESS_CHART.apply(CONTROLLER)
    core, discovery = out["spec"]["template"]["spec"]["containers"]
    assert discovery["securityContext"] == {"readOnlyRootFilesystem": True, "runAsUser": 1337, "allowPrivilegeEscalation": False}
    assert core["securityContext"]["allowPrivilegeEscalation"] is False
    # selectors and pod labels are the chart's
    assert out["spec"]["selector"] == CONTROLLER["spec"]["selector"]
    assert out["spec"]["template"]["metadata"] == CONTROLLER["spec"]["template"]["metadata"]
    assert CONTROLLER["spec"]["template"]["spec"]["containers"][1]["securityContext"] == {"readOnlyRootFilesystem": True, "runAsUser": 1337}, "input mutated"


def test_the_bundled_redis_gets_the_restricted_baseline():
    out = HIGRESS_CHART.apply(REDIS)
    pod = out["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 999
    assert pod["automountServiceAccountToken"] is False  # it never calls the API
    [redis] = pod["containers"]
    assert redis["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}}
    mounts = {m["mountPath"]: m["name"] for m in redis["volumeMounts"]}
    assert {"/redis-stack.conf", "/data", "/tmp"} <= set(mounts)
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert all("emptyDir" in volumes[mounts[path]] for path in ("/data", "/tmp"))
    # KEDA's chart is hardened by its values already: no workload gets the baseline there
    assert "securityContext" not in KEDA_CHART.apply(REDIS)["spec"]["template"]["spec"]


def test_crds_are_not_kept_past_destroy_and_empty_annotations_go():
    assert "annotations" not in HIGRESS_CHART.apply(CRD)["metadata"]
    kept_other = copy.deepcopy(CRD)
    kept_other["metadata"]["annotations"]["example.com/owner"] = "team"
    assert HIGRESS_CHART.apply(kept_other)["metadata"]["annotations"] == {"example.com/owner": "team"}
    assert "annotations" not in HIGRESS_CHART.apply(POD_MONITOR)["metadata"]


@pytest.mark.parametrize("typ,custom,applies", [
    ("kubernetes:apps/v1:Deployment", True, True),
    ("kubernetes:helm.sh/v4:Chart", False, False),
    ("pulumi-python:dynamic:Resource", True, False),
])
def test_the_transform_touches_only_kubernetes_objects_and_never_retains_them(typ, custom, applies):
    args = pulumi.ResourceTransformArgs(custom=custom, type_=typ, name="x", props=copy.deepcopy(CONTROLLER), opts=pulumi.ResourceOptions(retain_on_delete=True))
    result = ChartHardening()(args)
    if not applies:
        assert result is None
        return
    assert result.props["metadata"]["labels"]["app.kubernetes.io/part-of"] == "agent-runtime"
    assert result.opts.retain_on_delete is False
