"""Validation of OCPP-J frames against the official JSON schemas shipped in the PyPI ``ocpp`` package.

The schemas are the ones the Open Charge Alliance publishes:

- OCPP 1.6: ``ocpp/v16/schemas/<Action>.json`` (request) and ``<Action>Response.json`` (response);
  draft-04 schemas.
- OCPP 2.0.1 and 2.1: ``ocpp/v201/schemas`` and ``ocpp/v21/schemas``, ``<Action>Request.json`` and
  ``<Action>Response.json``; draft-06 schemas, some written with a UTF-8 byte order mark.

Each schema is validated with the validator class its ``$schema`` names. Numbers are parsed as
``Decimal`` on both sides so that ``multipleOf: 0.1`` (1.6 charging schedules) is checked exactly.
The OCPP-J envelope rules (message type ids, id length, error codes) are checked here too, since no
schema covers them.
"""

from __future__ import annotations

import decimal
import functools
import json
import pathlib
from typing import Any

import jsonschema
import jsonschema.validators
import ocpp

CALL = 2
CALLRESULT = 3
CALLERROR = 4
CALLRESULTERROR = 5  # OCPP 2.1 only
SEND = 6  # OCPP 2.1 only

VERSIONS = ("1.6", "2.0.1", "2.1")
SUBPROTOCOL = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1", "2.1": "ocpp2.1"}
VERSION_OF_SUBPROTOCOL = {v: k for k, v in SUBPROTOCOL.items()}

# OCPP-J 1.6 §4.2.3 and OCPP 2.0.1 / 2.1 Part 4 §4.3 (RPC framework error codes).
ERROR_CODES = {
    "1.6": {
        "NotImplemented",
        "NotSupported",
        "InternalError",
        "ProtocolError",
        "SecurityError",
        "FormationViolation",
        "PropertyConstraintViolation",
        "OccurenceConstraintViolation",
        "TypeConstraintViolation",
        "GenericError",
    },
    "2.0.1": {
        "FormatViolation",
        "GenericError",
        "InternalError",
        "MessageTypeNotSupported",
        "NotImplemented",
        "NotSupported",
        "OccurrenceConstraintViolation",
        "PropertyConstraintViolation",
        "ProtocolError",
        "RpcFrameworkError",
        "SecurityError",
        "TypeConstraintViolation",
    },
}
ERROR_CODES["2.1"] = ERROR_CODES["2.0.1"]

MAX_MESSAGE_ID_LENGTH = 36

_SCHEMA_ROOT = pathlib.Path(ocpp.__file__).parent
_SCHEMA_DIR = {"1.6": "v16", "2.0.1": "v201", "2.1": "v21"}


class FrameProblem(Exception):
    """A frame that breaks OCPP-J framing or its action's JSON schema."""


def schema_path(version: str, action: str, kind: str) -> pathlib.Path:
    """The schema file for ``action`` in ``version``; ``kind`` is ``"request"`` or ``"response"``."""
    if version not in _SCHEMA_DIR:
        raise ValueError(f"unknown OCPP version {version!r}; expected one of {', '.join(VERSIONS)}")
    if kind == "request":
        name = action if version == "1.6" else f"{action}Request"
    elif kind == "response":
        name = f"{action}Response"
    else:
        raise ValueError(f"unknown schema kind {kind!r}; expected 'request' or 'response'")
    return _SCHEMA_ROOT / _SCHEMA_DIR[version] / "schemas" / f"{name}.json"


@functools.cache
def _validator(version: str, action: str, kind: str) -> jsonschema.protocols.Validator:
    path = schema_path(version, action, kind)
    if not path.is_file():
        raise FrameProblem(f"OCPP {version} has no {kind} schema for action {action!r} (looked for {path})")
    schema = json.loads(path.read_text(encoding="utf-8-sig"), parse_float=decimal.Decimal)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_payload(version: str, action: str, kind: str, payload: Any) -> None:
    """Raise ``FrameProblem`` naming every schema violation of ``payload``."""
    validator = _validator(version, action, kind)
    errors = sorted(validator.iter_errors(payload), key=lambda e: list(e.absolute_path))
    if errors:
        details = "; ".join(f"at /{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in errors[:5])
        raise FrameProblem(f"{action} {kind} violates the OCPP {version} schema: {details}")


def parse_frame(text: str) -> list[Any]:
    """Parse a frame's text as an OCPP-J message array with exact (Decimal) numbers."""
    try:
        message = json.loads(text, parse_float=decimal.Decimal)
    except json.JSONDecodeError as error:
        raise FrameProblem(f"not valid JSON ({error})") from None
    if not isinstance(message, list) or not message:
        raise FrameProblem("not a JSON array with a message type id first")
    return message


def check_envelope(version: str, message: list[Any]) -> None:
    """Check the OCPP-J envelope of a parsed message (not its payload)."""
    kind = message[0]
    allowed = (
        (CALL, CALLRESULT, CALLERROR) if version != "2.1" else (CALL, CALLRESULT, CALLERROR, CALLRESULTERROR, SEND)
    )
    if kind not in allowed or isinstance(kind, bool):
        raise FrameProblem(f"message type id {kind!r} is not one of {allowed} in OCPP {version}")
    expected_length = {CALL: 4, CALLRESULT: 3, CALLERROR: 5, CALLRESULTERROR: 5, SEND: 4}[kind]
    if len(message) != expected_length:
        raise FrameProblem(f"message type {kind} has {len(message)} elements, expected {expected_length}")
    message_id = message[1]
    if not isinstance(message_id, str) or not message_id:
        raise FrameProblem(f"message id {message_id!r} is not a non-empty string")
    if len(message_id) > MAX_MESSAGE_ID_LENGTH:
        raise FrameProblem(f"message id {message_id!r} is longer than {MAX_MESSAGE_ID_LENGTH} characters")
    if kind in (CALL, SEND):
        if not isinstance(message[2], str):
            raise FrameProblem(f"action {message[2]!r} is not a string")
        if not isinstance(message[3], dict):
            raise FrameProblem(f"payload of {message[2]} is not a JSON object")
    elif kind == CALLRESULT:
        if not isinstance(message[2], dict):
            raise FrameProblem("CALLRESULT payload is not a JSON object")
    else:
        code, description, details = message[2], message[3], message[4]
        if code not in ERROR_CODES[version]:
            raise FrameProblem(f"error code {code!r} is not an OCPP {version} RPC error code")
        if not isinstance(description, str):
            raise FrameProblem(f"error description {description!r} is not a string")
        if not isinstance(details, dict):
            raise FrameProblem(f"error details {details!r} is not a JSON object")
