"""Devices: enrolment codes, enrolment, revocation, nonces, and the service's own keys."""

from __future__ import annotations

from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from hubcentral.storage.base import StoreBase
from hubcentral.storage.common import NONCE_KEEP_SECONDS, Device, EnrolmentRefused, _hash_code, iso, new_enrolment_code
from hubdesk.domain.ids import uuid7
from hubdesk.sync.protocol import b64


class DevicesMixin(StoreBase):
    def bundle_key(self) -> X25519PrivateKey:
        """The service's key that offline bundles are sealed to; made on first use."""
        with self.engine.transaction(write=True) as tx:
            tx.execute(
                "INSERT INTO service_keys(name, private_key) VALUES ('bundle', ?) ON CONFLICT(name) DO NOTHING",
                [X25519PrivateKey.generate().private_bytes_raw().hex()],
            )
            row = tx.one("SELECT private_key FROM service_keys WHERE name = 'bundle'")
        assert row is not None
        return X25519PrivateKey.from_private_bytes(bytes.fromhex(row[0]))

    def database_id(self) -> str:
        """A random id made with this database: a restored or replaced one is told apart."""
        if getattr(self, "_database_id", None) is None:
            with self.engine.transaction(write=True) as tx:
                tx.execute(
                    "INSERT INTO service_keys(name, private_key) VALUES ('database_id', ?) "
                    "ON CONFLICT(name) DO NOTHING",
                    [uuid7()],
                )
                row = tx.one("SELECT private_key FROM service_keys WHERE name = 'database_id'")
            assert row is not None
            self._database_id: str | None = row[0]
        assert self._database_id is not None
        return self._database_id

    def bundle_public_key(self) -> str:
        return b64(self.bundle_key().public_key().public_bytes_raw())

    def make_enrolment_code(self, hub_code: str, expires_at: datetime, now: datetime) -> str:
        code = new_enrolment_code()
        with self.engine.transaction(write=True) as tx:
            tx.execute(
                "INSERT INTO enrolment_codes(code_hash, hub_code, created_at, expires_at) VALUES (?, ?, ?, ?)",
                [_hash_code(code), hub_code, iso(now), iso(expires_at)],
            )
        return code

    def enrolment_code_known(self, code: str) -> bool:
        """Read only: did the admin make this code? A wrong guess is refused with no row written."""
        with self.engine.transaction(write=False) as tx:
            return tx.one("SELECT 1 FROM enrolment_codes WHERE code_hash = ?", [_hash_code(code)]) is not None

    def enrol(self, code: str, device_id: str, hub_code: str, public_key: str, label: str, now: datetime) -> Device:
        """Use a one-time code. Sending the same enrolment again (a lost answer) is safe.

        A device already known (revoked, or whose desk lost its key) enrols again with a new
        code: its key is replaced and a revocation lifted, at the same hub. The code is the
        central admin's say-so, as for a new device."""
        with self.engine.transaction(write=True) as tx:
            row = tx.one(
                "SELECT hub_code, expires_at, used_at, device_id, public_key FROM enrolment_codes WHERE code_hash = ?",
                [_hash_code(code)],
            )
            if row is None:
                raise EnrolmentRefused("That enrolment code is not known; ask the central admin for a new one")
            code_hub, expires_at, used_at, used_by, used_key = row
            if used_at is not None:
                device = self._device(tx, device_id) if used_by == device_id and used_key == public_key else None
                if device is not None and device.public_key == public_key and device.revoked_at is None:
                    return device
                raise EnrolmentRefused("That enrolment code has already been used")
            if expires_at < iso(now):
                raise EnrolmentRefused("That enrolment code has expired; ask the central admin for a new one")
            if code_hub != hub_code:
                raise EnrolmentRefused(f"That enrolment code is for hub {code_hub}, not {hub_code}")
            known = self._device(tx, device_id)
            if known is not None and known.hub_code != hub_code:
                raise EnrolmentRefused(
                    f"This device is enrolled at hub {known.hub_code}; a new desk is needed for {hub_code}"
                )
            if tx.one("SELECT 1 FROM devices WHERE public_key = ? AND device_id <> ?", [public_key, device_id]):
                raise EnrolmentRefused("This device key is already enrolled")
            if known is None:
                tx.execute(
                    "INSERT INTO devices(device_id, hub_code, public_key, label, enrolled_at) VALUES (?, ?, ?, ?, ?)",
                    [device_id, hub_code, public_key, label, iso(now)],
                )
            else:
                tx.execute(
                    "UPDATE devices SET public_key = ?, label = ?, enrolled_at = ?, revoked_at = NULL "
                    "WHERE device_id = ?",
                    [public_key, label, iso(now), device_id],
                )
            tx.execute(
                "UPDATE enrolment_codes SET used_at = ?, device_id = ?, public_key = ? WHERE code_hash = ?",
                [iso(now), device_id, public_key, _hash_code(code)],
            )
            device = self._device(tx, device_id)
            assert device is not None
            return device

    def device(self, device_id: str) -> Device | None:
        with self.engine.transaction(write=False) as tx:
            return self._device(tx, device_id)

    def devices(self) -> list[Device]:
        with self.engine.transaction(write=False) as tx:
            rows = tx.all(
                "SELECT device_id, hub_code, public_key, label, enrolled_at, revoked_at, last_seen_at "
                "FROM devices ORDER BY enrolled_at"
            )
        return [Device(*r) for r in rows]

    def revoke(self, device_id: str, now: datetime) -> bool:
        with self.engine.transaction(write=True) as tx:
            if self._device(tx, device_id) is None:
                return False
            tx.execute(
                "UPDATE devices SET revoked_at = ? WHERE device_id = ? AND revoked_at IS NULL",
                [iso(now), device_id],
            )
        return True

    def use_nonce(self, device_id: str, nonce: str, now: datetime) -> bool:
        """Remember a nonce; False if this device has used it before (a replay)."""
        t = int(now.timestamp())
        try:
            with self.engine.transaction(write=True, serial=False) as tx:
                tx.execute("DELETE FROM nonces WHERE seen_at < ?", [t - NONCE_KEEP_SECONDS])
                tx.execute("INSERT INTO nonces(device_id, nonce, seen_at) VALUES (?, ?, ?)", [device_id, nonce, t])
                tx.execute("UPDATE devices SET last_seen_at = ? WHERE device_id = ?", [iso(now), device_id])
        except self.engine.integrity_errors:
            return False
        return True
