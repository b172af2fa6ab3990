"""Admin of an Apache RocketMQ 5.3 cluster over its remoting protocol (stdlib only).

What the stack's MessageQueue provider calls to keep topics, consumer groups, ACL 2.0 users and
ACLs true: see admin.py, and docs/rocketmq-observed.md for what a real broker answered.
"""

from .admin import (AclEntry, AclSpec, AdminError, BrokerUnreachable, GroupSpec, RetryPolicy,
                    RocketMQAdmin, TopicConflict, TopicSpec, UserSpec)

__all__ = ["AclEntry", "AclSpec", "AdminError", "BrokerUnreachable", "GroupSpec", "RetryPolicy",
           "RocketMQAdmin", "TopicConflict", "TopicSpec", "UserSpec"]
