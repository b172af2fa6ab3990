"""RocketMQ topics, consumer groups and agents' ACL 2.0 users as Pulumi resources (issue 13).

The package is named exactly ``rocketmq_provider`` on purpose: its provider classes
(rocketmq_provider.provider) are pickled BY REFERENCE into every resource's ``__provider`` input,
so renaming or moving the package or those classes breaks every stack that holds them.

- settings.py: ``messageQueue.admin`` (QueueAdminSettings) and the secrets read in configure();
- credentials.py: agents' passwords derived from the stack's seed (never in state);
- provider.py / resources.py: QueueTopic, QueueConsumerGroup, QueueUser.
"""

from rocketmq_provider.resources import QueueConsumerGroup, QueueTopic, QueueUser

__all__ = ["QueueConsumerGroup", "QueueTopic", "QueueUser"]
