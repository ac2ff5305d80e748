"""JSON API of what the sky classroom delivered: the figures of the overview page and its workbook.

Per area and township, for one term and optionally one kind, limited to the schools the caller may
see (IT staff and teachers: their own), as on the page. Described for /api/openapi.json with the
models of eduops/delivery/schemas.py.
"""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from eduops import openapi
from eduops.auth import ROLES, require
from eduops.delivery import schemas, web
from eduops.errors import ErrorAnswer

bp = Blueprint("delivery_api", __name__, url_prefix="/api/v1/delivery")


@bp.get("/figures")
@openapi.operation("Sessions held, hours, schools reached and training attendances per area and township",
                   answers={200: schemas.DeliveredFigures, 400: ErrorAnswer, 401: ErrorAnswer},
                   security="userToken", query=schemas.FiguresQuery)
@require(*ROLES)
def delivered_figures() -> Response:
    return jsonify(web.scoped_figures(*web.chosen(request.args)))
