"""The agent API (docs/protocol.md): enroll, send reports, acknowledge commands.

Agents authenticate with their own keys, never with user accounts. Keys are
looked up by their SHA-256 through a small in-process cache; the writer checks
the key again inside its transaction, so a key revoked by any process (the CLI
included) stops working at once. Reports, which every terminal sends every
minute, are answered below Flask (eduops/bare.py); the other routes are Flask views.
"""
from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, TypeVar

import sqlite_utils
from flask import Blueprint, Flask, Response, current_app, jsonify, request
from pydantic import BaseModel, ValidationError

from eduops import bare, ctx, errors, openapi
from eduops.clock import to_iso
from eduops.config import Config
from eduops.ctx import get_db, hub_config
from eduops.delivery import recordings
from eduops.errors import ApiError, ErrorAnswer, storage_refusal
from eduops.fleet import agents, commands, ingest
from eduops.fleet.agents import Identity
from eduops.fleet.protocol import (PROTOCOL, CommandAck, CommandAckAnswer, EnrollAnswer, EnrollRequest,
                                   ReportAnswer, ReportBatch, ScheduleAnswer)
from eduops.fleet.tokens import hash_secret

log = logging.getLogger(__name__)
bp = Blueprint("fleet", __name__, url_prefix="/api/v1")
M = TypeVar("M", bound=BaseModel)

COMMIT_WAIT_S = 10      # how long a request waits for the writer before answering 503
RETRY_AFTER_S = 10
MAX_CACHED_KEYS = 200_000
ERRORS = {status: ErrorAnswer for status in (400, 401, 403, 413, 503)}


@dataclass
class Fleet:
    """The fleet's per-app parts: the one ingest writer and the key cache."""
    writer: ingest.IngestWriter
    keys: dict[str, Identity] = field(default_factory=dict)


def _fleet() -> Fleet:
    return current_app.extensions["eduops_fleet"]


def parse(model: type[M]) -> M:
    """The Flask request's body as ``model``, or a precise 400 naming every field at fault."""
    return validated(model, request.get_data(cache=False))


def validated(model: type[M], data: bytes) -> M:
    """``data`` (JSON) as ``model``, or a precise 400 naming every field at fault."""
    try:
        return model.model_validate_json(data)
    except ValidationError as exc:
        problems = exc.errors(include_url=False, include_context=False, include_input=False)
    if any(p["type"] == "json_invalid" for p in problems):
        raise ApiError(400, "bad_json", f"The body is not valid JSON ({problems[0]['msg']}); "
                       "send one JSON object encoded as UTF-8.")
    details = [{"path": ".".join(map(str, p["loc"])) or "(body)", "problem": p["msg"]} for p in problems[:20]]
    more = f" (and {len(problems) - 1} more problems, listed in details)" if len(problems) > 1 else ""
    raise ApiError(400, "invalid", f"{details[0]['path']}: {details[0]['problem']}{more}.", details=details)


def _unauthorized(why: str) -> ApiError:
    return ApiError(401, "unauthorized", f"{why}; enroll the agent again with a token from the school's IT staff.",
                    reenroll=True)


def _key_hash(authorization: str) -> str:
    scheme, _, key = authorization.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise _unauthorized("No agent key was sent (header 'Authorization: Bearer <agent key>')")
    return hash_secret(key.strip())


def _identity(fleet: Fleet, authorization: str, db: Callable[[], sqlite_utils.Database],
              use_cache: bool) -> Identity:
    """The agent whose key the Authorization header carries; ``db`` opens a connection when needed."""
    key_hash = _key_hash(authorization)
    keys = fleet.keys
    identity = keys.get(key_hash) if use_cache else None
    if identity is None:
        identity = agents.identity_by_key_hash(db(), key_hash)
        if identity is None:
            raise _unauthorized("This agent key is unknown or revoked")
        if len(keys) >= MAX_CACHED_KEYS:
            keys.clear()
        keys[key_hash] = identity
    return identity


@bp.post("/enroll")
@openapi.operation("Exchange an enrollment token for an agent key", body=EnrollRequest,
                   answers={201: EnrollAnswer, **ERRORS})
def enroll() -> tuple[Response, int]:
    asked = parse(EnrollRequest)
    done = agents.enroll(get_db(), asked, ctx.now())
    log.info("agent %s (%s) enrolled in room %s of school %s, terminal %s", done.agent_id,
             asked.hardware.hostname, done.room_code, done.school_code, done.terminal_code or "unknown")
    if done.flags:
        log.warning("agent %s claims hardware another agent claims too (%d flags)", done.agent_id, done.flags)
    answer = EnrollAnswer(agent_id=done.agent_id, agent_key=done.agent_key, school=done.school_code,
                          room=done.room_code, terminal=done.terminal_code,
                          report_interval_s=hub_config().report_interval_s, protocol=PROTOCOL)
    return jsonify(answer.model_dump()), 201


def next_report_in_s(config: Config, uniform: Callable[[float, float], float] = random.uniform) -> float:
    """The server interval with jitter, so agents drift apart instead of reporting in step."""
    spread = config.report_interval_s * config.report_jitter
    return round(config.report_interval_s + uniform(-spread, spread), 1)


@openapi.operation("Send a batch of reports (a live report is a batch of one)", body=ReportBatch,
                   answers={200: ReportAnswer, **ERRORS}, security="agentKey")
def reports(fleet: Fleet, config: Config, now: datetime, environ: dict[str, Any],
            db: Callable[[], sqlite_utils.Database]) -> dict[str, Any]:
    """``POST /api/v1/reports``, answered below Flask (``init_app``): the answer, or an error raised."""
    data = bare.body(environ, config.max_body_bytes)
    identity = _identity(fleet, environ.get("HTTP_AUTHORIZATION", ""), db, use_cache=True)
    batch = validated(ReportBatch, data)
    if len(batch.reports) > config.max_batch_reports:
        raise ApiError(413, "too_large", f"This batch holds {len(batch.reports)} reports; the hub takes at most "
                       f"{config.max_batch_reports} at once: send smaller batches.")
    move_to = None
    if batch.room and batch.room != identity.room_code:
        school = agents.room_school(db(), batch.room)
        if school is None:
            raise agents.unknown_room(db(), identity.school_code, batch.room)
        if school != identity.school_code:
            raise ApiError(403, "forbidden", f"Room {batch.room} belongs to school {school}, not to this agent's "
                           f"school {identity.school_code}; enroll with a token of that school to move it there.")
        move_to = batch.room
    rows, skew_s = ingest.report_rows(batch, now, config.timezone)
    submission = ingest.Submission(identity, rows, skew_s, now, move_to)
    try:
        fleet.writer.submit(submission, COMMIT_WAIT_S)
    except ingest.BusyError as exc:
        if submission.storage_problem:
            raise storage_refusal(submission.storage_problem) from None
        raise ApiError(503, "busy", f"The hub is busy: {exc}. Send the batch again after "
                       f"{RETRY_AFTER_S} seconds.", retry_after=RETRY_AFTER_S) from None
    if submission.key_revoked:
        fleet.keys.pop(identity.key_hash, None)
        raise _unauthorized("This agent key was revoked")
    if move_to:
        fleet.keys[identity.key_hash] = Identity(identity.id, identity.school_code, move_to, identity.key_hash)
    return {"results": [{"id": r.uuid, "status": s} for r, s in zip(rows, submission.statuses)],
            "next_report_in_s": next_report_in_s(config), "commands": submission.commands}


@bp.get("/schedule")
@openapi.operation("The sessions this agent's room records in the coming days (answer 304 when unchanged)",
                   answers={200: ScheduleAnswer, 304: None, 401: ErrorAnswer}, security="agentKey")
def schedule() -> Response:
    identity = _identity(_fleet(), request.headers.get("Authorization", ""), get_db, use_cache=True)
    now = ctx.now()
    until = now + timedelta(days=hub_config().schedule_days)
    kind, sessions, etag = recordings.room_schedule(get_db(), identity.room_code, now, until)
    if etag in request.if_none_match:
        return Response(status=304, headers={"ETag": etag})
    answer = jsonify(room=identity.room_code, room_kind=kind, until=to_iso(until), sessions=sessions)
    answer.headers["ETag"] = etag
    return answer


@bp.post("/commands/<command_id>/ack")
@openapi.operation("Acknowledge a command: done or failed", body=CommandAck,
                   answers={200: CommandAckAnswer, 404: ErrorAnswer, 409: ErrorAnswer, **ERRORS},
                   security="agentKey")
def ack(command_id: str) -> Response:
    identity = _identity(_fleet(), request.headers.get("Authorization", ""), get_db, use_cache=False)
    answer = parse(CommandAck)
    commands.acknowledge(get_db(), identity.id, command_id, answer.status, answer.detail, ctx.now())
    return jsonify(id=command_id, status=answer.status)


def init_app(app: Flask, config: Config) -> None:
    """The fleet's routes on the hub (an ``eduops.app.Hub``, which answers the report route below Flask)."""
    fleet = Fleet(ingest.IngestWriter(config.db_path, app.extensions["eduops_storage"]))
    app.extensions["eduops_fleet"] = fleet
    app.register_blueprint(bp)
    health, duration, clock = (app.extensions["eduops_storage"], app.extensions["eduops_ingest_duration"],
                               app.config["EDUOPS_CLOCK"])

    def answer_reports(environ: dict[str, Any], start_response: bare.StartResponse) -> list[bytes]:
        started = time.perf_counter()
        status, headers = 200, {}
        try:
            with bare.database(config.db_path) as db:
                document = reports(fleet, config, clock(), environ, db)
        except Exception as exc:  # the top of the request: every refusal in the API's one shape
            status, document, headers = errors.refusal(exc, health, "POST /api/v1/reports")
            fleet.writer.count(f"rejected:{document['error']}")
        duration.observe(time.perf_counter() - started)
        return bare.answer(start_response, environ, status, document, headers)

    app.add_bare_route("/api/v1/reports", "fleet.reports", "POST", answer_reports, described_by=reports)
