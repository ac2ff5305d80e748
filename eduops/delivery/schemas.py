"""The delivery API's query and answer as pydantic models, for /api/openapi.json (on coverage's bases).

The answer describes the dict eduops/delivery/figures.py builds (tests/test_delivery_api.py checks
real answers of a real hub against the served document); the query documents the arguments
``web.chosen`` reads, with the same kinds the booking rules know.
"""
from __future__ import annotations

from pydantic import Field, create_model

from eduops.bookings.schemas import Kind
from eduops.coverage.schemas import Answer, Query
from eduops.delivery.figures import COLUMNS


class FiguresQuery(Query):
    term: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2}$",
                             description="First and last day, county-local, such as 2026-09-01..2027-01-22; "
                                         "default: the term holding today.")
    kind: Kind | None = Field(None, description="Only sessions of this kind; default: every kind.")


_DESCRIBED = {"held": "Sessions held, hosted here.", "hours": "Hours delivered by the sessions held here.",
              "schools_reached": "Distinct receiving schools here that a session reached.",
              "rural_reached": "Of those, schools in a town or township (not an urban subdistrict).",
              "attendances": "Teachers who took part in training, entered by the schools here."}
assert set(_DESCRIBED) == set(COLUMNS)
Counts = create_model("DeliveredCounts", __base__=Answer, **{
    name: (float if name == "hours" else int, Field(description=_DESCRIBED[name])) for name in COLUMNS})


class TownshipFigures(Counts):
    area_code: str
    township_code: str
    township: str = Field(description="The township's Chinese name.")
    rural: bool = Field(description="A town or township, not an urban subdistrict (街道).")


class AreaFigures(Counts):
    area_code: str
    name_zh: str
    name_en: str
    townships: list[TownshipFigures]


class DeliveredFigures(Answer):
    term: str = Field(description="The term counted, as first..last.")
    kind: Kind | None
    areas: list[AreaFigures] = Field(description="Areas with the viewer's schools (every area for the county's "
                                                 "staff), each with its townships.")
    county: Counts = Field(description="The sum of the areas listed.")
