"""The message bus (RabbitMQ via pika); see `Bus` and docs/contracts.md ("Bus")."""

from shared.bus.client import Bus, MessageHandler
from shared.bus.commands import CommandHandler, CommandReplies, Reply, ReplyWriter
from shared.bus.errors import BusError, CommandTimeout
from shared.bus.publisher import BestEffortPublisher, Publisher

__all__ = [
    "BestEffortPublisher",
    "Bus",
    "BusError",
    "CommandHandler",
    "CommandReplies",
    "CommandTimeout",
    "MessageHandler",
    "Publisher",
    "Reply",
    "ReplyWriter",
]
