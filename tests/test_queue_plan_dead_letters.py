"""What the queue plan gives an async agent besides its tasks, as the real broker needs it
(tests/broker/test_queue_behaviour.py): a dead-letter group and Sub on its DLQ, and only Pub and
Get on its checkpoints (QUERY_MESSAGE by task id is authorized as Sub or Get)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "broker"))

from queue_helpers import fixture_plan  # noqa: E402


def test_owner_gets_its_dead_letters_and_minimal_checkpoint_rights():
    plan = fixture_plan("127.0.0.1:9876")
    (summarizer,) = [u for u in plan.users if u.username == "research_summarizer"]
    entries = {e.resource: e.actions for e in summarizer.entries}
    assert entries["Topic:%DLQ%research_summarizer_workers"] == ("Sub",)
    assert entries["Group:research_summarizer_deadletters"] == ("Sub",)
    assert entries["Topic:research_summarizer_checkpoints"] == ("Get", "Pub")
    groups = {g.name: g for g in plan.groups}
    assert groups["research_summarizer_deadletters"].max_retries == 16
    assert groups["research_summarizer_workers"].max_retries == 2
    assert plan.access["summarizer"].to_env()["deadLetterGroup"] == "research_summarizer_deadletters"
    # callers get nothing of the agent's dead letters
    for user in plan.users:
        if user.username != "research_summarizer":
            assert not any("DLQ" in e.resource or "deadletters" in e.resource for e in user.entries)
