"""The command queue: the hub asks an agent to do something; the agent acknowledges.

A pending command rides on every answer to the agent's reports until the agent
acknowledges it or it expires, so a lost answer never loses a command.
Acknowledging is idempotent: the agent may retry after a network failure.
"""
from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from eduops import db as dbmod
from eduops.clock import to_iso
from eduops.errors import Conflict, Invalid, NotFound

KINDS = ("refresh_schedule", "send_inventory")


def queue_command(db: sqlite_utils.Database, agent_id: str, kind: str, now: datetime, ttl: timedelta,
                  args: dict[str, Any] | None = None) -> dict[str, Any]:
    """Queue one command for one agent. Raises NotFound for an unknown agent, Conflict for a retired one."""
    if kind not in KINDS:
        raise Invalid(f"unknown command {kind!r}; use one of {', '.join(KINDS)}")
    command = {"id": "cmd_" + secrets.token_hex(8), "kind": kind, "expires_at": to_iso(now + ttl),
               "args": args or {}}
    with dbmod.write(db):
        state = db.execute("SELECT state FROM agents WHERE id = ?", [agent_id]).fetchone()
        if state is None:
            raise NotFound(f"no agent {agent_id!r}; see `eduops terminals list` or the terminals page")
        if state[0] == "retired":
            raise Conflict(f"Terminal {agent_id} is retired; it takes no commands.")
        db.execute("INSERT INTO commands (id, agent_id, kind, args, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                   [command["id"], agent_id, kind, json.dumps(command["args"]), to_iso(now), command["expires_at"]])
    return command


def deliver_pending(db: sqlite_utils.Database, agent_id: str, at: str) -> list[dict[str, Any]]:
    """The agent's unexpired pending commands, marked delivered (inside the caller's transaction)."""
    rows = db.execute("SELECT id, kind, expires_at, args, delivered_at FROM commands "
                      "WHERE agent_id = ? AND status = 'pending' AND expires_at > ? ORDER BY created_at",
                      [agent_id, at]).fetchall()
    if any(r[4] is None for r in rows):
        db.execute("UPDATE commands SET delivered_at = ? WHERE agent_id = ? AND status = 'pending' "
                   "AND delivered_at IS NULL", [at, agent_id])
    return [{"id": r[0], "kind": r[1], "expires_at": r[2], "args": json.loads(r[3])} for r in rows]


def acknowledge(db: sqlite_utils.Database, agent_id: str, command_id: str, status: str, detail: str,
                now: datetime) -> None:
    """Record the agent's answer to a command; the same answer again changes nothing."""
    with dbmod.write(db):
        row = db.execute("SELECT status, expires_at FROM commands WHERE id = ? AND agent_id = ?",
                         [command_id, agent_id]).fetchone()
        if row is None:
            raise NotFound(f"Command {command_id} is not one of this agent's commands.")
        current, expires_at = row
        if current == status:
            return
        if current == "expired" or (current == "pending" and expires_at <= to_iso(now)):
            raise Conflict(f"Command {command_id} expired at {expires_at}; "
                           "drop it, there is nothing more to do for it.", code="command_expired")
        if current != "pending":
            raise Conflict(f"Command {command_id} was already acknowledged as {current}.")
        db.execute("UPDATE commands SET status = ?, detail = ?, acked_at = ? WHERE id = ?",
                   [status, detail, to_iso(now), command_id])


def commands_of(db: sqlite_utils.Database, agent_id: str) -> list[dict[str, Any]]:
    """An agent's commands, newest first."""
    return list(db.query("SELECT id, kind, status, created_at, expires_at, delivered_at, acked_at, detail "
                         "FROM commands WHERE agent_id = ? ORDER BY created_at DESC", [agent_id]))
