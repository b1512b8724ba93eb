"""Key slots: the random database key wrapped per user (Argon2id + AES-256-GCM).

The slot file sits beside the database. Each slot holds its own KDF parameters, a
nonce and the wrapped key; the associated data names the store and the slot, so a
slot cannot be moved to another store or renamed. A SHA-256 digest per slot tells a
damaged slot apart from a wrong passphrase before any KDF runs. Changing a
passphrase rewraps one slot; nothing is re-encrypted.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from hubdesk.store.errors import (
    DiskFull,
    KeySlotDamaged,
    NoStore,
    StoreError,
    UnknownUser,
    WrongPassphrase,
)
from hubdesk.store.sqlcipher import KEY_BYTES, fsync_dir

SLOT_FORMAT = 1
MIN_MEMORY_KIB = 64 * 1024  # DESIGN: Argon2id with at least 64 MiB
RECOVERY = "recovery"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


_KDF_LOCK = threading.Lock()


@dataclass(frozen=True)
class KdfParams:
    memory_kib: int = MIN_MEMORY_KIB
    iterations: int = 3
    lanes: int = 4

    def derive(self, secret: bytes, salt: bytes) -> bytes:
        # One derivation at a time per process: several concurrent Argon2id runs with
        # lanes=4 were seen to hang (cryptography 50 / OpenSSL), and a desk never needs
        # two at once (unlock, a manager's approval, a sync worker's own unlock).
        with _KDF_LOCK:
            return Argon2id(
                salt=salt,
                length=32,
                iterations=self.iterations,
                lanes=self.lanes,
                memory_cost=self.memory_kib,
            ).derive(secret)


def calibrate(target_seconds: float = 0.6, memory_kib: int = MIN_MEMORY_KIB) -> KdfParams:
    """Pick Argon2id iterations so one unlock takes about target_seconds here."""
    override = os.environ.get("HUBDESK_KDF_PROFILE", "")
    if override == "fast":
        # Tests and throwaway demos: still 64 MiB, one pass. Never the default.
        return KdfParams(memory_kib=MIN_MEMORY_KIB, iterations=1, lanes=4)
    probe = KdfParams(memory_kib=memory_kib, iterations=1, lanes=4)
    one = _time_derive(probe)
    iterations = max(2, min(64, round(target_seconds / one)))
    # A one-pass probe is mostly fixed cost (allocating and touching the memory), so it
    # overstates each pass and the estimate falls well short (0.27 s for 0.6 s here):
    # time the estimate itself and scale once more.
    took = _time_derive(KdfParams(memory_kib=memory_kib, iterations=iterations, lanes=4))
    iterations = max(2, min(64, round(iterations * target_seconds / took)))
    return KdfParams(memory_kib=memory_kib, iterations=iterations, lanes=4)


def _time_derive(params: KdfParams) -> float:
    start = time.perf_counter()
    params.derive(b"calibration", b"0" * 16)
    return max(time.perf_counter() - start, 1e-3)


def new_database_key() -> bytearray:
    return bytearray(secrets.token_bytes(KEY_BYTES))


def new_recovery_code() -> str:
    """160 random bits as 32 Crockford base32 characters in groups of four."""
    raw = secrets.token_bytes(20)
    number = int.from_bytes(raw, "big")
    chars = "".join(_CROCKFORD[(number >> (5 * i)) & 31] for i in range(31, -1, -1))
    return "-".join(chars[i : i + 4] for i in range(0, 32, 4))


def normalise_recovery_code(code: str) -> bytes:
    cleaned = code.upper().replace("-", "").replace(" ", "")
    cleaned = cleaned.replace("O", "0").replace("I", "1").replace("L", "1")
    if len(cleaned) != 32 or any(c not in _CROCKFORD for c in cleaned):
        raise WrongPassphrase("A recovery key is 32 letters and digits, in groups of four")
    return cleaned.encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    if not isinstance(text, str):  # a damaged slot file can hold any JSON value here
        raise ValueError("not base64 text")
    return base64.b64decode(text.encode(), validate=True)


@dataclass
class KeySlot:
    slot_id: str  # a user's login, or "recovery"
    salt: str
    nonce: str
    wrapped: str
    kdf: KdfParams
    created_at: float = field(default_factory=time.time)
    digest: str = ""

    def body(self) -> dict:
        data = asdict(self)
        data.pop("digest")
        return data

    def compute_digest(self) -> str:
        canonical = json.dumps(self.body(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def _aad(store_id: str, slot_id: str) -> bytes:
    return f"hubdesk-keyslot:v{SLOT_FORMAT}:{store_id}:{slot_id}".encode()


def _normalised(secret: bytes) -> bytes:
    """The same passphrase typed with precomposed or combining accents (keyboards, input
    methods and operating systems differ) derives the same key: Unicode NFC."""
    try:
        return unicodedata.normalize("NFC", secret.decode("utf-8")).encode("utf-8")
    except UnicodeDecodeError:
        return secret


def wrap(store_id: str, slot_id: str, secret: bytes, key: bytes | bytearray, kdf: KdfParams) -> KeySlot:
    salt = secrets.token_bytes(16)
    nonce = secrets.token_bytes(12)
    kek = kdf.derive(_normalised(secret), salt)
    wrapped = AESGCM(kek).encrypt(nonce, bytes(key), _aad(store_id, slot_id))
    slot = KeySlot(slot_id, _b64(salt), _b64(nonce), _b64(wrapped), kdf)
    slot.digest = slot.compute_digest()
    return slot


def unwrap(store_id: str, slot: KeySlot, secret: bytes) -> bytearray:
    kek = slot.kdf.derive(_normalised(secret), _unb64(slot.salt))
    try:
        key = AESGCM(kek).decrypt(_unb64(slot.nonce), _unb64(slot.wrapped), _aad(store_id, slot.slot_id))
    except InvalidTag:
        if slot.slot_id == RECOVERY:
            raise WrongPassphrase("That recovery key does not open this store") from None
        raise WrongPassphrase(f"Wrong passphrase for {slot.slot_id}") from None
    return bytearray(key)


@dataclass
class KeySlotFile:
    """The slot file: which store it belongs to, and one slot per user plus recovery."""

    path: Path
    store_id: str
    slots: dict[str, KeySlot]

    @classmethod
    def load(cls, path: Path) -> KeySlotFile:
        if not path.exists():
            raise NoStore(
                f"The key slot file {path.name} is missing: the store cannot be opened without it. "
                "Restore it from a backup."
            )
        try:
            data = json.loads(path.read_bytes().decode("utf-8"))
            if data.get("format") != SLOT_FORMAT:
                raise ValueError("format")
            store_id = str(data["store_id"])
            slots = {}
            for raw in data["slots"]:
                kdf = KdfParams(**raw.pop("kdf"))
                slot = KeySlot(kdf=kdf, **raw)
                slots[slot.slot_id] = slot
        except (ValueError, KeyError, TypeError, UnicodeDecodeError, AttributeError, RecursionError):
            raise KeySlotDamaged(
                f"The key slot file {path.name} is damaged and cannot be read. "
                "Restore it from a backup, or open the store with a backup's recovery key."
            ) from None
        return cls(path, store_id, slots)

    def damaged_slots(self) -> list[str]:
        """Slots whose digest does not match their content."""
        bad = []
        for slot in self.slots.values():
            try:
                ok = hmac.compare_digest(slot.digest, slot.compute_digest())
                ok = ok and slot.kdf.memory_kib >= 8 and slot.kdf.iterations >= 1
                _unb64(slot.salt), _unb64(slot.nonce), _unb64(slot.wrapped)
            except (ValueError, TypeError):
                ok = False
            if not ok:
                bad.append(slot.slot_id)
        return bad

    def slot(self, slot_id: str) -> KeySlot:
        slot = self.slots.get(slot_id)
        if slot is None:
            if slot_id == RECOVERY:
                raise KeySlotDamaged("This store has no recovery key slot")
            raise UnknownUser(f"No user called {slot_id} on this desk")
        if slot_id in self.damaged_slots():
            raise KeySlotDamaged(
                f"The key slot for {slot_id} is damaged. Open the store with the recovery key and set a new passphrase."
            )
        return slot

    def open(self, slot_id: str, secret: bytes) -> bytearray:
        return unwrap(self.store_id, self.slot(slot_id), secret)

    def put(self, slot: KeySlot) -> None:
        self.slots[slot.slot_id] = slot

    def remove(self, slot_id: str) -> None:
        self.slots.pop(slot_id, None)

    def save(self) -> None:
        """Write atomically: temp file, fsync, rename, fsync the folder."""
        data = {
            "format": SLOT_FORMAT,
            "store_id": self.store_id,
            "slots": [asdict(s) for s in sorted(self.slots.values(), key=lambda s: s.slot_id)],
        }
        payload = json.dumps(data, indent=1, sort_keys=True).encode()
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            with open(tmp, "wb") as fh:
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
            fsync_dir(self.path.parent)
        except OSError as exc:
            # A full or failing disk is a plain StoreError, never a traceback; the old
            # slot file stays as it was (the new one was only ever the temp file).
            tmp.unlink(missing_ok=True)
            if self.path.exists():  # and what is held in memory goes back to what is on disk
                self.slots = KeySlotFile.load(self.path).slots
            if exc.errno == errno.ENOSPC:
                raise DiskFull("Could not save the key slots: the disk is full. Free space and try again.") from None
            raise StoreError(f"Could not save the key slots: {exc.strerror or exc}") from None
