"""The Kafka delivery policy, written once: producer durability, commit-after-success, retry, dead-letter."""

from shared.kafka.batches import batch_subscriber_options, consume_batch
from shared.kafka.broker import make_broker, subscriber_options
from shared.kafka.delivery import DeliveryGuard, PermanentError
from shared.kafka.publishing import publish_event
from shared.kafka.retry import RetryPolicy

__all__ = [
    "DeliveryGuard",
    "PermanentError",
    "RetryPolicy",
    "batch_subscriber_options",
    "consume_batch",
    "make_broker",
    "publish_event",
    "subscriber_options",
]
