"""Terminals for people: list and show them, confirm a retirement, queue a command.

The routes are guarded by the access layer passed in (``blueprint(auth)``; the
``eduops.auth`` module fits ``Access``): IT staff act on their own schools, the
county admin on all, viewers only look.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable, Literal, Protocol

from flask import Blueprint, Response, jsonify, request
from pydantic import Field

from eduops import ctx, openapi
from eduops.ctx import get_db, hub_config
from eduops.fleet import agents, commands, store
from eduops.fleet.api import parse
from eduops.errors import ApiError, ErrorAnswer
from eduops.fleet.protocol import Model
from scheduler.states import STATES


class Access(Protocol):
    def require(self, *roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]: ...
    def current_user(self) -> Any: ...
    def school_scope(self, user: Any) -> frozenset[str] | None: ...
    def require_school(self, user: Any, school_code: str) -> None: ...
    def actor(self) -> Any: ...


class Terminal(Model):
    id: str
    school_code: str
    room_code: str
    terminal_code: str | None
    state: Literal["online", "stale", "offline", "expected_off", "retired"]
    state_since: str
    last_report_at: str | None
    hostname: str
    agent_version: str | None
    clock_skew_s: float | None
    retire_proposed_at: str | None
    retired_at: str | None
    flags: int = Field(description="Hardware claims shared with other agents.")


class TerminalList(Model):
    terminals: list[Terminal]


class Retired(Model):
    id: str
    school_code: str
    state: Literal["retired"]
    was: str


class CommandRequest(Model):
    kind: Literal["refresh_schedule", "send_inventory"]
    expires_in_s: int | None = Field(default=None, ge=60, le=30 * 86400,
                                     description="Default: the hub's command_ttl_s.")


class Queued(Model):
    id: str
    kind: str
    expires_at: str
    args: dict[str, Any]


DENIED = {401: ErrorAnswer, 403: ErrorAnswer, 404: ErrorAnswer}


def blueprint(access: Access) -> Blueprint:
    bp = Blueprint("fleet_staff", __name__, url_prefix="/api/v1/terminals")

    def agent_in_scope(agent_id: str) -> dict[str, Any]:
        found = store.agent_detail(get_db(), agent_id)
        if found is None:
            raise ApiError(404, "not_found", f"There is no terminal {agent_id}.")
        access.require_school(access.current_user(), found["school_code"])
        return found

    @bp.get("")
    @openapi.operation("List terminals: state, last report, clock skew, shared hardware",
                       answers={200: TerminalList, **DENIED}, security="userToken")
    @access.require("it_staff", "viewer")
    def list_terminals() -> Response:
        user = access.current_user()
        school, state = request.args.get("school"), request.args.get("state")
        if school:
            access.require_school(user, school)
        if state and state not in STATES:
            raise ApiError(400, "invalid", f"state must be one of {', '.join(STATES)}.")
        return jsonify(terminals=store.list_agents(get_db(), school, state, request.args.get("proposed") == "1",
                                                   schools=access.school_scope(user)))

    @bp.get("/<agent_id>")
    @openapi.operation("One terminal with its state history and shared hardware", answers={200: None, **DENIED},
                       security="userToken")
    @access.require("it_staff", "viewer")
    def show_terminal(agent_id: str) -> Response:
        found = agent_in_scope(agent_id)
        found["commands"] = commands.commands_of(get_db(), agent_id)
        return jsonify(found)

    @bp.post("/<agent_id>/retire")
    @openapi.operation("Confirm a terminal is gone: retired, its key revoked", answers={200: Retired, **DENIED},
                       security="userToken")
    @access.require("it_staff")
    def retire_terminal(agent_id: str) -> Response:
        agent_in_scope(agent_id)
        return jsonify(agents.retire(get_db(), agent_id, ctx.now(), access.actor()))

    @bp.post("/<agent_id>/commands")
    @openapi.operation("Queue a command for a terminal's agent", body=CommandRequest,
                       answers={201: Queued, 400: ErrorAnswer, **DENIED}, security="userToken")
    @access.require("it_staff")
    def queue_command(agent_id: str) -> tuple[Response, int]:
        agent_in_scope(agent_id)
        asked = parse(CommandRequest)
        ttl = timedelta(seconds=asked.expires_in_s or hub_config().command_ttl_s)
        queued = commands.queue_command(get_db(), agent_id, asked.kind, ctx.now(), ttl)
        return jsonify(queued), 201

    return bp
