"""The OpenAPI document is served and matches the API: every documented operation answers,
and every route the app has is documented."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sync_helpers import LiveServer

from hubdesk.store import sync_state
from hubdesk.store.store import Store
from hubdesk.sync.protocol import SIGNED_HEADERS, sign_headers

EXAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/v1/push"): {"hub_code": "DEW", "items": []},
    ("post", "/v1/audit"): {"items": []},
    ("post", "/v1/enrol"): {
        "code": "NOPE-NOPE-NOPE-NOPE",
        "device_id": "01900000-0000-7000-8000-000000000001",
        "hub_code": "DEW",
        "public_key": "A" * 43,
    },
}


def test_openapi_is_served_and_walked(device: Store, server: LiveServer) -> None:
    doc = httpx.get(server.url + "/openapi.json").json()
    assert doc["openapi"].startswith("3.") and doc["info"]["version"] == "1"
    assert httpx.get(server.url + "/docs").status_code == 200
    from hubcentral.app import make_app

    app = make_app(server.service)  # type: ignore[arg-type]
    routes = {
        (m.lower(), r.path)
        for r in app.routes
        if r.path.startswith("/v1/")
        for m in getattr(r, "methods", ())
        if m not in ("HEAD", "OPTIONS")
    }
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert routes == documented
    assert all(p.startswith("/v1/") for _, p in documented)

    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(sync_state.get(device, sync_state.K_KEY) or ""))
    for method, path in sorted(documented):
        op = doc["paths"][path][method]
        header_params = {p["name"].lower() for p in op.get("parameters", []) if p["in"] == "header"}
        body = json.dumps(EXAMPLES[(method, path)]).encode() if "requestBody" in op else b""
        headers = {"content-type": "application/json"}
        if header_params:
            assert header_params == set(SIGNED_HEADERS), path
            headers |= sign_headers(
                key,
                method=method.upper(),
                path=path,
                device=device.meta("device_id"),
                user="sam",
                body=body,
                at=int(time.time()),
                nonce=secrets.token_urlsafe(18),
            )
        r = httpx.request(method.upper(), server.url + path, content=body or None, headers=headers)
        assert str(r.status_code) in op["responses"], (method, path, r.status_code, r.text)
        assert r.status_code < 500
        # Unsigned, each signed operation is refused 401, as documented.
        if header_params:
            r = httpx.request(
                method.upper(), server.url + path, content=body or None, headers={"content-type": "application/json"}
            )
            assert r.status_code == 401 and "401" in op["responses"]
