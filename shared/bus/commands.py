"""Both ends of a command: the sender's reply stream and the server's runner."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

from shared.bus.amqp import RECOVERABLE, close_quietly, decode, log
from shared.bus.dispatch import Delivery
from shared.bus.errors import BusError, CommandTimeout
from shared.errors import TsubameError

Reply = Callable[[dict[str, Any]], None]
# A handler may return the command's result (sent as ``result`` in the final reply); an
# exception it raises may carry one too, as its ``result`` attribute.
CommandHandler = Callable[[dict[str, Any], Reply], "dict[str, Any] | None"]
# How the runner publishes a reply: (reply_to, correlation_id, body).
SendReply = Callable[[str, str | None, dict[str, Any]], None]


class ReplyWriter:
    """A sink writing each message to a command's sender as ``{"message": ...}``:
    attach it to the event a worker adopted (``RunningEvent.attach``) and its log
    streams back to the web process, which relays it to the client."""

    def __init__(self, reply: Reply) -> None:
        self._reply = reply

    def write(self, message: str) -> None:
        self._reply({"message": message})


class CommandReplies(Iterator[dict[str, Any]]):
    """The replies to one sent command, ending with (and including) the `final` one.

    Owns the connection holding the exclusive reply queue: iterate to the end, or
    call `close()` (or use it as a context manager) to give it back early.
    """

    def __init__(
        self,
        conn: BlockingConnection,
        channel: BlockingChannel,
        reply_queue: str,
        correlation_id: str,
        timeout: float,
    ) -> None:
        self._conn = conn
        self._correlation_id = correlation_id
        self._timeout = timeout
        self._messages = channel.consume(reply_queue, auto_ack=True, inactivity_timeout=timeout)
        self._finished = False

    def __next__(self) -> dict[str, Any]:
        if self._finished:
            raise StopIteration
        try:
            while True:
                method, props, body = next(self._messages)
                if method is None:
                    self.close()
                    raise CommandTimeout(f"no reply to the command within {self._timeout:g}s")
                if props.correlation_id == self._correlation_id:
                    break
        except RECOVERABLE as exc:
            self.close()
            raise BusError(f"lost the broker while waiting for a reply: {exc!r}") from exc
        message = decode(body)
        if message.get("final") is True:
            self.close()
        return message

    def close(self) -> None:
        self._finished = True
        close_quietly(self._conn)

    def __enter__(self) -> CommandReplies:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def command_processor(handler: CommandHandler, send: SendReply) -> Callable[[Delivery], None]:
    """Run `handler` on one command delivery and always answer a final message.

    A handler error is the command's outcome (reported to the sender), not a delivery
    failure, so the command is acked and not retried. Only a failure to send the final
    reply counts as a delivery failure (then the command is redelivered). Errors meant
    for the user (``TsubameError``) are logged without a traceback.
    """

    def process(delivery: Delivery) -> None:
        reply_to = delivery.properties.reply_to
        correlation_id = delivery.properties.correlation_id

        def reply(message: dict[str, Any]) -> None:
            if reply_to:
                send(reply_to, correlation_id, message)

        error = ""
        result: Any = None
        status = 0
        try:
            command = decode(delivery.body)
        except ValueError as exc:
            error = f"invalid command: {exc}"
        else:
            try:
                result = handler(command, reply)
            except TsubameError as exc:
                log.info("command %r failed: %s", command.get("command"), exc)
                error, result = str(exc) or type(exc).__name__, getattr(exc, "result", None)
                if 400 <= exc.status < 500:
                    status = exc.status
            except Exception as exc:
                log.exception("command failed: %r", command)
                error, result = str(exc) or type(exc).__name__, getattr(exc, "result", None)
        final: dict[str, Any] = {"final": True, "error": error}
        if isinstance(result, dict):
            final["result"] = result
        if status:
            # The client's mistake: the sender answers this status if it streamed nothing yet.
            final["status"] = status
        reply(final)

    return process


__all__ = [
    "CommandHandler",
    "CommandReplies",
    "Reply",
    "ReplyWriter",
    "command_processor",
]
