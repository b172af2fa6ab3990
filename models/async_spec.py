"""The `async:` block of an agent spec: long tasks handed over through the stack's message queue.

An agent that declares it takes A2A tasks from RocketMQ topics instead of (besides) holding an
HTTP connection open: callers publish a task, the agent's workers consume it with the declared
concurrency, redeliver it with back-off when it fails, park it in the dead-letter queue after the
last retry, and record checkpoints keyed by task id so an interrupted task resumes where it was.
"""

from __future__ import annotations

from pydantic import Field

from models.settings_base import Settings

# RocketMQ's retryMaxTimes of a consumer group: redeliveries before the dead-letter queue. The
# broker takes larger values, but its back-off table (1 s .. 2 h) has 16 steps.
MAX_TASK_RETRIES = 16


class TaskBackoff(Settings):
    """Delay before each redelivery of a failed task: initial * multiplier^n, capped at max."""

    initial_seconds: int = Field(default=10, ge=1, le=3600, description="Delay before the first redelivery in seconds, 1-3600; default 10.")
    max_seconds: int = Field(default=600, ge=1, le=7200, description="Longest delay in seconds, 1-7200, at least initialSeconds; default 600.")
    multiplier: int = Field(default=2, ge=1, le=10, description="Growth of the delay per redelivery, 1-10; default 2.")


class TaskRetry(Settings):
    """How often a failed (or timed-out) task is redelivered before it goes to the dead-letter queue."""

    max_retries: int = Field(
        default=3,
        ge=0,
        le=MAX_TASK_RETRIES,
        description=f"Redeliveries after the first attempt, 0-{MAX_TASK_RETRIES}; default 3. After the last one the "
        "task goes to the dead-letter queue of the agent's worker group (`%DLQ%<group>`), kept for inspection "
        "and replay, never retried by itself.",
    )
    backoff: TaskBackoff = Field(default=TaskBackoff(), description="Delay between redeliveries. Default: 10 s doubling up to 600 s.")


class AsyncSpec(Settings):
    """Take tasks from the stack's message queue (RocketMQ), besides the HTTP A2A route.

    The agent gets per-skill task topics (callers the skill's access rule admits may publish),
    a result inbox for each agent that calls it, a compacted checkpoint topic keyed by task id,
    a worker consumer group with the retry policy below, and a queue credential of its own
    (a Secret mounted as a file). Needs `messageQueue.enabled` in the stack config.
    """

    concurrency: int = Field(
        default=4, ge=1, le=256, description="Tasks one pod works on at once, 1-256; default 4 (how many it receives per poll)."
    )
    task_timeout_seconds: int = Field(
        default=3600,
        ge=10,
        le=43200,
        description="How long a received task stays invisible to other workers, 10-43200 seconds (RocketMQ's longest "
        "invisible time is 12 h); default 3600. A worker that neither finishes nor extends it in time loses the task "
        "to a redelivery, which resumes from the last checkpoint.",
    )
    retry: TaskRetry = Field(default=TaskRetry(), description="Redeliveries and back-off of failed tasks. Default: 3 retries, 10 s doubling.")
    checkpoints: bool = Field(
        default=True,
        description="Keep each task's checkpoints in a compacted topic keyed by task id, so a redelivered task resumes "
        "from its last checkpoint instead of starting over. Default true.",
    )

    def problems(self) -> list[tuple[tuple, str]]:
        backoff = self.retry.backoff
        if backoff.max_seconds < backoff.initial_seconds:
            return [(("retry", "backoff", "maxSeconds"), f"must be >= initialSeconds ({backoff.initial_seconds})")]
        return []
