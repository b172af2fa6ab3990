"""Stack-level rules: relations between resources (budgets, autoscalers, isolation, routes and auth)."""

from __future__ import annotations

from typing import Iterator, Optional

from .framework import ENVIRONMENT_PROPS, require_environment, schema, stack_policy
from .model import (
    A2A_PATH_PREFIX,
    A_A2A_ALLOW_AGENTS,
    A_A2A_ALLOW_TENANTS,
    A_A2A_SENSITIVE,
    A_A2A_SKILL,
    A_A2A_SKILLS,
    A_TIMEOUT,
    AGENT_CONSUMER_PREFIX,
    DYNAMIC_PREFIX,
    GATEWAY_NAMESPACE,
    INGRESS_CLASS,
    L_AGENT,
    L_AUTH,
    L_ROUTE_KIND,
    L_TENANT,
    T_HPA,
    T_INGRESS,
    T_LIMITRANGE,
    T_NAMESPACE,
    T_NETPOL,
    T_PDB,
    T_QUOTA,
    UNKNOWN,
    Res,
    as_dict,
    as_int,
    as_list,
    is_agent_deployment,
    is_nacos_workload,
    is_sandbox_workload,
    is_unknown,
    pod_template,
    scaled,
    selector_is_empty,
    selector_matches,
)
from .platform import is_wasm_plugin, plugin_name

Found = Iterator[tuple[str, Optional[str]]]


def _in_ns(resources: list[Res], typ: str, namespace: str) -> list[Res]:
    return [r for r in resources if r.type == typ and r.namespace == namespace]


def _pdbs_for(resources: list[Res], workload: Res) -> list[Res]:
    tpl = pod_template(workload)
    labels = tpl.labels if tpl else {}
    return [
        p
        for p in _in_ns(resources, T_PDB, workload.namespace)
        if as_dict(p.spec).get("selector") is not None and selector_matches(p.spec.get("selector"), labels)
    ]


# ---------------------------------------------------------------- agents
def check_agent_pdb(resources: list[Res], cfg: dict) -> Found:
    for dep in filter(is_agent_deployment, resources):
        if not _pdbs_for(resources, dep):
            yield (
                f"{dep.where()}: agent Deployment has no PodDisruptionBudget selecting its pods, so a node drain "
                "can take every replica at once. Fix: add a policy/v1 PodDisruptionBudget in the same namespace "
                "whose selector matches the pod template labels (e.g. maxUnavailable: 1).",
                dep.urn,
            )


def _scale_targets(resources: list[Res]) -> set[tuple[str, str, str]]:
    targets = set()
    for r in resources:
        if r.type == T_HPA or r.type.startswith("kubernetes:autoscaling/"):
            ref = as_dict(r.spec.get("scaleTargetRef"))
            targets.add((r.namespace, str(ref.get("kind", "")), str(ref.get("name"))))
        elif r.kind == "ScaledObject" and r.group == "keda.sh":
            ref = as_dict(r.spec.get("scaleTargetRef"))
            targets.add((r.namespace, str(ref.get("kind") or "Deployment"), str(ref.get("name"))))
    return targets


def check_agent_autoscaler(resources: list[Res], cfg: dict) -> Found:
    targets = _scale_targets(resources)
    for dep in filter(is_agent_deployment, resources):
        if is_unknown(dep.k8s_name):
            continue
        if (dep.namespace, "Deployment", str(dep.k8s_name)) not in targets:
            yield (
                f"{dep.where()}: agent Deployment has no autoscaler. Fix: add a HorizontalPodAutoscaler or a KEDA "
                f"ScaledObject in namespace {dep.namespace} with scaleTargetRef kind Deployment, name {dep.k8s_name}.",
                dep.urn,
            )


# ---------------------------------------------------------------- isolation
def _deny_directions(np: Res) -> set[str]:
    """Directions in which a NetworkPolicy denies by default for the pods it selects."""
    spec = np.spec
    types = [t for t in as_list(spec.get("policyTypes")) if isinstance(t, str)]
    if not types:
        types = ["Ingress"] + (["Egress"] if "egress" in spec else [])
    return set(types)


def _covering_directions(resources: list[Res], namespace: str, labels: dict, default_deny_only: bool) -> set[str]:
    directions: set[str] = set()
    for np in _in_ns(resources, T_NETPOL, namespace):
        selector = np.spec.get("podSelector", {})
        if default_deny_only:
            if not selector_is_empty(selector):
                continue
            dirs = _deny_directions(np)
            if "Ingress" in dirs and as_list(np.spec.get("ingress")):
                dirs.discard("Ingress")
            if "Egress" in dirs and as_list(np.spec.get("egress")):
                dirs.discard("Egress")
            directions |= dirs
        elif selector_matches(selector, labels):
            directions |= _deny_directions(np)
    return directions


def check_tenant_namespaces(resources: list[Res], cfg: dict) -> Found:
    for ns in resources:
        if ns.type != T_NAMESPACE or L_TENANT not in ns.labels:
            continue
        name = ns.k8s_name
        if is_unknown(name):
            continue
        if not isinstance(name, str):
            yield (
                f"{ns.where()}: tenant namespace has no explicit metadata.name, so its quota, limits and policies "
                "cannot be tied to it. Fix: set metadata.name.",
                ns.urn,
            )
            continue
        quotas = _in_ns(resources, T_QUOTA, name)
        hard_keys = set()
        for q in quotas:
            hard_keys |= set(as_dict(q.spec.get("hard")))
        need = {"requests.cpu", "requests.memory", "limits.cpu", "limits.memory"}
        aliases = {"cpu": "requests.cpu", "memory": "requests.memory"}
        have = {aliases.get(k, k) for k in hard_keys}
        if not quotas:
            yield (
                f"{ns.where()}: tenant namespace has no ResourceQuota. Fix: add a ResourceQuota (the Tenant "
                "component's tenant-quota) capping CPU, memory, pods and LoadBalancers.",
                ns.urn,
            )
        elif need - have:
            yield (
                f"{ns.where()}: the tenant's ResourceQuota does not cap {sorted(need - have)}. "
                "Fix: set spec.hard for requests and limits of cpu and memory.",
                ns.urn,
            )
        container_limits = [
            as_dict(item)
            for lr in _in_ns(resources, T_LIMITRANGE, name)
            for item in as_list(lr.spec.get("limits"))
            if as_dict(item).get("type") == "Container"
        ]
        if not any({"cpu", "memory"} <= set(as_dict(item.get("default"))) for item in container_limits):
            yield (
                f"{ns.where()}: tenant namespace has no LimitRange giving containers default CPU and memory limits. "
                "Fix: add a LimitRange with a type: Container entry setting default and defaultRequest cpu/memory.",
                ns.urn,
            )
        denied = _covering_directions(resources, name, {}, default_deny_only=True)
        missing = sorted({"Ingress", "Egress"} - denied)
        if missing:
            yield (
                f"{ns.where()}: tenant namespace has no default-deny NetworkPolicy for {' and '.join(missing)}. "
                "Fix: add a NetworkPolicy with podSelector: {} and policyTypes [Ingress, Egress] and no rules, "
                "then open only DNS, the gateway and Nacos.",
                ns.urn,
            )


def check_sandbox_network(resources: list[Res], cfg: dict) -> Found:
    for sb in filter(is_sandbox_workload, resources):
        if sb.kind == "SandboxTemplate" and sb.spec.get("networkPolicyManagement", "Managed") != "Unmanaged":
            continue  # the agent-sandbox controller creates the template's NetworkPolicy (secure default or spec.networkPolicy)
        tpl = pod_template(sb)
        labels = tpl.labels if tpl else {}
        directions = _covering_directions(resources, sb.namespace, labels, default_deny_only=False)
        missing = sorted({"Ingress", "Egress"} - directions)
        if missing:
            yield (
                f"{sb.where()}: sandbox pods are not selected by any NetworkPolicy restricting {' and '.join(missing)}. "
                "Fix: keep the SandboxTemplate's networkPolicyManagement Managed (default), or add a NetworkPolicy in "
                f"namespace {sb.namespace} selecting the sandbox pods with policyTypes [Ingress, Egress].",
                sb.urn,
            )


# ---------------------------------------------------------------- Nacos budget
def check_nacos_pdb(resources: list[Res], cfg: dict) -> Found:
    require_environment(cfg)
    for sts in filter(is_nacos_workload, resources):
        replicas = as_int(sts.spec.get("replicas", 1)) or 1
        pdbs = _pdbs_for(resources, sts)
        if not pdbs:
            yield (
                f"{sts.where()}: Nacos has no PodDisruptionBudget in {cfg.get('environment')}; a drain could take "
                "the Raft majority down. Fix: add a PodDisruptionBudget selecting the Nacos pods with maxUnavailable: 1.",
                sts.urn,
            )
            continue
        quorum = replicas // 2 + 1
        ok = False
        for p in pdbs:
            max_unavailable, min_available = p.spec.get("maxUnavailable"), p.spec.get("minAvailable")
            if max_unavailable is not None:
                n = scaled(max_unavailable, replicas)
                ok = ok or (n is not None and replicas - n >= quorum)
            elif min_available is not None:
                n = scaled(min_available, replicas)
                ok = ok or (n is not None and n >= quorum)
        if not ok:
            yield (
                f"{sts.where()}: the Nacos PodDisruptionBudget allows more voluntary disruptions than keep the Raft "
                f"quorum of {quorum}/{replicas}. Fix: use maxUnavailable: 1 (or minAvailable: {quorum}).",
                sts.urn,
            )


# ---------------------------------------------------------------- routes and auth
ROUTE_SCHEMA = schema(
    gatewayNamespace={"type": "string", "default": GATEWAY_NAMESPACE, "description": "Namespace of Higress and its WasmPlugins."},
    ingressClass={"type": "string", "default": INGRESS_CLASS, "description": "IngressClass served by Higress."},
    internalPathPrefix={"type": "string", "default": A2A_PATH_PREFIX, "description": "Path prefix of A2A routes."},
)


def _is_gateway_route(r: Res, cfg: dict) -> bool:
    if r.type != T_INGRESS and not (r.kind == "Ingress" and r.group.startswith("networking.k8s.io")):
        return False
    cls = r.spec.get("ingressClassName") or as_dict(r.metadata.get("annotations")).get("kubernetes.io/ingress.class")
    return cls == cfg.get("ingressClass", INGRESS_CLASS)


def _paths(r: Res) -> list[str]:
    return [
        str(as_dict(p).get("path", ""))
        for rule in as_list(r.spec.get("rules"))
        for p in as_list(as_dict(as_dict(rule).get("http")).get("paths"))
    ]


def route_kind(r: Res, cfg: dict) -> str:
    """'a2a' if labelled so or serving the internal A2A prefix; everything else counts as public (fail safe)."""
    prefix = cfg.get("internalPathPrefix", A2A_PATH_PREFIX).rstrip("/")
    if r.labels.get(L_ROUTE_KIND) == "a2a" or any(p.startswith(prefix) for p in _paths(r)):
        return "a2a"
    return "public"


def _covered(r: Res, plugins: list[Res]) -> bool:
    ident = f"{r.namespace}/{r.k8s_name}"
    for plugin in plugins:
        for rule in as_list(plugin.spec.get("matchRules")):
            rule = as_dict(rule)
            if ident in [str(i) for i in as_list(rule.get("ingress"))]:
                # Higress applies the first matching rule of a plugin
                if rule.get("configDisable") is not True:
                    return True
                break
    return False


def _auth_plugins(resources: list[Res], cfg: dict, auth: str) -> list[Res]:
    gateway_ns = cfg.get("gatewayNamespace", GATEWAY_NAMESPACE)
    return [
        p
        for p in resources
        if is_wasm_plugin(p) and p.namespace == gateway_ns and plugin_name(p) == "jwt-auth" and p.labels.get(L_AUTH) == auth
    ]


def _check_routes(resources: list[Res], cfg: dict, kind: str, auth: str, fix: str) -> Found:
    plugins = _auth_plugins(resources, cfg, auth)
    for r in resources:
        if not _is_gateway_route(r, cfg) or route_kind(r, cfg) != kind or is_unknown(r.k8s_name):
            continue
        if not _covered(r, plugins):
            yield (
                f"{r.where()}: {kind} gateway route {r.namespace}/{r.k8s_name} is not covered by a jwt-auth WasmPlugin "
                f"labelled {L_AUTH}: {auth} in {cfg.get('gatewayNamespace', GATEWAY_NAMESPACE)}. Fix: {fix}",
                r.urn,
            )


def check_public_routes(resources: list[Res], cfg: dict) -> Found:
    return _check_routes(
        resources,
        cfg,
        "public",
        "public",
        "add '<namespace>/<ingress>' to a matchRules[].ingress list (without configDisable) of the public jwt-auth "
        "plugin; a route without the agent-runtime.io/route-kind label counts as public.",
    )


def check_a2a_routes(resources: list[Res], cfg: dict) -> Found:
    return _check_routes(
        resources,
        cfg,
        "a2a",
        "internal",
        "add '<namespace>/<ingress>' to a matchRules[].ingress list of the internal-issuer jwt-auth plugin "
        "(label agent-runtime.io/auth: internal); public end-user tokens must not reach A2A routes.",
    )


# ---------------------------------------------------------------- A2A skills: who may call, and for how long
def _allow_list(r: Res, plugins: list[Res]) -> Optional[list]:
    """The `allow` of the first plugin rule matching the route (Higress applies the first); None if none does."""
    ident = f"{r.namespace}/{r.k8s_name}"
    for plugin in plugins:
        for rule in as_list(plugin.spec.get("matchRules")):
            rule = as_dict(rule)
            if ident in [str(i) for i in as_list(rule.get("ingress"))]:
                return None if rule.get("configDisable") is True else as_list(as_dict(rule.get("config")).get("allow"))
    return None


def _csv(value: object) -> set[str]:
    return {v.strip() for v in str(value or "").split(",") if v.strip()}


def _a2a_routes(resources: list[Res], cfg: dict) -> Iterator[Res]:
    for r in resources:
        if _is_gateway_route(r, cfg) and route_kind(r, cfg) == "a2a" and not is_unknown(r.k8s_name):
            yield r


def _caller_refusal(consumer: str, tenant: str, annotations: dict) -> Optional[str]:
    """Why the skill's rule (the route's annotations) does not admit this consumer; None when it does.

    A route without the rule annotations admits its own tenant only: nothing crosses tenants implicitly.
    """
    if not consumer.startswith(AGENT_CONSUMER_PREFIX):
        return f"consumer {consumer!r} is not an agent identity ({AGENT_CONSUMER_PREFIX}<tenant>/<agent>), so its tenant is unknown"
    caller = consumer[len(AGENT_CONSUMER_PREFIX):]
    caller_tenant = caller.split("/", 1)[0]
    if caller in _csv(annotations.get(A_A2A_ALLOW_AGENTS)):
        return None
    if str(annotations.get(A_A2A_SENSITIVE)) == "true":
        return f"{caller} may call a sensitive skill only if {A_A2A_ALLOW_AGENTS} names it"
    if caller_tenant == tenant or caller_tenant in _csv(annotations.get(A_A2A_ALLOW_TENANTS)):
        return None
    return f"{caller} is in tenant {caller_tenant!r}, which neither {A_A2A_ALLOW_TENANTS} nor {A_A2A_ALLOW_AGENTS} admits"


def _card_skills(resources: list[Res], agent: object) -> set[str]:
    """The skill ids the agent's registered AgentCard(s) advertise (none when the registry is off)."""
    return {
        str(as_dict(s).get("id"))
        for c in _registrations(resources)
        if c.props.get("registryKind") == "AgentCard" and _card_agent(c) == agent and not is_unknown(c.props.get("card"))
        for s in as_list(as_dict(c.props.get("card")).get("skills"))
    }


def _agent_wide_refusals(r: Res, tenant: str, allow: list, resources: list[Res], plugins: list[Res], cfg: dict) -> Found:
    """The agent-wide route reaches every skill (the skill is chosen in the JSON-RPC body), so each consumer it lets
    through must be admitted by every skill's rule and be on every skill route's allow list: the intersection."""
    agent = r.labels.get(L_AGENT)
    annotations = as_dict(r.metadata.get("annotations"))
    skills = _csv(annotations.get(A_A2A_SKILLS))
    unlisted = sorted(s for s in _card_skills(resources, agent) - skills if not is_unknown(s))
    if unlisted:
        yield (
            f"{r.where()}: agent-wide A2A route of agent {agent!r} reaches every skill, but its {A_A2A_SKILLS} does not "
            f"name {unlisted}, which the agent's AgentCard advertises, so its allow list is not checked against their rules. "
            f"Fix: list every skill of the agent in {A_A2A_SKILLS} (the program does).",
            r.urn,
        )
    for skill in sorted(skills):
        routes = [
            s for s in _a2a_routes(resources, cfg)
            if s.namespace == r.namespace and s.labels.get(L_AGENT) == agent
            and as_dict(s.metadata.get("annotations")).get(A_A2A_SKILL) == skill and A_A2A_SKILLS not in as_dict(s.metadata.get("annotations"))
        ]
        if not routes:
            yield (
                f"{r.where()}: agent-wide A2A route of agent {agent!r} lets {sorted(map(str, allow))} call skill {skill!r}, "
                "which has no A2A route of its own (nobody may call it). Fix: remove the agent-wide route; the program "
                "makes it only when some caller may call every skill.",
                r.urn,
            )
            continue
        for route in routes:
            rule = as_dict(route.metadata.get("annotations"))
            route_allow = _allow_list(route, plugins)
            if route_allow is None or any(is_unknown(v) for v in [*route_allow, *rule.values()]):
                continue
            for consumer in allow:
                refusal = _caller_refusal(str(consumer), tenant, rule)
                if refusal is None and consumer not in route_allow:
                    refusal = f"the allow list of skill route {route.namespace}/{route.k8s_name} does not name it"
                if refusal:
                    yield (
                        f"{r.where()}: the internal jwt-auth rule of the agent-wide A2A route lets {consumer} call every "
                        f"skill of agent {agent!r} (tenant {tenant!r}), including {skill!r}, but {refusal}. Fix: allow on "
                        "the agent-wide route only the callers on every skill route's allow list (the program does).",
                        r.urn,
                    )


def check_a2a_skill_access(resources: list[Res], cfg: dict) -> Found:
    plugins = _auth_plugins(resources, cfg, "internal")
    for r in _a2a_routes(resources, cfg):
        allow = _allow_list(r, plugins)
        annotations = as_dict(r.metadata.get("annotations"))
        if allow is None or any(is_unknown(v) for v in [*allow, *annotations.values()]):
            continue  # unguarded routes are a2a-routes-require-internal-auth's; unknowns are decided at up
        tenant = r.labels.get(L_TENANT)
        if not isinstance(tenant, str):
            yield (f"{r.where()}: A2A route has no {L_TENANT} label, so its callers' tenants cannot be checked. Fix: label it with the target agent's tenant.", r.urn)
            continue
        if A_A2A_SKILLS in annotations:
            yield from _agent_wide_refusals(r, tenant, allow, resources, plugins, cfg)
            continue
        skill = annotations.get(A_A2A_SKILL, "<unnamed>")
        for consumer in allow:
            refusal = _caller_refusal(str(consumer), tenant, annotations)
            if refusal:
                yield (
                    f"{r.where()}: the internal jwt-auth rule lets {consumer} call skill {skill!r} of tenant {tenant!r}, "
                    f"but {refusal}. Fix: remove it from the rule's allow list, or allow it in the target agent's spec "
                    "(the skill's access, or a2aAccess) so the program writes the rule.",
                    r.urn,
                )


def check_a2a_route_timeouts(resources: list[Res], cfg: dict) -> Found:
    for r in _a2a_routes(resources, cfg):
        value = as_dict(r.metadata.get("annotations")).get(A_TIMEOUT)
        if is_unknown(value):
            continue
        if not (isinstance(value, str) and value.isdigit() and int(value) > 0):
            yield (
                f"{r.where()}: A2A route has no positive {A_TIMEOUT} (got {value!r}), so a hung skill holds the caller "
                "and a gateway connection indefinitely. Fix: set the skill's resilience.timeoutSeconds (or the agent's "
                f"route.timeoutSeconds), which the program writes as {A_TIMEOUT}: \"<seconds>\".",
                r.urn,
            )


# ---------------------------------------------------------------- registry vs routes
def _registrations(resources: list[Res]) -> list[Res]:
    return [r for r in resources if r.type.startswith(DYNAMIC_PREFIX) and isinstance(r.props.get("registryKind"), str)]


def _card_agent(r: Res) -> object:
    name = r.props.get("agentName")
    if name is None:
        name = as_dict(r.props.get("card")).get("name")
    return name


def check_registry_routes(resources: list[Res], cfg: dict) -> Found:
    registrations = _registrations(resources)
    if not registrations:
        return  # registry disabled or nothing registered: nothing to compare
    cards = [r for r in registrations if r.props.get("registryKind") == "AgentCard"]
    card_agents = {_card_agent(c) for c in cards}
    if UNKNOWN in card_agents:
        return
    routes = [
        r
        for r in resources
        if _is_gateway_route(r, cfg) and r.labels.get(L_ROUTE_KIND) in ("public", "a2a")
    ]
    routed_agents = {r.labels.get(L_AGENT) for r in routes}
    for card in cards:
        agent = _card_agent(card)
        if agent not in routed_agents:
            yield (
                f"AgentCard registration {card.name} [{card.urn}] for agent {agent!r} (Nacos namespace "
                f"{card.props.get('namespaceId')!r}) has no gateway route: callers discover an agent they cannot reach. "
                f"Fix: add a public or a2a Higress Ingress labelled {L_AGENT}: {agent}, or drop the registration.",
                card.urn,
            )
    for r in routes:
        agent = r.labels.get(L_AGENT)
        if agent is None:
            yield (
                f"{r.where()}: agent route has no {L_AGENT} label, so it cannot be matched to a registered AgentCard. "
                f"Fix: label it {L_AGENT}: <agent name>.",
                r.urn,
            )
        elif agent not in card_agents:
            yield (
                f"{r.where()}: route for agent {agent!r} has no AgentCard registered in Nacos, so A2A clients cannot "
                f"discover it. Fix: declare the agent's card (registryKind AgentCard, agentName {agent!r}) or remove the route.",
                r.urn,
            )


# ---------------------------------------------------------------- service-account tokens
T_SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
BINDING_TYPES = ("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")


def _bound_service_accounts(resources: list[Res]) -> set[tuple[str, str]]:
    """(namespace, name) of every ServiceAccount a (Cluster)RoleBinding names one by one (groups do not count)."""
    bound = set()
    for binding in (r for r in resources if r.type in BINDING_TYPES):
        for subject in as_list(binding.props.get("subjects")):
            subject = as_dict(subject)
            if subject.get("kind") == "ServiceAccount":
                bound.add((subject.get("namespace") or binding.namespace, subject.get("name")))
    return bound


def _token_mounted(spec: dict, accounts: dict) -> bool:
    """Kubernetes mounts the token unless the pod, or else its ServiceAccount, says false."""
    pod = spec.get("automountServiceAccountToken")
    if pod is not None:
        return pod is not False and not is_unknown(pod)
    account = accounts.get(spec.get("serviceAccountName") or spec.get("serviceAccount") or "default")
    return account is None or account is not False


def check_service_account_tokens(resources: list[Res], cfg: dict) -> Found:
    bound = _bound_service_accounts(resources)
    for res in resources:
        tpl = pod_template(res)
        if tpl is None or not tpl.spec:
            continue
        accounts = {
            as_dict(a.props.get("metadata")).get("name"): a.props.get("automountServiceAccountToken")
            for a in resources
            if a.type == T_SERVICE_ACCOUNT and a.namespace == res.namespace
        }
        if not _token_mounted(tpl.spec, accounts):
            continue
        account = tpl.spec.get("serviceAccountName") or tpl.spec.get("serviceAccount") or "default"
        if (res.namespace, account) not in bound:
            yield (
                f"{res.where()}: pods mount a service-account token (account {account!r}) but no RoleBinding or "
                "ClusterRoleBinding grants that account anything, so the token is only an attack surface. "
                "Fix: set automountServiceAccountToken: false, or bind the account to the narrow Role it needs.",
                res.urn,
            )


POLICIES = [
    stack_policy(
        "service-account-token-only-where-needed",
        "A pod mounts a service-account token only when its account is bound to a Role (it needs the API).",
        check_service_account_tokens,
    ),
    stack_policy(
        "agent-disruption-budget-required",
        "Every agent Deployment has a PodDisruptionBudget selecting its pods.",
        check_agent_pdb,
    ),
    stack_policy(
        "agent-autoscaler-required",
        "Every agent Deployment is targeted by a HorizontalPodAutoscaler or a KEDA ScaledObject.",
        check_agent_autoscaler,
    ),
    stack_policy(
        "tenant-namespace-guardrails",
        "Every tenant namespace has a ResourceQuota, a container LimitRange and a default-deny NetworkPolicy.",
        check_tenant_namespaces,
    ),
    stack_policy(
        "sandbox-network-policy-required",
        "Sandbox pods are always restricted by a NetworkPolicy (managed by the sandbox controller or explicit).",
        check_sandbox_network,
    ),
    stack_policy(
        "nacos-disruption-budget",
        "In prod, Nacos has a PodDisruptionBudget that keeps the Raft quorum.",
        check_nacos_pdb,
        config_schema=schema(**ENVIRONMENT_PROPS),
    ),
    stack_policy(
        "public-routes-require-jwt",
        "Every public gateway route is covered by the public jwt-auth WasmPlugin.",
        check_public_routes,
        config_schema=ROUTE_SCHEMA,
    ),
    stack_policy(
        "a2a-routes-require-internal-auth",
        "Every A2A gateway route is covered by the internal-issuer jwt-auth WasmPlugin.",
        check_a2a_routes,
        config_schema=ROUTE_SCHEMA,
    ),
    stack_policy(
        "a2a-skill-access-respected",
        "No A2A skill is callable across tenants (or, if sensitive, by an agent it does not name) unless its access rule allows it; "
        "the agent-wide A2A route admits only callers that every skill's rule and route admit.",
        check_a2a_skill_access,
        config_schema=ROUTE_SCHEMA,
    ),
    stack_policy(
        "a2a-route-timeout",
        "Every A2A gateway route has a positive higress.io/timeout.",
        check_a2a_route_timeouts,
        config_schema=ROUTE_SCHEMA,
    ),
    stack_policy(
        "registry-routes-consistent",
        "Every AgentCard registered in Nacos has a gateway route, and every agent route has an AgentCard.",
        check_registry_routes,
        config_schema=ROUTE_SCHEMA,
    ),
]
