"""Bookings storage: every SQL statement about sessions, and the one transaction that checks and writes.

``book`` and ``edit`` take the write lock (``BEGIN IMMEDIATE``) first, then load only what the
session could collide with (an index range: the sessions starting in the 12 hours before it
ends), check it with ``scheduler.bookings`` and write it with its audit event. Two requests for
one slot are therefore decided one after the other, and the second sees the first. Reads for
pages and feeds are in ``schedule.py``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

import sqlite_utils
from flask_babel import gettext as _

from eduops import audit
from eduops.accounts import store as accounts
from eduops import db as dbmod
from eduops.accounts.store import User
from eduops.audit import Actor
from eduops.bookings import rights, words
from eduops.bookings.schedule import HOLD, iso, parse_time, room_info, rows_by_id, session
from eduops.bookings.schemas import BookingRequest, EditRequest
from eduops.clock import to_iso
from eduops.errors import Conflict, Invalid, NotFound
from scheduler import bookings as rules_mod
from scheduler.bookings import (CALENDAR_KINDS, EDITABLE, LONGEST, SOURCE_ROOM_KINDS, Claim, Ledger, Problem,
                                Rules)
from scheduler.recurrence import Occurrence, RepeatError, retime, weekly
from scheduler.timetable import WEEKDAYS

JOB = Actor(None, "hub job")
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


# --- resolving a request -----------------------------------------------------------------------

def _host(db: sqlite_utils.Database, username: str | None, user: User) -> User:
    if username is None or username == user.username:
        return user
    host = accounts.user_named(db, username)
    host = host and accounts.active_user(db, host.id)
    if host is None:
        raise NotFound(_("No active account named %(name)s to host the session.", name=username),
                       code="unknown_host")
    return host


def _receivers(db: sqlite_utils.Database, req: BookingRequest) -> list[tuple[str, str | None]]:
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


def _draft(db: sqlite_utils.Database, req: BookingRequest, user: User, rules: Rules,
           check_source: bool = True, check_host: bool = True) -> Draft:
    source = room_info(db, req.source_room)
    if source["kind"] not in SOURCE_ROOM_KINDS:
        raise Invalid(_("%(room)s (%(code)s) is an ordinary classroom; a session comes from a broadcast or "
                        "digital room.", room=source["name"], code=source["code"]), code="not_a_source_room")
    if check_source:
        rights.may_book_from(user, source["school_code"])
    host = _host(db, req.host, user)
    if check_host:
        rights.may_host(user, host, source["school_code"])
    asked = _receivers(db, req)
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


def _occurrences(req: BookingRequest, rules: Rules) -> tuple[str | None, list[Occurrence]]:
    tz = rules.timetable.tz
    if req.repeat is None:
        return None, [Occurrence(req.starts_at.astimezone(tz).date(), req.starts_at, req.ends_at)]
    try:
        return weekly(req.starts_at, req.ends_at, frozenset(WEEKDAYS.index(d) for d in req.repeat.weekdays),
                      req.repeat.until, rules.timetable, rules.terms)
    except RepeatError as exc:
        raise Invalid(words.repeat_message(exc),
                      code="past_term" if exc.code in ("past_term", "no_term") else "bad_repeat") from None


# --- checking ----------------------------------------------------------------------------------

def _ledger(db: sqlite_utils.Database, start: datetime, end: datetime, buffer: timedelta,
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


def _plan(db: sqlite_utils.Database, draft: Draft, rule: str | None, occurrences: list[Occurrence],
          rules: Rules, now: datetime, exclude: Iterable[int] = (), calendar: bool = True) -> Plan:
    """Check every occurrence against the sessions held and the ones accepted before it in this plan."""
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
        ledger = _ledger(db, occ.start, occ.end, rules.buffer, exclude)
        for other in accepted:
            ledger.add(other)
        problems = (rules_mod.calendar_problems(occ.start, occ.end, rules, now) if calendar else [])
        problems += rules_mod.conflicts(claim, ledger) + rules_mod.over_capacity(claim, ledger, capacity) + shared
        if not problems:
            accepted.append(claim)
        items.append((occ, problems))
    return Plan(draft, rule, items)


def _suggestions(db: sqlite_utils.Database, draft: Draft, occ: Occurrence, rules: Rules, now: datetime,
                 exclude: Iterable[int] = ()) -> list[dict[str, str]]:
    ledger = _ledger(db, occ.start - SUGGEST_HORIZON, occ.end + SUGGEST_HORIZON, rules.buffer, exclude)
    found = rules_mod.suggest(draft.claim(occ.start, occ.end), ledger, rules_mod.capacities(draft.uplinks, rules),
                              rules, now, horizon=SUGGEST_HORIZON)
    return [{"starts_at": to_iso(s), "ends_at": to_iso(e)} for s, e in found]


def _preview(plan: Plan, rules: Rules) -> list[dict[str, Any]]:
    return [words.occurrence_json(o, [words.problem_json(p, plan.draft.names, rules, o.start, o.end) for p in ps])
            for o, ps in plan.items]


def _outcome(db: sqlite_utils.Database, plan: Plan, rules: Rules, now: datetime,
             exclude: Iterable[int] = ()) -> dict[str, Any]:
    """What the check answers and a refusal carries: the preview, and the first failure with suggestions."""
    failing = plan.failing()
    problems, suggestions = [], []
    if failing:
        occ, found = failing[0]
        problems = [words.problem_json(p, plan.draft.names, rules, occ.start, occ.end) for p in found]
        suggestions = _suggestions(db, plan.draft, occ, rules, now, exclude)
    return {"ok": not failing and bool(plan.free()), "needs_approval": plan.draft.needs_approval,
            "problems": problems, "suggestions": suggestions, "preview": _preview(plan, rules)}


def _refusal(outcome: dict[str, Any]) -> Invalid | Conflict:
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


def check(db: sqlite_utils.Database, req: BookingRequest, user: User, rules: Rules, now: datetime) -> dict[str, Any]:
    """The dry run: what ``book`` would decide, with the preview and suggestions; writes nothing."""
    draft = _draft(db, req, user, rules)
    rule, occurrences = _occurrences(req, rules)
    return _outcome(db, _plan(db, draft, rule, occurrences, rules, now), rules, now)


# --- writing -----------------------------------------------------------------------------------

def _audit_view(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    keep = ("state", "kind", "title", "subject", "grade", "starts_at", "ends_at", "source_room_code", "host_id",
            "recorded", "notes", "reason", "version")
    return {**{k: row[k] for k in keep}, "receivers": [r["room_code"] for r in row["receivers"]]}


def _audit(db: sqlite_utils.Database, now: datetime, event: str, actor: Actor,
           before: dict[str, Any] | None, after: dict[str, Any]) -> None:
    detail = json.dumps({"before": _audit_view(before), "after": _audit_view(after)}, ensure_ascii=False,
                        separators=(",", ":"))
    audit.add_event(db, now, event, actor, f"session {after['id']}", detail)


def _write_receivers(db: sqlite_utils.Database, session_id: int, draft: Draft, starts_at: str) -> None:
    db.execute("DELETE FROM sky_session_receivers WHERE session_id = ?", [session_id])
    db.conn.executemany(
        "INSERT INTO sky_session_receivers (session_id, room_code, school_code, class_code, live, starts_at) "
        "VALUES (?, ?, ?, ?, ?, ?)", [(session_id, r.room, r.school, r.class_code, int(r.live), starts_at)
                                      for r in draft.receivers])


def _insert(db: sqlite_utils.Database, plan: Plan, now: datetime) -> list[int]:
    req, draft = plan.draft.request, plan.draft
    series_id = None
    if plan.rule is not None:
        series_id = db.execute(
            "INSERT INTO sky_session_series (rule, weekdays, first_day, until, created_at) VALUES (?, ?, ?, ?, ?)",
            [plan.rule, ",".join(req.repeat.weekdays), plan.items[0][0].day.isoformat(),
             req.repeat.until.isoformat(), to_iso(now)]).lastrowid
    ids = []
    for occ in plan.free():
        starts_at = to_iso(occ.start)
        sid = db.execute(
            "INSERT INTO sky_sessions (series_id, occurrence_day, kind, title, subject, grade, host_user_id, "
            "source_room_code, source_school_code, starts_at, ends_at, recorded, notes, state, needs_approval, "
            "stream_mbps, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [series_id, occ.day.isoformat(), req.kind, req.title, req.subject, req.grade, draft.host_id,
             req.source_room, draft.source_school, starts_at, to_iso(occ.end), int(req.recorded), req.notes,
             draft.state, int(draft.needs_approval), draft.stream_mbps, to_iso(now), to_iso(now)]).lastrowid
        _write_receivers(db, sid, draft, starts_at)
        ids.append(sid)
    return ids


def book(db: sqlite_utils.Database, req: BookingRequest, user: User, actor: Actor, rules: Rules,
         now: datetime) -> dict[str, Any]:
    """Check and write a session (or the occurrences of a series) in one transaction.

    Answers ``{"sessions": [...], "preview": [...]}``; raises ``Conflict`` (409) with the problems,
    the preview and three suggested slots, or ``Invalid`` for a time outside the school's day.
    """
    with dbmod.write(db):
        draft = _draft(db, req, user, rules)
        rule, occurrences = _occurrences(req, rules)
        plan = _plan(db, draft, rule, occurrences, rules, now)
        calendar = plan.calendar()
        writable = plan.free() and not calendar and (req.book == "free" or not plan.failing())
        if writable:
            ids = _insert(db, plan, now)
            rows = rows_by_id(db, ids)
            for row in rows:
                _audit(db, now, "session_booked", actor, None, row)
            return {"sessions": rows, "preview": _preview(plan, rules)}
    raise _refusal(_outcome(db, plan, rules, now))


def _addressed(db: sqlite_utils.Database, session_id: int, version: int) -> dict[str, Any]:
    row = session(db, session_id)
    if row["version"] != version:
        raise Conflict(_("This session changed since you read it (version %(now)s, you sent %(sent)s); "
                         "reload it and try again.", now=row["version"], sent=version), code="stale",
                       version=row["version"])
    return row


def _targets(db: sqlite_utils.Database, row: dict[str, Any], scope: str, states: tuple[str, ...],
             now: datetime) -> list[dict[str, Any]]:
    """The addressed session, or it and the later occurrences of its series that are still in ``states``
    (a cancelled or skipped occurrence is never among them, so it never comes back)."""
    if scope == "this" or row["series_id"] is None:
        return [row]
    ids = [r[0] for r in db.execute(
        f"SELECT id FROM sky_sessions WHERE series_id = ? AND occurrence_day >= ? AND ends_at > ? "
        f"AND state IN ({', '.join('?' * len(states))}) ORDER BY occurrence_day",
        [row["series_id"], row["occurrence_day"], to_iso(now), *states])]
    return rows_by_id(db, sorted(set(ids) | {row["id"]}))


def _active(row: dict[str, Any], now: datetime) -> None:
    if row["state"] not in EDITABLE or parse_time(row["ends_at"]) <= now:
        raise Conflict(_("This session is %(state)s and can no longer be changed.", state=row["state"]),
                       code="not_active")


def _merged(row: dict[str, Any], changes: EditRequest) -> BookingRequest:
    """The booking request the session would be after ``changes`` (fields sent replace the stored ones)."""
    sent = changes.model_fields_set - {"version", "scope"}
    base = {"kind": row["kind"], "title": row["title"], "subject": row["subject"], "grade": row["grade"],
            "source_room": row["source_room_code"], "starts_at": parse_time(row["starts_at"]),
            "ends_at": parse_time(row["ends_at"]), "recorded": row["recorded"], "notes": row["notes"],
            "host": row["host_username"],
            "receiving_classes": [r["class_code"] for r in row["receivers"] if r["class_code"]],
            "receiving_rooms": [r["room_code"] for r in row["receivers"] if not r["class_code"]]}
    if sent & {"receiving_classes", "receiving_rooms"}:
        base["receiving_classes"] = base["receiving_rooms"] = []
    base.update({name: getattr(changes, name) for name in sent
                 if not (name in ("receiving_classes", "receiving_rooms") and getattr(changes, name) is None)})
    return BookingRequest(**base)


def edit(db: sqlite_utils.Database, session_id: int, changes: EditRequest, user: User, actor: Actor,
         rules: Rules, now: datetime) -> list[dict[str, Any]]:
    """Change one session, or it and the rest of its series, checked like a new booking."""
    with dbmod.write(db):
        row = _addressed(db, session_id, changes.version)
        rights.may_manage(user, row)
        _active(row, now)
        targets = _targets(db, row, changes.scope, EDITABLE, now)
        req = _merged(row, changes)
        sent = changes.model_fields_set
        draft = _draft(db, req, user, rules, check_source="source_room" in sent, check_host="host" in sent)
        retimed = bool(sent & {"starts_at", "ends_at"})
        tz = rules.timetable.tz
        if retimed and len(targets) > 1 and req.starts_at.astimezone(tz).date() != \
                parse_time(row["starts_at"]).astimezone(tz).date():
            raise Invalid(_("An edit of the rest of a series keeps each session on its day and may change only "
                            "its times; to move the series to other days, cancel the rest and book anew."),
                          code="bad_scope")
        occurrences = []
        for t in targets:
            start, end = parse_time(t["starts_at"]), parse_time(t["ends_at"])
            if retimed:
                start, end = retime(start.astimezone(tz).date(), req.starts_at, req.ends_at, tz)
            occurrences.append(Occurrence(datetime.fromisoformat(t["occurrence_day"]).date(), start, end))
        plan = _plan(db, draft, None, occurrences, rules, now, exclude=[t["id"] for t in targets], calendar=retimed)
        if not plan.failing():
            return [_update(db, t, occ, draft, actor, now) for t, occ in zip(targets, plan.free())]
    raise _refusal(_outcome(db, plan, rules, now, exclude=[t["id"] for t in targets]))


def _update(db: sqlite_utils.Database, before: dict[str, Any], occ: Occurrence, draft: Draft, actor: Actor,
            now: datetime) -> dict[str, Any]:
    req = draft.request
    kept_approval = before["state"] == "booked" and draft.outside_schools() <= (
        frozenset(r["school_code"] for r in before["receivers"]) - {before["source_school_code"]})
    state = "booked" if draft.state == "booked" or kept_approval else "pending"
    starts_at = to_iso(occ.start)
    db.execute("UPDATE sky_sessions SET kind = ?, title = ?, subject = ?, grade = ?, host_user_id = ?, "
               "source_room_code = ?, source_school_code = ?, starts_at = ?, ends_at = ?, recorded = ?, notes = ?, "
               "state = ?, needs_approval = ?, stream_mbps = ?, version = version + 1, updated_at = ? WHERE id = ?",
               [req.kind, req.title, req.subject, req.grade, draft.host_id, req.source_room, draft.source_school,
                starts_at, to_iso(occ.end), int(req.recorded), req.notes, state, int(draft.needs_approval),
                draft.stream_mbps, to_iso(now), before["id"]])
    _write_receivers(db, before["id"], draft, starts_at)
    after = rows_by_id(db, [before["id"]])[0]
    _audit(db, now, "session_edited", actor, before, after)
    return after


def _set_state(db: sqlite_utils.Database, targets: list[dict[str, Any]], state: str, reason: str, event: str,
               actor: Actor, now: datetime) -> list[dict[str, Any]]:
    changed = []
    for before in targets:
        db.execute("UPDATE sky_sessions SET state = ?, reason = ?, version = version + 1, updated_at = ? WHERE id = ?",
                   [state, reason, to_iso(now), before["id"]])
        after = rows_by_id(db, [before["id"]])[0]
        _audit(db, now, event, actor, before, after)
        changed.append(after)
    return changed


def cancel(db: sqlite_utils.Database, session_id: int, version: int, scope: str, reason: str, user: User,
           actor: Actor, now: datetime) -> list[dict[str, Any]]:
    """Cancel one session, or it and the rest of its series; their slots are free at once."""
    with dbmod.write(db):
        row = _addressed(db, session_id, version)
        rights.may_manage(user, row)
        _active(row, now)
        return _set_state(db, _targets(db, row, scope, EDITABLE, now), "cancelled", reason, "session_cancelled",
                          actor, now)


def decide(db: sqlite_utils.Database, session_id: int, version: int, scope: str, approve: bool, reason: str,
           user: User, actor: Actor, now: datetime) -> list[dict[str, Any]]:
    """The county admin approves (booked) or rejects (with a reason for the host) pending sessions."""
    rights.may_decide(user)
    if not approve and not reason:
        raise Invalid(_("Give the host a reason for the rejection."), code="reason_required")
    with dbmod.write(db):
        row = _addressed(db, session_id, version)
        if row["state"] != "pending" or parse_time(row["ends_at"]) <= now:
            raise Conflict(_("This session is %(state)s, not waiting for approval.", state=row["state"]),
                           code="not_pending")
        targets = _targets(db, row, scope, ("pending",), now)
        if approve:
            return _set_state(db, targets, "booked", "", "session_approved", actor, now)
        return _set_state(db, targets, "rejected", reason, "session_rejected", actor, now)


# --- jobs --------------------------------------------------------------------------------------

def expire_pending(db: sqlite_utils.Database, now: datetime, deadline: timedelta) -> int:
    """Pending sessions starting within ``deadline`` expire (audited); their slots are free."""
    with dbmod.write(db):
        ids = [r[0] for r in db.execute("SELECT id FROM sky_sessions WHERE state = 'pending' AND starts_at <= ?",
                                        [to_iso(now + deadline)])]
        return len(_set_state(db, rows_by_id(db, ids), "expired", "", "session_expired", JOB, now))


def finish_ended(db: sqlite_utils.Database, now: datetime) -> int:
    """Booked sessions whose end has passed are finished (not audited: time passing, not a decision)."""
    with dbmod.write(db):
        return db.execute("UPDATE sky_sessions SET state = 'finished', version = version + 1, updated_at = ? "
                          "WHERE state = 'booked' AND ends_at <= ?", [to_iso(now), to_iso(now)]).rowcount
