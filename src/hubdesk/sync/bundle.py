"""Sync bundles: the same push as a file, for when no connection comes for days.

The device seals the pending outbox to the service's bundle key (X25519 with a fresh
ephemeral key, HKDF-SHA256, AES-256-GCM) and signs the sealed file with its own Ed25519
key. The service checks the signature against the enrolled device before it decrypts,
then applies the items with the same at-most-once rules as an online push: importing a
bundle twice changes nothing.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hubdesk.sync.protocol import Message, PushItem, b64, canonical_json, unb64, verify

FORMAT = "hubdesk-bundle/1"
HEADER_FIELDS = ("format", "device_id", "hub_code", "user", "created_at", "ephemeral_key", "nonce")


class BundleContent(Message):
    """What a bundle carries: the pending outbox, in order (any length)."""

    hub_code: str
    items: list[PushItem]


class BundleError(Exception):
    """A bundle that cannot be read or trusted; str() says why (never its contents)."""


def _kek(shared: bytes, header: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"hubdesk-bundle/1" + header).derive(shared)


def _raw(public: X25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def seal(
    push: BundleContent,
    *,
    device_id: str,
    user: str,
    device_key: Ed25519PrivateKey,
    service_key: bytes,
    created_at: datetime | None = None,
) -> bytes:
    """The sealed, signed bundle as file bytes."""
    ephemeral = X25519PrivateKey.generate()
    header: dict[str, Any] = {
        "format": FORMAT,
        "device_id": device_id,
        "hub_code": push.hub_code,
        "user": user,
        "created_at": (created_at or datetime.now(UTC)).isoformat(),
        "ephemeral_key": b64(_raw(ephemeral.public_key())),
        "nonce": b64(os.urandom(12)),
    }
    aad = canonical_json(header).encode()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(service_key))
    ciphertext = AESGCM(_kek(shared, aad)).encrypt(unb64(header["nonce"]), push.model_dump_json().encode(), aad)
    sealed = {**header, "ciphertext": b64(ciphertext)}
    sealed["signature"] = b64(device_key.sign(canonical_json(sealed).encode()))
    return (json.dumps(sealed, indent=1) + "\n").encode()


@dataclass(frozen=True)
class Envelope:
    device_id: str
    hub_code: str
    user: str
    created_at: str
    body: dict[str, Any]


def envelope(data: bytes) -> Envelope:
    """Read the outside of a bundle (who sent it) without trusting it yet."""
    try:
        body = json.loads(data)
        # The outside is one flat object of strings (seal): anything nested is not a bundle, and
        # is refused here before any code walks it.
        # (Checks are not asserts: `python -O` would drop them.)
        if not isinstance(body, dict) or body.get("format") != FORMAT:
            raise ValueError("not a bundle")
        if not all(isinstance(value, str | int) for value in body.values()):
            raise ValueError("not a bundle")
        return Envelope(str(body["device_id"]), str(body["hub_code"]), str(body["user"]), str(body["created_at"]), body)
    except (ValueError, KeyError, RecursionError):
        raise BundleError("This is not a hubdesk sync bundle (or it is damaged)") from None


def open_sealed(env: Envelope, *, device_public_key: bytes, service_key: X25519PrivateKey) -> BundleContent:
    """Check the device's signature, then decrypt. Raises BundleError."""
    body = dict(env.body)
    signature = str(body.pop("signature", ""))
    if not verify(device_public_key, signature, canonical_json(body).encode()):
        raise BundleError("The bundle's signature does not match its device: refused")
    header = {k: body[k] for k in HEADER_FIELDS}
    aad = canonical_json(header).encode()
    try:
        shared = service_key.exchange(X25519PublicKey.from_public_bytes(unb64(header["ephemeral_key"])))
        plain = AESGCM(_kek(shared, aad)).decrypt(unb64(header["nonce"]), unb64(body["ciphertext"]), aad)
    except (InvalidTag, ValueError, KeyError):
        raise BundleError("The bundle cannot be decrypted with this service's key") from None
    push = BundleContent.model_validate_json(plain)
    if push.hub_code != env.hub_code:
        raise BundleError("The bundle's hub does not match its contents")
    return push
