"""The hub's own web pages: the front page is the county's coverage toward measure nine."""
from __future__ import annotations

from flask import Blueprint, redirect, request, url_for

from eduops.auth import ROLES, require

bp = Blueprint("pages", __name__)


@bp.get("/")
@require(*ROLES)
def index():
    return redirect(url_for("coverage.overview", **request.args))  # keeps ?lang=en
