"""Liveness for load balancers, monitoring and the agents: /healthz."""
from __future__ import annotations

from flask import Blueprint, jsonify

from eduops import __version__
from eduops import db as dbmod
from eduops.ctx import get_db, storage_health

bp = Blueprint("system", __name__)


@bp.get("/healthz")
def healthz():
    """"ok", or "degraded" with the reason while the hub cannot write its database (it still serves reads)."""
    database, health = get_db(), storage_health()
    health.probe(database)
    problem = health.problem
    status = {"status": "degraded", "reason": f"storage: {problem}"} if problem else {"status": "ok"}
    return jsonify(**status, version=__version__, schema_version=dbmod.schema_version(database))
