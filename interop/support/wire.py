"""One peer's end of an OCPP WebSocket, recorded as raw text and checked frame by frame.

``Wire`` sits between the ``ocpp`` library's ``ChargePoint`` and the ``websockets`` connection: the
library calls ``recv()`` and ``send()`` on it, and ``Wire`` records the exact text of every frame as
it crossed the socket (never a re-serialized form), which is what the byte-exact forwarding checks
compare. A reader task takes frames off the socket as they arrive, independently of the library
(which handles one incoming CALL at a time and reads nothing while a handler runs), so arrival
times and the one-in-flight check reflect what the peer on the other side actually did.

Every incoming frame is checked as it arrives:

- the OCPP-J envelope (type id, id length, error codes) and the payload against the official
  schema (``support.schemas``); a CALLRESULT is validated against the response schema of the CALL
  it answers, which this peer sent;
- a CALLRESULT or CALLERROR must answer a CALL this peer sent and has not had answered yet;
- no new CALL may arrive while an earlier incoming CALL is still unanswered by this peer (the
  one-in-flight rule of OCPP-J).

Problems are collected (never raised into the library's read loop) and reported by the test
fixtures at the end of each test. Frames a test sends deliberately broken are marked exempt with
``exempt()`` before they are sent.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from typing import Any, Callable

from websockets.exceptions import ConnectionClosed

from . import schemas


@dataclasses.dataclass(frozen=True)
class Frame:
    """A text frame as one peer sent or received it, with the loop's monotonic time."""

    at: float
    direction: str  # "in" | "out" | "closed" (the connection closed; text says how)
    text: str

    def message(self) -> list[Any] | None:
        """The parsed OCPP-J array, or None when the text is not one."""
        try:
            value = json.loads(self.text)
        except json.JSONDecodeError:
            return None
        return value if isinstance(value, list) and value else None

    @property
    def type(self) -> int | None:
        message = self.message()
        return message[0] if message else None

    @property
    def id(self) -> str | None:
        message = self.message()
        return message[1] if message and len(message) > 1 else None

    @property
    def action(self) -> str | None:
        message = self.message()
        if message and message[0] in (schemas.CALL, schemas.SEND) and len(message) > 2:
            return message[2]
        return None


class Wire:
    """Recording, validating wrapper around a ``websockets`` connection (see module doc)."""

    def __init__(self, connection: Any, name: str, version: str) -> None:
        self.connection = connection
        self.name = name
        self.version = version
        self.frames: list[Frame] = []
        self.problems: list[str] = []
        self._exempt: set[str] = set()
        self._sent_calls: dict[str, str] = {}  # id -> action of our CALLs awaiting an answer
        self._answered_ids: set[str] = set()
        self._open_incoming: dict[str, str] = {}  # id -> action of received CALLs we did not answer yet
        self._raw_waiters: dict[str, asyncio.Future[str]] = {}
        self._changed = asyncio.Condition()
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self._inbox: asyncio.Queue[str | BaseException] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start taking frames off the socket."""
        if self._reader is None:
            self._reader = asyncio.create_task(self._read_loop(), name=f"wire reader {self.name}")

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):
                pass

    async def _read_loop(self) -> None:
        while True:
            try:
                data = await self.connection.recv()
            except ConnectionClosed as closed:
                await self._mark_closed(closed)
                self._inbox.put_nowait(closed)
                return
            if isinstance(data, bytes):
                self.problems.append(f"{self.name}: received a binary frame of {len(data)} bytes; OCPP-J uses text")
                continue
            await self._record("in", data)
            waiter = self._raw_waiter_for(data)
            if waiter is not None:
                if not waiter.done():
                    waiter.set_result(data)
                continue
            self._inbox.put_nowait(data)

    # -- the interface the ocpp library uses -------------------------------------------------

    async def recv(self) -> str:
        self.start()
        item = await self._inbox.get()
        if isinstance(item, BaseException):
            self._inbox.put_nowait(item)
            raise item
        return item

    async def send(self, text: str) -> None:
        await self._record("out", text)
        await self.connection.send(text)

    # -- test helpers ------------------------------------------------------------------------

    def exempt(self, text: str) -> None:
        """Mark a frame this peer will receive as deliberately invalid: it is recorded, not validated."""
        self._exempt.add(text)

    async def send_raw(self, text: str) -> None:
        """Send ``text`` as one text frame exactly as given (it is recorded like any frame)."""
        await self.send(text)

    async def call_raw(self, text: str, timeout: float = 5.0) -> str:
        """Send a hand-written CALL frame and return the raw text of its answer.

        The answer is taken off the wire before the ``ocpp`` library sees it.
        """
        message = json.loads(text)
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._raw_waiters[message[1]] = future
        try:
            await self.send(text)
            return await asyncio.wait_for(future, timeout)
        finally:
            self._raw_waiters.pop(message[1], None)

    def sent(self) -> list[str]:
        return [f.text for f in self.frames if f.direction == "out"]

    def received(self) -> list[str]:
        return [f.text for f in self.frames if f.direction == "in"]

    def received_frames(self) -> list[Frame]:
        return [f for f in self.frames if f.direction == "in"]

    def sent_frames(self) -> list[Frame]:
        return [f for f in self.frames if f.direction == "out"]

    async def wait_for(self, condition: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
        """Wait until ``condition()`` is truthy (re-checked on every frame and close); return its value."""
        async with self._changed:
            try:
                async with asyncio.timeout(timeout):
                    while True:
                        value = condition()
                        if value:
                            return value
                        await self._changed.wait()
            except TimeoutError:
                raise AssertionError(
                    f"{self.name}: timed out after {timeout}s waiting for {what}; "
                    f"last frames: {[f.direction + ' ' + f.text[:200] for f in self.frames[-6:]]}"
                ) from None

    async def wait_received(
        self, predicate: Callable[[Frame], bool], timeout: float = 10.0, what: str = "a frame"
    ) -> Frame:
        """Wait for a received frame matching ``predicate`` (including ones already received)."""

        def find() -> Frame | None:
            for frame in self.received_frames():
                if predicate(frame):
                    return frame
            return None

        return await self.wait_for(find, timeout, what)

    async def wait_closed(self, timeout: float = 10.0) -> None:
        try:
            await asyncio.wait_for(self.closed.wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"{self.name}: connection still open after {timeout}s") from None

    # -- recording and checks ----------------------------------------------------------------

    def _raw_waiter_for(self, text: str) -> asyncio.Future[str] | None:
        try:
            message = json.loads(text)
        except json.JSONDecodeError:
            return None
        if isinstance(message, list) and len(message) > 1 and message[0] in (schemas.CALLRESULT, schemas.CALLERROR):
            return self._raw_waiters.get(message[1]) if isinstance(message[1], str) else None
        return None

    async def _mark_closed(self, closed: ConnectionClosed) -> None:
        rcvd = closed.rcvd
        self.close_code = rcvd.code if rcvd is not None else None
        self.frames.append(Frame(time.monotonic(), "closed", f"close code {self.close_code}"))
        self.closed.set()
        async with self._changed:
            self._changed.notify_all()

    async def _record(self, direction: str, text: str) -> None:
        self.frames.append(Frame(time.monotonic(), direction, text))
        if direction == "in":
            self._check_incoming(text)
        else:
            self._note_outgoing(text)
        async with self._changed:
            self._changed.notify_all()

    def _note_outgoing(self, text: str) -> None:
        try:
            message = json.loads(text)
        except json.JSONDecodeError:
            return
        if not isinstance(message, list) or len(message) < 2:
            return
        if message[0] == schemas.CALL and len(message) > 2:
            self._sent_calls[message[1]] = message[2]
        elif message[0] in (schemas.CALLRESULT, schemas.CALLERROR):
            self._open_incoming.pop(message[1], None)

    def _check_incoming(self, text: str) -> None:
        if text in self._exempt:
            return
        try:
            message = schemas.parse_frame(text)
            schemas.check_envelope(self.version, message)
            kind, message_id = message[0], message[1]
            if kind == schemas.CALL:
                if self._open_incoming:
                    raise schemas.FrameProblem(
                        f"CALL {message[2]} {message_id} arrived while CALL(s) {self._open_incoming} "
                        "were still unanswered (one call in flight per direction)"
                    )
                self._open_incoming[message_id] = message[2]
                schemas.validate_payload(self.version, message[2], "request", message[3])
            elif kind == schemas.SEND:
                schemas.validate_payload(self.version, message[2], "request", message[3])
            elif kind in (schemas.CALLRESULT, schemas.CALLERROR):
                action = self._sent_calls.pop(message_id, None)
                if action is None:
                    again = " again" if message_id in self._answered_ids else ""
                    raise schemas.FrameProblem(
                        f"answer{again} for id {message_id}, which is not a CALL this peer awaits"
                    )
                self._answered_ids.add(message_id)
                if kind == schemas.CALLRESULT:
                    schemas.validate_payload(self.version, action, "response", message[2])
        except schemas.FrameProblem as problem:
            self.problems.append(f"{self.name} received {text[:300]!r}: {problem}")
