"""The hub's own web pages: the front page is the county's coverage toward measure nine."""
from __future__ import annotations

from flask import Blueprint, redirect, request, url_for

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    return redirect(url_for("coverage.overview", **request.args))  # keeps ?lang=en
