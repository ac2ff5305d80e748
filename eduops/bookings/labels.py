"""Names and times of the booking pages in the reader's language (Chinese by default), county-local."""
from __future__ import annotations

from datetime import date

from flask_babel import format_date, format_datetime, to_user_timezone
from flask_babel import gettext as _

from eduops.clock import from_iso


def kinds() -> dict[str, str]:
    return {"open_lesson": _("Open lesson"), "collective_research": _("Collective teaching research"),
            "quality_course": _("Quality course"), "teacher_training": _("Teacher digital training"),
            "recording": _("Recording only")}


def states() -> dict[str, str]:
    return {"pending": _("Awaiting approval"), "booked": _("Booked"), "rejected": _("Rejected"),
            "cancelled": _("Cancelled"), "expired": _("Expired unapproved"), "finished": _("Finished")}


def weekdays() -> list[tuple[str, str]]:
    return [("mon", _("Mon")), ("tue", _("Tue")), ("wed", _("Wed")), ("thu", _("Thu")), ("fri", _("Fri")),
            ("sat", _("Sat")), ("sun", _("Sun"))]


def grade_name(grade: int | None) -> str:
    if grade is None:
        return "–"
    return _("Kindergarten") if grade == 0 else _("Grade %(n)d", n=grade)


def day_label(day: date) -> str:
    """`12月7日 周一` / `Mon, Dec 7`."""
    return format_date(day, _("EEE, MMM d"))


def hours(starts: str, ends: str) -> str:
    """`10:00–10:45`, county-local."""
    return f"{format_datetime(from_iso(starts), 'HH:mm')}–{format_datetime(from_iso(ends), 'HH:mm')}"


def when(starts: str, ends: str) -> str:
    """`12月7日 周一 10:00–10:45`, county-local."""
    return f"{format_datetime(from_iso(starts), _('EEE, MMM d'))} {hours(starts, ends)}"


def day_of(s: dict) -> str:
    """The county-local day a session starts on, as `2026-12-07`."""
    return to_user_timezone(from_iso(s["starts_at"])).date().isoformat()


def helpers() -> dict[str, object]:
    """Everything the booking templates call."""
    names, state_names = kinds(), states()
    return {"kinds": names, "kind_name": lambda k: names.get(k, k), "state_name": lambda s: state_names.get(s, s),
            "grade_name": grade_name, "when": when,
            "hours": hours, "day_label": day_label, "day_of": day_of, "weekdays": weekdays()}
