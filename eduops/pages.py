"""The hub's own web pages."""
from __future__ import annotations

from flask import Blueprint, render_template

from eduops import county
from eduops.auth import ROLES, require
from eduops.ctx import get_db

bp = Blueprint("pages", __name__)


@bp.get("/")
@require(*ROLES)
def index():
    db = get_db()
    areas = county.area_summary(db)
    totals = county.table_counts(db)
    with_terminal = sum(a["classes_with_terminal"] for a in areas)
    return render_template("index.html", areas=areas, totals=totals, with_terminal=with_terminal)
