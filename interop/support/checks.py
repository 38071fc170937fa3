"""Assertions shared by the tests, with messages that show the first frame that differs."""

from __future__ import annotations


def _show(text: str) -> str:
    if len(text) > 300:
        return f"{text[:300]!r}... ({len(text)} characters)"
    return repr(text)


def assert_same_frames(sent: list[str], received: list[str], what: str) -> None:
    """Assert that ``received`` is exactly ``sent``: same frames, same text, same order."""
    for index, (a, b) in enumerate(zip(sent, received)):
        if a != b:
            at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            raise AssertionError(
                f"{what}: frame #{index} was altered (first difference at character {at}):\n"
                f"  sent     {_show(a)}\n  received {_show(b)}"
            )
    if len(sent) != len(received):
        extra = sent[len(received) :] if len(sent) > len(received) else received[len(sent) :]
        raise AssertionError(
            f"{what}: {len(sent)} frames sent but {len(received)} received; " f"first unmatched: {_show(extra[0])}"
        )


def loadguard_call_ids(charger, *upstreams) -> set[str]:
    """Ids of the CALLs the charger received that no CSMS session sent: LoadGuard's own calls."""
    csms_ids = {f.id for session in upstreams for f in session.wire.sent_frames() if f.type == 2}
    return {f.id for f in charger.wire.received_frames() if f.type == 2 and f.id not in csms_ids}


def assert_conversation_forwarded(charger, upstream) -> set[str]:
    """Assert that the charger–CSMS conversation passed LoadGuard unchanged in both directions.

    LoadGuard's own calls to the charger (injected or from its controller) and the charger's answers
    to them are not part of the conversation: they must not reach the CSMS, and are left out here.
    Returns the ids of those calls.
    """
    own = loadguard_call_ids(charger, upstream)
    to_csms = [f.text for f in charger.wire.sent_frames() if not (f.type in (3, 4) and f.id in own)]
    to_charger = [f.text for f in charger.wire.received_frames() if not (f.type == 2 and f.id in own)]
    assert_same_frames(to_csms, upstream.wire.received(), "charger -> CSMS")
    assert_same_frames(upstream.wire.sent(), to_charger, "CSMS -> charger")
    return own
