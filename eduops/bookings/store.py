"""Bookings storage: every SQL statement that writes sessions, in the one transaction that checks and writes.

``book`` and ``edit`` take the write lock (``BEGIN IMMEDIATE``) first, then load only what the
session could collide with (checking.py: an index range of the sessions starting in the 12 hours
before it ends), check it with ``scheduler.bookings`` and write it with its audit event. Two
requests for one slot are therefore decided one after the other, and the second sees the first.
Reads for pages and feeds are in ``schedule.py``.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils
from flask_babel import gettext as _

from eduops import audit
from eduops import db as dbmod
from eduops.accounts.store import User
from eduops.audit import Actor
from eduops.bookings import checking, rights
from eduops.bookings.checking import Draft, Plan
from eduops.bookings.schedule import parse_time, rows_by_id, session
from eduops.bookings.schemas import BookingRequest, EditRequest
from eduops.clock import to_iso
from eduops.errors import Conflict, Invalid
from scheduler.bookings import EDITABLE, Rules
from scheduler.recurrence import Occurrence, retime

JOB = Actor(None, "hub job")


def check(db: sqlite_utils.Database, req: BookingRequest, user: User, rules: Rules, now: datetime) -> dict[str, Any]:
    """The dry run: what ``book`` would decide, with the preview and suggestions; writes nothing."""
    draft = checking.resolve(db, req, user, rules)
    rule, occurrences = checking.occurrences_of(req, rules)
    return checking.outcome_of(db, checking.plan_occurrences(db, draft, rule, occurrences, rules, now), rules, now)


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
        draft = checking.resolve(db, req, user, rules)
        rule, occurrences = checking.occurrences_of(req, rules)
        plan = checking.plan_occurrences(db, draft, rule, occurrences, rules, now)
        calendar = plan.calendar()
        writable = plan.free() and not calendar and (req.book == "free" or not plan.failing())
        if writable:
            ids = _insert(db, plan, now)
            rows = rows_by_id(db, ids)
            for row in rows:
                _audit(db, now, "session_booked", actor, None, row)
            return {"sessions": rows, "preview": checking.preview_json(plan, rules)}
    raise checking.refusal_of(checking.outcome_of(db, plan, rules, now))


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
        draft = checking.resolve(db, req, user, rules, check_source="source_room" in sent, check_host="host" in sent)
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
        states = {occ: _edited_state(t, draft) for t, occ in zip(targets, occurrences)}
        plan = checking.plan_occurrences(db, draft, None, occurrences, rules, now, exclude=[t["id"] for t in targets],
                             calendar=retimed, pending=lambda occ: states[occ] == "pending")
        if not plan.failing():
            return [_update(db, t, occ, draft, states[occ], actor, now) for t, occ in zip(targets, plan.free())]
    raise checking.refusal_of(checking.outcome_of(db, plan, rules, now, exclude=[t["id"] for t in targets]))


def _edited_state(before: dict[str, Any], draft: Draft) -> str:
    """Booked stays booked unless the edit reaches a school outside the source school that it did not reach."""
    kept_approval = before["state"] == "booked" and draft.outside_schools() <= (
        frozenset(r["school_code"] for r in before["receivers"]) - {before["source_school_code"]})
    return "booked" if draft.state == "booked" or kept_approval else "pending"


def _update(db: sqlite_utils.Database, before: dict[str, Any], occ: Occurrence, draft: Draft, state: str,
            actor: Actor, now: datetime) -> dict[str, Any]:
    req = draft.request
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
