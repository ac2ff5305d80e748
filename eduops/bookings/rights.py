"""Who may book from which room, for whom, and who may change a session (docs/bookings.md)."""
from __future__ import annotations

from typing import Any, Mapping

from flask_babel import gettext as _

from eduops.accounts.store import User
from eduops.errors import Forbidden


def may_book_from(user: User, school_code: str) -> None:
    """Teachers and IT staff book with their own schools' rooms as source; the admin with any."""
    if user.role == "admin":
        return
    if user.role not in ("teacher", "it_staff") or school_code not in user.school_codes:
        raise Forbidden(_("Room of school %(code)s: you can book only your own school's rooms as the source.",
                          code=school_code), code="forbidden_school")


def may_host(user: User, host: User, school_code: str) -> None:
    """Teachers host their own sessions; IT staff book for a person of the source school; the admin for anyone."""
    if host.id == user.id or user.role == "admin":
        return
    if user.role == "it_staff" and school_code in host.school_codes:
        return
    if user.role == "it_staff":
        raise Forbidden(_("%(name)s does not work at school %(code)s, so cannot host its session.",
                          name=host.username, code=school_code), code="forbidden_host")
    raise Forbidden(_("Teachers book sessions they host themselves; leave the host empty."), code="forbidden_host")


def may_manage(user: User, session: Mapping[str, Any]) -> None:
    """Hosts change their own sessions, IT staff those of their schools' rooms, the admin any."""
    if user.role == "admin" or session["host_id"] == user.id:
        return
    if user.role == "it_staff" and session["source_school_code"] in user.school_codes:
        return
    raise Forbidden(_("This is someone else's session: only its host, the IT staff of its school and the "
                      "county admin may change it."))


def may_decide(user: User) -> None:
    """Only the county admin approves and rejects."""
    if user.role != "admin":
        raise Forbidden(_("Only the county technology centre approves or rejects sessions."))
