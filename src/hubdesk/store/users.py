"""Users, their passphrases and key slots, and the reference data: Store's methods for them."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import datetime
from typing import Any

from hubdesk.domain.enums import Role
from hubdesk.domain.models import (
    Hub,
    ReferenceData,
    User,
)
from hubdesk.domain.rules import can_approve
from hubdesk.domain.service_rules import ServiceRules
from hubdesk.store.common import _json
from hubdesk.store.errors import (
    NotAllowed,
    NotFound,
    StoreError,
    StoreExists,
    UnknownUser,
    WrongPassphrase,
)
from hubdesk.store.keys import RECOVERY, calibrate, new_slot, wipe


class UsersRepo:
    """Users, passphrases and reference data.

    A part of Store, which inherits it: it uses Store's _save, _audit, _outbox, _rows and _models."""

    # --- users and passphrases ----------------------------------------------------------

    def _put_user(self, user: User, login: str, now: datetime, action: str) -> None:
        body = _json(user)
        seq = self._audit(now, action, "user", login, user.role.value, body)
        self.db.execute(
            "INSERT INTO users(login, role, hub_code, active, body, audit_seq) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(login) DO UPDATE SET role = excluded.role, hub_code = excluded.hub_code, "
            "active = excluded.active, body = excluded.body, audit_seq = excluded.audit_seq",
            [login, user.role.value, user.hub_code, int(user.active), body, seq],
        )

    def get_user(self, login: str) -> User:
        users = self._models(User, "SELECT body FROM users WHERE login = ?", [login.strip().lower()])
        if not users:
            raise UnknownUser(f"No user called {login} on this desk")
        return users[0]

    def users(self) -> list[User]:
        return self._models(User, "SELECT body FROM users ORDER BY login")

    def add_user(self, user: User, passphrase: str) -> None:
        """Add a user with their own key slot. Only a duty manager or admin may."""
        self._require_role(Role.DUTY_MANAGER, Role.ADMIN)
        _check_passphrase(passphrase)
        if user.login in self.slots.slots or user.login == RECOVERY:
            raise StoreExists(f"There is already a user called {user.login}")
        assert self._key is not None
        kdf = self.slots.slot(self._actor()).kdf if self.user else calibrate()
        self.slots.put(new_slot(self.slots.store_id, user.login, passphrase.encode(), self._own_keys(), kdf))
        self.slots.save()
        try:
            with self._save() as now:
                self._put_user(user, user.login, now, action="create")
        except BaseException:
            # No user row, so no slot either: a retry must not find a half-made user.
            self.slots.remove(user.login)
            self.slots.save()
            raise

    def set_passphrase(self, login: str, new_passphrase: str, old_passphrase: str | None = None) -> None:
        """Rewrap one slot. Your own needs the old passphrase; after recovery, any user's."""
        _check_passphrase(new_passphrase)
        login = login.strip().lower()
        self.get_user(login)
        assert self._key is not None
        if self.user is not None:
            if login != self.user.login:
                raise NotAllowed("You can change only your own passphrase")
            if old_passphrase is None:
                raise WrongPassphrase("Give your current passphrase")
            self._verify_slot(login, old_passphrase)
        kdf = self.slots.slots[login].kdf if login in self.slots.slots else calibrate()
        slot = new_slot(self.slots.store_id, login, new_passphrase.encode(), self._own_keys(), kdf)
        # The audit entry first: a kill between the two leaves an entry for a change that did
        # not happen (the old passphrase still works), never a change with no entry.
        with self._save() as now:
            self._audit(now, "passphrase", "user", login, "slot rewrapped")
        try:
            self.slots.put(slot)
            self.slots.save()
        except StoreError as exc:
            try:
                with self._save() as now:
                    self._audit(now, "passphrase", "user", login, "not changed: the slot file could not be written")
            except StoreError:
                pass
            raise exc from None

    def _own_keys(self) -> dict[int, bytearray]:
        """The database key by generation, to seal into a new slot."""
        assert self._key is not None
        return {self.slots.generation: self._key}

    def remove_users(self, logins: list[str], progress: Callable[[float], None] | None = None):
        """Drop users' key slots and seal a new database key to everyone else (duty manager or
        admin). Returns an access.Removal saying what happened."""
        from hubdesk.store.access import remove_users

        self._require_open()
        if self.read_only:
            raise StoreError("The store was opened read-only")
        return remove_users(self, logins, progress)

    def _verify_slot(self, login: str, passphrase: str) -> None:
        assert self._key is not None
        key = self.slots.open(login, passphrase.encode())
        try:
            if not hmac.compare_digest(key, self._key):
                raise WrongPassphrase(f"Wrong passphrase for {login}")
        finally:
            wipe(key)

    def verify_manager(self, login: str, passphrase: str, amount_pence: int) -> User:
        """A duty manager's approval on this device: their own passphrase, their own limit."""
        try:
            manager = self.get_user(login)
        except UnknownUser:
            raise WrongPassphrase("Unknown manager or wrong passphrase") from None
        ok, why = can_approve(manager, amount_pence, self.service_rules())
        if not ok:
            raise NotAllowed(why)
        try:
            self._verify_slot(manager.login, passphrase)
        except (UnknownUser, WrongPassphrase):
            raise WrongPassphrase(f"Wrong passphrase for {manager.display_name}") from None
        return manager

    def _require_role(self, *roles: Role) -> None:
        if self.user is not None and self.user.role not in roles:
            names = " or ".join(r.label.lower() for r in roles)
            raise NotAllowed(f"Only a {names} may do that")

    # --- reference data -------------------------------------------------------------------

    def set_reference(self, reference: ReferenceData) -> None:
        """Replace reference data (as pulled from the central record). Codes are retired,
        never deleted, so records that use them stay readable and sendable."""
        with self._save() as now:
            groups = {
                "hub": reference.hubs,
                "session_type": reference.session_types,
                "contact_purpose": reference.contact_purposes,
                "payment_category": reference.payment_categories,
                "entitlement": reference.local_offer,
            }
            for kind, items in groups.items():
                if kind != "hub":
                    self.db.execute("UPDATE reference SET active = 0 WHERE kind = ?", [kind])
                for item in items:
                    self.db.execute(
                        "INSERT INTO reference(kind, code, active, body) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT(kind, code) DO UPDATE SET active = excluded.active, body = excluded.body",
                        [kind, item.code, int(getattr(item, "active", True)), _json(item)],
                    )
            # The service's rules (age bands, in-touch defaults, who may authorise): one row.
            self.db.execute(
                "INSERT INTO reference(kind, code, active, body) VALUES ('service_rules', 'rules', 1, ?) "
                "ON CONFLICT(kind, code) DO UPDATE SET body = excluded.body",
                [_json(reference.service_rules)],
            )
            if reference.example:
                self.db.execute(
                    "INSERT INTO meta(key, value) VALUES ('reference_example', '1') "
                    "ON CONFLICT(key) DO UPDATE SET value = '1'"
                )
            self._audit(now, "set", "reference", None, "example" if reference.example else "")

    def reference(self, *, include_retired: bool = False) -> ReferenceData:
        from hubdesk.domain.local_offer import Entitlement
        from hubdesk.domain.models import ContactPurpose, PaymentCategory, SessionType

        where = "" if include_retired else " AND active = 1"
        kinds = {
            "hubs": ("hub", Hub),
            "session_types": ("session_type", SessionType),
            "contact_purposes": ("contact_purpose", ContactPurpose),
            "payment_categories": ("payment_category", PaymentCategory),
            "local_offer": ("entitlement", Entitlement),
        }
        data: dict[str, Any] = {}
        for field, (kind, model) in kinds.items():
            rows = self._rows(f"SELECT body, active FROM reference WHERE kind = ?{where} ORDER BY code", [kind])
            items = [model.model_validate_json(body) for body, _active in rows]
            # The column says whether a code is retired (set_reference retires what the central
            # record no longer lists); the stored body keeps what it was when last sent.
            data[field] = tuple(
                item.model_copy(update={"active": bool(active)}) if "active" in type(item).model_fields else item
                for item, (_body, active) in zip(items, rows, strict=True)
            )
        example = self._rows("SELECT value FROM meta WHERE key = 'reference_example'")
        return ReferenceData(**data, service_rules=self.service_rules(), example=bool(example))

    def service_rules(self) -> ServiceRules:
        """The council's rules of the service as last pulled (the example ones until then)."""
        rows = self._rows("SELECT body FROM reference WHERE kind = 'service_rules' AND code = 'rules'")
        return ServiceRules.model_validate_json(rows[0][0]) if rows else ServiceRules()

    def payment_category(self, code: str):
        """One category, retired or not (its row alone: reading the whole reference for it
        was a third of a payment's save)."""
        from hubdesk.domain.models import PaymentCategory

        rows = self._rows("SELECT body, active FROM reference WHERE kind = 'payment_category' AND code = ?", [code])
        if not rows:
            raise NotFound(f"No payment category {code}")
        body, active = rows[0]
        return PaymentCategory.model_validate_json(body).model_copy(update={"active": bool(active)})


def _check_passphrase(passphrase: str) -> None:
    if len(passphrase) < 8:
        raise NotAllowed("A passphrase must be at least 8 characters; a few words are best")
    if len(passphrase) > 1024:
        raise NotAllowed("A passphrase must be at most 1,024 characters")
