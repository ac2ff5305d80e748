"""The hub's own web pages: the front page is the county's coverage toward measure nine, and for a
teacher their sessions (what a teacher comes to the hub for is booking)."""
from __future__ import annotations

from flask import Blueprint, redirect, request, url_for

from eduops.auth import ROLES, current_user, require

bp = Blueprint("pages", __name__)


@bp.get("/")
@require(*ROLES)
def index():
    home = "bookings_pages.mine" if current_user().role == "teacher" else "coverage.overview"
    return redirect(url_for(home, **request.args))  # keeps ?lang=en
