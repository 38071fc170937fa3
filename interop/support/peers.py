"""The two real peers of an OCPP link, built on the PyPI ``ocpp`` library: a CSMS and a charger.

Both speak OCPP 1.6J, 2.0.1 and 2.1, record every frame through a ``Wire`` and answer the calls the
tests need with schema-valid payloads. The CSMS answers the charger's session calls
(BootNotification, Heartbeat, Authorize, StatusNotification, Start/StopTransaction,
TransactionEvent, MeterValues, DataTransfer); the charger answers SetChargingProfile,
ClearChargingProfile, configuration/variable calls, TriggerMessage and DataTransfer. A test can
delay or hold a charger's answers (``Charger.answer_delay``, ``Charger.hold()``) to exercise
LoadGuard's per-charger call queue.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import itertools
import ssl
import urllib.parse
import uuid
from typing import Any, Callable

import websockets.asyncio.client
import websockets.exceptions
import websockets.asyncio.server
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call_result as result16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v21 import ChargePoint as ChargePoint21

from . import schemas
from .wire import Wire

MAX_FRAME = 4 * 1024 * 1024  # both peers accept frames far above the 1 MiB LoadGuard must forward
RESPONSE_TIMEOUT = 10


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class HandledCalls:
    """What a peer's handlers saw: (action, unique id, snake_case arguments), in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def add(self, action: str, unique_id: str, arguments: dict[str, Any]) -> None:
        self.calls.append((action, unique_id, arguments))

    def actions(self) -> list[str]:
        return [action for action, _, _ in self.calls]


# --------------------------------------------------------------------------------------------
# CSMS handlers
# --------------------------------------------------------------------------------------------


class _Csms16(ChargePoint16):
    def __init__(self, id: str, wire: Wire, session: CsmsSession) -> None:
        super().__init__(id, wire, response_timeout=RESPONSE_TIMEOUT)
        self.session = session

    @on("BootNotification")
    async def on_boot(self, call_unique_id: str, **kwargs: Any) -> Any:
        await self.session.seen("BootNotification", call_unique_id, kwargs)
        return result16.BootNotification(current_time=now(), interval=300, status=self.session.csms.boot_status)

    @on("Heartbeat")
    async def on_heartbeat(self, call_unique_id: str, **kwargs: Any) -> Any:
        await self.session.seen("Heartbeat", call_unique_id, kwargs)
        return result16.Heartbeat(current_time=now())

    @on("Authorize")
    async def on_authorize(self, call_unique_id: str, **kwargs: Any) -> Any:
        await self.session.seen("Authorize", call_unique_id, kwargs)
        return result16.Authorize(id_tag_info={"status": "Accepted"})

    @on("StatusNotification")
    async def on_status(self, call_unique_id: str, **kwargs: Any) -> Any:
        await self.session.seen("StatusNotification", call_unique_id, kwargs)
        return result16.StatusNotification()

    @on("StartTransaction")
    async def on_start(self, call_unique_id: str, **kwargs: Any) -> Any:
        await self.session.seen("StartTransaction", call_unique_id, kwargs)
        return result16.StartTransaction(
            transaction_id=next(self.session.csms.transaction_ids), id_tag_info={"status": "Accepted"}
        )

    @on("StopTransaction")
    async def on_stop(self, call_unique_id: str, **kwargs: Any) -> Any:
        await self.session.seen("StopTransaction", call_unique_id, kwargs)
        return result16.StopTransaction(id_tag_info={"status": "Accepted"})

    @on("MeterValues")
    async def on_meter_values(self, call_unique_id: str, **kwargs: Any) -> Any:
        await self.session.seen("MeterValues", call_unique_id, kwargs)
        return result16.MeterValues()

    @on("DataTransfer")
    async def on_data_transfer(self, call_unique_id: str, **kwargs: Any) -> Any:
        await self.session.seen("DataTransfer", call_unique_id, kwargs)
        data = self.session.csms.data_transfer_reply(call_unique_id, kwargs)
        return result16.DataTransfer(status="Accepted", data=data)


class _Csms2xHandlers:
    """CSMS handlers shared by OCPP 2.0.1 and 2.1 (their session messages have the same shape)."""

    session: CsmsSession
    _call_result: Any

    @on("BootNotification")
    async def on_boot(self, call_unique_id: str, **kwargs: Any) -> Any:
        await self.session.seen("BootNotification", call_unique_id, kwargs)
        return self._call_result.BootNotification(
            current_time=now(), interval=300, status=self.session.csms.boot_status
        )

    @on("Heartbeat")
    async def on_heartbeat(self, call_unique_id: str, **kwargs: Any) -> Any:
        await self.session.seen("Heartbeat", call_unique_id, kwargs)
        return self._call_result.Heartbeat(current_time=now())

    @on("Authorize")
    async def on_authorize(self, call_unique_id: str, **kwargs: Any) -> Any:
        await self.session.seen("Authorize", call_unique_id, kwargs)
        return self._call_result.Authorize(id_token_info={"status": "Accepted"})

    @on("StatusNotification")
    async def on_status(self, call_unique_id: str, **kwargs: Any) -> Any:
        await self.session.seen("StatusNotification", call_unique_id, kwargs)
        return self._call_result.StatusNotification()

    @on("TransactionEvent")
    async def on_transaction_event(self, call_unique_id: str, **kwargs: Any) -> Any:
        await self.session.seen("TransactionEvent", call_unique_id, kwargs)
        if kwargs.get("id_token") is not None:
            return self._call_result.TransactionEvent(id_token_info={"status": "Accepted"})
        return self._call_result.TransactionEvent()

    @on("MeterValues")
    async def on_meter_values(self, call_unique_id: str, **kwargs: Any) -> Any:
        await self.session.seen("MeterValues", call_unique_id, kwargs)
        return self._call_result.MeterValues()

    @on("DataTransfer")
    async def on_data_transfer(self, call_unique_id: str, **kwargs: Any) -> Any:
        await self.session.seen("DataTransfer", call_unique_id, kwargs)
        data = self.session.csms.data_transfer_reply(call_unique_id, kwargs)
        return self._call_result.DataTransfer(status="Accepted", data=data)


class _Csms201(_Csms2xHandlers, ChargePoint201):
    def __init__(self, id: str, wire: Wire, session: CsmsSession) -> None:
        ChargePoint201.__init__(self, id, wire, response_timeout=RESPONSE_TIMEOUT)
        self.session = session


class _Csms21(_Csms2xHandlers, ChargePoint21):
    def __init__(self, id: str, wire: Wire, session: CsmsSession) -> None:
        ChargePoint21.__init__(self, id, wire, response_timeout=RESPONSE_TIMEOUT)
        self.session = session


_CSMS_CLASSES = {"1.6": _Csms16, "2.0.1": _Csms201, "2.1": _Csms21}


class CsmsSession:
    """One charger's connection as the CSMS sees it."""

    def __init__(self, csms: Csms, connection: Any, charger_id: str, version: str | None) -> None:
        self.csms = csms
        self.connection = connection
        self.charger_id = charger_id
        self.version = version
        self.path: str = connection.request.path
        self.headers = connection.request.headers
        self.subprotocol: str | None = connection.subprotocol
        self.handled = HandledCalls()
        self.wire = Wire(connection, f"CSMS<-{charger_id}", version or "1.6")
        self.cp: Any = _CSMS_CLASSES[version](charger_id, self.wire, self) if version else None

    async def seen(self, action: str, unique_id: str, kwargs: dict[str, Any]) -> None:
        """Record a call from the charger; wait while the CSMS holds answers to ``action``."""
        self.handled.add(action, unique_id, kwargs)
        hold = self.csms.holds.get(action)
        if hold is not None:
            await hold.wait()

    async def call(self, payload: Any, **kwargs: Any) -> Any:
        """A CALL from the CSMS to the charger, through the ``ocpp`` library; raises on CALLERROR."""
        return await self.cp.call(payload, suppress=False, **kwargs)


class Csms:
    """A CSMS on loopback: one ``CsmsSession`` per accepted connection, kept for inspection.

    ``kill()`` drops the listening socket and every connection without a closing handshake (as a
    crashed backend would); ``start()`` again listens on the same port.
    """

    def __init__(
        self,
        subprotocols: tuple[str, ...] = ("ocpp2.1", "ocpp2.0.1", "ocpp1.6"),
        ssl_context: ssl.SSLContext | None = None,
        boot_status: str = "Accepted",
        port: int = 0,
    ) -> None:
        self.subprotocols = subprotocols
        self.ssl_context = ssl_context
        self.boot_status = boot_status
        self.port = port
        self.sessions: list[CsmsSession] = []
        self.refused: list[str] = []
        self.transaction_ids = itertools.count(1001)
        self.data_transfer_reply: Callable[[str, dict[str, Any]], str | None] = lambda unique_id, kwargs: None
        self.holds: dict[str, asyncio.Event] = {}
        self._server: Any = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Condition()

    @property
    def url(self) -> str:
        scheme = "wss" if self.ssl_context else "ws"
        return f"{scheme}://127.0.0.1:{self.port}/ocpp"

    @property
    def wires(self) -> list[Wire]:
        return [s.wire for s in self.sessions]

    async def start(self) -> None:
        self._server = await websockets.asyncio.server.serve(
            self._handle,
            "127.0.0.1",
            self.port,
            ssl=self.ssl_context,
            select_subprotocol=self._select_subprotocol,
            max_size=MAX_FRAME,
            ping_interval=None,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def kill(self) -> None:
        """Stop listening and drop every connection at once (TCP reset, no close frame)."""
        if self._server is None:
            return
        self._server.close(close_connections=False)
        for session in self.sessions:
            transport = session.connection.transport
            if transport is not None:
                transport.abort()
        self.release_holds()
        await self._server.wait_closed()
        self._server = None

    def hold(self, action: str) -> asyncio.Event:
        """Hold the CSMS's answers to ``action`` until the returned event is set (or ``kill()``)."""
        event = asyncio.Event()
        self.holds[action] = event
        return event

    def release_holds(self) -> None:
        for event in self.holds.values():
            event.set()
        self.holds.clear()

    async def stop(self) -> None:
        self.release_holds()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        for session in self.sessions:
            await session.wire.stop()

    def _select_subprotocol(self, connection: Any, offered: Any) -> Any:
        for subprotocol in self.subprotocols:
            if subprotocol in offered:
                return subprotocol
        return None

    async def _handle(self, connection: Any) -> None:
        charger_id = urllib.parse.unquote(connection.request.path.rstrip("/").rsplit("/", 1)[-1])
        version = schemas.VERSION_OF_SUBPROTOCOL.get(connection.subprotocol or "")
        session = CsmsSession(self, connection, charger_id, version)
        async with self._changed:
            self.sessions.append(session)
            self._changed.notify_all()
        if version is None:
            # A CSMS closes a connection without an OCPP subprotocol (OCPP-J 1.6 §3.1.1).
            self.refused.append(charger_id)
            await connection.close(1002, "no OCPP subprotocol")
            return
        session.wire.start()
        try:
            await session.cp.start()
        except websockets.exceptions.ConnectionClosed:
            pass
        finally:
            async with self._changed:
                self._changed.notify_all()

    async def wait_session(self, charger_id: str, count: int = 1, timeout: float = 10.0) -> CsmsSession:
        """Wait until ``charger_id`` has connected ``count`` times; return its latest session."""
        async with self._changed:
            try:
                async with asyncio.timeout(timeout):
                    while True:
                        mine = [s for s in self.sessions if s.charger_id == charger_id]
                        if len(mine) >= count:
                            return mine[-1]
                        await self._changed.wait()
            except TimeoutError:
                raise AssertionError(
                    f"CSMS: no connection #{count} for charger {charger_id!r} within {timeout}s "
                    f"(connections so far: {[s.charger_id for s in self.sessions]})"
                ) from None

    def sessions_of(self, charger_id: str) -> list[CsmsSession]:
        return [s for s in self.sessions if s.charger_id == charger_id]


# --------------------------------------------------------------------------------------------
# Charger
# --------------------------------------------------------------------------------------------


class _ChargerHandlers:
    """What the charger does with calls from the CSMS or LoadGuard, for all versions.

    Payload shapes that differ between 1.6 and 2.x are chosen by ``self.version``.
    """

    charger: Charger
    _call_result: Any

    async def _answer(self, action: str, unique_id: str, kwargs: dict[str, Any]) -> None:
        self.charger.handled.add(action, unique_id, kwargs)
        await self.charger.before_answer(action, unique_id)

    @on("SetChargingProfile")
    async def on_set_charging_profile(self, call_unique_id: str, **kwargs: Any) -> Any:
        await self._answer("SetChargingProfile", call_unique_id, kwargs)
        return self._call_result.SetChargingProfile(status=self.charger.profile_status)

    @on("ClearChargingProfile")
    async def on_clear_charging_profile(self, call_unique_id: str, **kwargs: Any) -> Any:
        await self._answer("ClearChargingProfile", call_unique_id, kwargs)
        return self._call_result.ClearChargingProfile(status="Accepted")

    @on("GetConfiguration")
    async def on_get_configuration(self, call_unique_id: str, **kwargs: Any) -> Any:
        await self._answer("GetConfiguration", call_unique_id, kwargs)
        keys = kwargs.get("key") or ["HeartbeatInterval"]
        return self._call_result.GetConfiguration(
            configuration_key=[{"key": k, "readonly": False, "value": "300"} for k in keys]
        )

    @on("ChangeConfiguration")
    async def on_change_configuration(self, call_unique_id: str, **kwargs: Any) -> Any:
        await self._answer("ChangeConfiguration", call_unique_id, kwargs)
        return self._call_result.ChangeConfiguration(status="Accepted")

    @on("GetVariables")
    async def on_get_variables(self, call_unique_id: str, **kwargs: Any) -> Any:
        await self._answer("GetVariables", call_unique_id, kwargs)
        results = [
            {
                "attribute_status": "Accepted",
                "attribute_value": "300",
                "component": item["component"],
                "variable": item["variable"],
            }
            for item in kwargs["get_variable_data"]
        ]
        return self._call_result.GetVariables(get_variable_result=results)

    @on("SetVariables")
    async def on_set_variables(self, call_unique_id: str, **kwargs: Any) -> Any:
        await self._answer("SetVariables", call_unique_id, kwargs)
        results = [
            {"attribute_status": "Accepted", "component": item["component"], "variable": item["variable"]}
            for item in kwargs["set_variable_data"]
        ]
        return self._call_result.SetVariables(set_variable_result=results)

    @on("TriggerMessage")
    async def on_trigger_message(self, call_unique_id: str, **kwargs: Any) -> Any:
        await self._answer("TriggerMessage", call_unique_id, kwargs)
        return self._call_result.TriggerMessage(status="Accepted")

    @on("DataTransfer")
    async def on_data_transfer(self, call_unique_id: str, **kwargs: Any) -> Any:
        await self._answer("DataTransfer", call_unique_id, kwargs)
        data = self.charger.data_transfer_reply(call_unique_id, kwargs)
        return self._call_result.DataTransfer(status="Accepted", data=data)


class _Charger16(_ChargerHandlers, ChargePoint16):
    pass


class _Charger201(_ChargerHandlers, ChargePoint201):
    pass


class _Charger21(_ChargerHandlers, ChargePoint21):
    pass


_CHARGER_CLASSES = {"1.6": _Charger16, "2.0.1": _Charger201, "2.1": _Charger21}


class Charger:
    """A charger connected over WebSocket, driven by the test (see ``support.sessions``)."""

    def __init__(self, charger_id: str, connection: Any, version: str) -> None:
        self.id = charger_id
        self.connection = connection
        self.version = version
        self.subprotocol: str | None = connection.subprotocol
        self.handled = HandledCalls()
        self.wire = Wire(connection, f"charger {charger_id}", version)
        self.cp: Any = _CHARGER_CLASSES[version](charger_id, self.wire, response_timeout=RESPONSE_TIMEOUT)
        self.cp.charger = self
        self.profile_status = "Accepted"
        self.answer_delay = 0.0
        self.data_transfer_reply: Callable[[str, dict[str, Any]], str | None] = lambda unique_id, kwargs: None
        self._holds: dict[str, asyncio.Event] = {}
        self._loop_task: asyncio.Task[None] | None = None

    def run(self) -> None:
        self.wire.start()
        self._loop_task = asyncio.create_task(self._serve(), name=f"charger {self.id}")

    async def _serve(self) -> None:
        try:
            await self.cp.start()
        except websockets.exceptions.ConnectionClosed:
            pass

    def hold(self, action: str) -> asyncio.Event:
        """Hold the answers to ``action`` until the returned event is set."""
        event = asyncio.Event()
        self._holds[action] = event
        return event

    async def before_answer(self, action: str, unique_id: str) -> None:
        hold = self._holds.get(action)
        if hold is not None:
            await hold.wait()
        if self.answer_delay:
            # A slow charger: the answer leaves a while after the call came in, which gives a
            # proxy every chance to (wrongly) send the next call before this one is answered.
            await asyncio.sleep(self.answer_delay)

    async def call(self, payload: Any, **kwargs: Any) -> Any:
        """A CALL from the charger, through the ``ocpp`` library; raises on CALLERROR."""
        return await self.cp.call(payload, suppress=False, **kwargs)

    async def close(self) -> None:
        for event in self._holds.values():
            event.set()
        await self.connection.close()
        if self._loop_task is not None:
            try:
                await asyncio.wait_for(self._loop_task, 5)
            except (TimeoutError, asyncio.CancelledError):
                self._loop_task.cancel()
        await self.wire.stop()


def basic_auth(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def connect_charger(
    url: str,
    charger_id: str,
    subprotocols: list[str] | None = None,
    headers: dict[str, str] | None = None,
    ssl_context: ssl.SSLContext | None = None,
    version: str | None = None,
    run: bool = True,
) -> Charger:
    """Open ``<url>/<charger_id>`` offering ``subprotocols`` and return the running charger.

    The OCPP version follows from the subprotocol the server chose; ``version`` overrides it when
    the server chose none (for tests of that refusal).
    """
    options: dict[str, Any] = {"ssl": ssl_context} if ssl_context is not None else {}
    connection = await websockets.asyncio.client.connect(
        f"{url}/{urllib.parse.quote(charger_id, safe='')}",
        subprotocols=subprotocols or ["ocpp1.6"],
        additional_headers=headers,
        max_size=MAX_FRAME,
        open_timeout=10,
        ping_interval=None,
        **options,
    )
    negotiated = schemas.VERSION_OF_SUBPROTOCOL.get(connection.subprotocol or "")
    charger = Charger(charger_id, connection, negotiated or version or "1.6")
    if run:
        charger.run()
    return charger


def sequential_ids(prefix: str) -> Callable[[], str]:
    """A unique-id generator for readable, reproducible message ids (``<prefix>-1``, ...)."""
    counter = itertools.count(1)
    return lambda: f"{prefix}-{next(counter)}"


def random_id() -> str:
    return str(uuid.uuid4())
