"""Liveness for load balancers and the agents: /healthz."""
from __future__ import annotations

from flask import Blueprint, jsonify

from eduops import __version__
from eduops import db as dbmod
from eduops.ctx import get_db

bp = Blueprint("system", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok", version=__version__, schema_version=dbmod.schema_version(get_db()))
