"""The OpenAPI document tells the truth: every /api/ route is in it, and real answers of a real hub
match the schemas it serves (checked with jsonschema against the served document, not the models)."""
import re
from datetime import datetime, timedelta, timezone

import pytest
from flask import Blueprint
from jsonschema import Draft202012Validator

from eduops import config as configmod
from eduops import db as dbmod
from eduops import openapi
from eduops.app import create_app
from eduops.clock import local_day, to_iso
from eduops.coverage import gaps, report, snapshots, store
from tests.support import coverage_county
from tests.support.accounts_helpers import create_user
from tests.support.hubprocess import HubProcess
from tests.support.accounts_helpers import Visitor

RULE_ARG = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def undescribed(app) -> list[str]:
    """Every method of every /api/ route that the app's OpenAPI document leaves out."""
    paths = openapi.document(app)["paths"]
    return [f"{method} {rule.rule}" for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
            if method.lower() not in paths.get(RULE_ARG.sub(r"{\1}", rule.rule), {})]


def test_every_api_route_is_in_the_openapi_document_without_exception():
    app = create_app(configmod.load(env={}, overrides={"secret_key": "collection-only"}))
    assert undescribed(app) == []
    forgot = Blueprint("forgot", __name__)
    forgot.add_url_rule("/api/v1/forgot/<int:n>", "forgot", lambda n: "", methods=["GET", "POST"])
    app.register_blueprint(forgot)
    assert undescribed(app) == ["GET /api/v1/forgot/<int:n>", "POST /api/v1/forgot/<int:n>"]


def test_query_parameters_come_from_the_models_that_read_them():
    doc = openapi.document(create_app(configmod.load(env={}, overrides={"secret_key": "collection-only"})))
    params = {p["name"]: p for p in doc["paths"]["/api/v1/coverage/gaps"]["get"]["parameters"]}
    assert list(params) == ["area", "township", "school", "stage", "small_scale", "measure", "status",
                            "limit", "offset"]
    assert params["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 10_000, "default": 1000}
    assert params["status"]["schema"]["enum"] == list(gaps.STATUSES) and not params["status"]["required"]
    trend = {p["name"]: p["schema"] for p in doc["paths"]["/api/v1/coverage/trend"]["get"]["parameters"]}
    assert trend["level"]["enum"] == ["county", "area", "township", "school"]
    kinds = doc["paths"]["/api/v1/coverage/disagreements"]["get"]["parameters"][-1]
    assert kinds["name"] == "kind" and kinds["schema"]["enum"] == list(gaps.DISAGREEMENTS)
    assert doc["paths"]["/api/v1/coverage/schools/{code}"]["get"]["security"] == [{"userToken": []}]


C = "/api/v1/coverage"
# (who asks, path, query, status): between them, every answer each coverage route declares.
CASES = [
    ("viewer", C, {}, 200), ("stranger", C, {}, 401),
    ("viewer", f"{C}/areas/main_urban", {}, 200), ("viewer", f"{C}/areas/nowhere", {}, 404),
    ("stranger", f"{C}/areas/main_urban", {}, 401),
    ("viewer", f"{C}/townships/T2", {}, 200), ("viewer", f"{C}/townships/T9", {}, 404),
    ("stranger", f"{C}/townships/T2", {}, 401),
    ("viewer", f"{C}/schools/A", {}, 200), ("viewer", f"{C}/schools/C", {}, 200),
    ("viewer", f"{C}/schools/Z", {}, 404), ("it_staff@B", f"{C}/schools/A", {}, 403),
    ("stranger", f"{C}/schools/A", {}, 401),
    ("viewer", f"{C}/classes/A-C4", {}, 200), ("viewer", f"{C}/classes/B-C3", {}, 200),
    ("viewer", f"{C}/classes/Z-C1", {}, 404), ("it_staff@B", f"{C}/classes/A-C1", {}, 403),
    ("stranger", f"{C}/classes/A-C1", {}, 401),
    ("viewer", f"{C}/gaps", {}, 200), ("viewer", f"{C}/gaps", {"limit": "2", "status": "missing"}, 200),
    ("viewer", f"{C}/gaps", {"limit": "0"}, 400), ("viewer", f"{C}/gaps", {"area": "mars"}, 400),
    ("stranger", f"{C}/gaps", {}, 401),
    ("viewer", f"{C}/disagreements", {}, 200), ("viewer", f"{C}/disagreements", {"kind": "ghost"}, 400),
    ("stranger", f"{C}/disagreements", {}, 401),
    ("viewer", f"{C}/trend", {}, 200), ("it_staff@B", f"{C}/trend", {}, 200),
    ("viewer", f"{C}/trend", {"level": "school", "code": "A", "days": "7"}, 200),
    ("viewer", f"{C}/trend", {"days": "0"}, 400), ("viewer", f"{C}/trend", {"level": "area", "code": "mars"}, 404),
    ("stranger", f"{C}/trend", {}, 401),
    ("viewer", "/api/v1/me", {}, 200), ("stranger", "/api/v1/me", {}, 401),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Every case asked of a real hub serving the hand-built county, with yesterday's snapshot of the
    county alone and today's of every node (so the trend has a day without a node's snapshot):
    (the served document, [(case, path template, answer body)])."""
    path = tmp_path_factory.mktemp("openapi") / "hub.db"
    now = datetime.now(timezone.utc)
    database = dbmod.connect(path)
    dbmod.migrate(database)
    coverage_county.build(database, now=now)
    config = configmod.load(env={}, overrides={"db_path": path})
    today = snapshots.take_daily_snapshot(database, now, config)
    yesterday = now - timedelta(days=1)
    counts = report.load(database, config, yesterday, None).totals[("county", "")]
    store.store_snapshot(database, local_day(yesterday, config.timezone), to_iso(yesterday),
                           {("county", ""): counts})
    database.conn.close()
    assert today["nodes"] > 1
    process = HubProcess(path)
    try:
        visitors = {"stranger": Visitor(process.url), "viewer": Visitor(process.url, create_user(path, "viewer")),
                    "it_staff@B": Visitor(process.url, create_user(path, "it_staff", ["B"]))}
        doc = visitors["stranger"].get("/api/openapi.json").json()
        answers = []
        for case in CASES:
            who, asked, params, _status = case
            answer = visitors[who].get(asked, params=params)
            template = next(t for t in doc["paths"] if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", t), asked))
            answers.append((case, answer.status_code, template, answer.json()))
    finally:
        process.stop()
    return doc, answers


def validator(doc: dict, template: str, status: int) -> Draft202012Validator:
    schema = doc["paths"][template]["get"]["responses"][str(status)]["content"]["application/json"]["schema"]
    root = {**schema, "components": doc["components"]}
    Draft202012Validator.check_schema(root)
    return Draft202012Validator(root)


@pytest.mark.e2e
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]} {c[1]} {c[2] or ''} {c[3]}")
def test_a_real_answer_matches_the_schema_the_document_declares_for_it(served, case):
    doc, answers = served
    [(_, status, template, body)] = [a for a in answers if a[0] is case]
    assert status == case[3], body
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                for e in validator(doc, template, status).iter_errors(body)]
    assert not problems, problems


@pytest.mark.e2e
def test_the_cases_cover_every_declared_answer_and_every_shape_of_answer(served):
    doc, answers = served
    declared = {(t, int(s)) for t, ops in doc["paths"].items() if t.startswith(C) or t == "/api/v1/me"
                for s in ops["get"]["responses"]}
    assert {(template, status) for _, status, template, _ in answers} == declared
    body = {(case[1], tuple(case[2].items()), case[0]): b for case, _, _, b in answers}
    assert {d["kind"] for d in body[(f"{C}/disagreements", (), "viewer")]["disagreements"]} == set(gaps.DISAGREEMENTS)
    assert body[(f"{C}/classes/A-C4", (), "viewer")]["agents"][0]["days"]
    assert body[(f"{C}/classes/B-C3", (), "viewer")]["room"] is None
    assert {g["level"] for g in body[(f"{C}/gaps", (), "viewer")]["gaps"]} == {"school", "class"}
    county_trend = body[(f"{C}/trend", (), "viewer")]
    assert len(county_trend["days"]) == 2 and county_trend["series"][1]["counts"]["classes"][0] is None


@pytest.mark.e2e
def test_the_schemas_refuse_an_answer_that_strays_from_them(served):
    doc, answers = served
    county = next(b for case, _, _, b in answers if case[:2] == ("viewer", C))
    check = validator(doc, C, 200)
    assert check.is_valid(county)
    assert not check.is_valid({**county, "surprise": 1})
    assert not check.is_valid({k: v for k, v in county.items() if k != "figures"})
    assert not check.is_valid({**county, "children": [{**county["children"][0], "figures": {}}]})
    disagreements = validator(doc, f"{C}/disagreements", 200)
    wifi = {"total": 1, "disagreements": [{"kind": "wifi_unseen", "area_code": "a", "township_code": "t",
                                           "township_name": "t", "school_code": "s", "school_name": "s",
                                           "room_code": None, "room_name": None, "wifi_ssid": "x"}]}
    assert disagreements.is_valid(wifi)
    assert not disagreements.is_valid({**wifi, "disagreements": [{**wifi["disagreements"][0], "terminals": 2}]})


def test_booking_routes_describe_their_bodies_and_the_conflicts_they_answer():
    doc = openapi.document(create_app(configmod.load(env={}, overrides={"secret_key": "collection-only"})))
    create = doc["paths"]["/api/v1/sessions"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/BookingRequest"}
    assert set(create["responses"]) == {"201", "400", "401", "403", "404", "409"}
    assert create["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ConflictAnswer"}
    assert create["security"] == [{"userToken": []}]
    problem = doc["components"]["schemas"]["Problem"]
    assert {"room_busy", "bandwidth", "holiday"} <= set(problem["properties"]["kind"]["enum"])
    assert doc["components"]["schemas"]["BookingRequest"]["additionalProperties"] is False
    listing = {p["name"] for p in doc["paths"]["/api/v1/sessions"]["get"]["parameters"]}
    assert listing == {"from", "to", "room", "school", "host", "state", "mine", "limit"}
    assert doc["paths"]["/api/v1/sessions/{session_id}"]["patch"]["requestBody"]["content"]["application/json"][
        "schema"] == {"$ref": "#/components/schemas/EditRequest"}
    week = {p["name"] for p in doc["paths"]["/api/v1/rooms/{code}/schedule"]["get"]["parameters"]}
    assert week == {"code", "from", "to"}
