"""wss on both legs: a server certificate for chargers, client certificates (security profile 3)."""

from __future__ import annotations

import ssl

from websockets.exceptions import WebSocketException

from support import sessions
from support.checks import assert_conversation_forwarded
from support.tls import make_pki


def tls_config(pki, client_ca: bool) -> dict:
    config = {"certificate": str(pki.server_cert), "key": str(pki.server_key)}
    if client_ca:
        config["client_ca"] = str(pki.ca)
    return config


async def test_wss_with_client_certificate_verification(lab, tmp_path):
    pki = make_pki(tmp_path / "pki")
    csms = await lab.csms()
    loadguard = await lab.loadguard(upstream=csms.url, tls=tls_config(pki, client_ca=True))
    assert loadguard.url.startswith("wss://")

    try:
        anonymous = await lab.charger(loadguard, "CP-1", ["ocpp1.6"], ssl_context=pki.client_context(False))
    except (ssl.SSLError, OSError, EOFError, WebSocketException):
        pass  # refused during the TLS or WebSocket handshake
    else:
        # TLS 1.3 completes the client's side of the handshake before the server checks its
        # certificate; the server must then drop the connection before any OCPP frame passes.
        await anonymous.wire.wait_closed(timeout=5)

    charger = await lab.charger(loadguard, "CP-1", ["ocpp1.6"], ssl_context=pki.client_context(True))
    await sessions.session(charger)
    upstream = await csms.wait_session("CP-1")
    assert len(csms.sessions) == 1, "the charger without a client certificate must not reach the CSMS"
    assert_conversation_forwarded(charger, upstream)


async def test_wss_server_certificate_only(lab, tmp_path):
    pki = make_pki(tmp_path / "pki")
    csms = await lab.csms()
    loadguard = await lab.loadguard(upstream=csms.url, tls=tls_config(pki, client_ca=False))

    charger = await lab.charger(loadguard, "CP-1", ["ocpp2.0.1"], ssl_context=pki.client_context(False))

    assert (await sessions.session(charger)).boot_status == "Accepted"


async def test_wss_upstream_with_client_certificate(lab, tmp_path):
    csms_pki = make_pki(tmp_path / "csms-pki", client_name="LoadGuard")
    csms = await lab.csms(ssl_context=csms_pki.server_context(require_client_certificate=True))
    assert csms.url.startswith("wss://")
    loadguard = await lab.loadguard(
        upstream=csms.url,
        upstream_tls={
            "ca_bundle": str(csms_pki.ca),
            "certificate": str(csms_pki.client_cert),
            "key": str(csms_pki.client_key),
        },
    )

    charger = await lab.charger(loadguard, "CP-1", ["ocpp1.6"])
    await sessions.session(charger)

    upstream = await csms.wait_session("CP-1")
    assert upstream.connection.transport.get_extra_info("peercert")["subject"][-1][0][1] == "LoadGuard"
    assert_conversation_forwarded(charger, upstream)
