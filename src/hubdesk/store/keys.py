"""Key slots: the random database key sealed to each user, who alone can open their seal.

The slot file sits beside the database. Each user (and the recovery key) has a slot
holding an X25519 key pair: the private half wrapped by a key derived from their
passphrase (Argon2id, parameters kept per slot; AES-256-GCM, the associated data
naming the store, the slot and the public key), and the database key sealed to the
public half with HPKE (RFC 9180, base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
AES-256-GCM, from `cryptography`; the HPKE info names the store, the slot and the key's
generation). So anyone who holds the database key can seal a new one to every slot
without knowing anyone's passphrase: removing a user is a rekey (see rekey.py), and a
leaver's passphrase opens only seals of keys that no longer open the database.

Each slot also carries, per generation, a MAC of its public key under that
generation's database key, so a public key swapped in the file by someone who cannot
open the store is refused before a new key is sealed to it. A SHA-256 digest per slot
(over the slot and the store id) tells a damaged slot apart from a wrong passphrase
before any KDF runs; a digest of the header covers the store id and the generations.

Slots of the first format (the database key itself wrapped by the passphrase's key,
no key pair) still open; each is turned into the new kind the first time its owner
unlocks (a slot cannot be converted without its passphrase).

Key material lives in bytearrays that are zeroed after use. Where `cryptography`
hands back `bytes` (HPKE's plaintext, a key pair's raw private bytes) the copy is
short-lived and cannot be zeroed; it is never turned into text.
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
from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hubdesk.store.errors import (
    DiskFull,
    KeySlotDamaged,
    NoStore,
    StoreError,
    UnknownUser,
    WrongPassphrase,
)
from hubdesk.store.sqlcipher import KEY_BYTES, fsync_dir

SLOT_FORMAT = 2
FIRST_FORMAT = 1  # the database key wrapped per slot; read, and converted at its owner's unlock
MIN_MEMORY_KIB = 64 * 1024  # DESIGN: Argon2id with at least 64 MiB
RECOVERY = "recovery"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


_KDF_LOCK = threading.Lock()


@dataclass(frozen=True)
class KdfParams:
    memory_kib: int = MIN_MEMORY_KIB
    iterations: int = 3
    lanes: int = 4

    def derive(self, secret: bytes, salt: bytes) -> bytearray:
        """The key-encrypting key, in a bytearray the caller zeroes (wipe) after use."""
        out = bytearray(32)
        # One derivation at a time per process: several concurrent Argon2id runs with
        # lanes=4 were seen to hang (cryptography 50 / OpenSSL), and a desk never needs
        # two at once (unlock, a manager's approval, a sync worker's own unlock).
        with _KDF_LOCK:
            Argon2id(
                salt=salt,
                length=32,
                iterations=self.iterations,
                lanes=self.lanes,
                memory_cost=self.memory_kib,
            ).derive_into(secret, out)
        return out


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


def wipe(*buffers: bytearray | None) -> None:
    """Zero key material held in bytearrays."""
    for buf in buffers:
        if buf is not None:
            for i in range(len(buf)):
                buf[i] = 0


def _b64(data: bytes | bytearray) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    if not isinstance(text, str):  # a damaged slot file can hold any JSON value here
        raise ValueError("not base64 text")
    return base64.b64decode(text.encode(), validate=True)


_HPKE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
_SEALED_BYTES = 32 + KEY_BYTES + 16  # encapsulated key, database key, tag


def _first_aad(store_id: str, slot_id: str) -> bytes:
    return f"hubdesk-keyslot:v{FIRST_FORMAT}:{store_id}:{slot_id}".encode()


def _private_aad(store_id: str, slot_id: str, public: bytes) -> bytes:
    return f"hubdesk-keyslot:v{SLOT_FORMAT}:private:{store_id}:{slot_id}:".encode() + public


def _seal_info(store_id: str, slot_id: str, generation: int) -> bytes:
    return f"hubdesk-keyslot:v{SLOT_FORMAT}:sealed:{store_id}:{slot_id}:{generation}".encode()


def _binding(db_key: bytes | bytearray, store_id: str, slot_id: str, public: bytes, generation: int) -> str:
    mac_key = bytearray(32)
    HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"hubdesk slot binding v2").derive_into(db_key, mac_key)
    try:
        message = f"{store_id}\x1f{slot_id}\x1f{generation}\x1f".encode() + public
        return hmac.new(mac_key, message, hashlib.sha256).hexdigest()
    finally:
        wipe(mac_key)


def _normalised(secret: bytes) -> bytes:
    """The same passphrase typed with precomposed or combining accents (keyboards, input
    methods and operating systems differ) derives the same key: Unicode NFC."""
    try:
        return unicodedata.normalize("NFC", secret.decode("utf-8")).encode("utf-8")
    except UnicodeDecodeError:
        return secret


@dataclass
class KeySlot:
    slot_id: str  # a user's login, or "recovery"
    salt: str
    nonce: str
    wrapped: str  # the private key (or, in a first-format slot, the database key), wrapped
    kdf: KdfParams
    created_at: float = field(default_factory=time.time)
    digest: str = ""
    public: str = ""  # the X25519 public key; empty in a first-format slot
    sealed: dict[str, str] = field(default_factory=dict)  # generation -> database key sealed to `public`
    binding: dict[str, str] = field(default_factory=dict)  # generation -> MAC of the public key

    @property
    def first_format(self) -> bool:
        return not self.public

    def body(self) -> dict:
        data = asdict(self)
        data.pop("digest")
        return data

    def compute_digest(self, store_id: str) -> str:
        canonical = json.dumps({"store_id": store_id, "slot": self.body()}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def first_format_digest(self) -> str:
        """The digest as the first format made it (the slot alone, no store id)."""
        body = {k: v for k, v in self.body().items() if k not in ("public", "sealed", "binding")}
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def public_bytes(self) -> bytes:
        raw = _unb64(self.public)
        if len(raw) != 32:
            raise ValueError("public key")
        return raw


def wrap(store_id: str, slot_id: str, secret: bytes, key: bytes | bytearray, kdf: KdfParams) -> KeySlot:
    """A first-format slot: the database key wrapped by the passphrase's key. Kept so that
    stores and tests from before key pairs can be made and read; new slots use new_slot."""
    salt = secrets.token_bytes(16)
    nonce = secrets.token_bytes(12)
    kek = kdf.derive(_normalised(secret), salt)
    try:
        wrapped = AESGCM(kek).encrypt(nonce, key, _first_aad(store_id, slot_id))
    finally:
        wipe(kek)
    slot = KeySlot(slot_id, _b64(salt), _b64(nonce), _b64(wrapped), kdf)
    slot.digest = slot.compute_digest(store_id)
    return slot


def new_slot(store_id: str, slot_id: str, secret: bytes, keys: dict[int, bytearray], kdf: KdfParams) -> KeySlot:
    """A slot with a fresh key pair: the private half wrapped by the passphrase's key, and
    each generation's database key in `keys` sealed to the public half."""
    private = X25519PrivateKey.generate()
    public = private.public_key().public_bytes_raw()
    salt = secrets.token_bytes(16)
    nonce = secrets.token_bytes(12)
    kek = kdf.derive(_normalised(secret), salt)
    raw = bytearray(private.private_bytes_raw())  # cryptography gives bytes; copied once, then dropped
    wrapped = bytearray(len(raw) + 16)
    try:
        AESGCM(kek).encrypt_into(nonce, raw, _private_aad(store_id, slot_id, public), wrapped)
    finally:
        wipe(kek, raw)
    slot = KeySlot(slot_id, _b64(salt), _b64(nonce), _b64(wrapped), kdf, public=_b64(public))
    for generation, key in keys.items():
        seal_to(slot, store_id, generation, key)
    return slot


def seal_to(slot: KeySlot, store_id: str, generation: int, key: bytes | bytearray) -> None:
    """Seal a database key to a slot's public key (HPKE), with the MAC binding that public
    key to the store under the same key. Needs no passphrase."""
    public = slot.public_bytes()
    info = _seal_info(store_id, slot.slot_id, generation)
    slot.sealed[str(generation)] = _b64(_HPKE.encrypt(key, X25519PublicKey.from_public_bytes(public), info))
    slot.binding[str(generation)] = _binding(key, store_id, slot.slot_id, public, generation)


def binding_holds(slot: KeySlot, store_id: str, generation: int, key: bytes | bytearray) -> bool:
    """Was this slot's public key put here by someone who held this generation's key?"""
    if slot.first_format:
        return False
    mac = slot.binding.get(str(generation))
    if not isinstance(mac, str):
        return False
    return hmac.compare_digest(mac, _binding(key, store_id, slot.slot_id, slot.public_bytes(), generation))


@dataclass
class OpenedSlot:
    """What a passphrase opened: the database key of each generation the slot holds, and
    (for a slot with a key pair) its private key. Wipe it when done."""

    slot_id: str
    keys: dict[int, bytearray]
    private: bytearray | None = None

    def key(self, generation: int) -> bytearray | None:
        return self.keys.get(generation)

    def wipe(self) -> None:
        wipe(self.private, *self.keys.values())
        self.keys = {}
        self.private = None


def _wrong(slot_id: str) -> WrongPassphrase:
    if slot_id == RECOVERY:
        return WrongPassphrase("That recovery key does not open this store")
    return WrongPassphrase(f"Wrong passphrase for {slot_id}")


def _damaged(slot_id: str) -> KeySlotDamaged:
    if slot_id == RECOVERY:
        return KeySlotDamaged("The recovery key slot is damaged. Open the store with a user's passphrase.")
    return KeySlotDamaged(
        f"The key slot for {slot_id} is damaged. Open the store with the recovery key and set a new passphrase."
    )


def open_slot(store_id: str, slot: KeySlot, secret: bytes, generation: int) -> OpenedSlot:
    """Open a slot with its passphrase (or the recovery code): every database key it holds."""
    kek = slot.kdf.derive(_normalised(secret), _unb64(slot.salt))
    try:
        aead = AESGCM(kek)
    finally:
        wipe(kek)
    wrapped = _unb64(slot.wrapped)
    nonce = _unb64(slot.nonce)
    if slot.first_format:
        key = bytearray(max(len(wrapped) - 16, 0))
        try:
            aead.decrypt_into(nonce, wrapped, _first_aad(store_id, slot.slot_id), key)
        except (InvalidTag, ValueError):
            raise _wrong(slot.slot_id) from None
        return OpenedSlot(slot.slot_id, {generation: key})
    public = slot.public_bytes()
    private = bytearray(max(len(wrapped) - 16, 0))
    try:
        aead.decrypt_into(nonce, wrapped, _private_aad(store_id, slot.slot_id, public), private)
    except (InvalidTag, ValueError):
        raise _wrong(slot.slot_id) from None
    opened = OpenedSlot(slot.slot_id, {}, private)
    try:
        pair = X25519PrivateKey.from_private_bytes(private)
        if not hmac.compare_digest(pair.public_key().public_bytes_raw(), public):
            raise ValueError("public key")
        for gen_text, sealed in slot.sealed.items():
            plain = _HPKE.decrypt(_unb64(sealed), pair, _seal_info(store_id, slot.slot_id, int(gen_text)))
            opened.keys[int(gen_text)] = bytearray(plain)  # HPKE gives bytes: copied, never kept
            del plain
    except (InvalidTag, ValueError, TypeError):
        opened.wipe()
        raise _damaged(slot.slot_id) from None
    return opened


def unwrap(store_id: str, slot: KeySlot, secret: bytes) -> bytearray:
    """A first-format slot's database key (kept for callers from before key pairs)."""
    opened = open_slot(store_id, slot, secret, 0)
    key = opened.keys.pop(min(opened.keys), bytearray())
    opened.wipe()
    return key


@dataclass
class KeySlotFile:
    """The slot file: which store it belongs to, which generation of the database key is
    current (and, while a rekey is under way, the next one), and one slot per user plus
    recovery. While a rekey is under way each slot holds seals of both generations, so a
    kill at any moment leaves a store that one of them opens."""

    path: Path
    store_id: str
    slots: dict[str, KeySlot]
    generation: int = 0
    next_generation: int | None = None
    loaded_format: int = SLOT_FORMAT

    @classmethod
    def load(cls, path: Path) -> KeySlotFile:
        if not path.exists():
            raise NoStore(
                f"The key slot file {path.name} is missing: the store cannot be opened without it. "
                "Restore it from a backup."
            )
        try:
            data = json.loads(path.read_bytes().decode("utf-8"))
            fmt = data.get("format")
            if fmt not in (FIRST_FORMAT, SLOT_FORMAT) or isinstance(fmt, bool):
                raise ValueError("format")
            store_id = str(data["store_id"])
            generation, next_generation = 0, None
            if fmt == SLOT_FORMAT:
                generation = data["generation"]
                next_generation = data["next_generation"]
                if not _is_int(generation) or not (next_generation is None or _is_int(next_generation)):
                    raise ValueError("generation")
                if not hmac.compare_digest(
                    str(data["digest"]), _header_digest(data["store_id"], generation, next_generation)
                ):
                    raise ValueError("header digest")
            slots = {}
            for raw in data["slots"]:
                kdf = KdfParams(**raw.pop("kdf"))
                slot = KeySlot(kdf=kdf, **raw)
                if not isinstance(slot.sealed, dict) or not isinstance(slot.binding, dict):
                    raise ValueError("sealed")
                if fmt == FIRST_FORMAT:
                    # Carried into the new format's digest (with the store id) when it checks out
                    # as the first format made it; a damaged one stays damaged.
                    ok = isinstance(slot.digest, str) and hmac.compare_digest(slot.digest, slot.first_format_digest())
                    slot.digest = slot.compute_digest(store_id) if ok else f"damaged:{slot.digest}"
                slots[slot.slot_id] = slot
        except (ValueError, KeyError, TypeError, UnicodeDecodeError, AttributeError, RecursionError):
            raise KeySlotDamaged(
                f"The key slot file {path.name} is damaged and cannot be read. "
                "Restore it from a backup, or open the store with a backup's recovery key."
            ) from None
        return cls(path, store_id, slots, generation, next_generation, fmt)

    def damaged_slots(self) -> list[str]:
        """Slots whose digest does not match their content (store id included)."""
        bad = []
        for slot in self.slots.values():
            try:
                ok = isinstance(slot.digest, str) and hmac.compare_digest(
                    slot.digest, slot.compute_digest(self.store_id)
                )
                ok = ok and slot.kdf.memory_kib >= 8 and slot.kdf.iterations >= 1
                _unb64(slot.salt), _unb64(slot.nonce), _unb64(slot.wrapped)
                if not slot.first_format:
                    slot.public_bytes()
                    ok = ok and all(len(_unb64(v)) == _SEALED_BYTES for v in slot.sealed.values())
                    ok = ok and all(_is_int(int(g)) for g in slot.sealed)
            except (ValueError, TypeError, AttributeError):
                ok = False
            if not ok:
                bad.append(slot.slot_id)
        return bad

    def first_format_slots(self) -> list[str]:
        return sorted(s.slot_id for s in self.slots.values() if s.first_format)

    def slot(self, slot_id: str) -> KeySlot:
        slot = self.slots.get(slot_id)
        if slot is None:
            if slot_id == RECOVERY:
                raise KeySlotDamaged("This store has no recovery key slot")
            raise UnknownUser(f"No user called {slot_id} on this desk")
        if slot_id in self.damaged_slots():
            raise _damaged(slot_id)
        return slot

    def unlock(self, slot_id: str, secret: bytes) -> OpenedSlot:
        """Every database key this slot holds (the current generation's, and the next one's
        while a rekey is under way)."""
        return open_slot(self.store_id, self.slot(slot_id), secret, self.generation)

    def open(self, slot_id: str, secret: bytes) -> bytearray:
        """The current generation's database key."""
        opened = self.unlock(slot_id, secret)
        key = opened.keys.pop(self.generation, None)
        opened.wipe()
        if key is None:
            raise _damaged(slot_id)
        return key

    def put(self, slot: KeySlot) -> None:
        slot.digest = slot.compute_digest(self.store_id)
        self.slots[slot.slot_id] = slot

    def remove(self, slot_id: str) -> None:
        self.slots.pop(slot_id, None)

    def copy(self) -> KeySlotFile:
        clone = KeySlotFile.__new__(KeySlotFile)
        clone.path, clone.store_id = self.path, self.store_id
        clone.generation, clone.next_generation, clone.loaded_format = (
            self.generation,
            self.next_generation,
            self.loaded_format,
        )
        clone.slots = {
            k: KeySlot(**{**asdict(v), "kdf": v.kdf, "sealed": dict(v.sealed), "binding": dict(v.binding)})
            for k, v in self.slots.items()
        }
        return clone

    def payload(self) -> bytes:
        data = {
            "format": SLOT_FORMAT,
            "store_id": self.store_id,
            "generation": self.generation,
            "next_generation": self.next_generation,
            "digest": _header_digest(self.store_id, self.generation, self.next_generation),
            "slots": [asdict(s) for s in sorted(self.slots.values(), key=lambda s: s.slot_id)],
        }
        return json.dumps(data, indent=1, sort_keys=True).encode()

    def save(self) -> None:
        """Write atomically: temp file, fsync, rename, fsync the folder."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            write_durably(tmp, self.payload())
            os.replace(tmp, self.path)
            fsync_dir(self.path.parent)
        except OSError as exc:
            # A full or failing disk is a plain StoreError, never a traceback; the old
            # slot file stays as it was (the new one was only ever the temp file).
            tmp.unlink(missing_ok=True)
            if self.path.exists():  # and what is held in memory goes back to what is on disk
                on_disk = KeySlotFile.load(self.path)
                self.slots, self.generation, self.next_generation = (
                    on_disk.slots,
                    on_disk.generation,
                    on_disk.next_generation,
                )
            if exc.errno == errno.ENOSPC:
                raise DiskFull("Could not save the key slots: the disk is full. Free space and try again.") from None
            raise StoreError(f"Could not save the key slots: {exc.strerror or exc}") from None
        self.loaded_format = SLOT_FORMAT


def write_durably(path: Path, payload: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(payload)
        fh.flush()
        os.fsync(fh.fileno())


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _header_digest(store_id: object, generation: object, next_generation: object) -> str:
    canonical = json.dumps(
        {"format": SLOT_FORMAT, "store_id": store_id, "generation": generation, "next_generation": next_generation},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
