"""Bookings storage, the checking half: a request resolved against the inventory, the sessions it
could collide with, the plan of its occurrences, and the outcome a check answers or a refusal carries.

The ledger reads an index range only: the sessions holding slots that start in the 12 hours
before the new one ends. store.py calls these inside its write transaction; check calls them
without one.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable

import sqlite_utils
from flask_babel import gettext as _

from eduops.accounts import store as accounts
from eduops.accounts.store import User
from eduops.bookings import rights, words
from eduops.bookings.schedule import HOLD, iso, parse_time, room_info
from eduops.bookings.schemas import BookingRequest
from eduops.clock import to_iso
from eduops.errors import Conflict, Invalid, NotFound
from scheduler import bookings as rules_mod
from scheduler.bookings import CALENDAR_KINDS, LONGEST, SOURCE_ROOM_KINDS, Claim, Ledger, Problem, Rules
from scheduler.recurrence import Occurrence, RepeatError, weekly
from scheduler.timetable import WEEKDAYS

SUGGEST_HORIZON = timedelta(days=14)


@dataclass(frozen=True)
class Receiver:
    room: str
    school: str
    class_code: str | None
    live: bool


@dataclass(frozen=True)
class Draft:
    """A booking request resolved against the inventory: its rooms, schools, host and streams."""
    request: BookingRequest
    host_id: int
    source_school: str
    receivers: tuple[Receiver, ...]
    uplinks: dict[str, float]
    names: dict[str, str]        # room and school codes, and host:ID, to what people call them
    stream_mbps: float
    needs_approval: bool
    state: str                   # of a new session: booked, or pending until the county approves

    def claim(self, start: datetime, end: datetime, session_id: int | None = None) -> Claim:
        loads = rules_mod.stream_loads(self.source_school, [r.school for r in self.receivers if r.live],
                                       self.stream_mbps)
        return Claim(start, end, self.request.source_room, self.host_id, frozenset(r.room for r in self.receivers),
                     loads, session_id, self.request.title)

    def outside_schools(self) -> frozenset[str]:
        return frozenset(r.school for r in self.receivers) - {self.source_school}


@dataclass
class Plan:
    draft: Draft
    rule: str | None                                   # the RRULE of a series
    items: list[tuple[Occurrence, list[Problem]]]      # every occurrence and what stands in its way

    def calendar(self) -> list[tuple[Occurrence, list[Problem]]]:
        return [(o, [p for p in ps if p.kind in CALENDAR_KINDS]) for o, ps in self.items
                if any(p.kind in CALENDAR_KINDS for p in ps)]

    def failing(self) -> list[tuple[Occurrence, list[Problem]]]:
        return [(o, ps) for o, ps in self.items if ps]

    def free(self) -> list[Occurrence]:
        return [o for o, ps in self.items if not o.skip and not ps]


def host_user(db: sqlite_utils.Database, username: str | None, user: User) -> User:
    if username is None or username == user.username:
        return user
    host = accounts.user_named(db, username)
    host = host and accounts.active_user(db, host.id)
    if host is None:
        raise NotFound(_("No active account named %(name)s to host the session.", name=username),
                       code="unknown_host")
    return host


def asked_receivers(db: sqlite_utils.Database, req: BookingRequest) -> list[tuple[str, str | None]]:
    """(room code, class code or None) of every receiver asked, classes first, each room once."""
    picked: dict[str, str | None] = {}
    for code in dict.fromkeys(req.receiving_classes):
        row = db.execute("SELECT room_code FROM classes WHERE code = ?", [code]).fetchone()
        if row is None:
            raise NotFound(_("No class with code %(code)s; pick classes from the list.", code=code),
                           code="unknown_class")
        if row[0] is None:
            raise Invalid(_("Class %(code)s has no home room in the inventory, so it cannot receive; pick its "
                            "room instead.", code=code), code="class_without_room")
        picked.setdefault(row[0], code)
    for code in req.receiving_rooms:
        picked.setdefault(code, None)
    return list(picked.items())


def resolve(db: sqlite_utils.Database, req: BookingRequest, user: User, rules: Rules,
           check_source: bool = True, check_host: bool = True) -> Draft:
    source = room_info(db, req.source_room)
    if source["kind"] not in SOURCE_ROOM_KINDS:
        raise Invalid(_("%(room)s (%(code)s) is an ordinary classroom; a session comes from a broadcast or "
                        "digital room.", room=source["name"], code=source["code"]), code="not_a_source_room")
    if check_source:
        rights.may_book_from(user, source["school_code"])
    host = host_user(db, req.host, user)
    if check_host:
        rights.may_host(user, host, source["school_code"])
    asked = asked_receivers(db, req)
    if req.kind == "recording" and asked:
        raise Invalid(_("A recording has no receiving rooms; choose a live kind to send it to classes."),
                      code="recording_has_receivers")
    if req.kind != "recording" and not asked:
        raise Invalid(_("Pick at least one receiving class or room, or choose the kind “recording”."),
                      code="no_receivers")
    if source["code"] in dict(asked):
        raise Invalid(_("The source room cannot also receive its own session."), code="source_receives")
    names = {source["code"]: source["name"], source["school_code"]: source["school_name"],
             f"host:{host.id}": host.username}
    schools_of = {}
    for room_code, _class in asked:
        room = room_info(db, room_code)
        schools_of[room_code] = room["school_code"]
        names[room_code], names[room["school_code"]] = room["name"], room["school_name"]
    codes = sorted(set(schools_of.values()) | {source["school_code"]})
    uplinks = dict(db.execute(f"SELECT code, uplink_mbps FROM schools WHERE code IN ({', '.join('?' * len(codes))})",
                              codes).fetchall())
    receivers = tuple(Receiver(room, schools_of[room], class_code, uplinks[schools_of[room]] > 0)
                      for room, class_code in asked)
    outside = any(r.school != source["school_code"] for r in receivers)
    needs = rules.approval_required and outside
    return Draft(req, host.id, source["school_code"], receivers, uplinks, names,
                 0.0 if req.kind == "recording" else rules.stream_mbps, needs,
                 "pending" if needs and user.role != "admin" else "booked")


def occurrences_of(req: BookingRequest, rules: Rules) -> tuple[str | None, list[Occurrence]]:
    tz = rules.timetable.tz
    if req.repeat is None:
        return None, [Occurrence(req.starts_at.astimezone(tz).date(), req.starts_at, req.ends_at)]
    try:
        return weekly(req.starts_at, req.ends_at, frozenset(WEEKDAYS.index(d) for d in req.repeat.weekdays),
                      req.repeat.until, rules.timetable, rules.terms)
    except RepeatError as exc:
        raise Invalid(words.repeat_message(exc),
                      code="past_term" if exc.code in ("past_term", "no_term") else "bad_repeat") from None


def held_ledger(db: sqlite_utils.Database, start: datetime, end: datetime, buffer: timedelta,
            exclude: Iterable[int] = ()) -> Ledger:
    """The claims of every slot-holding session that could collide with one from ``start`` to ``end``."""
    left = set(exclude)
    rows = db.execute(
        "SELECT s.id, s.title, s.starts_at, s.ends_at, s.source_room_code, s.source_school_code, s.host_user_id, "
        "s.stream_mbps, r.room_code, r.school_code, r.live FROM sky_sessions s "
        "LEFT JOIN sky_session_receivers r ON r.session_id = s.id "
        f"WHERE s.starts_at > ? AND s.starts_at < ? AND s.ends_at > ? AND s.state IN ({HOLD})",
        [iso(start - buffer - LONGEST), iso(end + buffer), iso(start - buffer)]).fetchall()
    grouped: dict[int, list[tuple]] = {}
    for row in rows:
        if row[0] not in left:
            grouped.setdefault(row[0], []).append(row)
    claims = []
    for sid, group in grouped.items():
        first = group[0]
        receivers = [(g[8], g[9], g[10]) for g in group if g[8] is not None]
        loads = rules_mod.stream_loads(first[5], [school for _r, school, live in receivers if live], first[7])
        claims.append(Claim(parse_time(first[2]), parse_time(first[3]), first[4], first[6],
                            frozenset(room for room, _s, _l in receivers), loads, sid, first[1]))
    return Ledger.of(claims, buffer)


def plan_occurrences(db: sqlite_utils.Database, draft: Draft, rule: str | None, occurrences: list[Occurrence],
          rules: Rules, now: datetime, exclude: Iterable[int] = (), calendar: bool = True,
          pending: Callable[[Occurrence], bool] | None = None) -> Plan:
    """Check every occurrence against the sessions held and the ones accepted before it in this plan.
    ``pending`` says which occurrences would wait for approval (default: all, if the draft does)."""
    pending = pending or (lambda _occ: draft.state == "pending")
    capacity = rules_mod.capacities(draft.uplinks, rules)
    shared = rules_mod.no_uplink_problems({r.room: r.school for r in draft.receivers}, draft.uplinks,
                                          draft.request.recorded)
    accepted: list[Claim] = []
    items = []
    for occ in occurrences:
        if occ.skip:
            items.append((occ, []))
            continue
        claim = draft.claim(occ.start, occ.end)
        ledger = held_ledger(db, occ.start, occ.end, rules.buffer, exclude)
        for other in accepted:
            ledger.add(other)
        problems = (rules_mod.calendar_problems(occ.start, occ.end, rules, now) if calendar else [])
        if pending(occ):
            problems += rules_mod.approval_problems(occ.start, rules, now)
        problems += rules_mod.conflicts(claim, ledger) + rules_mod.over_capacity(claim, ledger, capacity) + shared
        if not problems:
            accepted.append(claim)
        items.append((occ, problems))
    return Plan(draft, rule, items)


def suggested_slots(db: sqlite_utils.Database, draft: Draft, occ: Occurrence, rules: Rules, now: datetime,
                 exclude: Iterable[int] = ()) -> list[dict[str, str]]:
    ledger = held_ledger(db, occ.start - SUGGEST_HORIZON, occ.end + SUGGEST_HORIZON, rules.buffer, exclude)
    found = rules_mod.suggest(draft.claim(occ.start, occ.end), ledger, rules_mod.capacities(draft.uplinks, rules),
                              rules, now, horizon=SUGGEST_HORIZON)
    return [{"starts_at": to_iso(s), "ends_at": to_iso(e)} for s, e in found]


def preview_json(plan: Plan, rules: Rules) -> list[dict[str, Any]]:
    return [words.occurrence_json(o, [words.problem_json(p, plan.draft.names, rules, o.start, o.end) for p in ps])
            for o, ps in plan.items]


def outcome_of(db: sqlite_utils.Database, plan: Plan, rules: Rules, now: datetime,
             exclude: Iterable[int] = ()) -> dict[str, Any]:
    """What the check answers and a refusal carries: the preview, and the first failure with suggestions."""
    failing = plan.failing()
    problems, suggestions = [], []
    if failing:
        occ, found = failing[0]
        problems = [words.problem_json(p, plan.draft.names, rules, occ.start, occ.end) for p in found]
        suggestions = suggested_slots(db, plan.draft, occ, rules, now, exclude)
    return {"ok": not failing and bool(plan.free()), "needs_approval": plan.draft.needs_approval,
            "problems": problems, "suggestions": suggestions, "preview": preview_json(plan, rules)}


def refusal_of(outcome: dict[str, Any]) -> Invalid | Conflict:
    problems = outcome["problems"]
    details = {k: outcome[k] for k in ("problems", "suggestions", "preview")}
    if not problems:
        return Invalid(_("Every occurrence of this series falls on a holiday; nothing to book."),
                       code="nothing_to_book", **details)
    more = len(problems) - 1
    text = problems[0]["message"] + (_(" (and %(n)s more)", n=more) if more else "")
    if problems[0]["kind"] in CALENDAR_KINDS:
        return Invalid(text, code=problems[0]["kind"], **details)
    return Conflict(text, **details)
