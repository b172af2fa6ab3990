"""Every Kubernetes object the program registers, validated strictly against upstream schemas.

Built-in kinds use the Kubernetes OpenAPI schemas (kubernetes-validate, strict);
custom resources use the upstream CRDs fetched by scripts/fetch_schemas.sh.

One known gap, stated rather than hidden: no package registry reachable here
serves a Higress 2.x CRD (the Go module proxy stops at 1.4.2); the McpBridge
fields for Nacos MCP discovery and WasmPlugin.failStrategy arrived in 2.x (checked
against upstream's v2.2.1 CRD file). Those exact fields are listed in
testing.k8s_schema.HIGRESS_2X_ONLY_FIELDS; every other error still fails. With a 2.x CRD available
(AGENT_RUNTIME_EXTRA_CRDS pointing at upstream's customresourcedefinitions.gen.yaml)
the allowance is not used and the objects must validate with zero errors.
"""

from testing.k8s_schema import known_schema_gap, pulumi_resource_to_object, validate_object


def test_every_registered_kubernetes_object_is_schema_valid(stack_run):
    checked = 0
    errors = []
    for r in stack_run.resources:
        obj = pulumi_resource_to_object(r.typ, r.name, r.inputs)
        if obj is None:
            continue
        checked += 1
        errors += [e for e in validate_object(obj) if not known_schema_gap(e)]
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
    assert any("nacosGroup" in e and not known_schema_gap(e) for e in validate_object(obj))
