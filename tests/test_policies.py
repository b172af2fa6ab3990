"""The policy pack: layout, metadata, config files, and the real program for dev and prod.

The real program runs under mocks (tests/harness.run_program); every registration
goes through every policy - remediations first, as the engine orders them - with
the environment's own policy config (policies/config.<env>.json). Zero violations
are expected; the negative controls prove the same run would catch a problem.
"""

from __future__ import annotations

import ast
import copy
import json
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import run_program  # noqa: E402
from policy_cases import resources as R  # noqa: E402
from policy_cases import support as S  # noqa: E402
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy  # noqa: E402

PACK = S.PACK_DIR


@pytest.fixture(scope="module")
def programs():
    return {stack: run_program(stack) for stack in ("dev", "prod")}


# ---------------------------------------------------------------- layout and metadata
def test_pack_layout():
    meta = yaml.safe_load((PACK / "PulumiPolicy.yaml").read_text())
    assert meta["runtime"]["name"] == "python" and meta["version"] and meta["description"]
    reqs = {line.split("==")[0].strip().lower(): line.split("==")[1].strip() for line in (PACK / "requirements.txt").read_text().splitlines() if "==" in line}
    assert reqs == {"pulumi": "3.272.0", "pulumi-policy": "1.21.0"}


def test_main_only_builds_the_pack():
    """PolicyPack() blocks serving gRPC: __main__.py must do nothing but build it from the importable module."""
    tree = ast.parse((PACK / "__main__.py").read_text())
    calls = [n for n in tree.body if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)]
    assert [ast.unparse(c.value) for c in calls][-1] == "build_pack()"
    assert not any(isinstance(n, (ast.FunctionDef, ast.ClassDef)) for n in tree.body)
    assert any(isinstance(n, ast.ImportFrom) and n.module == "agent_runtime_policies" for n in tree.body)


def test_policy_set():
    policies = S.pack.POLICIES
    assert len(policies) >= 20
    names = [p.name for p in policies]
    assert len(names) == len(set(names))
    levels = {p.name: p.enforcement_level for p in policies}
    assert levels.pop("agent-topology-spread") == EnforcementLevel.ADVISORY
    # no remediation by default: it rewrites inputs in every preview (seen on the real engine);
    # a team can still switch standard-labels to 'remediate' in its policy config
    assert set(levels.values()) == {EnforcementLevel.MANDATORY}
    assert S.BY_NAME["standard-labels"].has_remediation()
    assert sum(isinstance(p, StackValidationPolicy) for p in policies) >= 6
    assert sum(isinstance(p, ResourceValidationPolicy) for p in policies) >= 14


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_config_files_validate_against_the_schemas(env):
    given = S.config_file(env)
    assert set(given) <= set(S.BY_NAME) | {"all"}
    config = S.engine_config(given)
    for name in ("nacos-replicas", "nacos-disruption-budget", "gateway-replicas"):
        assert config[name][1]["environment"] == env


def test_schema_rejects_bad_config():
    with pytest.raises(jsonschema.ValidationError):
        S.engine_config({"nacos-replicas": {"environment": "staging"}})
    with pytest.raises(jsonschema.ValidationError):
        S.engine_config({"gateway-replicas": {"minReplicas": "three"}})


# ---------------------------------------------------------------- the real program
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_real_program_passes_every_policy(programs, stack):
    resources = S.from_registered(programs[stack].resources)
    found = S.run_direct(resources, env=stack)
    assert found == [], "\n".join(f"[{v.level.name}] {v.policy}: {v.message}" for v in found)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_real_program_is_actually_inspected(programs, stack):
    """Negative control: the same run catches what it should (the policies see the real registrations)."""
    resources = S.from_registered(programs[stack].resources)
    types = {r.type for r in resources}
    assert {"kubernetes:apps/v1:StatefulSet", "kubernetes:helm.sh/v4:Chart", "kubernetes:core/v1:Namespace"} <= types
    sts = next(r for r in resources if r.type == "kubernetes:apps/v1:StatefulSet")
    sts.props["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = True
    sts.props["spec"]["template"]["spec"]["containers"][0]["image"] = "nacos/nacos-server:latest"
    resources = [r for r in resources if not (r.type == "kubernetes:networking.k8s.io/v1:NetworkPolicy" and r.props["metadata"]["name"] == "default-deny" and r.props["metadata"]["namespace"] == "tenant-retail")]
    found = {(v.policy, v.urn) for v in S.run_direct(resources, env=stack)}
    assert ("no-privileged-containers", sts.urn) in found
    assert ("images-pinned", sts.urn) in found
    assert ("nacos-image-supported", sts.urn) in found
    tenant_ns = next(r for r in resources if r.type == "kubernetes:core/v1:Namespace" and r.props["metadata"]["name"] == "tenant-retail")
    assert ("tenant-namespace-guardrails", tenant_ns.urn) in found


def test_dev_program_fails_prod_rules(programs):
    """The dev stack (1 Nacos, 1 gateway replica) checked with the prod policy config is refused."""
    resources = S.from_registered(programs["dev"].resources)
    prod_rules = {"nacos-replicas", "gateway-replicas", "nacos-disruption-budget"}
    as_dev = {v.policy for v in S.run_direct(resources, env="dev")}
    assert not as_dev & prod_rules
    found = S.run_direct(resources, env="prod")
    by_policy = {v.policy: v for v in found}
    assert prod_rules <= set(by_policy)
    # nothing but the prod-only rules changes between the two configurations
    assert set(by_policy) - prod_rules == as_dev
    assert "Nacos runs 1.0 replica(s) in prod" in by_policy["nacos-replicas"].message
    assert "Higress runs 1 gateway replica(s)" in by_policy["gateway-replicas"].message


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_real_program_with_agents_passes(programs, stack):
    """Compliant agents, auth plugins and a sandbox template in the program's own tenant namespace pass."""
    program = S.from_registered(programs[stack].resources)
    baseline = {(v.policy, v.urn) for v in S.run_direct(program, env=stack)}
    # (without the bundle's AgentCard: one registration would make the registry check compare every real route)
    resources = program + R.without(f"{R.AGENT}-agent-card", resources=R.agent_resources()) + R.auth_plugins() + R.sandbox_resources()
    found = [v for v in S.run_direct(resources, env=stack) if (v.policy, v.urn) not in baseline]
    assert found == [], "\n".join(f"{v.policy}: {v.message}" for v in found)
    # ...and without the tenant's default-deny the sandbox and the tenant are both caught
    pruned = [r for r in resources if not r.name.startswith("tenant-retail-default-deny")]
    broken = {v.policy for v in S.run_direct(pruned, env=stack)}
    assert "tenant-namespace-guardrails" in broken


# ---------------------------------------------------------------- remediation
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_object_of_the_real_program_carries_the_standard_labels(programs, stack):
    """Nothing to remediate: a remediation would rewrite inputs and print a change block in every preview."""
    resources = S.from_registered(programs[stack].resources)
    policy = S.BY_NAME["standard-labels"]
    cfg = S.engine_config(S.config_file(stack))["standard-labels"][1]
    needing = [r.name for r in resources if policy.remediate(S.ResourceValidationArgs(r.type, copy.deepcopy(r.props), r.urn, r.name, S._opts(), None, cfg)) is not None]
    assert needing == []
    assert not [v for v in S.run_direct(resources, given=S.config_file(stack)) if v.policy == "standard-labels"]


def test_remediation_is_idempotent_and_keeps_existing_labels():
    policy = S.BY_NAME["standard-labels"]
    props = {"metadata": {"name": "x", "labels": {"app.kubernetes.io/name": "x", "app.kubernetes.io/managed-by": "Helm"}}}
    new = S._unproxy(policy.remediate(S.ResourceValidationArgs("kubernetes:core/v1:ConfigMap", copy.deepcopy(props), "urn:x", "x", S._opts(), None, {})))
    assert new["metadata"]["labels"] == {**props["metadata"]["labels"], "app.kubernetes.io/part-of": "agent-runtime"}
    assert policy.remediate(S.ResourceValidationArgs("kubernetes:core/v1:ConfigMap", copy.deepcopy(new), "urn:x", "x", S._opts(), None, {})) is None


def test_remediation_adds_labels_when_metadata_missing():
    policy = S.BY_NAME["standard-labels"]
    props = {"spec": {"podSelector": {}}}
    new = S._unproxy(policy.remediate(S.ResourceValidationArgs("kubernetes:networking.k8s.io/v1:NetworkPolicy", props, "urn:x", "np", S._opts(), None, {})))
    assert new["metadata"]["labels"] == {"app.kubernetes.io/part-of": "agent-runtime", "app.kubernetes.io/managed-by": "pulumi"}
    assert policy.remediate(S.ResourceValidationArgs("kubernetes:helm.sh/v4:Chart", {"chart": "x"}, "urn:y", "c", S._opts(), None, {})) is None
