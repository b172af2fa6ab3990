"""Images pinned by digest: accepted everywhere the stack or a spec sets an image, and required where a profile asks."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import run_program, stack_file_config  # noqa: E402
from policy_cases import support as S  # noqa: E402

DIGEST = "@sha256:" + "ab" * 32
REQUIRE = {**S.config_file("prod"), "images-pinned": {"requireDigest": True}}


def _images(run) -> set[str]:
    found = set()
    for r in run.resources:
        template = ((r.inputs.get("spec") or {}).get("template") or {}).get("spec") or {}
        for section in ("initContainers", "containers"):
            found |= {c["image"] for c in template.get(section) or []}
    return found


def _digest_stack():
    config = stack_file_config("prod")
    nacos = {**config["agent-runtime:nacos"], "image": "nacos/nacos-server" + DIGEST, "adminInitImage": "curlimages/curl" + DIGEST}
    agents = {**config["agent-runtime:agents"], "runtimeImage": "ghcr.io/agent-runtime/declarative-agent" + DIGEST}
    profiles = [{**p, "image": "ghcr.io/agent-runtime/sandbox-python" + DIGEST} for p in config["agent-runtime:sandboxProfiles"]]
    queue = {**config["agent-runtime:messageQueue"], "image": "apache/rocketmq:5.3.3" + DIGEST}
    return run_program("prod", overrides={"nacos": nacos, "agents": agents, "sandboxProfiles": profiles, "messageQueue": queue})


def test_every_image_setting_takes_a_digest_and_the_required_digest_rule_then_holds():
    run = _digest_stack()
    images = _images(run)
    assert images and all(DIGEST in i for i in images), images
    found = [v for v in S.run_direct(S.from_registered(run.resources), given=REQUIRE) if v.policy == "images-pinned"]
    assert found == [], [v.message for v in found]


def test_a_tag_is_refused_where_digests_are_required():
    run = run_program("prod")
    found = [v for v in S.run_direct(S.from_registered(run.resources), given=REQUIRE) if v.policy == "images-pinned"]
    assert found and all("is not pinned by digest" in v.message for v in found)
    # without the requirement a version tag is enough
    assert [v for v in S.run_direct(S.from_registered(run.resources), given=S.config_file("prod")) if v.policy == "images-pinned"] == []
