"""The message queue (Apache RocketMQ 5.3.3, the official image), rendered: name servers, broker
groups, gRPC proxies, their configuration files, Services, budgets and network policies.

Pure: every function returns plain dicts/strings; components/message_queue.py creates the objects.

Two shapes, chosen by ``replicasPerGroup``:

- dev (1): ``nameServers`` name servers, one single-broker StatefulSet per broker group
  (``brokerId=0``, ``ASYNC_MASTER``), ``proxies`` proxies in cluster mode (``-pm cluster``).
- HA (>= 2): the RocketMQ 5 controller embedded in the name servers
  (``enableControllerInNamesrv=true``, a DLedger group over every name server on port 9878, so
  >= 3 name servers: the settings enforce it), and each broker group a StatefulSet of
  ``replicasPerGroup`` brokers with ``enableControllerMode=true`` and ``controllerAddr`` = the name
  servers: the controller elects each group's master and hands out the broker ids, which each
  broker keeps in ``storePathBrokerIdentity`` on its own volume (the per-pod identity: stable pod
  name, its own PVC, brokerIP1 = its pod IP at start).

Secrets: ACL 2.0's ``initAuthenticationUser`` / ``innerClientAuthenticationCredentials`` (broker) and
the proxy's ``innerClientAuthenticationCredentials`` are rendered only by ``broker_secret_properties``
and ``proxy_secret_fragment``, which the component feeds from Pulumi secrets into the one Secret
(ADMIN_SECRET). Pods mount it as files; each container's start script (``start_script``)
concatenates the ConfigMap's non-secret file and the Secret's file into an emptyDir
(mode 0600, ``umask 077``) and starts the upstream launcher. No credential is in a ConfigMap, env
value, argument or annotation.

What was verified, and where (nothing below is assumed silently):

- The image (github apache/rocketmq-docker, ``image-build/Dockerfile-ubuntu`` and
  ``image-build/scripts/``, read at commit 29a9cd5): base ``eclipse-temurin:8-jdk``; user
  ``rocketmq`` uid/gid 3000 with home ``/home/rocketmq``; ``ROCKETMQ_HOME=/home/rocketmq/rocketmq-<v>``;
  the distribution's ``bin/runserver.sh`` and ``bin/runbroker.sh`` are *replaced* by the image's
  ``runserver-customize.sh`` / ``runbroker-customize.sh``, which read ``HEAP_OPTS`` (default
  ``-Xms1g -Xmx1g -Xmn512M`` / ``-Xms2g -Xmx2g -Xmn1g -XX:MaxDirectMemorySize=1g``; added to the
  scripts 2024-09-26, commit efda76d, before 5.3.3 was published) and append ``JAVA_OPT_EXT``;
  they write the GC log to ``/dev/shm`` and run ``$JAVA ... $@`` **without exec**. The entrypoint
  ``docker-entrypoint.sh`` dispatches on ``$1``/``NODE_ROLE`` or execs the command; its
  ``rocketmq-k8s-helm`` chart sets ``HEAP_OPTS`` the same way.
- The launchers (github apache/rocketmq ``distribution/bin/mqnamesrv``, ``mqbroker``, ``mqproxy``):
  they run ``sh $ROCKETMQ_HOME/bin/runserver.sh -Drmq.logback.configurationFile=$ROCKETMQ_HOME/conf/rmq.<role>.logback.xml <MainClass> $@``
  (``runbroker.sh`` for the broker). The stored versions of ``mqnamesrv``/``mqproxy`` parse a
  ``-d`` daemon flag with ``[[`` under ``#!/bin/sh`` and ``mqproxy`` leaves ``daemon_mode`` unset
  (so it would take its nohup/background branch); which of those versions the 5.3.3 zip ships
  could not be checked here. The start scripts therefore run the same ``runserver.sh`` /
  ``runbroker.sh`` line the launchers run, directly.
- PID 1: neither the launchers nor runserver/runbroker exec java, and a shell as PID 1 ignores
  SIGTERM it has no handler for, so the start script keeps the JVM as its child and forwards
  TERM to its process group (graceful broker shutdown flushes the store).
- Config keys: checked with ``javap`` against the 5.3.3 jars (``NamesrvConfig.enableControllerInNamesrv``,
  ``ControllerConfig.controllerType`` (default ``DLedger``) / ``controllerDLegerGroup`` /
  ``controllerDLegerPeers`` / ``controllerDLegerSelfId`` / ``controllerStorePath``,
  ``BrokerConfig.enableControllerMode`` / ``controllerAddr`` / ``brokerIP1``,
  ``MessageStoreConfig.storePathEpochFile`` / ``storePathBrokerIdentity`` / ``haListenPort``,
  ``ProxyConfig.proxyMode`` / ``grpcServerPort`` / ``remotingListenPort`` / ``namesrvAddr``); the ACL
  2.0 keys are docs/rocketmq-observed.md's. The dev shape's files are started for real by
  tests/broker/test_message_queue_config.py (see docs/rocketmq-observed.md); the HA shape's
  controller mode has not run here.
- Writable paths (the root filesystem is read-only): ``~/logs`` (logback:
  ``${user.home}/logs/rocketmqlogs``), ``~/store`` (store, users and ACLs in RocksDB, controller
  metadata), ``~/namesrv`` (the name server's kvConfig), ``/tmp`` (RocksDB's native library), and
  ``/dev/shm`` (GC log; a pod's own tmpfs).
"""

from __future__ import annotations

import json
import re
from typing import Optional

from models.settings import MessageQueueSettings, QueueRoleSettings
from render.k8s_common import (
    LABEL_AGENT,
    LABEL_ROLE,
    LABEL_TENANT,
    dns_egress_rule,
    resources_dict,
    restricted_container_security,
    restricted_namespace_labels,
    selector_labels,
    standard_labels,
)

APP = "rocketmq"
ROCKETMQ_VERSION = "5.3.3"
# the image's user (image-build/Dockerfile-ubuntu: user rocketmq, uid = gid = 3000)
IMAGE_UID = 3000
USER_HOME = "/home/rocketmq"
ROCKETMQ_HOME = f"{USER_HOME}/rocketmq-{ROCKETMQ_VERSION}"
LOGS_DIR = f"{USER_HOME}/logs"
STORE_DIR = f"{USER_HOME}/store"
NAMESRV_DIR = f"{USER_HOME}/namesrv"
CONF_DIR = "/etc/rocketmq/conf"
SECRET_DIR = "/etc/rocketmq/secret"
RUN_DIR = "/run/rocketmq"

NAMESRV_PORT = 9876
CONTROLLER_PORT = 9878  # DLedger between the controllers embedded in the name servers
BROKER_PORT = 10911  # remoting: clients, admin, agents reading checkpoints by key
BROKER_FAST_PORT = BROKER_PORT - 2  # the broker's "VIP" channel, derived from listenPort
BROKER_HA_PORT = BROKER_PORT + 1
PROXY_GRPC_PORT = 8081
PROXY_REMOTING_PORT = 8080

NAMESRV = f"{APP}-namesrv"
PROXY = f"{APP}-proxy"
CONFIG_MAP = f"{APP}-config"
ADMIN_SECRET = f"{APP}-admin"
SERVICE_ACCOUNT = APP
LABEL_BROKER_GROUP = "agent-runtime.io/broker-group"
STARTUP_GRACE_SECONDS = 300

AUTHN_PROVIDER = "org.apache.rocketmq.auth.authentication.provider.DefaultAuthenticationProvider"
AUTHZ_PROVIDER = "org.apache.rocketmq.auth.authorization.provider.DefaultAuthorizationProvider"
BROKER_AUTHN_METADATA = "org.apache.rocketmq.auth.authentication.provider.LocalAuthenticationMetadataProvider"
BROKER_AUTHZ_METADATA = "org.apache.rocketmq.auth.authorization.provider.LocalAuthorizationMetadataProvider"
PROXY_AUTHN_METADATA = "org.apache.rocketmq.proxy.auth.ProxyAuthenticationMetadataProvider"
PROXY_AUTHZ_METADATA = "org.apache.rocketmq.proxy.auth.ProxyAuthorizationMetadataProvider"

# the main classes and logback files the upstream launchers pass to runserver.sh / runbroker.sh
LAUNCH = {
    "namesrv": ("runserver.sh", "rmq.namesrv.logback.xml", "org.apache.rocketmq.namesrv.NamesrvStartup"),
    "broker": ("runbroker.sh", "rmq.broker.logback.xml", "org.apache.rocketmq.broker.BrokerStartup"),
    "proxy": ("runserver.sh", "rmq.proxy.logback.xml", "org.apache.rocketmq.proxy.ProxyStartup"),
}


# --- names and addresses ---------------------------------------------------------------------------


def broker_group_name(index: int) -> str:
    """The RocketMQ brokerName of group `index` (its replicas share it)."""
    return f"broker-{index}"


def broker_statefulset_name(index: int) -> str:
    return f"{APP}-{broker_group_name(index)}"


def broker_group_names(s: MessageQueueSettings) -> list[str]:
    return [broker_group_name(i) for i in range(s.broker_groups)]


def namesrv_hosts(s: MessageQueueSettings) -> list[str]:
    """Each name server by its stable StatefulSet DNS name."""
    return [f"{NAMESRV}-{i}.{NAMESRV}.{s.namespace}.svc" for i in range(s.name_servers)]


def namesrv_address(s: MessageQueueSettings) -> str:
    """The name server list as RocketMQ takes it (`namesrvAddr`): host:port;host:port."""
    return ";".join(f"{h}:{NAMESRV_PORT}" for h in namesrv_hosts(s))


def controller_address(s: MessageQueueSettings) -> str:
    """Embedded in the name servers, the controllers answer on the name servers' port."""
    return namesrv_address(s)


def controller_peers(s: MessageQueueSettings) -> str:
    """controllerDLegerPeers: n<i>-host:port of every name server."""
    return ";".join(f"n{i}-{h}:{CONTROLLER_PORT}" for i, h in enumerate(namesrv_hosts(s)))


def broker_addresses(s: MessageQueueSettings) -> list[str]:
    """Every broker's remoting address, cluster-internal (pod DNS names behind each group's headless Service)."""
    return [
        f"{broker_statefulset_name(g)}-{r}.{broker_statefulset_name(g)}.{s.namespace}.svc:{BROKER_PORT}"
        for g in range(s.broker_groups)
        for r in range(s.replicas_per_group)
    ]


def proxy_endpoint(s: MessageQueueSettings) -> str:
    """Where 5.x gRPC clients connect."""
    return f"{PROXY}.{s.namespace}.svc:{PROXY_GRPC_PORT}"


# --- labels --------------------------------------------------------------------------------------


def queue_labels(extra: dict[str, str]) -> dict[str, str]:
    """Labels of the queue's shared objects (namespace, ConfigMap, Secret, policies)."""
    return standard_labels(APP, "message-queue", extra)


def role_labels(role: str, extra: dict[str, str], group: Optional[str] = None) -> dict[str, str]:
    labels = standard_labels(APP, role, extra)
    if group is not None:
        labels[LABEL_BROKER_GROUP] = group
    return labels


def role_match(role: str, group: Optional[str] = None) -> dict[str, str]:
    """The stable selector of one role's pods (one broker group's, with `group`)."""
    match = selector_labels(APP, role)
    if group is not None:
        match[LABEL_BROKER_GROUP] = group
    return match


def queue_match() -> dict[str, str]:
    """Every pod of the queue."""
    return {"app.kubernetes.io/name": APP}


def namespace_labels(labels: dict[str, str]) -> dict[str, str]:
    return {**labels, **restricted_namespace_labels(), LABEL_ROLE: "message-queue"}


# --- configuration files -------------------------------------------------------------------------


def _properties(props: dict) -> str:
    return "".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}\n" for k, v in props.items())


def namesrv_properties(s: MessageQueueSettings) -> dict:
    """The name servers' shared file; in HA each adds its own controllerDLegerSelfId at start."""
    props: dict = {"listenPort": NAMESRV_PORT, "kvConfigPath": f"{NAMESRV_DIR}/kvConfig.json",
                   "configStorePath": f"{NAMESRV_DIR}/namesrv.properties"}
    if s.replicated:
        props.update({
            "enableControllerInNamesrv": True,
            "controllerType": "DLedger",
            "controllerDLegerGroup": f"{s.cluster}-controller",
            "controllerDLegerPeers": controller_peers(s),
            "controllerStorePath": f"{STORE_DIR}/controller",
            # a group whose in-sync replicas are all gone stays without master rather than lose messages
            "enableElectUncleanMaster": False,
            "notifyBrokerRoleChanged": True,
        })
    return props


def auth_properties(acl: bool, authn_metadata: str, authz_metadata: str) -> dict:
    """ACL 2.0 switches (no credential among them)."""
    if not acl:
        return {"authenticationEnabled": False, "authorizationEnabled": False}
    return {
        "authenticationEnabled": True,
        "authenticationProvider": AUTHN_PROVIDER,
        "authenticationMetadataProvider": authn_metadata,
        "authorizationEnabled": True,
        "authorizationProvider": AUTHZ_PROVIDER,
        "authorizationMetadataProvider": authz_metadata,
    }


def broker_properties(s: MessageQueueSettings, index: int) -> dict:
    """One broker group's file (every replica of it reads the same; brokerIP1 is added at start)."""
    props: dict = {
        "brokerClusterName": s.cluster,
        "brokerName": broker_group_name(index),
        "namesrvAddr": namesrv_address(s),
        "listenPort": BROKER_PORT,
        "haListenPort": BROKER_HA_PORT,
        "flushDiskType": "ASYNC_FLUSH",
        "storePathRootDir": STORE_DIR,
        "storePathCommitLog": f"{STORE_DIR}/commitlog",
        "storePathEpochFile": f"{STORE_DIR}/epochFileCheckpoint",
        "storePathBrokerIdentity": f"{STORE_DIR}/brokerIdentity",
        # resources exist only when an admin call makes them (the stack's queue provider)
        "autoCreateTopicEnable": False,
        "autoCreateSubscriptionGroup": False,
    }
    if s.replicated:
        props.update({"enableControllerMode": True, "controllerAddr": controller_address(s),
                      "allAckInSyncStateSet": True})
    else:
        props.update({"brokerId": 0, "brokerRole": "ASYNC_MASTER"})
    props.update(auth_properties(s.acl, BROKER_AUTHN_METADATA, BROKER_AUTHZ_METADATA))
    return props


def proxy_config(s: MessageQueueSettings) -> dict:
    """The proxies' rmq-proxy.json (cluster mode: brokers in their own pods); the credentials are appended at start."""
    config: dict = {
        "rocketMQClusterName": s.cluster,
        "proxyMode": "cluster",
        "grpcServerPort": PROXY_GRPC_PORT,
        "remotingListenPort": PROXY_REMOTING_PORT,
        "namesrvAddr": namesrv_address(s),
    }
    config.update(auth_properties(s.acl, PROXY_AUTHN_METADATA, PROXY_AUTHZ_METADATA))
    if s.acl:
        # without it a cluster-mode proxy sends its own requests to the brokers unsigned (observed:
        # it dies at start, "create system broadcast topic ... failed", the broker answering
        # "CODE: 16 username cannot be null"); DefaultMessagingProcessor.createForClusterMode
        # signs with innerClientAuthenticationCredentials only when this is true
        config["enableAclRpcHookForClusterMode"] = True
    return config


def proxy_json(config: dict) -> str:
    """Indented so its last line is exactly `}`: the start script drops that line to append the credentials."""
    return json.dumps(config, indent=2) + "\n"


def config_map_data(s: MessageQueueSettings) -> dict[str, str]:
    """Every non-secret file: namesrv.conf, broker-<i>.conf, rmq-proxy.json."""
    data = {"namesrv.conf": _properties(namesrv_properties(s))}
    for i in range(s.broker_groups):
        data[f"{broker_group_name(i)}.conf"] = _properties(broker_properties(s, i))
    data["rmq-proxy.json"] = proxy_json(proxy_config(s))
    return data


# --- the Secret's files (fed from Pulumi secrets by the component) -------------------------------


BROKER_SECRET_KEY = "broker-auth.conf"
PROXY_SECRET_KEY = "proxy-auth.json"
ADMIN_USER_KEY = "admin-user"
ADMIN_PASSWORD_KEY = "admin-password"


def broker_secret_properties(acl: bool, user: str, password: str) -> str:
    """The broker's credential lines: the initial super user and what its inner clients sign with."""
    if not acl:
        return ""
    return _properties({
        "initAuthenticationUser": json.dumps({"username": user, "password": password}),
        "innerClientAuthenticationCredentials": json.dumps({"accessKey": user, "secretKey": password}),
    })


def proxy_secret_fragment(acl: bool, user: str, password: str) -> str:
    """JSON members (no braces) the start script appends to rmq-proxy.json: the proxy's credentials to the brokers."""
    if not acl:
        return ""
    credentials = json.dumps({"accessKey": user, "secretKey": password})
    return f'  "innerClientAuthenticationCredentials": {json.dumps(credentials)}\n'


def secret_string_data(acl: bool, user: str, password: str) -> dict[str, str]:
    return {
        ADMIN_USER_KEY: user,
        ADMIN_PASSWORD_KEY: password,
        BROKER_SECRET_KEY: broker_secret_properties(acl, user, password),
        PROXY_SECRET_KEY: proxy_secret_fragment(acl, user, password),
    }


# --- start scripts -------------------------------------------------------------------------------


def _launch_line(role: str, config_args: str) -> str:
    script, logback, main = LAUNCH[role]
    return (
        f'sh "$ROCKETMQ_HOME/bin/{script}" "-Drmq.logback.configurationFile=$ROCKETMQ_HOME/conf/{logback}" '
        f"{main} {config_args} &\n"
    )


_PRELUDE = (
    "set -eu\n"
    "umask 077\n"
    f'mkdir -p "{RUN_DIR}"\n'
)

# keep the JVM a child and forward TERM to the whole process group (the launcher scripts do not
# exec java, and a shell as PID 1 ignores a TERM it has no handler for)
_SUPERVISE = (
    "child=$!\n"
    "trap 'trap \"\" TERM INT; kill -TERM 0 2>/dev/null || true' TERM INT\n"
    "status=0\n"
    'wait "$child" || status=$?\n'
    "# a trapped TERM interrupts wait (status > 128): wait again for the JVM's own exit\n"
    'if [ "$status" -gt 128 ] && kill -0 "$child" 2>/dev/null; then status=0; wait "$child" || status=$?; fi\n'
    'exit "$status"\n'
)


def start_script(role: str, s: MessageQueueSettings, group: Optional[str] = None) -> str:
    """The container's shell: assemble the config file in the emptyDir RUN_DIR, then run the upstream launcher line.

    Needs POD_IP (brokers) and POD_NAME (HA name servers) from the downward API.
    """
    if role == "namesrv":
        body = f'cp "{CONF_DIR}/namesrv.conf" "{RUN_DIR}/namesrv.conf"\n'
        if s.replicated:
            body += f'printf \'controllerDLegerSelfId=n%s\\n\' "${{POD_NAME##*-}}" >> "{RUN_DIR}/namesrv.conf"\n'
        launch = _launch_line("namesrv", f'-c "{RUN_DIR}/namesrv.conf"')
    elif role == "broker":
        assert group is not None
        body = (
            f'cat "{CONF_DIR}/{group}.conf" "{SECRET_DIR}/{BROKER_SECRET_KEY}" > "{RUN_DIR}/broker.conf"\n'
            f'printf \'brokerIP1=%s\\nbrokerIP2=%s\\n\' "$POD_IP" "$POD_IP" >> "{RUN_DIR}/broker.conf"\n'
        )
        launch = _launch_line("broker", f'-c "{RUN_DIR}/broker.conf"')
    elif role == "proxy":
        body = (
            "{\n"
            f"  sed '$d' \"{CONF_DIR}/rmq-proxy.json\"\n"
            f'  if [ -s "{SECRET_DIR}/{PROXY_SECRET_KEY}" ]; then printf \',\\n\'; cat "{SECRET_DIR}/{PROXY_SECRET_KEY}"; fi\n'
            "  printf '}\\n'\n"
            f'}} > "{RUN_DIR}/rmq-proxy.json"\n'
        )
        launch = _launch_line("proxy", f'-pm cluster -pc "{RUN_DIR}/rmq-proxy.json"')
    else:
        raise ValueError(f"unknown role {role!r}")
    return _PRELUDE + body + launch + _SUPERVISE


# --- pods ----------------------------------------------------------------------------------------


def _mebibytes(size: str) -> int:
    m = re.fullmatch(r"([1-9][0-9]*)([mg])", size)
    assert m, size
    return int(m.group(1)) * (1024 if m.group(2) == "g" else 1)


def heap_opts(role: str, r: QueueRoleSettings) -> str:
    """HEAP_OPTS as the image's runserver.sh/runbroker.sh read it (it replaces their defaults whole)."""
    opts = f"-Xms{r.heap} -Xmx{r.heap}"
    if role == "broker":
        # the broker's default direct memory is 1g; keep heap + direct inside the memory limit
        opts += f" -XX:MaxDirectMemorySize={max(128, _mebibytes(r.heap) // 2)}m"
    return opts


def pod_security() -> dict:
    """The restricted baseline, as the image's own user (uid/gid 3000)."""
    return {
        "runAsNonRoot": True,
        "runAsUser": IMAGE_UID,
        "runAsGroup": IMAGE_UID,
        "fsGroup": IMAGE_UID,
        "fsGroupChangePolicy": "OnRootMismatch",
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security() -> dict:
    return {**restricted_container_security(), "runAsUser": IMAGE_UID}


def _downward(name: str, field: str) -> dict:
    return {"name": name, "valueFrom": {"fieldRef": {"fieldPath": field}}}


def _tcp_probe(port: int, **extra) -> dict:
    return {"tcpSocket": {"port": port}, "timeoutSeconds": 3, **extra}


def _probes(port: int) -> dict:
    return {
        "startupProbe": _tcp_probe(port, periodSeconds=5, failureThreshold=STARTUP_GRACE_SECONDS // 5),
        "readinessProbe": _tcp_probe(port, periodSeconds=10, failureThreshold=3),
        "livenessProbe": _tcp_probe(port, periodSeconds=15, failureThreshold=6),
    }


def _container(s: MessageQueueSettings, role: str, sizes: QueueRoleSettings, script: str, ports: list[dict],
               probe_port: int, mounts: list[dict]) -> dict:
    return {
        "name": role,
        "image": s.image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["sh", "-c", script],
        "ports": [{**p, "protocol": "TCP"} for p in ports],
        "env": [
            _downward("POD_NAME", "metadata.name"),
            _downward("POD_IP", "status.podIP"),
            {"name": "HEAP_OPTS", "value": heap_opts(role, sizes)},
        ],
        "resources": resources_dict(sizes.resources),
        "securityContext": container_security(),
        **_probes(probe_port),
        "volumeMounts": [
            {"name": "config", "mountPath": CONF_DIR, "readOnly": True},
            {"name": "run", "mountPath": RUN_DIR},
            {"name": "logs", "mountPath": LOGS_DIR},
            {"name": "tmp", "mountPath": "/tmp"},
            *mounts,
        ],
    }


def _volumes(config_items: list[str], secret_items: list[str], extra: list[dict]) -> list[dict]:
    volumes = [
        {"name": "config", "configMap": {"name": CONFIG_MAP, "items": [{"key": k, "path": k} for k in config_items]}},
        {"name": "run", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},
        {"name": "logs", "emptyDir": {"sizeLimit": "2Gi"}},
        {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}},
        *extra,
    ]
    if secret_items:
        volumes.append({
            "name": "credentials",
            "secret": {"secretName": ADMIN_SECRET, "defaultMode": 0o400,
                       "items": [{"key": k, "path": k} for k in secret_items]},
        })
    return volumes


def affinity(match: dict, replicas: int) -> dict:
    """Replicas on distinct nodes: required when the role is replicated, preferred for a single pod."""
    term = {"labelSelector": {"matchLabels": match}, "topologyKey": "kubernetes.io/hostname"}
    if replicas >= 2:
        return {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}
    return {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": term}]}}


def _pod_spec(container: dict, volumes: list[dict], match: dict, replicas: int, grace: int) -> dict:
    return {
        "serviceAccountName": SERVICE_ACCOUNT,
        "automountServiceAccountToken": False,
        "securityContext": pod_security(),
        "affinity": affinity(match, replicas),
        "terminationGracePeriodSeconds": grace,
        "containers": [container],
        "volumes": volumes,
    }


def volume_claim(name: str, s: MessageQueueSettings, match: dict) -> dict:
    claim = {
        "metadata": {"name": name, "labels": match},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": s.storage.size}}},
    }
    if s.storage.storage_class_name:
        claim["spec"]["storageClassName"] = s.storage.storage_class_name
    return claim


def namesrv_statefulset_spec(s: MessageQueueSettings, extra: dict[str, str]) -> dict:
    """Name servers (and in HA the embedded controllers, whose Raft metadata needs a volume each)."""
    match = role_match("name-server")
    mounts = [{"name": "namesrv", "mountPath": NAMESRV_DIR}]
    extra_volumes = [{"name": "namesrv", "emptyDir": {"sizeLimit": "64Mi"}}]
    ports = [{"name": "namesrv", "containerPort": NAMESRV_PORT}]
    if s.replicated:
        mounts.append({"name": "store", "mountPath": STORE_DIR})
        ports.append({"name": "controller", "containerPort": CONTROLLER_PORT})
    container = _container(s, "namesrv", s.name_server, start_script("namesrv", s), ports, NAMESRV_PORT, mounts)
    spec = {
        "serviceName": NAMESRV,
        "replicas": s.name_servers,
        "podManagementPolicy": "Parallel",
        "selector": {"matchLabels": match},
        "updateStrategy": {"type": "RollingUpdate"},
        "template": {
            "metadata": {"labels": role_labels("name-server", extra)},
            "spec": _pod_spec(container, _volumes(["namesrv.conf"], [], extra_volumes), match, s.name_servers, 30),
        },
    }
    if s.replicated:
        spec["volumeClaimTemplates"] = [volume_claim("store", s, match)]
    return spec


def broker_statefulset_spec(s: MessageQueueSettings, index: int, extra: dict[str, str]) -> dict:
    """One broker group: `replicasPerGroup` brokers sharing a brokerName, each with its own store volume."""
    group = broker_group_name(index)
    match = role_match("broker", group)
    ports = [
        {"name": "remoting", "containerPort": BROKER_PORT},
        {"name": "fast", "containerPort": BROKER_FAST_PORT},
        {"name": "ha", "containerPort": BROKER_HA_PORT},
    ]
    mounts = [
        {"name": "store", "mountPath": STORE_DIR},
        {"name": "credentials", "mountPath": SECRET_DIR, "readOnly": True},
    ]
    container = _container(s, "broker", s.broker, start_script("broker", s, group), ports, BROKER_PORT, mounts)
    secret_items = [BROKER_SECRET_KEY]
    return {
        "serviceName": broker_statefulset_name(index),
        "replicas": s.replicas_per_group,
        "podManagementPolicy": "Parallel",
        "selector": {"matchLabels": match},
        "updateStrategy": {"type": "RollingUpdate"},
        "template": {
            "metadata": {"labels": role_labels("broker", extra, group)},
            "spec": _pod_spec(container, _volumes([f"{group}.conf"], secret_items, []), match,
                              s.replicas_per_group, 120),
        },
        "volumeClaimTemplates": [volume_claim("store", s, match)],
    }


def proxy_deployment_spec(s: MessageQueueSettings, extra: dict[str, str]) -> dict:
    """Stateless gRPC/remoting proxies in cluster mode."""
    match = role_match("proxy")
    ports = [
        {"name": "grpc", "containerPort": PROXY_GRPC_PORT},
        {"name": "remoting", "containerPort": PROXY_REMOTING_PORT},
    ]
    mounts = [{"name": "credentials", "mountPath": SECRET_DIR, "readOnly": True}]
    container = _container(s, "proxy", s.proxy, start_script("proxy", s), ports, PROXY_GRPC_PORT, mounts)
    return {
        "replicas": s.proxies,
        "selector": {"matchLabels": match},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
        "template": {
            "metadata": {"labels": role_labels("proxy", extra)},
            "spec": _pod_spec(container, _volumes(["rmq-proxy.json"], [PROXY_SECRET_KEY], []), match, s.proxies, 60),
        },
    }


# --- Services and budgets ------------------------------------------------------------------------


def _svc_ports(*ports: tuple[str, int]) -> list[dict]:
    return [{"name": n, "port": p, "targetPort": p, "protocol": "TCP"} for n, p in ports]


def namesrv_service_spec(s: MessageQueueSettings) -> dict:
    """Headless, not-ready pods published: controllers must find each other before they are ready."""
    ports = [("namesrv", NAMESRV_PORT)] + ([("controller", CONTROLLER_PORT)] if s.replicated else [])
    return {"clusterIP": "None", "publishNotReadyAddresses": True, "selector": role_match("name-server"),
            "ports": _svc_ports(*ports)}


def broker_service_spec(index: int) -> dict:
    """Headless per group: each broker's stable DNS name (what `broker_addresses` lists)."""
    return {
        "clusterIP": "None",
        "publishNotReadyAddresses": True,
        "selector": role_match("broker", broker_group_name(index)),
        "ports": _svc_ports(("remoting", BROKER_PORT), ("fast", BROKER_FAST_PORT), ("ha", BROKER_HA_PORT)),
    }


def proxy_service_spec() -> dict:
    return {"type": "ClusterIP", "selector": role_match("proxy"),
            "ports": _svc_ports(("grpc", PROXY_GRPC_PORT), ("remoting", PROXY_REMOTING_PORT))}


def disruption_budgets(s: MessageQueueSettings) -> dict[str, dict]:
    """By object name; only for roles of 2+ pods (a budget on a single pod would block every drain)."""
    budgets: dict[str, dict] = {}
    if s.name_servers >= 2:
        budgets[NAMESRV] = {"minAvailable": s.name_servers // 2 + 1, "selector": {"matchLabels": role_match("name-server")}}
    if s.replicas_per_group >= 2:
        for i in range(s.broker_groups):
            budgets[broker_statefulset_name(i)] = {
                "maxUnavailable": 1, "selector": {"matchLabels": role_match("broker", broker_group_name(i))}}
    if s.proxies >= 2:
        budgets[PROXY] = {"minAvailable": 1, "selector": {"matchLabels": role_match("proxy")}}
    return budgets


# --- network policies ----------------------------------------------------------------------------


def _tcp(*ports: int) -> list[dict]:
    return [{"protocol": "TCP", "port": p} for p in ports]


def agents_peer() -> dict:
    """Agent pods (LABEL_AGENT, render/agent/labels.py) in tenant namespaces (LABEL_TENANT, render/tenant.py)."""
    return {
        "namespaceSelector": {"matchExpressions": [{"key": LABEL_TENANT, "operator": "Exists"}]},
        "podSelector": {"matchExpressions": [{"key": LABEL_AGENT, "operator": "Exists"}]},
    }


def internal_policy_spec() -> dict:
    """The queue's pods reach each other on any port (name servers, controllers, brokers, HA, proxies), and DNS."""
    own = [{"podSelector": {"matchLabels": queue_match()}}]
    return {
        "podSelector": {"matchLabels": queue_match()},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": own}],
        "egress": [dns_egress_rule(), {"to": own}],
    }


def proxy_access_policy_spec() -> dict:
    """Agents to the proxies' gRPC and remoting ports; nothing else from outside the namespace."""
    return {
        "podSelector": {"matchLabels": role_match("proxy")},
        "policyTypes": ["Ingress"],
        "ingress": [{"from": [agents_peer()], "ports": _tcp(PROXY_GRPC_PORT, PROXY_REMOTING_PORT)}],
    }


def broker_access_policy_spec() -> dict:
    """Agents to the brokers' remoting port (reading checkpoints by key)."""
    return {
        "podSelector": {"matchLabels": selector_labels(APP, "broker")},
        "policyTypes": ["Ingress"],
        "ingress": [{"from": [agents_peer()], "ports": _tcp(BROKER_PORT)}],
    }


def namesrv_access_policy_spec() -> dict:
    """Agents to the name servers' port: the brokers' addresses a checkpoint read by key goes to
    (rocketmq_admin/checkpoints.py; the proxy does not answer that request)."""
    return {
        "podSelector": {"matchLabels": role_match("name-server")},
        "policyTypes": ["Ingress"],
        "ingress": [{"from": [agents_peer()], "ports": _tcp(NAMESRV_PORT)}],
    }


def network_policy_specs() -> dict[str, dict]:
    """By name, default-deny first (k8s_common.default_deny_spec is added by the component)."""
    return {
        f"{APP}-internal": internal_policy_spec(),
        f"{APP}-proxy-from-agents": proxy_access_policy_spec(),
        f"{APP}-broker-from-agents": broker_access_policy_spec(),
        f"{APP}-namesrv-from-agents": namesrv_access_policy_spec(),
    }
