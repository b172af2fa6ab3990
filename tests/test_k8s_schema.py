"""The strict Kubernetes/CRD validator in testing/k8s_schema.py must bite."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from testing import k8s_schema  # noqa: E402
from testing.k8s_schema import pulumi_resource_to_object, validate_object  # noqa: E402


def _ok(obj: dict) -> None:
    errors = validate_object(obj)
    assert errors == [], "\n".join(errors)


def _bad(obj: dict, *needles: str) -> list[str]:
    errors = validate_object(obj)
    assert errors, f"expected {obj.get('kind')} to be rejected"
    text = "\n".join(errors)
    for needle in needles:
        assert needle in text, f"{needle!r} not in:\n{text}"
    return errors


POD_SPEC = {
    "containers": [
        {
            "name": "agent",
            "image": "registry.example/agent:1.0",
            "imagePullPolicy": "IfNotPresent",
            "ports": [{"containerPort": 8080, "name": "http"}],
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
        }
    ]
}

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "agent", "namespace": "tenant-a", "labels": {"app": "agent"}},
    "spec": {
        "replicas": 1,
        "selector": {"matchLabels": {"app": "agent"}},
        "template": {"metadata": {"labels": {"app": "agent"}}, "spec": copy.deepcopy(POD_SPEC)},
    },
}

MCP_BRIDGE = {
    "apiVersion": "networking.higress.io/v1",
    "kind": "McpBridge",
    "metadata": {"name": "default", "namespace": "higress-system"},
    "spec": {
        "registries": [
            {
                "name": "nacos",
                "type": "nacos2",
                "domain": "nacos.nacos.svc.cluster.local",
                "port": 8848,
                "nacosGroups": ["DEFAULT_GROUP"],
                "nacosNamespaceId": "public",
            }
        ]
    },
}

WASM_PLUGIN = {
    "apiVersion": "extensions.higress.io/v1alpha1",
    "kind": "WasmPlugin",
    "metadata": {"name": "key-auth", "namespace": "higress-system"},
    "spec": {
        "url": "oci://registry.example/plugins/key-auth:1.0.0",
        "phase": "AUTHN",
        "priority": 310,
        # preserve-unknown-fields: arbitrary plugin config is allowed here
        "defaultConfig": {"consumers": [{"name": "a", "credential": "x"}], "global_auth": False},
        "matchRules": [{"ingress": ["tenant-a/agent"], "config": {"allow": ["a"]}}],
    },
}

SCALED_OBJECT = {
    "apiVersion": "keda.sh/v1alpha1",
    "kind": "ScaledObject",
    "metadata": {"name": "agent", "namespace": "tenant-a"},
    "spec": {
        "scaleTargetRef": {"name": "agent", "kind": "Deployment", "apiVersion": "apps/v1"},
        "minReplicaCount": 0,
        "maxReplicaCount": 3,
        "cooldownPeriod": 300,
        "triggers": [
            {
                "type": "prometheus",
                "metadata": {
                    "serverAddress": "http://prometheus.monitoring:9090",
                    "query": "sum(rate(requests_total[1m]))",
                    "threshold": "1",
                },
            }
        ],
    },
}

SANDBOX_TEMPLATE = {
    "apiVersion": "extensions.agents.x-k8s.io/v1beta1",
    "kind": "SandboxTemplate",
    "metadata": {"name": "python", "namespace": "tenant-a"},
    "spec": {"podTemplate": {"metadata": {"labels": {"sandbox": "python"}}, "spec": copy.deepcopy(POD_SPEC)}},
}

SANDBOX_WARM_POOL = {
    "apiVersion": "extensions.agents.x-k8s.io/v1beta1",
    "kind": "SandboxWarmPool",
    "metadata": {"name": "python-pool", "namespace": "tenant-a"},
    "spec": {"replicas": 2, "sandboxTemplateRef": {"name": "python"}},
}

POD_MONITOR = {
    "apiVersion": "monitoring.coreos.com/v1",
    "kind": "PodMonitor",
    "metadata": {"name": "agent", "namespace": "tenant-a"},
    "spec": {
        "selector": {"matchLabels": {"app": "agent"}},
        "podMetricsEndpoints": [{"port": "http", "path": "/metrics", "interval": "30s"}],
    },
}


# ---------------------------------------------------------------- built-in kinds


def test_valid_deployment_passes():
    _ok(DEPLOYMENT)


def test_deployment_typo_field_fails_with_path():
    bad = copy.deepcopy(DEPLOYMENT)
    container = bad["spec"]["template"]["spec"]["containers"][0]
    container["imagePullPolcy"] = container.pop("imagePullPolicy")
    errors = _bad(bad, "Deployment/tenant-a/agent", "spec.template.spec.containers[0].imagePullPolcy", "unknown field")
    assert len(errors) == 1


def test_deployment_wrong_type_fails():
    bad = copy.deepcopy(DEPLOYMENT)
    bad["spec"]["replicas"] = "three"
    _bad(bad, "spec.replicas", "'three' is not of type")


def test_deployment_unknown_metadata_field_fails():
    bad = copy.deepcopy(DEPLOYMENT)
    bad["metadata"]["label"] = {"app": "agent"}
    _bad(bad, "metadata.label", "unknown field")


def test_configmap_and_secret_pass():
    _ok({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}})
    _ok({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "type": "Opaque", "stringData": {"k": "v"}})


def test_missing_name_fails():
    _bad({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}, "data": {}}, "metadata.name")


# ---------------------------------------------------------------- unknown kinds


def test_unknown_kind_fails():
    _bad({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {}},
         "no schema known", "example.com/v1", "Widget")


def test_misspelled_builtin_kind_fails():
    bad = copy.deepcopy(DEPLOYMENT)
    bad["kind"] = "Deploymnet"
    _bad(bad, "no schema known")


def test_unserved_crd_version_fails_and_names_known_versions():
    bad = copy.deepcopy(SCALED_OBJECT)
    bad["apiVersion"] = "keda.sh/v1"
    _bad(bad, "no schema known", "keda.sh/v1alpha1")


# ---------------------------------------------------------------- custom resources


def test_valid_mcpbridge_passes():
    _ok(MCP_BRIDGE)


def test_mcpbridge_typo_registry_field_fails():
    bad = copy.deepcopy(MCP_BRIDGE)
    bad["spec"]["registries"][0]["nacosGroup"] = bad["spec"]["registries"][0].pop("nacosGroups")
    _bad(bad, "McpBridge/higress-system/default", "spec.registries[0].nacosGroup", "unknown field")


def test_mcpbridge_and_wasmplugin_2x_fields_pass():
    bridge = copy.deepcopy(MCP_BRIDGE)
    bridge["spec"]["registries"][0].update(enableMCPServer=True, mcpServerBaseUrl="/mcp")
    _ok(bridge)
    plugin = copy.deepcopy(WASM_PLUGIN)
    plugin["spec"]["failStrategy"] = "FAIL_CLOSE"
    _ok(plugin)
    plugin["spec"]["failStrategy"] = "FAIL_CLOSED"
    _bad(plugin, "spec.failStrategy", "'FAIL_CLOSED' is not one of")


def test_mcpbridge_wrong_type_fails():
    bad = copy.deepcopy(MCP_BRIDGE)
    bad["spec"]["registries"][0]["port"] = "8848"
    _bad(bad, "spec.registries[0].port", "is not of type 'integer'")


def test_valid_wasmplugin_passes():
    _ok(WASM_PLUGIN)


def test_wasmplugin_typo_and_bad_enum_fail():
    bad = copy.deepcopy(WASM_PLUGIN)
    bad["spec"]["matchRule"] = bad["spec"].pop("matchRules")
    bad["spec"]["phase"] = "AUTH"
    _bad(bad, "spec.matchRule", "unknown field", "spec.phase", "'AUTH' is not one of")


def test_valid_scaledobject_passes():
    _ok(SCALED_OBJECT)


def test_scaledobject_typo_fails():
    bad = copy.deepcopy(SCALED_OBJECT)
    bad["spec"]["minReplicas"] = bad["spec"].pop("minReplicaCount")
    _bad(bad, "ScaledObject/tenant-a/agent", "spec.minReplicas", "unknown field")


def test_scaledobject_missing_required_fails():
    bad = copy.deepcopy(SCALED_OBJECT)
    del bad["spec"]["triggers"]
    _bad(bad, "'triggers' is a required property")


def test_valid_sandboxtemplate_passes():
    _ok(SANDBOX_TEMPLATE)


def test_sandboxtemplate_typo_deep_in_pod_spec_fails():
    bad = copy.deepcopy(SANDBOX_TEMPLATE)
    bad["spec"]["podTemplate"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"
    _bad(bad, "spec.podTemplate.spec.containers[0].imagePullPolcy", "unknown field")


def test_sandboxtemplate_v1alpha1_is_still_served():
    alpha = copy.deepcopy(SANDBOX_TEMPLATE)
    alpha["apiVersion"] = "extensions.agents.x-k8s.io/v1alpha1"
    _ok(alpha)


def test_valid_sandboxwarmpool_passes():
    _ok(SANDBOX_WARM_POOL)


def test_sandboxwarmpool_typo_fails():
    bad = copy.deepcopy(SANDBOX_WARM_POOL)
    bad["spec"]["templateRef"] = bad["spec"].pop("sandboxTemplateRef")
    _bad(bad, "spec.templateRef", "unknown field", "'sandboxTemplateRef' is a required property")


def test_valid_podmonitor_passes():
    _ok(POD_MONITOR)


def test_podmonitor_typo_fails():
    bad = copy.deepcopy(POD_MONITOR)
    bad["spec"]["podMetricsEndpoints"][0]["scrapeInterval"] = "30s"
    _bad(bad, "PodMonitor/tenant-a/agent", "spec.podMetricsEndpoints[0].scrapeInterval", "unknown field")


def test_custom_resource_metadata_is_checked_strictly():
    bad = copy.deepcopy(POD_MONITOR)
    bad["metadata"]["labels"] = {"app": 3}
    bad["metadata"]["annotation"] = {}
    _bad(bad, "metadata.labels.app", "metadata.annotation", "unknown field")


def test_custom_resource_unknown_top_level_field_fails():
    bad = copy.deepcopy(POD_MONITOR)
    bad["specs"] = {}
    _bad(bad, "specs", "unknown field")


def test_null_in_non_nullable_crd_field_fails():
    bad = copy.deepcopy(SCALED_OBJECT)
    bad["spec"]["cooldownPeriod"] = None
    _bad(bad, "spec.cooldownPeriod")


def test_crd_sources_are_the_pinned_ones():
    kinds = k8s_schema.known_custom_kinds()
    for key in (
        "networking.higress.io_v1_McpBridge",
        "networking.higress.io_v1_Http2Rpc",
        "extensions.higress.io_v1alpha1_WasmPlugin",
        "keda.sh_v1alpha1_ScaledObject",
        "keda.sh_v1alpha1_TriggerAuthentication",
        "agents.x-k8s.io_v1beta1_Sandbox",
        "extensions.agents.x-k8s.io_v1beta1_SandboxTemplate",
        "extensions.agents.x-k8s.io_v1beta1_SandboxWarmPool",
        "extensions.agents.x-k8s.io_v1beta1_SandboxClaim",
        "monitoring.coreos.com_v1_PodMonitor",
        "monitoring.coreos.com_v1_ServiceMonitor",
    ):
        assert key in kinds, key
        group = kinds[key]["group"]
        if not os.environ.get("AGENT_RUNTIME_EXTRA_CRDS"):
            assert kinds[key]["source"] == k8s_schema.CRD_SOURCES[group].split()[0], (key, kinds[key])


def test_higress_schemas_are_the_vendored_2_2_1_file():
    vendored = k8s_schema.HIGRESS_VENDORED_CRDS
    assert vendored.is_file(), f"vendored Higress 2.2.1 CRDs missing: {vendored}"
    if os.environ.get("AGENT_RUNTIME_EXTRA_CRDS"):
        return  # an explicit override replaces them; the fixture in test_gateway_security covers that path
    sha = hashlib.sha256(vendored.read_bytes()).hexdigest()
    kinds = k8s_schema.known_custom_kinds()
    higress = {k: kinds[k] for k in k8s_schema.higress_schema_sources()}
    assert set(higress) == {"networking.higress.io_v1_McpBridge", "networking.higress.io_v1_Http2Rpc",
                            "extensions.higress.io_v1alpha1_WasmPlugin"}
    for key, entry in higress.items():
        assert entry["source"] == k8s_schema.HIGRESS_VENDORED_SOURCE, key
        assert entry["source_label"] == "Higress 2.2.1 chart CRDs (vendored, ../shared/vendor)", key
        # the cache is shared between checkouts: the same file is recognised by its content, not its path
        assert entry["source_sha256"] == sha, key


def test_known_schema_gap_tolerates_nothing_with_2x_schemas():
    gap_errors = [
        "McpBridge/higress-system/default: spec.registries[0].enableMCPServer: unknown field 'enableMCPServer' (x)",
        "McpBridge/higress-system/default: spec.registries[0].mcpServerBaseUrl: unknown field 'mcpServerBaseUrl' (x)",
        "WasmPlugin/higress-system/key-auth: spec.failStrategy: unknown field 'failStrategy' (x)",
    ]
    assert [k8s_schema.unknown_field(e) for e in gap_errors] == sorted(k8s_schema.HIGRESS_2X_ONLY_FIELDS)
    assert [e for e in gap_errors if k8s_schema.known_schema_gap(e)] == []


# ---------------------------------------------------------------- fetch script


def test_fetch_script_names_the_missing_tool(tmp_path):
    bin_dir = tmp_path / "bin"  # only the tools the script uses before it looks for go
    bin_dir.mkdir()
    for tool in ("bash", "sha256sum", "cut", "cat", "dirname", "basename"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path), "AGENT_RUNTIME_CACHE": str(tmp_path / "cache"),
           "PYTHON": sys.executable}
    proc = subprocess.run([str(bin_dir / "bash"), str(k8s_schema.FETCH_SCRIPT)], env=env, capture_output=True,
                          text=True)
    assert proc.returncode == 2, proc.stderr
    assert "'go' is not installed" in proc.stderr


def _fetch_copy(tmp_path: Path, *, vendored: bytes | None) -> tuple[Path, Path, Path]:
    """fetch_schemas.sh copied into tmp_path/repo, with or without tmp_path/shared/vendor/...'s CRD file."""
    script = tmp_path / "repo" / "scripts" / "fetch_schemas.sh"
    script.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(k8s_schema.FETCH_SCRIPT, script)
    crd = tmp_path / k8s_schema.HIGRESS_VENDORED_CRDS.relative_to(k8s_schema.REPO_ROOT.parent)
    if vendored is not None:
        crd.parent.mkdir(parents=True, exist_ok=True)
        crd.write_bytes(vendored)
    cache = tmp_path / "cache"
    if not (cache / "gomod").exists():
        cache.mkdir(exist_ok=True)  # reuse the shared Go module cache
        (cache / "gomod").symlink_to(k8s_schema.ensure_crd_schemas().parent.parent / "gomod")
    return script, crd, cache


def _run_fetch(script: Path, cache: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "AGENT_RUNTIME_EXTRA_CRDS"}
    env.update(AGENT_RUNTIME_CACHE=str(cache), PYTHON=sys.executable)
    proc = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc


def test_without_the_vendored_file_the_1_4_2_fallback_is_used_and_said(tmp_path, monkeypatch):
    script, crd, cache = _fetch_copy(tmp_path, vendored=None)
    monkeypatch.delenv("AGENT_RUNTIME_EXTRA_CRDS", raising=False)  # for _expected_stamp; after the shared cache
    proc = _run_fetch(script, cache)
    assert "vendored Higress 2.2.1 CRDs not found" in proc.stderr and k8s_schema.HIGRESS_FALLBACK_MODULE in proc.stderr
    index = json.loads((cache / "schemas" / "crds" / "index.json").read_text())
    assert set(k8s_schema.higress_schema_sources(index).values()) == {k8s_schema.HIGRESS_FALLBACK_MODULE}
    assert (cache / "schemas" / "crds" / ".stamp").read_text().strip() == k8s_schema._expected_stamp(script, crd)
    # only here does the allowance apply, and only to the listed 2.x fields
    gap = "WasmPlugin/higress-system/key-auth: spec.failStrategy: unknown field 'failStrategy' (x)"
    typo = "McpBridge/higress-system/default: spec.registries[0].nacosGroup: unknown field 'nacosGroup' (x)"
    assert k8s_schema.known_schema_gap(gap, index) and not k8s_schema.known_schema_gap(typo, index)


def test_the_stamp_follows_the_vendored_file_content(tmp_path, monkeypatch):
    original = k8s_schema.HIGRESS_VENDORED_CRDS.read_bytes()
    script, crd, cache = _fetch_copy(tmp_path, vendored=original)
    monkeypatch.delenv("AGENT_RUNTIME_EXTRA_CRDS", raising=False)  # for _expected_stamp; after the shared cache
    stamp_file, index_file = cache / "schemas" / "crds" / ".stamp", cache / "schemas" / "crds" / "index.json"
    _run_fetch(script, cache)
    first = k8s_schema._expected_stamp(script, crd)
    assert stamp_file.read_text().strip() == first
    assert "CRD schemas extracted" not in _run_fetch(script, cache).stderr  # warm path
    crd.write_bytes(original + b"# changed\n")
    second = k8s_schema._expected_stamp(script, crd)
    assert second != first
    assert "CRD schemas extracted" in _run_fetch(script, cache).stderr  # refreshed
    assert stamp_file.read_text().strip() == second
    index = json.loads(index_file.read_text())
    assert set(k8s_schema.higress_schema_sources(index).values()) == {k8s_schema.HIGRESS_VENDORED_SOURCE}
    assert index["networking.higress.io_v1_McpBridge"]["source_sha256"] == hashlib.sha256(crd.read_bytes()).hexdigest()
    assert not k8s_schema.known_schema_gap(
        "WasmPlugin/higress-system/key-auth: spec.failStrategy: unknown field 'failStrategy' (x)", index)


# ---------------------------------------------------------------- Pulumi wire form


def test_pulumi_typed_resource_to_object():
    inputs = {
        "metadata": {"name": "agent", "namespace": "tenant-a", "labels": {"app": "agent"}},
        "spec": {
            "replicas": 1.0,
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {
                "metadata": {"labels": {"app": "agent"}},
                "spec": {"containers": [{"name": "agent", "image": "x:1", "ports": [{"containerPort": 8080.0}]}]},
            },
        },
        "__defaults": [],
    }
    obj = pulumi_resource_to_object("kubernetes:apps/v1:Deployment", "agent", inputs)
    assert obj["apiVersion"] == "apps/v1" and obj["kind"] == "Deployment"
    assert obj["spec"]["replicas"] == 1 and isinstance(obj["spec"]["replicas"], int)
    assert obj["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] == 8080
    assert "__defaults" not in obj
    assert list(obj)[:3] == ["apiVersion", "kind", "metadata"]
    _ok(obj)


def test_pulumi_core_secret_and_autoname():
    obj = pulumi_resource_to_object(
        "kubernetes:core/v1:Secret",
        "nacos-auth",
        {"stringData": {"token": {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
                                  "value": "s3cr3t"}, "__odd": "kept"},
         "type": "Opaque"},
    )
    assert obj["apiVersion"] == "v1" and obj["kind"] == "Secret"
    assert obj["metadata"] == {"name": "nacos-auth"}
    assert obj["stringData"] == {"token": "s3cr3t", "__odd": "kept"}
    _ok(obj)


def test_pulumi_custom_resource_to_object():
    inputs = {**copy.deepcopy(SCALED_OBJECT)}
    inputs["spec"]["maxReplicaCount"] = 3.0
    obj = pulumi_resource_to_object("kubernetes:apiextensions.k8s.io:CustomResource", "so", inputs)
    assert obj["apiVersion"] == "keda.sh/v1alpha1" and obj["kind"] == "ScaledObject"
    assert obj["spec"]["maxReplicaCount"] == 3 and isinstance(obj["spec"]["maxReplicaCount"], int)
    _ok(obj)
    inputs["spec"]["maxReplicas"] = 3.0
    _bad(pulumi_resource_to_object("kubernetes:apiextensions.k8s.io:CustomResource", "so", inputs),
         "spec.maxReplicas", "unknown field")


def test_pulumi_non_float_values_kept():
    obj = pulumi_resource_to_object("kubernetes:core/v1:ConfigMap", "c", {"data": {"ratio": "0.5"}, "x": 0.5})
    assert obj["x"] == 0.5 and obj["data"] == {"ratio": "0.5"}


@pytest.mark.parametrize(
    "typ",
    [
        "random:index/randomPassword:RandomPassword",
        "pulumi:providers:kubernetes",
        "pulumi:pulumi:Stack",
        "agent-runtime:index:Tenant",
        "kubernetes:helm.sh/v3:Release",
        "kubernetes:helm.sh/v4:Chart",
        "kubernetes:yaml/v2:ConfigGroup",
        "kubernetes:yaml:ConfigFile",
        "kubernetes:kustomize/v2:Directory",
        "kubernetes:apps/v1:DeploymentPatch",
        "kubernetes:apiextensions.k8s.io:CustomResourcePatch",
    ],
)
def test_pulumi_non_kubernetes_types_are_none(typ):
    assert pulumi_resource_to_object(typ, "n", {"metadata": {"name": "n"}}) is None


def test_pulumi_other_groups_map_to_api_versions():
    for typ, api_version in [
        ("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "rbac.authorization.k8s.io/v1"),
        ("kubernetes:networking.k8s.io/v1:NetworkPolicy", "networking.k8s.io/v1"),
        ("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "autoscaling/v2"),
        ("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition", "apiextensions.k8s.io/v1"),
    ]:
        assert pulumi_resource_to_object(typ, "n", {})["apiVersion"] == api_version


# ---------------------------------------------------------------- CRD schema translation (no download)


def test_crd_translation_emulates_pruning_rules():
    import jsonschema

    crd_schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "required": ["size"],
                "properties": {
                    "size": {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]},
                    "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                    "opt": {"type": "string", "nullable": True, "enum": ["a", "b"]},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
                    "oneSide": {
                        "type": "object",
                        "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
                        "oneOf": [{"required": ["a"]}, {"required": ["b"]}],
                    },
                    "empty": {"type": "object"},
                    "pod": {"type": "object", "x-kubernetes-embedded-resource": True,
                            "x-kubernetes-preserve-unknown-fields": True},
                },
            }
        },
    }
    v = jsonschema.Draft202012Validator(k8s_schema._crd_to_jsonschema(crd_schema))

    def errs(spec):
        return [e.message for e in v.iter_errors({"spec": spec})]

    good = {"size": "1Gi", "free": {"any": {"thing": 1}}, "opt": None, "labels": {"x": "y"},
            "tags": ["a", "b"], "oneSide": {"a": "1"}, "empty": {}, "pod": {"apiVersion": "v1", "kind": "Pod"}}
    assert errs(good) == []
    assert errs({**good, "size": 3}) == []
    assert errs({**good, "size": 1.5})
    assert errs({**good, "sise": 1})                      # unknown field
    assert errs({**good, "opt": "c"})                     # enum
    assert errs({**good, "labels": {"x": 1}})             # map value type
    assert errs({**good, "tags": ["a", "a"]})             # list-type set
    assert errs({**good, "oneSide": {"a": "1", "b": "2"}})
    assert errs({**good, "empty": {"x": 1}})              # object with no fields prunes everything
    assert errs({k: v for k, v in good.items() if k != "size"})
