"""A charging site for end-to-end tests: LoadGuard with its simulated meter, a CSMS, and chargers with cars.

The site is what the site controller protects: a grid connection with a main fuse (per phase), a
building whose load the test sets through LoadGuard's API (``PUT /api/v1/simulator/building``), and
chargers of both OCPP generations wired to the grid through a phase rotation. Each charger
(``SiteCharger``) is the interoperability suite's ``Charger`` (PyPI ``ocpp`` library, every frame
recorded and schema-checked by ``support.wire``) with two additions:

- a **profile store** that behaves as OCPP describes it: ``SetChargingProfile`` replaces a profile
  with the same id or the same purpose / stack level / connector (EVSE); ``ClearChargingProfile``
  removes by id or by criteria, and ``{}`` removes everything. The charger's **limit** is the
  lowest, over the purposes that cap the whole charger, of the highest-stack-level profile's first
  period (watts are turned into amperes with 230 V and the period's ``numberPhases``), and never
  above the charger's rating.
- a **simulated car** that follows that limit at once: it draws ``min(limit, car maximum)`` on each
  of the charger's phases (nothing below the IEC 61851 minimum of 6 A), and the charger reports it
  every second in ``MeterValues`` (1.6) or ``TransactionEvent`` ``Updated`` (2.0.1) as per-phase
  ``Current.Import``, with ``Power.Active.Import`` and the energy register.

LoadGuard's simulated grid meter reads the building load plus what the chargers report, on grid
phases, so the loop is closed over real OCPP traffic. Everything a test waits for is an event:
a charger's limit changing (``Site.wait``), or LoadGuard's API state (``SiteApi.poll``, which
polls because HTTP offers nothing to await).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import json
import time
import urllib.error
import urllib.request
from typing import Any, Callable

import websockets.asyncio.client

from . import schemas
from .loadguard import LoadGuard, make_config, require_binary
from .peers import MAX_FRAME, RESPONSE_TIMEOUT, Charger, Csms, now
from .sessions import CALLS_2X, boot, status

# LoadGuard's charging profile on every charger (its reserved id) and where it goes.
PROFILE_ID = 73840001
MAX_PURPOSE = {"1.6": "ChargePointMaxProfile", "2.0.1": "ChargingStationMaxProfile", "2.1": "ChargingStationMaxProfile"}
NOMINAL_VOLTAGE = 230.0
IEC_MINIMUM = 6.0  # a car cannot charge below 6 A (IEC 61851-1); below it, it pauses
# Purposes that cap the whole charger (a car on connector 1 is bound by each of them).
CAPPING_PURPOSES = {
    "ChargePointMaxProfile",
    "ChargingStationMaxProfile",
    "ChargingStationExternalConstraints",
    "TxDefaultProfile",
    "TxProfile",
}
# The ripple-control levels of the site config: pattern of the two inputs -> level.
RIPPLE_LEVELS = {"00": "100%", "10": "60%", "01": "4.2kW", "11": "0%"}

_API_THREADS = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="site-api")


# --------------------------------------------------------------------------------------------
# The site's description
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ChargerSpec:
    """One charger of the site: its OCPP version, wiring and rating, and the car plugged into it."""

    id: str
    version: str
    phases: int = 3
    rotation: str = "L1L2L3"
    max_current: float = 32.0
    car_max: float = 32.0
    min_current: float = 6.0

    def grid_phases(self) -> list[int]:
        """Grid phase index (0 = L1) of each of the charger's terminals it uses, in terminal order."""
        return [int(self.rotation[2 * terminal + 1]) - 1 for terminal in range(self.phases)]

    def config(self) -> dict[str, Any]:
        """The charger's entry under ``chargers:`` in LoadGuard's config."""
        return {
            "id": self.id,
            "phases": self.phases,
            "rotation": self.rotation,
            "min_current": self.min_current,
            "max_current": self.max_current,
            "profile": "max",
            "rate_unit": "A",
        }


# The site of the end-to-end tests: two 1.6 and two 2.0.1 chargers, one of them single-phase on
# grid L2 (its L1 terminal wired to the grid's L2), one rated below its car.
DEFAULT_CHARGERS = (
    ChargerSpec("CP-A16", "1.6", phases=3, rotation="L1L2L3"),
    ChargerSpec("CP-B201", "2.0.1", phases=3, rotation="L2L3L1"),
    ChargerSpec("CP-C16-L2", "1.6", phases=1, rotation="L2L3L1"),
    ChargerSpec("CP-D201", "2.0.1", phases=3, rotation="L3L1L2", max_current=16.0, car_max=16.0),
)


@dataclasses.dataclass(frozen=True)
class SiteSpec:
    fuse: float = 63.0
    margin: float = 2.0
    building: tuple[float, float, float] = (20.0, 15.0, 25.0)
    default_expiry: str = "120s"

    @property
    def usable(self) -> float:
        """What building and chargers may draw together on each phase: fuse − margin."""
        return self.fuse - self.margin


def site_config(
    workdir: Any,
    site: SiteSpec,
    chargers: tuple[ChargerSpec, ...],
    upstream: str | None,
    name: str,
) -> dict[str, Any]:
    """LoadGuard's config for the site: the proxy's sections (free loopback ports) plus the site's."""
    config = make_config(workdir, upstream=upstream, chargers=[c.config() for c in chargers], name=name)
    store = workdir / f"{name}-store"
    config.update(
        {
            "site": {"fuse_current": site.fuse, "margin": site.margin, "nominal_voltage": NOMINAL_VOLTAGE},
            "meter": {
                "source": "simulated",
                "building": list(site.building),
                "stale_after": "3s",
                "fail_safe_after": "10s",
            },
            "inputs": {"source": "simulated", "levels": dict(RIPPLE_LEVELS), "normally_closed": [False, False]},
            "limits": {"default_expiry": site.default_expiry},
            "store": {"directory": str(store)},
        }
    )
    return config


# --------------------------------------------------------------------------------------------
# The REST API
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class HttpResponse:
    status: int
    body: Any  # the decoded JSON when the response is JSON, else None
    text: str
    content_type: str


class SiteApi:
    """LoadGuard's REST API (``/api/v1``, ``/metrics``); every request is made in a worker thread."""

    def __init__(self, loadguard: LoadGuard) -> None:
        self.loadguard = loadguard
        self.base = f"http://127.0.0.1:{loadguard.api_port}"

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = "default",
        raw: bytes | None = None,
        timeout: float = 10.0,
    ) -> HttpResponse:
        """``method path`` with ``body`` as JSON (or ``raw`` bytes as given); the bearer token by default."""
        headers: dict[str, str] = {}
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None:
            headers["Content-Type"] = "application/json"
        token = self.loadguard.token if token == "default" else token
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return await asyncio.get_running_loop().run_in_executor(
            _API_THREADS, _http, method, self.base + path, data, headers, timeout
        )

    async def get(self, path: str, **kwargs: Any) -> Any:
        """The decoded JSON of a ``GET`` that must answer 200."""
        response = await self.request("GET", path, **kwargs)
        assert response.status == 200, f"GET {path}: {response.status} {response.text[:500]}"
        return response.body

    async def ok(self, method: str, path: str, body: Any = None) -> Any:
        response = await self.request(method, path, body)
        assert response.status in (200, 204), f"{method} {path} {body}: {response.status} {response.text[:500]}"
        return response.body

    async def set_building(self, l1: float, l2: float, l3: float) -> None:
        await self.ok("PUT", "/api/v1/simulator/building", {"currents": [l1, l2, l3]})

    async def set_pattern(self, pattern: str) -> Any:
        return await self.ok("PUT", "/api/v1/inputs", {"pattern": pattern})

    async def chargers(self) -> dict[str, dict[str, Any]]:
        return {c["id"]: c for c in await self.get("/api/v1/chargers")}

    async def poll(
        self, path: str, condition: Callable[[Any], Any], timeout: float = 10.0, what: str = "a condition"
    ) -> Any:
        """GET ``path`` until ``condition(body)`` is truthy; returns the body. HTTP has nothing to await."""
        deadline = time.monotonic() + timeout
        body: Any = None
        while True:
            body = await self.get(path)
            if condition(body):
                return body
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"LoadGuard API: timed out after {timeout}s waiting for {what}; last {path}: "
                    f"{json.dumps(body)[:1500]}\n{self.loadguard.log_tail(25)}"
                )
            await asyncio.sleep(0.1)


    async def wait_ok(self, path: str, timeout: float = 10.0) -> Any:
        """GET ``path`` until it answers 200 (e.g. ``/api/v1/meter`` before the first reading); returns the body."""
        deadline = time.monotonic() + timeout
        while True:
            response = await self.request("GET", path)
            if response.status == 200:
                return response.body
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"GET {path} still answered {response.status} after {timeout}s: {response.text[:300]}"
                )
            await asyncio.sleep(0.1)


def _http(method: str, url: str, data: bytes | None, headers: dict[str, str], timeout: float) -> HttpResponse:
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw, content_type = response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        status, raw, content_type = error.code, error.read(), error.headers.get("Content-Type", "")
    text = raw.decode(errors="replace")
    body: Any = None
    if "json" in content_type and text:
        try:
            body = json.loads(text)
        except json.JSONDecodeError:
            body = None
    return HttpResponse(status, body, text, content_type)


# --------------------------------------------------------------------------------------------
# A charger with a profile store and a car
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Profile:
    """A charging profile as the charger stores it (from the wire form of either generation)."""

    id: int
    purpose: str
    stack_level: int
    connector: int
    limit_a: float
    message_id: str

    @staticmethod
    def from_set(version: str, payload: dict[str, Any], message_id: str) -> Profile:
        if version == "1.6":
            profile, connector = payload["csChargingProfiles"], payload["connectorId"]
            schedule = profile["chargingSchedule"]
            profile_id = profile["chargingProfileId"]
        else:
            profile, connector = payload["chargingProfile"], payload["evseId"]
            schedule = profile["chargingSchedule"][0]
            profile_id = profile["id"]
        period = min(schedule["chargingSchedulePeriod"], key=lambda p: p["startPeriod"])
        limit = float(period["limit"])
        if schedule["chargingRateUnit"] == "W":
            limit /= NOMINAL_VOLTAGE * float(period.get("numberPhases", 3))
        return Profile(
            profile_id, profile["chargingProfilePurpose"], profile["stackLevel"], connector, limit, message_id
        )


@dataclasses.dataclass(frozen=True)
class LimitChange:
    at: float  # loop monotonic time
    limit: float  # the charger's limit after the change, amperes
    loadguard_limit: float | None  # LoadGuard's own profile's limit then (None: not installed)
    cause: str  # "power-up", "set <profile id>" or "clear"


class SiteCharger(Charger):
    """A charger whose car follows the limit its charging profiles give it (see module doc)."""

    def __init__(self, spec: ChargerSpec, connection: Any, version: str, changed: asyncio.Condition) -> None:
        super().__init__(spec.id, connection, version)
        self.spec = spec
        self.changed = changed
        self.profiles: list[Profile] = []
        self.history: list[LimitChange] = [LimitChange(time.monotonic(), spec.max_current, None, "power-up")]
        self.charging = False
        self.energy_wh = 100000.0
        self.transaction_id: int | str | None = None
        self.meter_interval = 1.0
        self.meter_reports = 0  # meter values sent (and answered)
        self._seq_no = 0
        self._meter_task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    # -- profile store ----------------------------------------------------------------------

    @property
    def limit(self) -> float:
        """The charger's limit in amperes: its own rating, lowered by its charging profiles."""
        limit = self.spec.max_current
        for purpose in CAPPING_PURPOSES:
            mine = [p for p in self.profiles if p.purpose == purpose]
            if mine:
                top = max(p.stack_level for p in mine)
                limit = min(limit, min(p.limit_a for p in mine if p.stack_level == top))
        return limit

    @property
    def loadguard_limit(self) -> float | None:
        """The limit of LoadGuard's own profile as the charger holds it (None: the charger holds none)."""
        return next((p.limit_a for p in self.profiles if p.id == PROFILE_ID), None)

    @property
    def draw(self) -> float:
        """What the car draws per phase now."""
        if not self.charging:
            return 0.0
        offered = min(self.limit, self.spec.car_max)
        return offered if offered >= IEC_MINIMUM else 0.0

    async def before_answer(self, action: str, unique_id: str) -> None:
        await super().before_answer(action, unique_id)
        if action not in ("SetChargingProfile", "ClearChargingProfile"):
            return
        frame = next(f for f in reversed(self.wire.received_frames()) if f.type == schemas.CALL and f.id == unique_id)
        payload = json.loads(frame.text)[3]
        if action == "SetChargingProfile":
            if self.profile_status != "Accepted":
                return
            new = Profile.from_set(self.version, payload, unique_id)
            self.profiles = [
                p
                for p in self.profiles
                if p.id != new.id
                and not (p.purpose == new.purpose and p.stack_level == new.stack_level and p.connector == new.connector)
            ]
            self.profiles.append(new)
            await self._limit_changed(f"set {new.id}")
        else:
            self.profiles = [p for p in self.profiles if not _cleared_by(self.version, payload, p)]
            await self._limit_changed("clear")

    async def _limit_changed(self, cause: str) -> None:
        change = LimitChange(time.monotonic(), self.limit, self.loadguard_limit, cause)
        self.history.append(change)
        async with self.changed:
            self.changed.notify_all()

    def limit_at(self, at: float) -> float:
        """The charger's limit at loop time ``at``."""
        value = self.history[0].limit
        for change in self.history:
            if change.at > at:
                break
            value = change.limit
        return value

    def loadguard_limits_since(self, at: float) -> list[LimitChange]:
        """Changes of LoadGuard's own profile on this charger after ``at`` (a new value each)."""
        out: list[LimitChange] = []
        previous = object()
        for change in self.history:
            if change.cause != f"set {PROFILE_ID}":
                previous = change.loadguard_limit
                continue
            if change.at > at and change.loadguard_limit != previous:
                out.append(change)
            previous = change.loadguard_limit
        return out

    # -- the car ----------------------------------------------------------------------------

    async def plug_in(self) -> None:
        """Boot, plug a car in and start a transaction; from then on report the car's draw every second."""
        assert await boot(self) == "Accepted", f"{self.id}: BootNotification not accepted"
        await status(self, "Available")
        await status(self, "Preparing")
        if self.version == "1.6":
            from ocpp.v16 import call as call16

            started = await self.call(
                call16.StartTransaction(
                    connector_id=1, id_tag="04E2B1C9A05F80", meter_start=int(self.energy_wh), timestamp=now()
                )
            )
            self.transaction_id = started.transaction_id
        else:
            self.transaction_id = f"TX-{self.id}-1"
            await self.call(
                CALLS_2X[self.version].TransactionEvent(
                    event_type="Started",
                    timestamp=now(),
                    trigger_reason="CablePluggedIn",
                    seq_no=self._next_seq(),
                    transaction_info={"transaction_id": self.transaction_id, "charging_state": "Charging"},
                    evse={"id": 1, "connector_id": 1},
                    meter_value=[{"timestamp": now(), "sampled_value": self._samples()[-1:]}],
                )
            )
        await status(self, "Charging")
        self.charging = True
        self._meter_task = asyncio.create_task(self._report_meter(), name=f"car {self.id}")

    async def resume(self, before: SiteCharger) -> None:
        """Boot after a reconnect with the car still plugged in: report Charging, go on with the transaction."""
        self.transaction_id, self._seq_no, self.energy_wh = before.transaction_id, before._seq_no, before.energy_wh
        assert await boot(self) == "Accepted", f"{self.id}: BootNotification not accepted"
        await status(self, "Charging")
        self.charging = True
        self._meter_task = asyncio.create_task(self._report_meter(), name=f"car {self.id}")

    def _next_seq(self) -> int:
        seq = self._seq_no
        self._seq_no += 1
        return seq

    def _samples(self) -> list[dict[str, Any]]:
        draw = self.draw
        samples: list[dict[str, Any]] = []
        for terminal in range(self.spec.phases):
            samples.append({"measurand": "Current.Import", "phase": f"L{terminal + 1}", "value": round(draw, 2)})
        samples.append({"measurand": "Power.Active.Import", "value": round(draw * NOMINAL_VOLTAGE * self.spec.phases)})
        samples.append({"measurand": "Energy.Active.Import.Register", "value": round(self.energy_wh)})
        unit = {"Current.Import": "A", "Power.Active.Import": "W", "Energy.Active.Import.Register": "Wh"}
        for sample in samples:
            sample["context"] = "Sample.Periodic"
            if self.version == "1.6":
                sample["value"] = str(sample["value"])
                sample["unit"] = unit[sample["measurand"]]
            else:
                sample["unit_of_measure"] = {"unit": unit[sample["measurand"]]}
        return samples

    async def send_meter_values(self) -> None:
        if self.version == "1.6":
            from ocpp.v16 import call as call16

            await self.call(
                call16.MeterValues(
                    connector_id=1,
                    transaction_id=self.transaction_id,
                    meter_value=[{"timestamp": now(), "sampled_value": self._samples()}],
                )
            )
        else:
            await self.call(
                CALLS_2X[self.version].TransactionEvent(
                    event_type="Updated",
                    timestamp=now(),
                    trigger_reason="MeterValuePeriodic",
                    seq_no=self._next_seq(),
                    transaction_info={"transaction_id": self.transaction_id, "charging_state": "Charging"},
                    meter_value=[{"timestamp": now(), "sampled_value": self._samples()}],
                )
            )
        self.meter_reports += 1

    async def _report_meter(self) -> None:
        last = time.monotonic()
        while not self.wire.closed.is_set():
            try:
                # The car's reporting period; stop_car() ends it early.
                await asyncio.wait_for(self._stop.wait(), self.meter_interval)
                return
            except TimeoutError:
                pass
            at = time.monotonic()
            self.energy_wh += self.draw * NOMINAL_VOLTAGE * self.spec.phases * (at - last) / 3600
            last = at
            try:
                await self.send_meter_values()
            except Exception:
                if self.wire.closed.is_set():
                    return
                raise

    async def stop_car(self) -> None:
        """Stop the car's meter reports after the one in flight; the connection stays."""
        self._stop.set()
        if self._meter_task is not None:
            try:
                await asyncio.wait_for(self._meter_task, RESPONSE_TIMEOUT)
            except (TimeoutError, asyncio.CancelledError, Exception):
                self._meter_task.cancel()
            self._meter_task = None

    async def close(self) -> None:
        await self.stop_car()
        await super().close()


def _cleared_by(version: str, payload: dict[str, Any], profile: Profile) -> bool:
    """Whether a ClearChargingProfile ``payload`` removes ``profile`` (an empty payload removes all)."""
    if version == "1.6":
        if "id" in payload:
            return profile.id == payload["id"]
        criteria = {
            "connector": payload.get("connectorId"),
            "purpose": payload.get("chargingProfilePurpose"),
            "stack_level": payload.get("stackLevel"),
        }
    else:
        if "chargingProfileId" in payload:
            return profile.id == payload["chargingProfileId"]
        given = payload.get("chargingProfileCriteria", {})
        criteria = {
            "connector": given.get("evseId"),
            "purpose": given.get("chargingProfilePurpose"),
            "stack_level": given.get("stackLevel"),
        }
    return all(value is None or getattr(profile, key) == value for key, value in criteria.items())


# --------------------------------------------------------------------------------------------
# The site
# --------------------------------------------------------------------------------------------


class Site:
    """LoadGuard, its API, the CSMS and the site's chargers, started through the test's ``lab``."""

    def __init__(self, lab: Any, spec: SiteSpec, chargers: tuple[ChargerSpec, ...]) -> None:
        self.lab = lab
        self.spec = spec
        self.specs = {c.id: c for c in chargers}
        self.chargers: dict[str, SiteCharger] = {}  # the latest connection of each charger
        self.connections: list[SiteCharger] = []  # every connection, closed ones included
        self.building = list(spec.building)
        self.changed = asyncio.Condition()
        self.csms: Csms | None = None
        self.loadguard: LoadGuard
        self.api: SiteApi

    async def start(self, with_csms: bool = True, api: dict[str, Any] | None = None) -> Site:
        """Start the CSMS (unless standalone) and LoadGuard; ``api`` overrides keys of the ``api:`` section."""
        if with_csms:
            self.csms = await self.lab.csms()
        binary = require_binary()
        name = f"loadguard{len(self.lab.loadguards) + 1}"
        config = site_config(
            self.lab.workdir, self.spec, tuple(self.specs.values()), self.csms.url if self.csms else None, name
        )
        config["api"].update(api or {})
        self.loadguard = LoadGuard(binary, self.lab.workdir, config, name)
        self.lab.loadguards.append(self.loadguard)
        await self.loadguard.start()
        self.api = SiteApi(self.loadguard)
        return self

    async def connect(self, charger_id: str) -> SiteCharger:
        """Connect the charger ``charger_id`` to LoadGuard (again, after a disconnect)."""
        spec = self.specs[charger_id]
        connection = await websockets.asyncio.client.connect(
            f"{self.loadguard.url}/{charger_id}",
            subprotocols=[schemas.SUBPROTOCOL[spec.version]],
            max_size=MAX_FRAME,
            open_timeout=10,
            ping_interval=None,
        )
        assert connection.subprotocol == schemas.SUBPROTOCOL[spec.version], (
            f"{charger_id} offered {schemas.SUBPROTOCOL[spec.version]} and got {connection.subprotocol!r}"
        )
        charger = SiteCharger(spec, connection, spec.version, self.changed)
        charger.run()
        self.lab.chargers.append(charger)
        self.chargers[charger_id] = charger
        self.connections.append(charger)
        return charger

    async def plug_in_all(self) -> None:
        """Connect every charger and start its car, all at once (as a site powering up)."""
        chargers = [await self.connect(charger_id) for charger_id in self.specs]
        await asyncio.gather(*(c.plug_in() for c in chargers))

    async def set_building(self, l1: float, l2: float, l3: float) -> float:
        """Set the simulated building load; returns the loop time when LoadGuard had answered."""
        await self.api.set_building(l1, l2, l3)
        self.building = [l1, l2, l3]
        return time.monotonic()

    # -- what the chargers hold -------------------------------------------------------------

    def limits(self) -> dict[str, float]:
        return {charger_id: charger.limit for charger_id, charger in self.chargers.items()}

    def phase_load(self, limits: dict[str, float] | None = None, building: Any = None) -> list[float]:
        """Building load plus every charger's limit on each grid phase (what could flow at most)."""
        limits = limits if limits is not None else self.limits()
        load = list(building if building is not None else self.building)
        for charger_id, limit in limits.items():
            for phase in self.specs[charger_id].grid_phases():
                load[phase] += limit
        return load

    def overloaded_phases(
        self, limits: dict[str, float] | None = None, building: Any = None, usable: float | None = None
    ) -> list[int]:
        """Grid phases on which building + limits exceed ``usable`` (default: fuse − margin)."""
        usable = usable if usable is not None else self.spec.usable
        return [p for p, value in enumerate(self.phase_load(limits, building)) if value > usable + 1e-6]

    def fair_shares(self, building: Any = None, usable: float | None = None) -> dict[str, float]:
        """Each charger's max-min fair share of what building load leaves under ``usable`` on each phase.

        Progressive filling: every charger's limit rises together until a phase is full or a charger
        reaches its maximum; those stop, the others go on. (Every charger of the site tests gets at least
        its minimum, so minimums need no special case here.)
        """
        usable = usable if usable is not None else self.spec.usable
        remaining = [usable - b for b in (building if building is not None else self.building)]
        share = {charger_id: 0.0 for charger_id in self.specs}
        active = set(self.specs)
        while active:
            counts = [sum(1 for i in active if p in self.specs[i].grid_phases()) for p in range(3)]
            step = min(
                [remaining[p] / counts[p] for p in range(3) if counts[p]]
                + [min(self.specs[i].max_current, self.specs[i].car_max) - share[i] for i in active]
            )
            step = max(step, 0.0)
            for i in active:
                share[i] += step
                for p in self.specs[i].grid_phases():
                    remaining[p] -= step
            full = {p for p in range(3) if remaining[p] <= 1e-9}
            active = {
                i
                for i in active
                if not full & set(self.specs[i].grid_phases())
                and share[i] < min(self.specs[i].max_current, self.specs[i].car_max) - 1e-9
            }
        return share

    def timeline(self, since: float) -> str:
        """Every charger's limit changes since loop time ``since``, for failure messages."""
        rows = []
        for charger in self.chargers.values():
            changes = [f"{c.at - since:+.2f}s {c.limit:g} A ({c.cause})" for c in charger.history if c.at >= since - 12]
            rows.append(f"  {charger.id}: " + ", ".join(changes))
        return "each charger's limit changes (seconds from the change under test):\n" + "\n".join(rows)

    def describe(self) -> str:
        load = self.phase_load()
        rows = [
            f"  {c.id:<10} v{c.version:<5} limit {c.limit:5.1f} A (LoadGuard's profile: {c.loadguard_limit}) "
            f"draw {c.draw:5.1f} A on grid {[f'L{p + 1}' for p in c.spec.grid_phases()]}"
            for c in self.chargers.values()
        ]
        return (
            f"building {self.building}, building + limits per phase {[round(x, 1) for x in load]} "
            f"(usable {self.spec.usable})\n" + "\n".join(rows)
        )

    async def wait(self, condition: Callable[[], Any], timeout: float, what: str) -> Any:
        """Wait until ``condition()`` holds, re-checked whenever a charger's profiles change."""
        started = time.monotonic()
        async with self.changed:
            try:
                async with asyncio.timeout(timeout):
                    while True:
                        value = condition()
                        if value:
                            return value
                        await self.changed.wait()
            except TimeoutError:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what}\n{self.describe()}\n"
                    f"{self.timeline(started)}\n{self.loadguard.log_tail(30)}"
                ) from None

    async def hold(self, condition: Callable[[], Any], duration: float, what: str) -> None:
        """Assert that ``condition()`` stays true for ``duration`` seconds, checked on every limit change."""
        async with self.changed:
            try:
                async with asyncio.timeout(duration):
                    while True:
                        assert condition(), f"{what} no longer holds\n{self.describe()}\n{self.loadguard.log_tail(30)}"
                        await self.changed.wait()
            except TimeoutError:
                pass

    async def wait_all_limited(self, timeout: float = 15.0, minimum: float = IEC_MINIMUM) -> None:
        """Wait until every charger holds a LoadGuard limit of at least ``minimum`` (its car charges)."""
        await self.wait(
            lambda: all((c.loadguard_limit or 0) >= minimum for c in self.chargers.values()),
            timeout,
            f"every charger to hold a LoadGuard limit of at least {minimum} A",
        )


async def start_site(
    lab: Any,
    building: tuple[float, float, float] = SiteSpec.building,
    chargers: tuple[ChargerSpec, ...] = DEFAULT_CHARGERS,
    with_csms: bool = True,
    default_expiry: str = "120s",
) -> Site:
    """CSMS, LoadGuard with the site's config, and every charger connected with its car charging."""
    site = await Site(lab, SiteSpec(building=building, default_expiry=default_expiry), chargers).start(with_csms)
    await site.plug_in_all()
    return site
