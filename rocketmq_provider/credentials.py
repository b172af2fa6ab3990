"""Agents' RocketMQ passwords, derived from one stack secret instead of stored anywhere.

``password = base64url(HMAC-SHA256(seed, "agent-runtime/rocketmq/" + username))`` without
padding (43 characters), ``seed`` being the stack secret ``messageQueueCredentialSeed``.

Why derived: two parties need the same password. The program puts it into the agent's
Kubernetes Secret (as a Pulumi secret, so encrypted in state), and the QueueUser provider
creates the broker's ACL 2.0 user with it. The provider computes it from the seed it reads in
configure(), so no password is ever an input or output of a queue resource - nothing in state to
leak, nothing to keep in sync - and both sides agree because they run the same function.

Rotation: ``credentialVersion`` on QueueUser. Version 1 is the plain label above (so passwords
derived before versions existed stay valid); version N > 1 appends ``"/v" + N`` to the label.
Raising the version changes the password the provider sets on the broker and the one the program
writes into the Secret, in the same ``pulumi up``. Changing the seed changes every agent's password
(the provider sees each user's broker password differ on refresh; see QueueUserProvider.read).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

LABEL_PREFIX = "agent-runtime/rocketmq/"


def derive_password(seed: str, username: str, version: int = 1) -> str:
    """The password of ``username`` at ``version`` (1: the original; >1: after rotations)."""
    if not seed:
        raise ValueError("derive_password: the seed is empty")
    if not username:
        raise ValueError("derive_password: the username is empty")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"derive_password: version must be an integer >= 1, not {version!r}")
    label = LABEL_PREFIX + username + (f"/v{version}" if version > 1 else "")
    digest = hmac.new(seed.encode("utf-8"), label.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
