"""Charging sessions as a real charger runs them, one script per OCPP generation.

A session is: BootNotification, Heartbeat, StatusNotification (Available), Authorize, the start of
a transaction, meter values (per-phase ``Current.Import``, ``Power.Active.Import``,
``Energy.Active.Import.Register``), the end of the transaction, StatusNotification (Available).
Every call goes through the ``ocpp`` library, so each one is also checked by it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ocpp.v16 import call as call16
from ocpp.v201 import call as call201
from ocpp.v21 import call as call21

from .peers import Charger, now

CALLS_2X = {"2.0.1": call201, "2.1": call21}
ID_TAG = "04E2B1C9A05F80"


@dataclasses.dataclass
class SessionResult:
    boot_status: str
    transaction_id: str | int | None


def _samples_16(energy_wh: int) -> list[dict[str, Any]]:
    samples: list[dict[str, Any]] = []
    for phase in ("L1", "L2", "L3"):
        samples.append(
            {"value": "15.9", "context": "Sample.Periodic", "measurand": "Current.Import", "phase": phase, "unit": "A"}
        )
    samples.append({"value": "11040", "context": "Sample.Periodic", "measurand": "Power.Active.Import", "unit": "W"})
    samples.append(
        {
            "value": str(energy_wh),
            "context": "Sample.Periodic",
            "measurand": "Energy.Active.Import.Register",
            "unit": "Wh",
        }
    )
    return samples


def _samples_2x(energy_wh: int) -> list[dict[str, Any]]:
    samples: list[dict[str, Any]] = []
    for phase in ("L1", "L2", "L3"):
        samples.append(
            {
                "value": 15.9,
                "context": "Sample.Periodic",
                "measurand": "Current.Import",
                "phase": phase,
                "unit_of_measure": {"unit": "A"},
            }
        )
    samples.append(
        {
            "value": 11040,
            "context": "Sample.Periodic",
            "measurand": "Power.Active.Import",
            "unit_of_measure": {"unit": "W"},
        }
    )
    samples.append(
        {
            "value": energy_wh,
            "context": "Sample.Periodic",
            "measurand": "Energy.Active.Import.Register",
            "unit_of_measure": {"unit": "Wh"},
        }
    )
    return samples


async def boot(charger: Charger) -> str:
    """BootNotification for the charger's version; returns the status the charger was given."""
    if charger.version == "1.6":
        result = await charger.call(
            call16.BootNotification(
                charge_point_vendor="LoadGuard Interop",
                charge_point_model="PyCharger",
                firmware_version="1.0.0",
            )
        )
    else:
        result = await charger.call(
            CALLS_2X[charger.version].BootNotification(
                charging_station={
                    "model": "PyCharger",
                    "vendor_name": "LoadGuard Interop",
                    "firmware_version": "1.0.0",
                },
                reason="PowerUp",
            )
        )
    return result.status


async def heartbeat(charger: Charger) -> str:
    result = await charger.call((call16 if charger.version == "1.6" else CALLS_2X[charger.version]).Heartbeat())
    return result.current_time


async def status(charger: Charger, state: str) -> None:
    """StatusNotification for connector 1; ``state`` is a 1.6 ChargePointStatus, mapped for 2.x."""
    if charger.version == "1.6":
        await charger.call(
            call16.StatusNotification(connector_id=1, error_code="NoError", status=state, timestamp=now())
        )
    else:
        connector_status = {"Available": "Available", "Preparing": "Occupied", "Charging": "Occupied"}[state]
        await charger.call(
            CALLS_2X[charger.version].StatusNotification(
                timestamp=now(), connector_status=connector_status, evse_id=1, connector_id=1
            )
        )


async def meter_values(charger: Charger, energy_wh: int, transaction_id: int | None = None) -> None:
    if charger.version == "1.6":
        await charger.call(
            call16.MeterValues(
                connector_id=1,
                transaction_id=transaction_id,
                meter_value=[{"timestamp": now(), "sampled_value": _samples_16(energy_wh)}],
            )
        )
    else:
        await charger.call(
            CALLS_2X[charger.version].MeterValues(
                evse_id=1, meter_value=[{"timestamp": now(), "sampled_value": _samples_2x(energy_wh)}]
            )
        )


async def session(charger: Charger, id_tag: str = ID_TAG) -> SessionResult:
    """Run a complete charging session; raises if any call is refused or answered with an error."""
    if charger.version == "1.6":
        return await _session_16(charger, id_tag)
    return await _session_2x(charger, id_tag)


async def _session_16(charger: Charger, id_tag: str) -> SessionResult:
    boot_status = await boot(charger)
    await heartbeat(charger)
    await status(charger, "Available")
    authorized = await charger.call(call16.Authorize(id_tag=id_tag))
    assert authorized.id_tag_info["status"] == "Accepted", authorized
    await status(charger, "Preparing")
    started = await charger.call(
        call16.StartTransaction(connector_id=1, id_tag=id_tag, meter_start=120000, timestamp=now())
    )
    assert started.id_tag_info["status"] == "Accepted", started
    transaction_id = started.transaction_id
    await status(charger, "Charging")
    await meter_values(charger, 121500, transaction_id)
    await meter_values(charger, 123000, transaction_id)
    await charger.call(
        call16.StopTransaction(
            meter_stop=124500,
            timestamp=now(),
            transaction_id=transaction_id,
            id_tag=id_tag,
            reason="Local",
            transaction_data=[{"timestamp": now(), "sampled_value": _samples_16(124500)}],
        )
    )
    await status(charger, "Available")
    return SessionResult(boot_status, transaction_id)


async def _session_2x(charger: Charger, id_tag: str) -> SessionResult:
    calls = CALLS_2X[charger.version]
    boot_status = await boot(charger)
    await heartbeat(charger)
    await status(charger, "Available")
    id_token = {"id_token": id_tag, "type": "ISO14443"}
    authorized = await charger.call(calls.Authorize(id_token=id_token))
    assert authorized.id_token_info["status"] == "Accepted", authorized
    await status(charger, "Preparing")
    transaction_id = "TX-" + charger.id + "-1"
    evse = {"id": 1, "connector_id": 1}
    started = await charger.call(
        calls.TransactionEvent(
            event_type="Started",
            timestamp=now(),
            trigger_reason="Authorized",
            seq_no=0,
            transaction_info={"transaction_id": transaction_id, "charging_state": "EVConnected"},
            id_token=id_token,
            evse=evse,
            meter_value=[{"timestamp": now(), "sampled_value": _samples_2x(120000)[-1:]}],
        )
    )
    assert started.id_token_info["status"] == "Accepted", started
    await charger.call(
        calls.TransactionEvent(
            event_type="Updated",
            timestamp=now(),
            trigger_reason="ChargingStateChanged",
            seq_no=1,
            transaction_info={"transaction_id": transaction_id, "charging_state": "Charging"},
        )
    )
    await charger.call(
        calls.TransactionEvent(
            event_type="Updated",
            timestamp=now(),
            trigger_reason="MeterValuePeriodic",
            seq_no=2,
            transaction_info={"transaction_id": transaction_id, "charging_state": "Charging"},
            meter_value=[{"timestamp": now(), "sampled_value": _samples_2x(121500)}],
        )
    )
    await meter_values(charger, 123000)
    await charger.call(
        calls.TransactionEvent(
            event_type="Ended",
            timestamp=now(),
            trigger_reason="StopAuthorized",
            seq_no=3,
            transaction_info={"transaction_id": transaction_id, "stopped_reason": "Local", "charging_state": "Idle"},
            id_token=id_token,
            meter_value=[{"timestamp": now(), "sampled_value": _samples_2x(124500)}],
        )
    )
    await status(charger, "Available")
    return SessionResult(boot_status, transaction_id)


def charging_profile(version: str, limit_a: float, profile_id: int = 9001, stack_level: int = 9) -> dict[str, Any]:
    """A SetChargingProfile payload (wire form, camelCase) limiting the whole charger to ``limit_a``."""
    period = {"startPeriod": 0, "limit": limit_a, "numberPhases": 3}
    if version == "1.6":
        return {
            "connectorId": 0,
            "csChargingProfiles": {
                "chargingProfileId": profile_id,
                "stackLevel": stack_level,
                "chargingProfilePurpose": "ChargePointMaxProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": {
                    "startSchedule": "2025-01-01T00:00:00Z",
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [period],
                },
            },
        }
    return {
        "evseId": 0,
        "chargingProfile": {
            "id": profile_id,
            "stackLevel": stack_level,
            "chargingProfilePurpose": "ChargingStationMaxProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": "2025-01-01T00:00:00Z",
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [period],
                }
            ],
        },
    }


def configuration_read(version: str, key: str) -> Any:
    """The call a CSMS uses to read one setting: GetConfiguration (1.6) or GetVariables (2.x)."""
    if version == "1.6":
        return call16.GetConfiguration(key=[key])
    return CALLS_2X[version].GetVariables(
        get_variable_data=[{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": key}}]
    )


def configuration_key_of(version: str, result: Any) -> str:
    """The setting name a ``configuration_read`` result answers for."""
    if version == "1.6":
        return result.configuration_key[0]["key"]
    return result.get_variable_result[0]["variable"]["name"]
