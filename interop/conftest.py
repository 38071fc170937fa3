"""Fixtures of the interoperability suite: the ``lab`` in which a test starts peers and LoadGuard.

Everything a test starts through ``lab`` is stopped at the end of the test, in this order: chargers,
LoadGuard (SIGTERM; the test fails unless it exits 0), the CSMS. Then every frame every peer
received is checked (``support.wire``): a schema violation, an unsolicited answer or a second CALL
in flight fails the test, with the offending frame in the message.
"""

from __future__ import annotations

import pathlib
import ssl
from typing import Any

import pytest

from support import schemas
from support.loadguard import LoadGuard, make_config, require_binary
from support.peers import Charger, Csms, CsmsSession, connect_charger
from support.wire import Wire


class Lab:
    def __init__(self, workdir: pathlib.Path) -> None:
        self.workdir = workdir
        self.csmses: list[Csms] = []
        self.loadguards: list[LoadGuard] = []
        self.chargers: list[Charger] = []

    async def csms(self, **kwargs: Any) -> Csms:
        csms = Csms(**kwargs)
        await csms.start()
        self.csmses.append(csms)
        return csms

    async def loadguard(self, **kwargs: Any) -> LoadGuard:
        binary = require_binary()
        name = kwargs.pop("name", f"loadguard{len(self.loadguards) + 1}")
        args = kwargs.pop("args", None)
        config = make_config(self.workdir, name=name, **kwargs)
        loadguard = LoadGuard(binary, self.workdir, config, name, args=args)
        self.loadguards.append(loadguard)
        await loadguard.start()
        return loadguard

    async def charger(
        self,
        target: LoadGuard | Csms | str,
        charger_id: str = "CP-1",
        subprotocols: list[str] | None = None,
        headers: dict[str, str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        **kwargs: Any,
    ) -> Charger:
        url = target if isinstance(target, str) else target.url
        charger = await connect_charger(url, charger_id, subprotocols, headers, ssl_context, **kwargs)
        self.chargers.append(charger)
        return charger

    async def linked(
        self, version: str, charger_id: str = "CP-1", **loadguard_kwargs: Any
    ) -> tuple[Csms, LoadGuard, Charger, CsmsSession]:
        """CSMS, LoadGuard in front of it, and a charger of ``version`` connected through it."""
        csms = await self.csms()
        chargers = loadguard_kwargs.pop("chargers", [{"id": charger_id}])
        loadguard = await self.loadguard(upstream=csms.url, chargers=chargers, **loadguard_kwargs)
        charger = await self.charger(loadguard, charger_id, [schemas.SUBPROTOCOL[version]])
        assert (
            charger.subprotocol == schemas.SUBPROTOCOL[version]
        ), f"charger offered {schemas.SUBPROTOCOL[version]} and got {charger.subprotocol!r}"
        session = await csms.wait_session(charger_id)
        assert session.subprotocol == charger.subprotocol
        return csms, loadguard, charger, session

    def wires(self) -> list[Wire]:
        wires = [c.wire for c in self.chargers]
        for csms in self.csmses:
            wires.extend(csms.wires)
        return wires

    async def shutdown(self) -> list[str]:
        failures: list[str] = []
        for charger in self.chargers:
            try:
                await charger.close()
            except Exception:
                pass
        for loadguard in self.loadguards:
            try:
                status = await loadguard.stop()
            except AssertionError as error:
                failures.append(str(error))
                continue
            if status not in (0, None):
                failures.append(
                    f"LoadGuard {loadguard.name} exited with status {status} on SIGTERM (expected 0)\n"
                    f"{loadguard.log_tail()}"
                )
        for csms in self.csmses:
            await csms.stop()
        for wire in self.wires():
            failures.extend(wire.problems)
        return failures


@pytest.fixture
async def lab(tmp_path: pathlib.Path):
    lab = Lab(tmp_path)
    yield lab
    failures = await lab.shutdown()
    if failures:
        pytest.fail("\n".join(failures), pytrace=False)
