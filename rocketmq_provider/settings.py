# TEMPORARY stand-in until the mq-provider branch is merged (do not commit)
from typing import Optional
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
class QueueAdminSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True)
    namesrv_addr: Optional[str] = None
    brokers: list[str] = []
    cluster: str = "DefaultCluster"
    admin_user: str = "rocketmq-admin"
    timeout_seconds: float = Field(default=10.0, gt=0, le=300)
