"""The agent API (docs/protocol.md): enroll, send reports, acknowledge commands.

Agents authenticate with their own keys, never with user accounts. Keys are
looked up by their SHA-256 through a small in-process cache; the writer checks
the key again inside its transaction, so a key revoked by any process (the CLI
included) stops working at once.
"""
from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable, TypeVar

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from pydantic import BaseModel, ValidationError

from eduops import ctx, openapi
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
    """The request body as ``model``, or a precise 400 naming every field at fault."""
    try:
        return model.model_validate_json(request.get_data(cache=False))
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


def _key_hash() -> str:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise _unauthorized("No agent key was sent (header 'Authorization: Bearer <agent key>')")
    return hash_secret(key.strip())


def _identity(use_cache: bool) -> Identity:
    key_hash = _key_hash()
    keys = _fleet().keys
    identity = keys.get(key_hash) if use_cache else None
    if identity is None:
        identity = agents.identity_by_key_hash(get_db(), key_hash)
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


@bp.post("/reports")
@openapi.operation("Send a batch of reports (a live report is a batch of one)", body=ReportBatch,
                   answers={200: ReportAnswer, **ERRORS}, security="agentKey")
def reports() -> Response:
    config = hub_config()
    identity = _identity(use_cache=True)
    batch = parse(ReportBatch)
    if len(batch.reports) > config.max_batch_reports:
        raise ApiError(413, "too_large", f"This batch holds {len(batch.reports)} reports; the hub takes at most "
                       f"{config.max_batch_reports} at once: send smaller batches.")
    move_to = None
    if batch.room and batch.room != identity.room_code:
        school = agents.room_school(get_db(), batch.room)
        if school is None:
            raise agents.unknown_room(get_db(), identity.school_code, batch.room)
        if school != identity.school_code:
            raise ApiError(403, "forbidden", f"Room {batch.room} belongs to school {school}, not to this agent's "
                           f"school {identity.school_code}; enroll with a token of that school to move it there.")
        move_to = batch.room
    now = ctx.now()
    rows, skew_s = ingest.report_rows(batch, now, config.timezone)
    submission = ingest.Submission(identity, rows, skew_s, now, move_to)
    fleet = _fleet()
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
    # json.dumps straight into the answer: jsonify's provider costs more than the encoding (this runs per report)
    return Response(json.dumps({"results": [{"id": r.uuid, "status": s} for r, s in zip(rows, submission.statuses)],
                                "next_report_in_s": next_report_in_s(config), "commands": submission.commands},
                               ensure_ascii=False), mimetype="application/json")


@bp.get("/schedule")
@openapi.operation("The sessions this agent's room records in the coming days (answer 304 when unchanged)",
                   answers={200: ScheduleAnswer, 304: None, 401: ErrorAnswer}, security="agentKey")
def schedule() -> Response:
    identity = _identity(use_cache=True)
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
    identity = _identity(use_cache=False)
    answer = parse(CommandAck)
    commands.acknowledge(get_db(), identity.id, command_id, answer.status, answer.detail, ctx.now())
    return jsonify(id=command_id, status=answer.status)


@bp.after_request
def count_rejected_reports(response: Response) -> Response:
    if request.endpoint == "fleet.reports" and response.status_code >= 400:
        body = response.get_json(silent=True) or {}
        _fleet().writer.count(f"rejected:{body.get('error', response.status_code)}")
    return response


def init_app(app: Flask, config: Config) -> None:
    app.extensions["eduops_fleet"] = Fleet(ingest.IngestWriter(config.db_path, app.extensions["eduops_storage"]))
    app.register_blueprint(bp)
