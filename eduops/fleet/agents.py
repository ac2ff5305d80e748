"""Storage of agents: enrollment, the terminal each one is, hardware claimed twice, retirement, listings."""
from __future__ import annotations

import difflib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from eduops import audit
from eduops import db as dbmod
from eduops.audit import Actor
from eduops.clock import to_iso
from eduops.errors import Forbidden, Invalid, NotFound
from eduops.fleet import room_days, tokens
from eduops.fleet.protocol import EnrollRequest


@dataclass(frozen=True)
class Identity:
    """Who a key belongs to, as the ingest path needs it."""
    id: str
    school_code: str
    room_code: str
    key_hash: str


@dataclass(frozen=True)
class Enrollment:
    agent_id: str
    agent_key: str
    school_code: str
    room_code: str
    terminal_code: str | None
    flags: int          # other agents found claiming the same hardware


def _normal_mac(mac: str) -> str | None:
    """Lower-case colon form, or None for addresses that say nothing about the machine
    (all zeros, or locally administered: virtual adapters and randomised Wi-Fi addresses)."""
    digits = mac.lower().replace("-", ":").strip()
    parts = digits.split(":")
    if len(parts) != 6 or not all(len(p) == 2 for p in parts):
        return None
    try:
        first = int(parts[0], 16)
    except ValueError:
        return None
    if digits == "00:00:00:00:00:00" or first & 0x02:
        return None
    return digits


def hardware_facts(request: EnrollRequest) -> set[tuple[str, str]]:
    """The (fact, value) pairs that identify a machine: machine id, real MACs, display serials."""
    hw = request.hardware
    facts = {("mac", m) for m in map(_normal_mac, hw.macs) if m}
    facts |= {("display_serial", s.strip()) for s in hw.display_serials if s.strip()}
    if hw.machine_id and hw.machine_id.strip():
        facts.add(("machine_id", hw.machine_id.strip().lower()))
    return facts


def _record_state(db: sqlite_utils.Database, agent_id: str, old: str | None, new: str, at: str, reason: str) -> None:
    db.execute("INSERT INTO agent_states (agent_id, from_state, to_state, at, reason) VALUES (?, ?, ?, ?, ?)",
               [agent_id, old, new, at, reason])


def match_terminal(db: sqlite_utils.Database, agent_id: str, room_code: str, names: set[str],
                   current: str | None) -> str | None:
    """The inventory terminal an agent runs on: its current one if still in the room, else the free
    terminal whose asset tag the machine names (hostname, machine id, display serial), else the
    room's only free terminal. None when the hub cannot tell."""
    free = db.execute(
        "SELECT t.code, t.asset_tag FROM terminals t WHERE t.room_code = ? AND NOT EXISTS ("
        " SELECT 1 FROM agents a WHERE a.terminal_code = t.code AND a.state != 'retired' AND a.id != ?)"
        " ORDER BY t.code", [room_code, agent_id]).fetchall()
    codes = [code for code, _ in free]
    if current in codes:
        return current
    tagged = [code for code, tag in free if tag and tag in names]
    if tagged:
        return tagged[0]
    return codes[0] if len(codes) == 1 else None


def unknown_room(db: sqlite_utils.Database, school: str, room: str) -> Invalid:
    """The refusal of a room code the inventory does not know, with the school's closest codes (by code or
    by name, since people type a room's name, 015教室, as often as its code) for whoever is installing."""
    rooms = db.execute("SELECT code, name FROM rooms WHERE school_code = ?", [school]).fetchall()
    by_text = {name: code for code, name in rooms} | {code: code for code, _name in rooms}
    closest = list(dict.fromkeys(by_text[t] for t in difflib.get_close_matches(room, by_text, n=8, cutoff=0)))[:5]
    hint = f" Closest room codes of school {school}: {', '.join(closest)}." if closest else ""
    return Invalid(f"Room {room} is not in the inventory of school {school}.{hint} The hub's Enrollment tokens "
                   "page lists every room of the school with its enroll command.",
                   code="unknown_room", school=school, closest=closest)


def enroll(db: sqlite_utils.Database, request: EnrollRequest, now: datetime) -> Enrollment:
    """Exchange a token for a new agent key in one transaction; refuse with a precise domain error."""
    at = to_iso(now)
    key = tokens.new_secret("ak_")
    with dbmod.write(db):
        token_id, school = tokens.take_token(db, request.token, now,
                                             f"{request.hardware.hostname} ({request.instance_id})")
        room = db.execute("SELECT school_code FROM rooms WHERE code = ?", [request.room]).fetchone()
        if room is None:
            raise unknown_room(db, school, request.room)
        if room[0] != school:
            raise Forbidden(f"This token is for school {school}, but room {request.room} "
                           f"belongs to school {room[0]}; use a token of that school.")
        existing = db.execute("SELECT id, state, room_code, terminal_code FROM agents WHERE instance_id = ?",
                              [request.instance_id]).fetchone()
        agent_id = existing[0] if existing else "ag_" + secrets.token_hex(8)
        facts = hardware_facts(request)
        names = {request.hardware.hostname} | {v for _, v in facts}
        terminal = match_terminal(db, agent_id, request.room, names,
                                  existing[3] if existing and existing[2] == request.room else None)
        values = dict(school_code=school, room_code=request.room, terminal_code=terminal,
                      key_hash=tokens.hash_secret(key), enrolled_with=token_id,
                      hostname=request.hardware.hostname, machine_id=request.hardware.machine_id,
                      agent_version=request.agent_version, os=request.os)
        if existing is None:
            # Plain SQL: sqlite-utils' insert() commits by itself, which would end this transaction early.
            row = dict(id=agent_id, instance_id=request.instance_id, state="online", state_since=at,
                       enrolled_at=at, **values)
            db.execute(f"INSERT INTO agents ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                       list(row.values()))
            _record_state(db, agent_id, None, "online", at, "enrolled")
        else:
            # A new key replaces (and so revokes) the old one; a retired agent comes back.
            assignments = ", ".join(f"{column} = ?" for column in values)
            db.execute(f"UPDATE agents SET {assignments}, retired_at = NULL, retire_proposed_at = NULL "
                       "WHERE id = ?", [*values.values(), agent_id])
            if existing[1] != "online":
                db.execute("UPDATE agents SET state = 'online', state_since = ? WHERE id = ?", [at, agent_id])
                _record_state(db, agent_id, existing[1], "online", at, "enrolled again")
            if existing[1] == "retired":  # its days count again
                room_days.refresh(db, agent_id)
        db.execute("DELETE FROM agent_hardware WHERE agent_id = ?", [agent_id])
        db.conn.executemany("INSERT INTO agent_hardware (agent_id, fact, value) VALUES (?, ?, ?)",
                       [(agent_id, f, v) for f, v in sorted(facts)])
        flags = _flag_shared_hardware(db, agent_id, facts, at)
    return Enrollment(agent_id, key, school, request.room, terminal, flags)


def _flag_shared_hardware(db: sqlite_utils.Database, agent_id: str, facts: set[tuple[str, str]], at: str) -> int:
    """Flag every other live agent claiming one of these facts: cloned images, restore cards."""
    found = 0
    for fact, value in sorted(facts):
        others = db.execute(
            "SELECT h.agent_id FROM agent_hardware h JOIN agents a ON a.id = h.agent_id "
            "WHERE h.fact = ? AND h.value = ? AND h.agent_id != ? AND a.state != 'retired'",
            [fact, value, agent_id]).fetchall()
        for (other,) in others:
            found += db.execute("INSERT OR IGNORE INTO hardware_flags (agent_id, other_id, fact, value, flagged_at) "
                                "VALUES (?, ?, ?, ?, ?)", [agent_id, other, fact, value, at]).rowcount
    return found


def identity_by_key_hash(db: sqlite_utils.Database, key_hash: str) -> Identity | None:
    row = db.execute("SELECT id, school_code, room_code FROM agents WHERE key_hash = ?", [key_hash]).fetchone()
    return Identity(row[0], row[1], row[2], key_hash) if row else None


def room_school(db: sqlite_utils.Database, room_code: str) -> str | None:
    row = db.execute("SELECT school_code FROM rooms WHERE code = ?", [room_code]).fetchone()
    return row[0] if row else None


def move_agent(db: sqlite_utils.Database, agent_id: str, room_code: str) -> None:
    """Put an agent in another room of its school (inside the caller's transaction), matching its terminal
    there by the hostname and hardware it gave at enrollment."""
    names = {v for (v,) in db.execute("SELECT value FROM agent_hardware WHERE agent_id = ? UNION "
                                      "SELECT hostname FROM agents WHERE id = ?", [agent_id, agent_id])}
    terminal = match_terminal(db, agent_id, room_code, names, None)
    db.execute("UPDATE agents SET room_code = ?, terminal_code = ? WHERE id = ?", [room_code, terminal, agent_id])


def retire(db: sqlite_utils.Database, agent_id: str, now: datetime, actor: Actor) -> dict[str, Any]:
    """A person confirms a terminal is gone: state retired, key revoked. Raises NotFound if unknown."""
    at = to_iso(now)
    with dbmod.write(db):
        row = db.execute("SELECT state, school_code FROM agents WHERE id = ?", [agent_id]).fetchone()
        if row is None:
            raise NotFound(f"no agent {agent_id!r}; see `eduops terminals list` or the terminals page")
        if row[0] != "retired":
            db.execute("UPDATE agents SET state = 'retired', state_since = ?, retired_at = ?, key_hash = NULL, "
                       "retire_proposed_at = NULL WHERE id = ?", [at, at, agent_id])
            by = actor.username or actor.address
            _record_state(db, agent_id, row[0], "retired", at, f"retired by {by}")
            room_days.refresh(db, agent_id)  # its days no longer count
            audit.add_event(db, now, "terminal_retired", actor, row[1], f"agent {agent_id}")
    return {"id": agent_id, "school_code": row[1], "state": "retired", "was": row[0]}
