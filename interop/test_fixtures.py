"""The committed traces in Fixtures/ocpp-traces/: well-formed, schema-valid, complete sessions.

These do not need the LoadGuard binary; ``record_fixtures.py`` regenerates the files.
"""

from __future__ import annotations

import json

import pytest

from record_fixtures import FILE_NAMES, FIXTURES
from support import schemas

REQUIRED_KEYS = {"ts", "charger", "version", "direction", "origin", "type", "id", "action", "frame"}
SESSION = {
    "1.6": ["BootNotification", "Authorize", "StartTransaction", "MeterValues", "StopTransaction"],
    "2.0.1": ["BootNotification", "Authorize", "TransactionEvent", "MeterValues", "TransactionEvent"],
    "2.1": ["BootNotification", "Authorize", "TransactionEvent", "MeterValues", "TransactionEvent"],
}


def in_order(wanted: list[str], actions: list[str]) -> bool:
    remaining = iter(actions)
    return all(any(a == w for a in remaining) for w in wanted)


@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
def test_fixture_trace_is_a_valid_session(version):
    path = FIXTURES / FILE_NAMES[version]
    assert path.is_file(), f"{path} is missing: run interop/record_fixtures.py"
    calls: dict[tuple[str, str], str] = {}
    actions = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        where = f"{path.name}:{number}"
        record = json.loads(line)
        assert REQUIRED_KEYS <= set(record), f"{where}: missing {REQUIRED_KEYS - set(record)}"
        message = schemas.parse_frame(record["frame"])
        schemas.check_envelope(version, message)
        assert (record["type"], record["id"]) == (message[0], message[1]), where
        if message[0] == schemas.CALL:
            assert record["action"] == message[2], where
            schemas.validate_payload(version, message[2], "request", message[3])
            calls[(record["direction"], message[1])] = message[2]
            if record["direction"] == "charger_to_csms":
                actions.append(message[2])
        elif message[0] == schemas.CALLRESULT:
            other = "to_charger" if record["direction"] == "charger_to_csms" else "charger_to_csms"
            action = calls.get((other, message[1]))
            assert action is not None, f"{where}: answer to a call not in the trace"
            schemas.validate_payload(version, action, "response", message[2])
    assert in_order(SESSION[version], actions), f"{path.name}: session calls {actions}"
