"""Opening a contact from a list: the whole note and voice, its history, and amending it
(a new version with a reason; the old one stays), with times checked by the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from deskpilot import SIZE, screen_name, unlock

from hubdesk.domain.enums import ContactType
from hubdesk.domain.models import Contact, Person
from hubdesk.messages import Saved
from hubdesk.store import day as day_store
from hubdesk.store import history
from hubdesk.store.errors import NotAllowed
from hubdesk.store.store import Store

NOTE = "Came in about the gas meter; it has run out and the flat is cold"
VOICE = "I just want it sorted before my little one comes home [bold]today[/]"


def record(
    store: Store,
    person: Person,
    at: datetime,
    *,
    kind: ContactType = ContactType.DROP_IN,
    purposes: tuple[str, ...] = ("money",),
) -> Contact:
    return store.record_contact(
        Contact(
            person_id=person.id,
            hub_code="DEW",
            contact_type=kind,
            recorded_by="sam",
            started_at=at,
            recorded_at=at,
            seen=kind is ContactType.DROP_IN,
            purposes=purposes,
            summary=NOTE,
            voice=VOICE,
        )
    )


def versions(store: Store, contact: Contact) -> list[Contact]:
    return [v.contact for v in history.contact_history(store, contact.contact_id)]


async def open_from_desk(pilot, table: str = "#in-building") -> None:
    await unlock(pilot)
    pilot.app.screen.query_one(table).focus()
    await pilot.press("enter")
    await pilot.pause()
    assert screen_name(pilot.app) == "ContactDetailScreen"


async def type_into(pilot, widget_id: str, text: str) -> None:
    """Clear a one-line field and type into it as a PA would."""
    box = pilot.app.screen.query_one(widget_id)
    box.focus()
    box.value = ""
    await pilot.press(*text)
    await pilot.pause()


async def append_to(pilot, widget_id: str, text: str) -> None:
    """Type at the end of a note, as a PA adding to it would."""
    area = pilot.app.screen.query_one(widget_id)
    area.focus()
    area.move_cursor(area.document.end)
    await pilot.press(*text)
    await pilot.pause()


def error_of(app, name: str) -> str:
    return app.screen.query_one(f"#field-{name}").error


async def test_a_late_visit_opened_from_the_desk_gets_its_real_sign_in_time(
    desk_app, store: Store, people, clock
) -> None:
    """Zeb was signed in at 10:05 though he came at 09:30; the PA puts it right, with a
    reason, and the first version stays in the history."""
    visit = record(store, people["zeb"], clock())
    clock.advance(minutes=10)
    messages: list = []
    async with desk_app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await open_from_desk(pilot)
        screen = desk_app.screen
        # The whole note and voice, as typed, markup and all.
        assert screen.query_one("#summary").text == NOTE
        assert screen.query_one("#voice").text == VOICE
        assert screen.query_one("#started").value == "10:05"
        assert "Signed in at" in str(screen.query_one("#field-started .field-label").content)
        await type_into(pilot, "#started", "09:30")
        assert error_of(desk_app, "started") == ""
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen_name(desk_app) == "ReasonModal"
        assert "signed in at" in str(desk_app.screen.query_one(".title").content)
        await pilot.press("enter")  # no reason: refused
        await pilot.pause()
        assert screen_name(desk_app) == "ReasonModal"
        await pilot.press(*"Signed in late: he came at half nine", "enter")
        await pilot.pause()
        assert screen_name(desk_app) == "ContactDetailScreen"
        # The screen now shows the new version, with both in its history.
        assert desk_app.screen.query_one("#history").row_count == 2
        assert "Version 2" in str(desk_app.screen.query_one("#record").content)
        assert not desk_app.screen.dirty
        await pilot.press("escape")
        await pilot.pause()
        assert screen_name(desk_app) == "DeskScreen"
        assert str(desk_app.screen.query_one("#in-building").get_row_at(0)[1]) == "09:30"
    first, second = versions(store, visit)
    assert first == visit  # never updated in place
    assert second.amends == visit.id and second.version == 2
    assert second.started_at == datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    assert second.amend_reason == "Signed in late: he came at half nine"
    assert second.recorded_by == "sam"
    assert second.summary == NOTE and second.voice == VOICE and second.in_building
    assert store.current_contact(visit.contact_id) == second
    assert any(isinstance(m, Saved) and m.kind == "contact_amend" and m.record_id == second.id for m in messages)


async def test_bad_sign_in_times_get_a_message_by_the_field_and_nothing_is_saved(
    desk_app, store: Store, people, clock
) -> None:
    visit = record(store, people["zeb"], clock())
    async with desk_app.run_test(size=SIZE) as pilot:
        await open_from_desk(pilot)
        for typed, message in [
            ("10:30", "That is in the future"),
            ("24 Nov 2026 23:50", "That is before 25 Nov 2026 began"),
            ("half nine", "Type a time like 14:05"),
            ("25:00", "Type a time like 14:05"),
        ]:
            await type_into(pilot, "#started", typed)
            assert error_of(desk_app, "started").startswith(message), typed
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert screen_name(desk_app) == "ContactDetailScreen"
            assert desk_app.focused.id == "started"
    assert versions(store, visit) == [visit]


async def test_a_sign_out_before_the_sign_in_is_refused_and_a_right_one_saved(
    desk_app, store: Store, people, clock
) -> None:
    visit = record(store, people["kayden"], clock())
    clock.advance(hours=1)
    out = store.sign_out(visit.contact_id)
    clock.advance(hours=2)
    async with desk_app.run_test(size=SIZE) as pilot:
        # Signed out, so not in the building: it is opened from today's contacts.
        await open_from_desk(pilot, "#contacts")
        screen = desk_app.screen
        assert screen.query_one("#ended").value == "11:05"
        await type_into(pilot, "#ended", "09:00")
        assert error_of(desk_app, "ended") == "Sign-out is before the sign-in time"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen_name(desk_app) == "ContactDetailScreen"
        assert versions(store, visit) == [visit, out]
        await type_into(pilot, "#ended", "14:00")
        assert error_of(desk_app, "ended") == "That is in the future"
        # Signed out after the desk said: 11:40. Sign-in moved too, in the same amendment.
        await type_into(pilot, "#ended", "11:40")
        await type_into(pilot, "#started", "09:50")
        assert error_of(desk_app, "ended") == "" and error_of(desk_app, "started") == ""
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press(*"Left at 11:40, signed out late", "enter")
        await pilot.pause()
    *_, latest = versions(store, visit)
    assert latest.version == 3 and latest.amends == out.id
    assert latest.started_at == datetime(2026, 11, 25, 9, 50, tzinfo=UTC)
    assert latest.ended_at == datetime(2026, 11, 25, 11, 40, tzinfo=UTC)
    assert latest.amend_reason == "Left at 11:40, signed out late"


async def test_escape_mid_edit_asks_and_keep_is_the_default(desk_app, store: Store, people, clock) -> None:
    contact = record(store, people["amira"], clock() - timedelta(minutes=30), kind=ContactType.PHONE)
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("slash", *"amira", "enter")
        await pilot.pause()
        assert screen_name(desk_app) == "PersonScreen"
        await pilot.press("enter")  # the highlighted recent contact
        await pilot.pause()
        assert screen_name(desk_app) == "ContactDetailScreen"
        screen = desk_app.screen
        # A name with markup in it is shown as typed.
        assert "[bold]Tesfaye[/]" in str(screen.query_one("#detail-title").content)
        # From the person's page, escape goes back there: no "person" key in the footer.
        assert "contact_detail.person" not in {b.binding.id for b in screen.active_bindings.values() if b.enabled}
        await append_to(pilot, "#voice", " and it was")
        assert screen.dirty
        await pilot.press("escape")
        await pilot.pause()
        assert screen_name(desk_app) == "DiscardModal"
        assert desk_app.screen.focused.id == "keep"
        await pilot.press("enter")  # the default: keep
        await pilot.pause()
        assert screen_name(desk_app) == "ContactDetailScreen"
        assert screen.query_one("#voice").text.endswith("and it was")
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("escape")  # escape in the question keeps too
        await pilot.pause()
        assert screen_name(desk_app) == "ContactDetailScreen"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert screen_name(desk_app) == "PersonScreen"
    assert versions(store, contact) == [contact]


async def test_cancelling_the_reason_keeps_the_typing_and_saves_nothing(desk_app, store: Store, people, clock) -> None:
    visit = record(store, people["zeb"], clock())
    async with desk_app.run_test(size=SIZE) as pilot:
        await open_from_desk(pilot)
        screen = desk_app.screen
        await append_to(pilot, "#summary", " and a food parcel")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen_name(desk_app) == "ReasonModal"
        await pilot.press("escape")
        await pilot.pause()
        assert screen_name(desk_app) == "ContactDetailScreen"
        assert screen.query_one("#summary").text == NOTE + " and a food parcel"
    assert versions(store, visit) == [visit]


async def test_the_history_says_who_amended_what_when_and_why(desk_app, store: Store, people, clock) -> None:
    contact = record(store, people["kayden"], clock() - timedelta(hours=1), kind=ContactType.PHONE)
    clock.advance(minutes=5)
    store.amend_contact(contact.contact_id, {"summary": "Rang about his bus pass"}, "Wrong note at first")
    async with desk_app.run_test(size=SIZE) as pilot:
        await open_from_desk(pilot, "#contacts")
        screen = desk_app.screen
        table = screen.query_one("#history")
        newest, oldest = table.get_row_at(0), table.get_row_at(1)
        assert newest[0] == "2" and newest[1] == "25 Nov 2026, 10:10"
        assert str(newest[2]) == "Sam Test-Duty"
        assert str(newest[3]) == "what happened" and str(newest[4]) == "Wrong note at first"
        assert oldest[0] == "1" and str(oldest[3]) == "first recorded"
        # Enter on the first version reads it in full.
        table.focus()
        await pilot.press("down", "enter")
        await pilot.pause()
        assert screen_name(desk_app) == "TextModal"
        assert NOTE in str(desk_app.screen.query_one("#text-body").content)
        await pilot.press("escape")
        await pilot.pause()
        # Every field of a phone call is there to amend: tick "Seen", set the type.
        screen.query_one("#seen").value = True
        screen.query_one("#contact_type").value = ContactType.VIDEO.value
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press(*"It was a video call", "enter")
        await pilot.pause()
        assert str(screen.query_one("#history").get_row_at(0)[3]) == "type, seen"
    latest = store.current_contact(contact.contact_id)
    assert latest.version == 3 and latest.contact_type is ContactType.VIDEO and latest.seen
    assert latest.summary == "Rang about his bus pass"
    assert [v.changed for v in history.contact_history(store, contact.contact_id)] == [
        (),
        ("summary",),
        ("contact_type", "seen"),
    ]


async def test_a_safeguarding_concern_added_later_names_the_manager(desk_app, store: Store, people, clock) -> None:
    contact = record(store, people["zeb"], clock() - timedelta(hours=1), kind=ContactType.PHONE)
    async with desk_app.run_test(size=SIZE) as pilot:
        await open_from_desk(pilot, "#contacts")
        screen = desk_app.screen
        assert not screen.query_one("#safeguarding").display
        screen.query_one("#concern").value = True
        await pilot.pause()
        assert screen.query_one("#safeguarding").display
        # Not pre-filled: the PA says when the manager was told.
        assert screen.query_one("#sg_informed").value == ""
        await type_into(pilot, "#sg_action", "Rang the duty social worker")
        await type_into(pilot, "#sg_informed", "11:00")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert error_of(desk_app, "sg_informed") == "That is in the future"
        assert error_of(desk_app, "sg_manager") == "Name the manager who was told"
        assert screen_name(desk_app) == "ContactDetailScreen"
        await type_into(pilot, "#sg_informed", "09:55")
        await type_into(pilot, "#sg_manager", "Nadia")
        # Unticking with details typed keeps them on screen and will not save them silently.
        screen.query_one("#concern").value = False
        await pilot.pause()
        assert screen.query_one("#safeguarding").display
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert error_of(desk_app, "sg_action") == "Tick 'Safeguarding concern', or clear these details"
        screen.query_one("#concern").value = True
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press(*"He told me more after the call", "enter")
        await pilot.pause()
    latest = store.current_contact(contact.contact_id)
    assert latest.version == 2 and latest.safeguarding_concern
    assert latest.safeguarding.manager == "Nadia"
    assert latest.safeguarding.manager_informed_at == datetime(2026, 11, 25, 9, 55, tzinfo=UTC)
    assert store.count("contacts") == 2


async def test_a_contact_on_a_closed_day_is_amended_beside_the_original(desk_app, store: Store, people, clock) -> None:
    """A closed day takes no new records, but a correction still goes in as an amendment.
    Only what the PA changed changes: the time (saved with seconds, shown to the minute) and
    the purposes (in the order first ticked) stay as they were."""
    at = clock() - timedelta(hours=1, seconds=23, microseconds=5)
    contact = record(store, people["kayden"], at, kind=ContactType.PHONE, purposes=("money", "housing"))
    day_store.close_day(store)
    async with desk_app.run_test(size=SIZE) as pilot:
        await open_from_desk(pilot, "#contacts")
        screen = desk_app.screen
        assert "25 Nov 2026 is closed at DEW" in str(screen.query_one("#record").content)
        await append_to(pilot, "#summary", "; a food voucher too")
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press(*"Left out the voucher", "enter")
        await pilot.pause()
    first, second = versions(store, contact)
    assert first == contact
    assert second.summary == NOTE + "; a food voucher too" and second.amend_reason == "Left out the voucher"
    assert second.started_at == at and second.purposes == ("money", "housing")
    assert history.contact_history(store, contact.contact_id)[1].changed == ("summary",)


async def test_a_refusal_by_the_store_is_shown_by_the_form(
    desk_app, store: Store, people, clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    contact = record(store, people["kayden"], clock() - timedelta(hours=1), kind=ContactType.PHONE)

    def refuse(*args, **kwargs):
        raise NotAllowed("25 Nov 2026 is closed at DEW: its records can only be amended by a manager")

    async with desk_app.run_test(size=SIZE, notifications=True) as pilot:
        await open_from_desk(pilot, "#contacts")
        monkeypatch.setattr(desk_app.store, "amend_contact", refuse)
        screen = desk_app.screen
        await type_into(pilot, "#started", "09:10")
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press(*"Rang at ten past", "enter")
        await pilot.pause()
        assert screen_name(desk_app) == "ContactDetailScreen"
        assert "can only be amended by a manager" in str(screen.query_one("#form-error").content)
        # What was typed stays, ready to try again.
        assert screen.query_one("#started").value == "09:10"
    assert versions(store, contact) == [contact]


async def test_a_newer_version_saved_meanwhile_is_not_overwritten(desk_app, store: Store, people, clock) -> None:
    visit = record(store, people["zeb"], clock())
    clock.advance(minutes=20)
    async with desk_app.run_test(size=SIZE) as pilot:
        await open_from_desk(pilot)
        await type_into(pilot, "#started", "09:45")
        # Meanwhile he is signed out (another desk, or the same desk's other screen).
        out = store.sign_out(visit.contact_id)
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press(*"Came at quarter to", "enter")
        await pilot.pause()
        assert "saved a newer version" in str(desk_app.screen.query_one("#form-error").content)
    assert versions(store, visit) == [visit, out]


async def test_o_still_signs_out_from_the_desk(desk_app, store: Store, people, clock) -> None:
    visit = record(store, people["zeb"], clock())
    clock.advance(minutes=40)
    async with desk_app.run_test(size=SIZE) as pilot:
        await open_from_desk(pilot)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("o", "enter")
        await pilot.pause()
        assert desk_app.screen.query_one("#in-building").row_count == 0
    assert store.current_contact(visit.contact_id).ended_at == clock()


async def test_from_the_desk_ctrl_o_goes_on_to_the_person(desk_app, store: Store, people, clock) -> None:
    record(store, people["amira"], clock())
    async with desk_app.run_test(size=SIZE) as pilot:
        await open_from_desk(pilot)
        footer_keys = {b.binding.id for b in desk_app.screen.active_bindings.values() if b.enabled}
        assert {"contact_detail.save", "contact_detail.back", "contact_detail.person"} <= footer_keys
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert screen_name(desk_app) == "PersonScreen"
        assert "[bold]Tesfaye[/]" in str(desk_app.screen.query_one("#person-name").content)


async def test_at_80_by_24_a_long_note_wraps_to_be_read_whole(desk_app, store: Store, people, clock) -> None:
    visit = record(store, people["amira"], clock())
    long_note = "She talked through the letter from the housing office, line by line. " * 3 + "\nThen food."
    amended = store.amend_contact(visit.contact_id, {"summary": long_note}, "The whole conversation")
    async with desk_app.run_test(size=(80, 24)) as pilot:
        await open_from_desk(pilot)
        screen = desk_app.screen
        assert screen.query_one("#started").region.height == 1
        note = screen.query_one("#summary")
        note.focus()
        await pilot.pause()
        assert note.text == long_note.strip()
        # Wrapped within the screen's width, every line on show: nothing cut off to the right.
        assert note.region.right <= 80 and note.region.height >= 4
        await pilot.press("escape")
        await pilot.pause()
        assert screen_name(desk_app) == "DeskScreen"
    assert store.current_contact(visit.contact_id) == amended


def test_history_lists_versions_oldest_first_with_what_changed(store: Store, people, clock) -> None:
    visit = record(store, people["zeb"], clock())
    clock.advance(hours=1)
    store.sign_out(visit.contact_id)
    clock.advance(minutes=5)
    store.amend_contact(visit.contact_id, {"voice": "Thanks"}, "Said as he left")
    found = history.contact_history(store, visit.contact_id)
    assert [v.contact.version for v in found] == [1, 2, 3]
    assert [v.changed for v in found] == [(), ("ended_at",), ("voice",)]
    assert [v.saved_by for v in found] == ["sam"] * 3
    assert [v.saved_at for v in found] == [
        datetime(2026, 11, 25, 10, 5, tzinfo=UTC),
        datetime(2026, 11, 25, 11, 5, tzinfo=UTC),
        datetime(2026, 11, 25, 11, 10, tzinfo=UTC),
    ]
    with pytest.raises(Exception, match="No such contact"):
        history.contact_history(store, "nope")


async def test_an_amendment_half_typed_over_the_lock_goes_back_to_who_typed_it(
    desk_app, store: Store, people, clock
) -> None:
    visit = record(store, people["zeb"], clock())
    clock.advance(minutes=15)
    async with desk_app.run_test(size=SIZE, notifications=True) as pilot:
        await open_from_desk(pilot)  # Sam
        await type_into(pilot, "#started", "09:40")
        await append_to(pilot, "#voice", " (Sam typed this)")
        await pilot.press("ctrl+l")
        await pilot.pause()
        await unlock(pilot, "nadia")
        assert screen_name(desk_app) == "DeskScreen"
        assert any("contact amendment" in n.message for n in desk_app._notifications)
        await pilot.press("ctrl+l")
        await pilot.pause()
        await unlock(pilot, "sam")
        assert screen_name(desk_app) == "ContactDetailScreen"
        screen = desk_app.screen
        assert screen.query_one("#started").value == "09:40"
        assert screen.query_one("#voice").text == VOICE + " (Sam typed this)"
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press(*"Came at twenty to", "enter")
        await pilot.pause()
    _, amended = versions(store, visit)
    assert amended.recorded_by == "sam" and amended.amend_reason == "Came at twenty to"
    assert amended.started_at == datetime(2026, 11, 25, 9, 40, tzinfo=UTC)
    assert amended.voice == VOICE + " (Sam typed this)"
