"""The booking form: what a teacher types, read into the API's ``BookingRequest``, and the defaults that let a
teacher book in under a minute (their school's broadcast room, the next free slot, 45 minutes).

The form sends the county-local date, start time and length; the page's script sends the same
fields to ``/api/v1/sessions/check`` as a ``BookingRequest`` while the teacher types.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from pydantic import ValidationError

from eduops.bookings import schemas, store
from eduops.clock import from_iso
from eduops.errors import Invalid
from scheduler import bookings as rules_mod

DURATIONS = (40, 45, 60, 90, 120, 180)
DEFAULT_MINUTES = 45
DEFAULT_KIND = "open_lesson"
LEAD = timedelta(minutes=30)  # a default slot starts no sooner than this: time to get the room ready
STEP = timedelta(minutes=30)


@dataclass
class Form:
    """The form's fields as text, as the page shows them."""
    title: str = ""
    kind: str = DEFAULT_KIND
    source_room: str = ""
    day: str = ""
    start: str = ""
    minutes: int = DEFAULT_MINUTES
    classes: list[str] = field(default_factory=list)
    subject: str = ""
    grade: str = ""
    recorded: bool = True
    notes: str = ""
    weekdays: list[str] = field(default_factory=list)
    until: str = ""
    book_free: bool = False
    scope: str = "this"

    @property
    def has_more(self) -> bool:
        """Whether the "more" part of the form holds anything besides its defaults (so it opens)."""
        return bool(self.subject or self.grade or self.notes or self.weekdays or not self.recorded)


def read(values: Mapping[str, Any]) -> Form:
    """The posted form (a werkzeug MultiDict)."""
    minutes = values.get("minutes", "")
    return Form(title=values.get("title", "").strip(), kind=values.get("kind", DEFAULT_KIND),
                source_room=values.get("source_room", ""), day=values.get("day", ""),
                start=values.get("start", ""),
                minutes=int(minutes) if minutes.isdigit() else 0,
                classes=list(dict.fromkeys(values.getlist("class"))),
                subject=values.get("subject", "").strip(), grade=values.get("grade", ""),
                recorded=values.get("recorded") == "1", notes=values.get("notes", "").strip(),
                weekdays=values.getlist("weekday"), until=values.get("until", ""),
                book_free=values.get("book_free") == "1", scope=values.get("scope", "this"))


def moments(form: Form, tz: str) -> tuple[datetime, datetime]:
    """The form's start and end as aware datetimes in the county's zone."""
    try:
        day = date.fromisoformat(form.day)
        start = time.fromisoformat(form.start)
    except ValueError:
        raise Invalid(_("Give the date as 2026-12-07 and the start as 10:00."), field="day") from None
    if form.minutes <= 0:
        raise Invalid(_("Choose how long the session lasts."), field="minutes")
    starts = datetime.combine(day, start, ZoneInfo(tz))
    return starts, starts + timedelta(minutes=form.minutes)


def _validated(model: type[Any], fields: dict[str, Any]) -> Any:
    """The API's own model of the request, so the form is held to exactly the rules of the JSON API."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise Invalid(_("%(field)s: %(problem)s", field=where, problem=first["msg"]), field=where) from None


def _fields(form: Form, tz: str) -> dict[str, Any]:
    starts, ends = moments(form, tz)
    if form.grade and not (form.grade.isdigit() and 0 <= int(form.grade) <= 12):
        raise Invalid(_("Choose a grade from the list."), field="grade")
    return {"kind": form.kind, "title": form.title, "subject": form.subject,
            "grade": int(form.grade) if form.grade else None, "source_room": form.source_room,
            "starts_at": starts, "ends_at": ends, "receiving_classes": form.classes, "receiving_rooms": [],
            "recorded": form.recorded, "notes": form.notes}


def booking(form: Form, tz: str) -> schemas.BookingRequest:
    """The API's booking request for what the form says (the host is the signed-in user)."""
    fields = _fields(form, tz)
    if form.weekdays:
        fields["repeat"] = {"weekdays": form.weekdays, "until": form.until}
        fields["book"] = "free" if form.book_free else "all"
    return _validated(schemas.BookingRequest, fields)


def changes(form: Form, tz: str, version: int | None) -> schemas.EditRequest:
    """An edit: every field of the form, against the version the teacher read."""
    return _validated(schemas.EditRequest, {**_fields(form, tz), "version": version, "scope": form.scope})


def of_session(s: Mapping[str, Any], tz: str) -> Form:
    """The form filled in with a stored session, for editing it."""
    zone = ZoneInfo(tz)
    starts, ends = from_iso(s["starts_at"]).astimezone(zone), from_iso(s["ends_at"]).astimezone(zone)
    return Form(title=s["title"], kind=s["kind"], source_room=s["source_room_code"],
                day=starts.date().isoformat(), start=starts.strftime("%H:%M"),
                minutes=int((ends - starts).total_seconds() // 60),
                classes=[r["class_code"] for r in s["receivers"] if r["class_code"]],
                subject=s["subject"] or "", grade="" if s["grade"] is None else str(s["grade"]),
                recorded=bool(s["recorded"]), notes=s["notes"] or "")


def _earliest(rules: rules_mod.Rules, now: datetime) -> datetime:
    """The soonest a default slot starts: time to get the room ready, or, where sessions beyond one's school
    wait for approval, time for the county to approve (the form cannot know the receivers yet)."""
    return now + max(LEAD, rules.approval_deadline + STEP if rules.approval_required else LEAD)


def _first_school_time(rules: rules_mod.Rules, now: datetime, minutes: int) -> datetime:
    """The first start on the half hour from ``_earliest``, inside a booking period of a school day."""
    local = _earliest(rules, now).astimezone(rules.timetable.tz)
    candidate = local.replace(minute=0, second=0, microsecond=0)
    while candidate < local:
        candidate += STEP
    length = timedelta(minutes=minutes)
    for _step in range(14 * 48):  # two weeks of half hours: holidays longer than that have no slot to offer
        if not rules_mod.calendar_problems(candidate, candidate + length, rules, now):
            return candidate
        candidate += STEP
    return local


def defaults(db: Any, user: Any, rooms: list[dict[str, Any]], rules: rules_mod.Rules, now: datetime) -> Form:
    """A new booking as most teachers want it: their first broadcast room, the next slot it is free, 45 minutes."""
    broadcast = [r for r in rooms if r["kind"] == "broadcast"] or rooms
    form = Form(source_room=broadcast[0]["code"] if broadcast else "")
    starts = _first_school_time(rules, now, DEFAULT_MINUTES)
    if form.source_room:
        # A recording needs no receivers: the probe asks only whether the room and the teacher are free.
        probe = schemas.BookingRequest(kind="recording", title="-", source_room=form.source_room, starts_at=starts,
                                       ends_at=starts + timedelta(minutes=DEFAULT_MINUTES), recorded=True)
        outcome = store.check(db, probe, user, rules, now)
        later = [from_iso(x["starts_at"]) for x in outcome["suggestions"]
                 if from_iso(x["starts_at"]) >= _earliest(rules, now)]
        if not outcome["ok"] and later:
            starts = min(later)
    local = starts.astimezone(rules.timetable.tz)
    return replace(form, day=local.date().isoformat(), start=local.strftime("%H:%M"))
