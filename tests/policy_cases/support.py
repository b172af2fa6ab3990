"""The tests' side of running the policy pack: offline/policy.py's direct run, plus the analyzer gRPC requests.

`run_direct()`/`engine_config()` (offline/policy.py) run each policy the way the engine
would; the helpers below build the Configure/Analyze requests a real engine sends the pack.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parents[2]
PACK_DIR = REPO / "policies"
for p in (str(PACK_DIR), str(REPO / "tests"), str(REPO)):
    if p not in sys.path:
        sys.path.insert(0, p)

from google.protobuf import empty_pb2  # noqa: E402
from pulumi.runtime.proto import analyzer_pb2  # noqa: E402
from pulumi_policy import EnforcementLevel  # noqa: E402
from pulumi_policy.policy import _PolicyAnalyzerServicer  # noqa: E402

from offline.policy import (  # noqa: E402,F401 - the tests' names for them
    BY_NAME,
    LEVELS,
    PACK_DIR,
    PROTO_LEVELS,
    Resource,
    ResourceValidationArgs,
    Violation,
    _opts,
    _unproxy,
    config_file,
    engine_config,
    from_registered,
    pack,
    run_direct,
    urn,
)

# ---------------------------------------------------------------- analyzer (gRPC) side
def new_servicer() -> _PolicyAnalyzerServicer:
    return _PolicyAnalyzerServicer(
        pack.PACK_NAME, "0.1.0", pack.POLICIES, EnforcementLevel.MANDATORY, None, pack.PACK_DESCRIPTION
    )


def configure_request(info: analyzer_pb2.AnalyzerInfo, given: Optional[dict]) -> analyzer_pb2.ConfigureAnalyzerRequest:
    """Build Configure like the engine: defaults from the analyzer's own PolicyInfo, then the config file."""
    from google.protobuf import json_format

    reconciled: dict[str, tuple[str, dict]] = {}
    for p in info.policies:
        props = {}
        schema_props = json_format.MessageToDict(p.configSchema.properties) if p.HasField("configSchema") else {}
        for k, v in schema_props.items():
            if isinstance(v, dict) and "default" in v:
                props[k] = v["default"]
        reconciled[p.name] = (analyzer_pb2.EnforcementLevel.Name(p.enforcementLevel).lower(), props)
    given = copy.deepcopy(given or {})
    if isinstance(given.get("all"), str):
        reconciled = {k: (given["all"], v[1]) for k, v in reconciled.items()}
    for name, value in given.items():
        if name == "all" or name not in reconciled:
            continue
        level, props = reconciled[name]
        if isinstance(value, str):
            level = value
        else:
            value = dict(value)
            level = value.pop("enforcementLevel", level)
            props = {**props, **value}
        reconciled[name] = (level, props)
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for name, (level, props) in reconciled.items():
        cfg = analyzer_pb2.PolicyConfig(enforcementLevel=PROTO_LEVELS[LEVELS[level]])
        cfg.properties.update(props)
        request.policyConfig[name].CopyFrom(cfg)
    return request


def analyze_request(res: Resource) -> analyzer_pb2.AnalyzeRequest:
    request = analyzer_pb2.AnalyzeRequest(type=res.type, urn=res.urn, name=res.name)
    request.properties.update(res.props)
    request.options.parent = res.parent or ""
    return request


def analyze_stack_request(resources: list[Resource]) -> analyzer_pb2.AnalyzeStackRequest:
    request = analyzer_pb2.AnalyzeStackRequest()
    for res in resources:
        item = request.resources.add(type=res.type, urn=res.urn, name=res.name, parent=res.parent or "")
        item.properties.update(res.props)
    return request


def empty() -> empty_pb2.Empty:
    return empty_pb2.Empty()
