"""The pack through pulumi-policy's analyzer interface, as the engine drives it.

Two ways: the SDK's `_PolicyAnalyzerServicer` in-process (built from the same
policies as the pack), and the real pack process - `python -m pulumi.policy
<engine> policies`, which is what `pulumi-analyzer-policy-python` runs - spoken to
over gRPC on 127.0.0.1. Requests are protobuf `pulumi.analyzer_pb2` messages:
GetAnalyzerInfo, Configure (per-policy config reconciled from
policies/config.<env>.json like the engine does), Analyze per resource,
AnalyzeStack, Remediate.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from google.protobuf import json_format

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import run_program  # noqa: E402
from policy_cases import resources as R  # noqa: E402
from policy_cases import support as S  # noqa: E402
from pulumi.runtime.proto import analyzer_pb2 as pb  # noqa: E402
from pulumi.runtime.proto import analyzer_pb2_grpc  # noqa: E402

SECRET_SIG = "4dabf18193072939515e22adb298388d"
SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270"
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


@pytest.fixture(scope="module")
def programs():
    return {stack: S.from_registered(run_program(stack).resources) for stack in ("dev", "prod")}


class InProcess:
    """The servicer called directly (context unused by the SDK)."""

    def __init__(self):
        self.servicer = S.new_servicer()

    def __getattr__(self, method):
        return lambda request: getattr(self.servicer, method)(request, None)


def configure(analyzer, env, overrides=None):
    info = analyzer.GetAnalyzerInfo(S.empty())
    given = {**(S.config_file(env) or {}), **(overrides or {})}
    analyzer.Configure(S.configure_request(info, given))
    return info


def analyze_all(analyzer, resources):
    """Engine order per resource: Remediate, then Analyze the remediated inputs; AnalyzeStack at the end."""
    diags, not_applicable, final = [], [], []
    for r in resources:
        r = copy.deepcopy(r)
        for remediation in analyzer.Remediate(S.analyze_request(r)).remediations:
            if remediation.properties.fields:
                r.props = json_format.MessageToDict(remediation.properties)
        final.append(r)
        response = analyzer.Analyze(S.analyze_request(r))
        diags += list(response.diagnostics)
        not_applicable += [(n.policy_name, r.name) for n in response.not_applicable]
    response = analyzer.AnalyzeStack(S.analyze_stack_request(final))
    return diags + list(response.diagnostics), not_applicable + [(n.policy_name, "<stack>") for n in response.not_applicable]


def mandatory(diags):
    return [d for d in diags if d.enforcementLevel == pb.MANDATORY]


def known_program_violations(resources, env):
    return {(v.policy, v.urn) for v in S.run_direct(resources, env=env)}


# ---------------------------------------------------------------- in-process servicer
def test_analyzer_info_describes_the_pack():
    info = InProcess().GetAnalyzerInfo(S.empty())
    assert info.name == S.pack.PACK_NAME and info.supportsConfig
    policies = {p.name: p for p in info.policies}
    assert len(policies) >= 20
    assert policies["standard-labels"].enforcementLevel == pb.MANDATORY
    assert policies["agent-topology-spread"].enforcementLevel == pb.ADVISORY
    assert policies["no-privileged-containers"].enforcementLevel == pb.MANDATORY
    assert policies["tenant-namespace-guardrails"].policy_type == pb.POLICY_TYPE_STACK
    assert policies["images-pinned"].policy_type == pb.POLICY_TYPE_RESOURCE
    schema = json_format.MessageToDict(policies["gateway-replicas"].configSchema.properties)
    assert schema["environment"]["enum"] == ["dev", "prod"] and schema["minReplicas"]["default"] == 3


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_real_program_through_the_servicer(programs, env):
    """Same verdict as the direct run: the servicer sees exactly the violations run_direct reports."""
    analyzer = InProcess()
    configure(analyzer, env)
    resources = programs[env]
    diags, not_applicable = analyze_all(analyzer, resources)
    got = {(d.policyName, d.urn) for d in mandatory(diags)}
    assert got == known_program_violations(resources, env)
    assert not [d for d in diags if "can't run policy" in d.message]
    if env == "dev":
        nacos = next(r.name for r in resources if r.type == "kubernetes:apps/v1:StatefulSet")
        assert ("nacos-replicas", nacos) in not_applicable and ("nacos-disruption-budget", "<stack>") in not_applicable


def test_violation_comes_back_with_policy_name_and_level():
    analyzer = InProcess()
    configure(analyzer, "prod")
    bad = R.mutate(f"{R.AGENT}-deployment", lambda p: R.container(p)["securityContext"].__setitem__("privileged", True))
    dep = R.find(bad, f"{R.AGENT}-deployment")
    response = analyzer.Analyze(S.analyze_request(dep))
    [diag] = list(response.diagnostics)
    assert diag.policyName == "no-privileged-containers"
    assert diag.policyPackName == S.pack.PACK_NAME
    assert diag.enforcementLevel == pb.MANDATORY
    assert diag.urn == dep.urn and "runs privileged" in diag.message and dep.urn in diag.message


def test_configured_enforcement_level_is_honoured():
    analyzer = InProcess()
    configure(analyzer, "prod", {"no-privileged-containers": "advisory", "images-pinned": "disabled"})
    bad = R.mutate(f"{R.AGENT}-deployment", lambda p: (R.container(p)["securityContext"].__setitem__("privileged", True), R.container(p).__setitem__("image", "x/y:latest")))
    response = analyzer.Analyze(S.analyze_request(R.find(bad, f"{R.AGENT}-deployment")))
    assert [(d.policyName, d.enforcementLevel) for d in response.diagnostics] == [("no-privileged-containers", pb.ADVISORY)]


def test_stack_violation_and_environment_config():
    resources = R.without("nacos-pdb", resources=R.full_bundle())
    for env, expected in (("prod", [("nacos-disruption-budget", pb.MANDATORY)]), ("dev", [])):
        analyzer = InProcess()
        configure(analyzer, env)
        response = analyzer.AnalyzeStack(S.analyze_stack_request(resources))
        assert [(d.policyName, d.enforcementLevel) for d in response.diagnostics] == expected
        if env == "prod":
            assert response.diagnostics[0].urn == R.find(resources, "nacos-statefulset").urn


def test_remediation_through_the_servicer_keeps_secrets():
    """A team that switches standard-labels to 'remediate' gets labels added and secrets kept secret."""
    analyzer = InProcess()
    configure(analyzer, "prod", {"standard-labels": "remediate"})
    secret = S.Resource(
        "kubernetes:core/v1:Secret",
        "creds",
        S.urn("kubernetes:core/v1:Secret", "creds"),
        {"metadata": {"name": "creds", "namespace": "higress-system", "labels": {"app.kubernetes.io/name": "higress"}}, "stringData": {"password": {SECRET_SIG: SECRET_VALUE, "value": "hunter2hunter2"}}},
    )
    response = analyzer.Remediate(S.analyze_request(secret))
    [remediation] = list(response.remediations)
    assert remediation.policyName == "standard-labels"
    props = json_format.MessageToDict(remediation.properties)
    assert props["metadata"]["labels"] == {
        "app.kubernetes.io/name": "higress",
        "app.kubernetes.io/part-of": "agent-runtime",
        "app.kubernetes.io/managed-by": "pulumi",
    }
    assert props["stringData"]["password"] == {SECRET_SIG: SECRET_VALUE, "value": "hunter2hunter2"}


def test_unknown_values_during_preview_do_not_break_the_pack():
    analyzer = InProcess()
    configure(analyzer, "prod")
    resources = copy.deepcopy(R.full_bundle())
    dep = R.find(resources, f"{R.AGENT}-deployment")
    R.container(dep.props)["image"] = UNKNOWN_STRING
    R.find(resources, "higress-mcpbridge").props["spec"]["registries"] = "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2"
    R.find(resources, f"{R.AGENT}-hpa").props["spec"]["maxReplicas"] = "3eeb2bf0-c639-47a8-9e75-3b44932eb421"
    diags, _ = analyze_all(analyzer, resources)
    assert diags == []


# ---------------------------------------------------------------- the real pack process over gRPC
@pytest.fixture(scope="module")
def pack_process():
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:0", str(S.PACK_DIR)],
        cwd=str(S.PACK_DIR),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        line = proc.stdout.readline().decode().strip()
        assert line.isdigit(), f"pack did not print its port: {line!r} {proc.stderr.read1(4096) if proc.poll() is not None else ''}"
        channel = grpc.insecure_channel(f"127.0.0.1:{line}")
        grpc.channel_ready_future(channel).result(timeout=20)
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_pack_process_serves_the_analyzer(pack_process, programs):
    info = configure(pack_process, "prod")
    assert info.name == S.pack.PACK_NAME and len(info.policies) == len(S.pack.POLICIES)
    # a bad resource: violation with the right policy and level
    bad = R.mutate("higress-chart", lambda p: p.__setitem__("version", "1.4.2"), R.full_bundle())
    response = pack_process.Analyze(S.analyze_request(R.find(bad, "higress-chart")))
    assert [(d.policyName, d.enforcementLevel) for d in response.diagnostics] == [("higress-chart-supported", pb.MANDATORY)]
    # a stack-level violation
    response = pack_process.AnalyzeStack(S.analyze_stack_request(R.without(f"{R.AGENT}-hpa", resources=R.full_bundle())))
    assert [(d.policyName, d.enforcementLevel) for d in response.diagnostics] == [("agent-autoscaler-required", pb.MANDATORY)]
    # the real prod program: same verdict as the direct run
    diags, _ = analyze_all(pack_process, programs["prod"])
    assert {(d.policyName, d.urn) for d in mandatory(diags)} == known_program_violations(programs["prod"], "prod")


def test_pack_process_reconfigured_for_dev(pack_process, programs):
    configure(pack_process, "dev")
    one_replica = R.platform_resources(replicas=1)
    response = pack_process.Analyze(S.analyze_request(R.find(one_replica, "nacos-statefulset")))
    assert list(response.diagnostics) == [] and [n.policy_name for n in response.not_applicable] == ["nacos-replicas"]
    configure(pack_process, "prod")
    response = pack_process.Analyze(S.analyze_request(R.find(one_replica, "nacos-statefulset")))
    assert [(d.policyName, d.enforcementLevel) for d in response.diagnostics] == [("nacos-replicas", pb.MANDATORY)]
