"""The stack, run for real: the Pulumi engine applies it to a local API server and registers it in a real Nacos.

One stack goes through a life in order: up, a second preview with nothing to do, agent
changes (a prompt released as a new version, then a canary weight), a change the policy
pack refuses, a Nacos outage and an API-server refusal during `up`, and destroy. Every
check reads the API server (kubectl) or Nacos (its HTTP API) directly, never Pulumi's
outputs. What each change should touch comes from the program itself, run under mocks
before and after the change: the engine must change exactly those resources.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from pathlib import Path

import pytest

from conftest import AGENT_SECRETS, PROJECT, STACK, E2EStack, Run
from harness import ProgramRun, run_program

HERE = Path(__file__).resolve().parent
NOT_CHANGES = {"same", "read", "refresh"}
REPLACE_OPS = {"replace", "create-replacement", "delete-replaced"}


# --------------------------------------------------------------------------- oracles


def mock_run(e2e: E2EStack) -> ProgramRun:
    """The program's intent for the stack as it is now: the same code and stack file under mocks."""
    secrets = {k.split(":", 1)[1]: "x" * 44 for k, v in e2e.stack_config().items() if isinstance(v, dict) and "secure" in v}
    secrets["nacosAuthToken"] = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
    # set key by key (--path): the same shape, stand-in values (what the program registers does not depend on them)
    secrets["agentSecrets"] = json.dumps({t: {n: {k: "stand-in" for k in d} for n, d in s.items()} for t, s in AGENT_SECRETS.items()})
    return run_program(STACK, secrets=secrets, stack_file=e2e.project_dir / f"Pulumi.{STACK}.yaml")


def kube_objects(run: ProgramRun) -> list[tuple[str, str, str, str]]:
    """(apiVersion, kind, namespace, name) of every Kubernetes object the program registers (charts expand on the server)."""
    out = []
    for r in run.resources:
        if r.typ.startswith("kubernetes:") and not r.typ.startswith("kubernetes:helm.sh"):
            out.append((r.inputs["apiVersion"], r.inputs["kind"], r.k8s_namespace or "", r.k8s_name))
    return out


def kubectl_type(api_version: str, kind: str) -> str:
    group_version = api_version.split("/")
    return f"{kind}.{group_version[1]}.{group_version[0]}" if len(group_version) == 2 else kind


def expected_changes(before: ProgramRun, after: ProgramRun) -> dict[str, str]:
    """urn -> create | delete | update, from the program's registrations before and after a change."""
    old = {r.urn: r for r in before.resources}
    new = {r.urn: r for r in after.resources}
    changes = {urn: "create" for urn in new.keys() - old.keys()}
    changes.update({urn: "delete" for urn in old.keys() - new.keys()})
    for urn in new.keys() & old.keys():
        if new[urn].inputs != old[urn].inputs:
            changes[urn] = "update"
    return changes


def engine_changes(run: Run) -> dict[str, str]:
    """urn -> create | delete | update as the engine planned it (a replacement counts as an update)."""
    out = {}
    for step in run.steps:
        op = step["op"]
        if op in NOT_CHANGES:
            continue
        out[step["urn"]] = "update" if op in REPLACE_OPS else op
    return out


def assert_same_changes(run: Run, expected: dict[str, str]) -> None:
    got = engine_changes(run)
    if got != expected:
        missing = {u: o for u, o in expected.items() if got.get(u) != o}
        extra = {u: o for u, o in got.items() if expected.get(u) != o}
        pytest.fail(f"the engine's plan differs from the program's change.\nexpected but not planned: {json.dumps(missing, indent=1)}\nplanned but not expected: {json.dumps(extra, indent=1)}\n{run.output[-4000:]}")


def assert_ok(run: Run) -> None:
    assert run.code == 0, f"stack.py failed (exit {run.code}):\n{run.output[-6000:]}"
    assert "Traceback" not in run.output, run.output[-4000:]


def nacos_card(e2e: E2EStack, tenant: str, agent: str) -> dict:
    status, body = e2e.nacos.request("GET", "/v3/admin/ai/a2a", {"namespaceId": f"tenant-{tenant}", "agentName": agent})
    assert status == 200 and body.get("code") == 0, f"AgentCard {agent} in tenant-{tenant}: HTTP {status} {body}"
    return body["data"]


def nacos_versions(e2e: E2EStack, tenant: str, agent: str) -> list[str]:
    status, body = e2e.nacos.request("GET", "/v3/admin/ai/a2a/version/list", {"namespaceId": f"tenant-{tenant}", "agentName": agent})
    assert status == 200 and body.get("code") == 0, f"versions of {agent}: HTTP {status} {body}"
    return sorted(v["version"] for v in body["data"])


def nacos_config(e2e: E2EStack, tenant: str, data_id: str) -> tuple[int, str]:
    """(HTTP status, content) of an agent version's live configuration item, read as the admin."""
    status, body = e2e.nacos.request("GET", "/v3/admin/cs/config", {"namespaceId": f"tenant-{tenant}", "groupName": "agent-runtime", "dataId": data_id})
    data = body.get("data") if isinstance(body, dict) else None
    return status, data.get("content", "") if isinstance(data, dict) else ""


def reader_password(e2e: E2EStack, tenant: str, agent: str) -> str:
    """The agent's Nacos reader password, as its pods get it: from the Secret in its tenant namespace."""
    secret = e2e.get("secret", f"{agent}-nacos-reader", f"tenant-{tenant}")
    assert secret is not None, f"Secret {agent}-nacos-reader in tenant-{tenant}"
    return base64.b64decode(secret["data"]["password"]).decode()


def subscribed_during(e2e: E2EStack, tenant: str, agent: str, data_id: str, action):
    """Run `action` while nacos-sdk-python is subscribed to one item as the agent is (its own reader user, gRPC).

    Returns (content before, the first content pushed after, what `action` returned). The SDK runs
    on this thread's event loop and `action` on a worker thread, so no event loop lives on a
    thread of its own.
    """
    from v2.nacos import ClientConfigBuilder, ConfigParam, NacosConfigService

    async def run():
        config = (
            ClientConfigBuilder()
            .server_address(e2e.nacos.server_addr)
            .namespace_id(f"tenant-{tenant}")
            .username(f"agent-{tenant}-{agent}")
            .password(reader_password(e2e, tenant, agent))
            .log_level("WARNING")
            .log_dir(str(e2e.log_dir / "nacos-client"))
            .cache_dir(str(e2e.log_dir / "nacos-client-cache"))
            .build()
        )
        service = await NacosConfigService.create_config_service(config)
        pushed: asyncio.Queue = asyncio.Queue()

        async def listener(_tenant, _group, _data_id, content):
            await pushed.put(content)

        try:
            before = await service.get_config(ConfigParam(data_id=data_id, group="agent-runtime"))
            await service.add_listener(data_id, "agent-runtime", listener)
            result = await asyncio.to_thread(action)
            try:
                after = await asyncio.wait_for(pushed.get(), timeout=90)
            except asyncio.TimeoutError:
                pytest.fail("the subscribed agent heard nothing within 90 s of the up", pytrace=False)
            return before, after, result
        finally:
            await service.shutdown()

    return asyncio.run(run())


def wait_until(what: str, check, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not true after {timeout:.0f} s", pytrace=False)
        time.sleep(1)


# --------------------------------------------------------------------------- the life of a stack


@pytest.fixture(scope="module")
def deployed(e2e):
    """Step 1 as a fixture: every later step starts from a stack that is up."""
    run = e2e.run("up")
    assert_ok(run)
    return {"up": run, "objects": kube_objects(mock_run(e2e))}


def test_up_lands_every_object_in_the_api_server(e2e, deployed):
    objects = deployed["objects"]
    assert len(objects) > 50
    missing = []
    for api_version, kind, namespace, name in objects:
        if e2e.get(kubectl_type(api_version, kind), name, namespace or None) is None:
            missing.append(f"{kind} {namespace}/{name}")
    assert not missing, f"registered by the program but absent from the API server: {missing}"


def test_workloads_become_ready_on_the_fake_nodes(e2e, deployed):
    namespaces = {ns for _, _, ns, _ in deployed["objects"] if ns} | {"higress-system", "keda"}
    for ns in sorted(namespaces):
        for kind in ("deployments", "statefulsets"):
            items = json.loads(e2e.kubectl("get", kind, "-n", ns, "-o", "json").stdout)["items"]
            for item in items:
                want = item["spec"].get("replicas", 1)
                ready = (item.get("status") or {}).get("readyReplicas", 0)
                assert ready == want, f"{kind} {ns}/{item['metadata']['name']}: {ready}/{want} ready"
    nacos = e2e.get("statefulset", "nacos", "agent-runtime")
    assert nacos["status"]["readyReplicas"] == 1
    # the charts' own workloads came up too
    for ns, name in (("higress-system", "higress-gateway"), ("higress-system", "higress-controller"), ("keda", "keda-operator")):
        assert (e2e.get("deployment", name, ns) or {}).get("status", {}).get("readyReplicas", 0) >= 1, f"{ns}/{name}"
    # the Nacos volume was really provisioned and bound
    claim = e2e.get("pvc", "data-nacos-0", "agent-runtime")
    assert claim["status"]["phase"] == "Bound"


def test_tenant_namespaces_enforce_the_restricted_pod_standard(e2e, deployed):
    for tenant in ("retail", "research"):
        ns = e2e.get("namespace", f"tenant-{tenant}")
        assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    root_pod = json.dumps({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "root-probe", "namespace": "tenant-retail"},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.37.0", "securityContext": {"runAsUser": 0}}]},
    })
    refused = e2e.plane.kubectl("apply", "--dry-run=server", "-f", "-", input=root_pod, check=False)
    assert refused.returncode != 0 and "violates PodSecurity" in refused.stderr, refused.stderr


def a2a_ingress_paths(e2e: E2EStack, tenant: str, agent: str) -> set[str]:
    """The paths of the agent's A2A Ingresses in the cluster (the gateway's A2A routes to it)."""
    items = json.loads(e2e.kubectl(
        "get", "ingress", "-n", f"tenant-{tenant}", "-l", f"agent-runtime.io/agent={agent},agent-runtime.io/route-kind=a2a", "-o", "json"
    ).stdout)["items"]
    return {p["path"] for i in items for rule in i["spec"]["rules"] for p in rule["http"]["paths"]}


def test_agent_cards_and_mcp_servers_are_in_nacos(e2e, deployed):
    for tenant, agent, version in (("retail", "orchestrator", "2.0.0"), ("retail", "conversation", "1.2.0"), ("research", "research-assistant", "0.9.0")):
        card = nacos_card(e2e, tenant, agent)
        assert card["name"] == agent and card["version"] == version
        # the card names only A2A routes the cluster has: the agent-wide route when some caller may call every
        # skill, else the first called skill's; every route in additionalInterfaces. Nobody calls orchestrator's
        # skill and research-assistant has none: no A2A route, the agent-wide URL and no interface.
        urls = [card["url"], *(i["url"] for i in card.get("additionalInterfaces") or [])]
        paths = {"/api/v1/internal/" + u.split("/api/v1/internal/", 1)[1] for u in urls}
        routed = a2a_ingress_paths(e2e, tenant, agent)
        if routed:
            assert paths == routed, (agent, urls, routed)
        else:
            assert card["url"].endswith(f"/api/v1/internal/a2a/{agent}") and not card.get("additionalInterfaces"), card
    assert nacos_card(e2e, "retail", "conversation")["url"].endswith("/api/v1/internal/a2a/conversation/chat-v1")
    for tenant, server in (("retail", "product-catalog"), ("research", "web-search")):
        status, body = e2e.nacos.request("GET", "/v3/admin/ai/mcp", {"namespaceId": f"tenant-{tenant}", "mcpName": server})
        assert status == 200 and body.get("code") == 0, body
        assert body["data"]["name"] == server


def _secret_values(value) -> list[str]:
    if isinstance(value, dict):
        return [v for item in value.values() for v in _secret_values(item)]
    return [value] if isinstance(value, str) else []


def test_the_agents_secrets_the_stack_supplies_are_in_their_tenant_namespaces(e2e, deployed):
    for tenant, secrets in AGENT_SECRETS.items():
        for name, data in secrets.items():
            secret = e2e.get("secret", name, f"tenant-{tenant}")
            assert secret is not None, f"Secret {name} in tenant-{tenant}"
            assert sorted(secret["data"]) == sorted(data)
    assert "customer assistant" in e2e.get("configmap", "conversation-prompts", "tenant-retail")["data"]["system.md"]


def test_no_secret_in_plain_text_in_state_configmaps_or_output(e2e, deployed):
    shown = json.loads(e2e.run_cli("config", "--show-secrets", "--json"))
    values = [v for entry in shown.values() if entry.get("secret") for v in _secret_values(entry.get("objectValue", entry["value"]))]
    # three generated platform secrets, the registry password and the agents' nine keys
    assert len(values) == 4 + sum(len(d) for s in AGENT_SECRETS.values() for d in s.values()), values
    state_text = "".join(p.read_text(errors="replace") for p in e2e.state_dir.rglob("*") if p.is_file())
    configmaps = e2e.kubectl("get", "configmaps", "-A", "-o", "json").stdout
    for value in values:
        assert value not in state_text, "a secret is in the Pulumi state in plain text"
        assert value not in configmaps, "a secret is in a ConfigMap"
        assert value not in deployed["up"].output, "a secret was printed"


def test_second_preview_has_nothing_to_do(e2e, deployed):
    run = e2e.run("preview", "--expect-no-changes")
    assert_ok(run)
    assert engine_changes(run) == {}, run.output[-3000:]
    assert set(run.summary) <= {"same"}, run.summary


def change_agent(e2e: E2EStack, agent: str, edit) -> dict[str, str]:
    """Edit an agent's YAML; its preview must plan exactly what the program's before/after says; apply it."""
    before = mock_run(e2e)
    e2e.edit_agent(agent, edit)
    expected = expected_changes(before, mock_run(e2e))
    preview = e2e.run("preview")
    assert_ok(preview)
    assert_same_changes(preview, expected)
    assert_ok(e2e.run("up"))
    return expected


def test_a_prompt_released_as_a_new_version_changes_exactly_its_resources(e2e, deployed):
    def new_prompt(spec):
        spec["systemPrompt"] = {"inline": "You are the retail orchestrator. Answer in the customer's language."}
        spec["version"] = "2.0.1"

    expected = change_agent(e2e, "orchestrator", new_prompt)
    assert expected and all("orchestrator" in urn for urn in expected), expected
    card = nacos_card(e2e, "retail", "orchestrator")
    assert card["version"] == "2.0.1"
    assert nacos_versions(e2e, "retail", "orchestrator") == ["2.0.0", "2.0.1"]
    # the prompt is live configuration: the new version's item in Nacos, the old version's item gone
    status, content = nacos_config(e2e, "retail", "orchestrator_2.0.1.json")
    assert status == 200 and "customer's language" in json.loads(content)["systemPrompt"]["text"]
    assert nacos_config(e2e, "retail", "orchestrator_2.0.0.json")[0] == 404
    assert e2e.get("configmap", "orchestrator-v2-0-1-config", "tenant-retail") is not None
    assert e2e.get("configmap", "orchestrator-v2-0-0-config", "tenant-retail") is None


def test_a_canary_weight_change_updates_only_the_canary_routes(e2e, deployed):
    def shift(spec):
        spec["rollout"]["versions"][0]["weight"] = 70
        spec["rollout"]["versions"][1]["weight"] = 30

    expected = change_agent(e2e, "conversation", shift)
    # chat-v1 is pinned to 1.2.0 (no canary); compose-v1 follows the rollout
    assert sorted(urn.split("::")[-1] for urn in expected) == [
        "agent-conversation-ingress-a2a-compose-v1-canary-v1-3-0", "agent-conversation-ingress-chat-canary-v1-3-0"
    ]
    assert set(expected.values()) == {"update"}
    weights = {
        i["metadata"]["name"]: i["metadata"]["annotations"].get("higress.io/canary-weight")
        for i in json.loads(e2e.kubectl("get", "ingress", "-n", "tenant-retail", "-o", "json").stdout)["items"]
        if "canary-weight" in json.dumps(i["metadata"].get("annotations", {}))
    }
    assert weights == {"conversation-chat-canary-v1-3-0": "30", "conversation-a2a-compose-v1-canary-v1-3-0": "30"}, weights


def test_a_prompt_change_is_pushed_to_the_subscribed_agent_and_rolls_no_pod(e2e, deployed):
    before = e2e.get("deployment", "orchestrator-v2-0-1", "tenant-retail")
    replica_sets = lambda: sorted(  # noqa: E731 - one per pod template the Deployment ever had
        r["metadata"]["name"] for r in json.loads(e2e.kubectl("get", "replicasets", "-n", "tenant-retail", "-l", "agent-runtime.io/agent=orchestrator", "-o", "json").stdout)["items"]
    )
    sets_before = replica_sets()
    before_content, pushed, expected = subscribed_during(
        e2e, "retail", "orchestrator", "orchestrator_2.0.1.json",
        lambda: change_agent(e2e, "orchestrator", lambda spec: spec.update(systemPrompt={"inline": "You are the retail orchestrator, live edition."})),
    )
    assert "customer's language" in before_content
    assert [urn.split("::")[-1] for urn in expected] == ["agent-orchestrator-v2-0-1-live-config"] and set(expected.values()) == {"update"}, expected
    assert json.loads(pushed)["systemPrompt"]["text"] == "You are the retail orchestrator, live edition."
    after = e2e.get("deployment", "orchestrator-v2-0-1", "tenant-retail")
    assert after["metadata"]["generation"] == before["metadata"]["generation"]
    assert after["spec"]["template"] == before["spec"]["template"]
    assert replica_sets() == sets_before


def test_live_configuration_holds_no_secret(e2e, deployed):
    """Read from Nacos directly: no agent key and no reader password is in any item."""
    secrets = [v for s in AGENT_SECRETS.values() for d in s.values() for v in d.values()]
    secrets += [reader_password(e2e, t, a) for t, a in (("retail", "orchestrator"), ("retail", "conversation"), ("research", "research-assistant"))]
    items = []
    for tenant in ("retail", "research"):
        status, body = e2e.nacos.request("GET", "/v3/admin/cs/config/list", {"namespaceId": f"tenant-{tenant}", "groupName": "agent-runtime", "dataId": "", "pageNo": 1, "pageSize": 100})
        assert status == 200, body
        for entry in body["data"]["pageItems"]:
            items.append(nacos_config(e2e, tenant, entry["dataId"])[1])
    assert len(items) >= 4, items
    for content in items:
        assert not [s for s in secrets if s in content]
    state_text = "".join(p.read_text(errors="replace") for p in e2e.state_dir.rglob("*") if p.is_file())
    assert not [s for s in secrets[-3:] if s in state_text], "a reader password is in the Pulumi state in plain text"


def test_a_privileged_pod_is_refused_by_the_policy_pack_and_nothing_is_applied(e2e, deployed):
    e2e.edit_agent("orchestrator", lambda spec: spec.update(description="Changed together with the refused pod."))
    run = e2e.run("up", program=HERE / "privileged_program.py")
    assert run.code != 0
    refused = [v for v in run.violations if v["policy"] == "no-privileged-containers"]
    assert refused and refused[0]["level"] == "mandatory", run.violations
    assert "debug-shell" in refused[0]["urn"]
    assert e2e.get("deployment", "debug-shell", "tenant-retail") is None
    assert "Changed together" not in json.dumps(nacos_card(e2e, "retail", "orchestrator"))
    # back to the real program: the description change is all that is left to apply
    assert_ok(e2e.run("up"))
    assert nacos_card(e2e, "retail", "orchestrator")["description"] == "Changed together with the refused pod."


def test_nacos_down_during_up_fails_naming_it_and_a_rerun_converges(e2e, deployed):
    e2e.edit_agent("research-assistant", lambda spec: spec.update(version="0.9.1"))
    e2e.nacos.stop()
    try:
        failed = e2e.run("up")
    finally:
        e2e.nacos.start(e2e.nacos.artifacts)
    assert failed.code != 0
    assert e2e.nacos.server_addr in failed.output, failed.output[-4000:]
    assert "Traceback" not in failed.output
    assert_ok(e2e.run("up"))
    assert_ok(e2e.run("preview", "--expect-no-changes"))
    assert nacos_card(e2e, "research", "research-assistant")["version"] == "0.9.1"
    assert nacos_versions(e2e, "research", "research-assistant") == ["0.9.0", "0.9.1"]


REFUSING_POLICY = """
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: e2e-refuse-orchestrator-config}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
      - {apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["configmaps"]}
  validations:
    - expression: "!object.metadata.name.startsWith('orchestrator-')"
      message: "e2e refuses the orchestrator ConfigMap"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: e2e-refuse-orchestrator-config}
spec:
  policyName: e2e-refuse-orchestrator-config
  validationActions: [Deny]
"""


def test_an_object_the_api_server_refuses_fails_naming_it_and_a_rerun_converges(e2e, deployed):
    e2e.plane.kubectl("apply", "-f", "-", input=REFUSING_POLICY)
    probe = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"orchestrator-probe","namespace":"tenant-retail"}}'
    wait_until("the admission policy is in force", lambda: e2e.plane.kubectl("apply", "--dry-run=server", "-f", "-", input=probe, check=False).returncode != 0)
    # the description is part of the version's ConfigMap (its prompt is live configuration in Nacos)
    e2e.edit_agent("orchestrator", lambda spec: spec.update(description="Plans and delegates retail work, release 3."))
    try:
        failed = e2e.run("up")
    finally:
        e2e.plane.kubectl("delete", "-f", "-", input=REFUSING_POLICY)
    assert failed.code != 0
    assert "e2e refuses the orchestrator ConfigMap" in failed.output, failed.output[-4000:]
    # the server-side dry run of the preview already hears the refusal: nothing was changed
    assert 'configmaps "orchestrator-v2-0-1-config" is forbidden' in failed.output, failed.output[-4000:]
    wait_until("the admission policy is gone", lambda: e2e.plane.kubectl("apply", "--dry-run=server", "-f", "-", input=probe, check=False).returncode == 0)
    assert_ok(e2e.run("up"))
    assert_ok(e2e.run("preview", "--expect-no-changes"))
    assert "release 3" in json.dumps(e2e.get("configmap", "orchestrator-v2-0-1-config", "tenant-retail")["data"])


def test_destroy_leaves_nothing_in_the_api_server_or_nacos(e2e, deployed):
    objects = kube_objects(mock_run(e2e))
    assert_ok(e2e.run("destroy"))
    left = [f"{kind} {ns}/{name}" for api, kind, ns, name in objects if e2e.get(kubectl_type(api, kind), name, ns or None) is not None]
    assert not left, f"left behind: {left}"
    for ns in ("agent-runtime", "higress-system", "keda", "tenant-retail", "tenant-research"):
        assert e2e.get("namespace", ns) is None, f"namespace {ns} is still there"
    # nothing the charts installed either: no object labelled as Helm- or Pulumi-managed anywhere
    kinds = e2e.kubectl("api-resources", "--verbs=list", "-o", "name").stdout.split()
    leftovers = e2e.kubectl("get", ",".join(kinds), "-A", "-l", "app.kubernetes.io/managed-by in (Helm,pulumi)", "-o", "name", check=False).stdout.split()
    assert not leftovers, leftovers
    status, body = e2e.nacos.request("GET", "/v3/admin/core/namespace/list")
    assert status == 200
    assert not {n["namespace"] for n in body["data"]} & {"tenant-retail", "tenant-research"}, body["data"]
    for tenant in ("retail", "research"):
        # Nacos keeps the cards of a deleted namespace readable: each card must have been deleted itself
        status, body = e2e.nacos.request("GET", "/v3/admin/ai/a2a/list", {"namespaceId": f"tenant-{tenant}", "agentName": "", "search": "blur"})
        assert status == 200 and not (body.get("data") or {}).get("pageItems"), body
        status, body = e2e.nacos.request("GET", "/v3/admin/cs/config/list", {"namespaceId": f"tenant-{tenant}", "groupName": "", "dataId": "", "pageNo": 1, "pageSize": 100})
        assert status == 200 and not body["data"]["pageItems"], body
    for agent in ("agent-retail-orchestrator", "agent-retail-conversation", "agent-research-research-assistant"):
        status, body = e2e.nacos.request("GET", "/v3/auth/user/list", {"pageNo": 1, "pageSize": 10, "username": agent, "search": "accurate"})
        assert status == 200 and body["data"]["pageItems"] == [], f"Nacos user {agent} left behind: {body}"
