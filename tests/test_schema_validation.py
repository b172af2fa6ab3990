"""Every Kubernetes object the program registers, validated strictly against upstream schemas.

Built-in kinds use the Kubernetes OpenAPI schemas (kubernetes-validate, strict);
custom resources use the upstream CRDs gathered by scripts/fetch_schemas.sh. The
Higress ones (McpBridge, WasmPlugin) come from the vendored Higress 2.2.1 chart
(../shared/vendor/higress-2.2.1), so nothing is tolerated: zero errors.
"""

import os

from testing.k8s_schema import HIGRESS_VENDORED_SOURCE, higress_schema_sources, pulumi_resource_to_object, validate_object


def test_higress_schemas_come_from_the_vendored_2_2_1_crds():
    sources = higress_schema_sources()
    assert {"networking.higress.io_v1_McpBridge", "extensions.higress.io_v1alpha1_WasmPlugin"} <= set(sources)
    allowed = {HIGRESS_VENDORED_SOURCE}
    if os.environ.get("AGENT_RUNTIME_EXTRA_CRDS"):
        allowed.add("AGENT_RUNTIME_EXTRA_CRDS")  # an explicit override wins
    assert set(sources.values()) <= allowed, (
        f"Higress CRD schemas are not from the vendored 2.2.1 chart: {sources} "
        "(is ../shared/vendor/higress-2.2.1 beside the repo? see scripts/fetch_schemas.sh)")


def test_every_registered_kubernetes_object_is_schema_valid(stack_run):
    checked = 0
    errors = []
    for r in stack_run.resources:
        obj = pulumi_resource_to_object(r.typ, r.name, r.inputs)
        if obj is None:
            continue
        checked += 1
        errors += validate_object(obj)
    assert checked >= 30, f"only {checked} objects were validated"
    assert errors == [], "\n".join(errors)


def test_the_validator_would_catch_a_typo_in_what_the_program_registers(dev_run):
    sts = next(r for r in dev_run.resources if r.typ == "kubernetes:apps/v1:StatefulSet")
    obj = pulumi_resource_to_object(sts.typ, sts.name, sts.inputs)
    obj["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"
    assert any("imagePullPolcy" in e for e in validate_object(obj))
    bridge = next(r for r in dev_run.resources if r.typ.endswith(":McpBridge"))
    obj = pulumi_resource_to_object(bridge.typ, bridge.name, bridge.inputs)
    obj["spec"]["registries"][0]["nacosGroup"] = ["agents"]
    assert any("nacosGroup" in e for e in validate_object(obj))
