"""Wrong stack settings fail the whole program run with one clear message naming the key."""

import pulumi
import pytest

from models.settings import ConfigError
from harness import run_program

SHORT_TOKEN = "c2hvcnQ="  # base64 of b"short"

CASES = [
    # (id, stack, overrides, secrets, plain_secrets, remove, expected substrings)
    ("environment-without-profile", "dev", {"environment": "staging"}, {}, {}, (), ["agent-runtime:profile: required for environment 'staging'", "dev or prod"]),
    ("profile-unknown", "dev", {"environment": "staging", "profile": "qa"}, {}, {}, (), ["agent-runtime:profile:", "'dev' or 'prod'"]),
    ("environment-not-a-name", "dev", {"environment": "EU Prod"}, {}, {}, (), ["agent-runtime:environment:", "DNS-1123 label"]),
    ("staging-follows-prod", "dev", {"environment": "staging", "profile": "prod"}, {}, {}, (), ["agent-runtime:nacos.replicas: prod needs at least 3"]),
    ("environment-missing", "dev", {}, {}, {}, ("environment",), ["agent-runtime:environment: required setting is missing"]),
    ("top-level-typo", "dev", {"nacoss": {"replicas": 1}}, {}, {}, (), ["agent-runtime:nacoss: unknown setting (did you mean 'nacos'?)"]),
    ("nested-typo", "dev", {"nacos": {"replica": 1}}, {}, {}, (), ["agent-runtime:nacos.replica: unknown setting (did you mean 'replicas'?)"]),
    ("deep-typo-in-a-list", "dev", {"tenants": [{"name": "retail", "teir": "free"}]}, {}, {}, (), ["agent-runtime:tenants.0.teir: unknown setting (did you mean 'tier'?)"]),
    ("typo-far-from-anything", "dev", {"zzzzqqq": 1}, {}, {}, (), ["agent-runtime:zzzzqqq: unknown setting (see README: Stack settings)"]),
    ("nacos-even-replicas", "dev", {"nacos": {"replicas": 2}}, {}, {}, (), ["agent-runtime:nacos.replicas:", "Raft quorum"]),
    ("nacos-image-latest", "dev", {"nacos": {"image": "nacos/nacos-server:latest"}}, {}, {}, (), ["agent-runtime:nacos.image:", "v3.1.x"]),
    ("nacos-image-unpinned", "dev", {"nacos": {"image": "nacos/nacos-server"}}, {}, {}, (), ["agent-runtime:nacos.image:", "pinned"]),
    ("nacos-image-2x", "dev", {"nacos": {"image": "nacos/nacos-server:v2.4.3"}}, {}, {}, (), ["agent-runtime:nacos.image:", "v3.1.x"]),
    ("prod-nacos-single", "prod", {"nacos": {"replicas": 1}}, {}, {}, (), ["nacos.replicas: prod needs at least 3 Nacos replicas"]),
    ("prod-gateway-two", "prod", {"gateway": {"replicas": 2}}, {}, {}, (), ["gateway.replicas: prod needs at least 3 gateway replicas"]),
    ("prod-render", "prod", {"kubernetes": {"renderYamlToDirectory": "out"}}, {}, {}, (), ["renderYamlToDirectory: prod deploys to a cluster"]),
    ("render-and-context", "dev", {"kubernetes": {"renderYamlToDirectory": "out", "context": "kind"}}, {}, {}, (), ["agent-runtime:kubernetes:", "not both"]),
    ("empty-groups", "dev", {"gateway": {"discovery": {"groups": []}}}, {}, {}, (), ["agent-runtime:gateway.discovery.groups:", "discover nothing"]),
    ("refresh-too-fast", "dev", {"gateway": {"discovery": {"refreshIntervalSeconds": 5}}}, {}, {}, (), ["agent-runtime:gateway.discovery.refreshIntervalSeconds:", "greater than or equal to 10"]),
    ("chart-unpinned", "dev", {"gateway": {"chart": {"version": "latest"}}}, {}, {}, (), ["agent-runtime:gateway.chart.version:", "pinned chart version"]),
    ("chart-too-old", "dev", {"gateway": {"chart": {"version": "1.4.2"}}}, {}, {}, (), ["agent-runtime:gateway.chart.version:", "older than 2.1"]),
    ("service-type", "dev", {"gateway": {"serviceType": "ExternalName"}}, {}, {}, (), ["agent-runtime:gateway.serviceType:", "'LoadBalancer', 'NodePort' or 'ClusterIP'"]),
    ("bad-quantity", "dev", {"nacos": {"resources": {"requests": {"cpu": "lots", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}}}, {}, {}, (), ["agent-runtime:nacos.resources.requests.cpu:", "not a Kubernetes quantity"]),
    ("tier-unknown", "dev", {"tenants": [{"name": "retail", "tier": "gold"}]}, {}, {}, (), ["agent-runtime:tenants.0.tier:", "'free', 'standard' or 'premium'"]),
    ("tenant-name", "dev", {"tenants": [{"name": "Retail_Team", "tier": "free"}]}, {}, {}, (), ["agent-runtime:tenants.0.name:", "DNS-1123"]),
    ("tenants-empty", "dev", {"tenants": []}, {}, {}, (), ["agent-runtime:tenants:", "at least 1"]),
    ("tenants-duplicate", "dev", {"tenants": [{"name": "a", "tier": "free"}, {"name": "a", "tier": "premium"}]}, {}, {}, (), ["duplicate tenant names ['a']"]),
    ("tenant-reserved-namespace", "dev", {"tenants": [{"name": "gw", "tier": "free", "namespace": "higress-system"}]}, {}, {}, (), ["reserved for the platform"]),
    ("tenant-public-nacos-ns", "dev", {"tenants": [{"name": "a", "tier": "free", "nacosNamespaceId": "public"}]}, {}, {}, (), ["agent-runtime:tenants.0.nacosNamespaceId:", "must not be 'public'"]),
    ("mysql-without-block", "dev", {"nacos": {"storage": {"type": "mysql"}}}, {}, {}, (), ["agent-runtime:nacos.storage:", "needs a 'mysql' block"]),
    ("mysql-without-password", "dev", {"nacos": {"storage": {"type": "mysql", "mysql": {"host": "db"}}}}, {}, {}, (), ["agent-runtime:nacosMysqlPassword: required"]),
    ("token-too-short", "dev", {}, {"nacosAuthToken": SHORT_TOKEN}, {}, (), ["agent-runtime:nacosAuthToken:", "decodes to 5 bytes", "at least 32"]),
    ("token-not-base64", "dev", {}, {"nacosAuthToken": "not base64 at all!"}, {}, (), ["agent-runtime:nacosAuthToken:", "must be base64"]),
    ("password-short", "dev", {}, {"nacosAdminPassword": "short"}, {}, (), ["agent-runtime:nacosAdminPassword:", "at least 12"]),
    ("secret-in-plain-text", "dev", {}, {}, {"nacosAdminPassword": "plain-text-password-123"}, (), ["agent-runtime:nacosAdminPassword: is stored in plain text", "--secret"]),
    # the message queue
    ("queue-image-other-version", "dev", {"messageQueue": {"enabled": True, "image": "apache/rocketmq:5.1.4"}}, {}, {}, (), ["agent-runtime:messageQueue.image:", "apache/rocketmq:5.3.3"]),
    ("queue-replicated-one-name-server", "dev", {"messageQueue": {"enabled": True, "replicasPerGroup": 2}}, {}, {}, (), ["agent-runtime:messageQueue.nameServers: replicated brokers", "at least 3 name servers"]),
    ("queue-heap-not-a-size", "dev", {"messageQueue": {"enabled": True, "broker": {"heap": "lots", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}}}}, {}, {}, (), ["agent-runtime:messageQueue.broker.heap:", "not a JVM heap size"]),
    ("queue-admin-address", "dev", {"messageQueue": {"enabled": True, "admin": {"namesrvAddr": "http://mq:9876"}}}, {}, {}, (), ["agent-runtime:messageQueue.admin.namesrvAddr:", "must be host:port"]),
    ("queue-admin-other-cluster", "dev", {"messageQueue": {"enabled": True, "admin": {"cluster": "elsewhere"}}}, {}, {}, (), ["agent-runtime:messageQueue.admin.cluster: 'elsewhere' is not the queue's cluster"]),
    ("queue-without-its-secrets", "dev", {"messageQueue": {"enabled": True}}, {}, {}, ("messageQueueAdminPassword", "messageQueueCredentialSeed"), ["agent-runtime:messageQueueAdminPassword: required when messageQueue.enabled", "agent-runtime:messageQueueCredentialSeed: required", "init-secrets"]),
    ("queue-seed-short", "dev", {"messageQueue": {"enabled": True}}, {"messageQueueCredentialSeed": "too-short"}, {}, (), ["agent-runtime:messageQueueCredentialSeed:", "at least 32"]),
    ("prod-queue-unreplicated", "prod", {"messageQueue": {"enabled": True}}, {}, {}, (), ["messageQueue.replicasPerGroup: prod requires replicated brokers", "messageQueue.proxies: prod needs at least 2"]),
    ("prod-queue-acl-off", "prod", {"messageQueue": {"enabled": True, "nameServers": 3, "replicasPerGroup": 2, "proxies": 2, "acl": False}}, {}, {}, (), ["messageQueue.acl: prod requires authentication and ACLs"]),
]


@pytest.mark.parametrize(
    "stack,overrides,secrets,plain,remove,expected",
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_wrong_setting_fails_with_a_clear_error(stack, overrides, secrets, plain, remove, expected):
    with pytest.raises(ConfigError) as raised:
        run_program(stack, overrides=overrides, secrets=secrets, plain_secrets=plain, remove=remove)
    message = str(raised.value)
    for fragment in expected:
        assert fragment in message, f"{fragment!r} not in:\n{message}"
    # a clean RunError: Pulumi prints the message without a stack trace
    assert isinstance(raised.value, pulumi.RunError)
    assert "Traceback" not in message


def test_every_problem_is_listed_at_once():
    with pytest.raises(ConfigError) as raised:
        run_program("prod", overrides={"nacos": {"replicas": 2, "image": "nacos/nacos-server:latest"}, "gateway": {"replicaz": 3}})
    message = str(raised.value)
    assert "agent-runtime:nacos.replicas:" in message
    assert "agent-runtime:nacos.image:" in message
    assert "agent-runtime:gateway.replicaz: unknown setting" in message


def test_every_whole_stack_rule_that_fails_is_listed_at_once():
    """A dev stack copied to a prod-profile staging breaks several prod rules: all are named, not just the first."""
    with pytest.raises(ConfigError) as raised:
        run_program("dev", overrides={"environment": "staging", "profile": "prod", "tenants": [{"name": "a", "tier": "free"}, {"name": "a", "tier": "free"}]})
    problems = raised.value.problems
    for key in ("nacos.replicas", "gateway.replicas", "security.guard.enabled", "security.waf", "security.tls.mode", "tenants"):
        assert any(f" agent-runtime:{key}: " in p for p in problems), f"{key} not in {problems}"


def test_secret_values_are_never_echoed_in_errors():
    with pytest.raises(ConfigError) as raised:
        run_program("dev", secrets={"nacosAdminPassword": "tiny", "nacosAuthToken": "zzzz-not-base64-zzzz"})
    message = str(raised.value)
    assert "tiny" not in message and "zzzz-not-base64-zzzz" not in message


def test_a_config_error_registers_nothing():
    """Validation happens before any resource: a bad stack file deploys nothing, not half."""
    import harness

    registered_before = []

    class Spy(harness.RecordingMonitor):
        def RegisterResource(self, request):  # pragma: no cover - must never run
            registered_before.append(request.type)
            return super().RegisterResource(request)

    original = harness.RecordingMonitor
    harness.RecordingMonitor = Spy
    try:
        with pytest.raises(ConfigError):
            run_program("dev", overrides={"environment": "qa"})
    finally:
        harness.RecordingMonitor = original
    assert [t for t in registered_before if t != "pulumi:pulumi:Stack"] == []


def test_problems_name_the_line_of_the_stack_file_that_holds_the_key(tmp_path):
    """As agent spec errors do: `Pulumi.<stack>.yaml:<line> <key>: <what is wrong>`."""
    from harness import FIXTURE_STACKS

    text = (FIXTURE_STACKS / "Pulumi.dev.yaml").read_text()
    text = text.replace("    replicas: 1\n", "    replica: 1\n", 1)  # the Nacos block's first key
    text = text.replace("  agent-runtime:tenants:\n    - name: retail\n      tier: standard\n", "  agent-runtime:tenants:\n    - name: retail\n      teir: standard\n")
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(text)
    lines = text.splitlines()
    with pytest.raises(ConfigError) as raised:
        run_program("dev", stack_file=stack_file)
    problems = raised.value.problems
    replica_line = next(i for i, line in enumerate(lines, 1) if line.strip() == "replica: 1")
    teir_line = next(i for i, line in enumerate(lines, 1) if line.strip() == "teir: standard")
    assert f"Pulumi.dev.yaml:{replica_line} agent-runtime:nacos.replica: unknown setting (did you mean 'replicas'?)" in problems
    assert f"Pulumi.dev.yaml:{teir_line} agent-runtime:tenants.0.teir: unknown setting (did you mean 'tier'?)" in problems
    assert any(p.startswith(f"Pulumi.dev.yaml:{teir_line - 1} agent-runtime:tenants.0.tier: required") for p in problems), problems
