"""A made-up term whose delivered figures were worked out by hand (see each session's comment)."""
from datetime import date, timedelta

import pytest

from eduops import db as dbmod
from eduops.delivery import figures, store
from eduops.errors import Invalid
from scheduler import delivery_jobs
from tests.support.accounts_helpers import Visitor, create_user
from tests.support.delivery_kit import add_report, add_room_agent, add_session, add_user, build_county, utc
from tests.support.hubprocess import HubProcess

TERM = figures.Term(date(2026, 11, 2), date(2026, 11, 27))
TZ = "Asia/Shanghai"


@pytest.fixture
def term(db_path):
    build_county(db_path)
    db = dbmod.connect(db_path)
    host = add_user(db, "demo-teacher", "teacher", ["S1"])
    for username, school in (("t-s2", "S2"), ("t-s3a", "S3"), ("t-s3b", "S3")):
        add_user(db, username, "teacher", [school])
    agents = {room: add_room_agent(db, room) for room in ("S1-B", "S2-R1", "S2-R2", "S3-R1")}
    plan = [
        # A: S2-R1 reached, S3-R1 silent: held, 0.75 h, reaches S2 (rural, 者海镇).
        ("open_lesson", utc(2026, 11, 9, 2), 45, ("S2-R1", "S3-R1"), ("S1-B", "S2-R1")),
        # B: training to S2-R2 (silent) and S3-R1 (reached): held, 1.5 h, reaches S3.
        ("teacher_training", utc(2026, 11, 16, 6), 90, ("S2-R2", "S3-R1"), ("S1-B", "S3-R1")),
        # C: no receiver reached: not held, no hours.
        ("collective_research", utc(2026, 11, 23, 2), 60, ("S2-R1",), ("S1-B",)),
        # D: a recording alone, its room reported: held, 40 min.
        ("recording", utc(2026, 11, 25, 3), 40, (), ("S1-B",)),
        # E: after the term: not counted.
        ("open_lesson", utc(2026, 11, 30, 2), 45, ("S2-R1",), ("S1-B", "S2-R1")),
    ]
    ids = []
    for kind, start, minutes, receivers, reporting in plan:
        session = add_session(db, host, start, minutes, kind=kind, receivers=receivers)
        for room in reporting:
            add_report(db, agents[room], start + timedelta(minutes=5))
        delivery_jobs.record_deliveries(db, start + timedelta(minutes=minutes + 5), timedelta(days=3), store)
        ids.append(session)
    cancelled = add_session(db, host, utc(2026, 11, 10, 2), 45, state="cancelled")   # F: never delivered
    delivery_jobs.record_deliveries(db, utc(2026, 11, 10, 4), timedelta(days=3), store)
    assert store.delivery_of(db, cancelled) is None
    training = ids[1]
    store.set_attendance(db, training, "S3", 6, [], host, utc(2026, 11, 16, 8))
    store.set_attendance(db, training, "S1", 3, [], host, utc(2026, 11, 16, 8))
    yield db, ids
    db.conn.close()


def township(result, code):
    return next(t for a in result["areas"] for t in a["townships"] if t["township_code"] == code)


def test_the_terms_figures_are_those_worked_out_by_hand(term):
    db, _ = term
    result = figures.figures(db, TERM, TZ)
    columns = lambda row: tuple(row[c] for c in figures.COLUMNS)  # noqa: E731
    # held, hours, schools reached, rural schools reached, training attendances
    assert columns(township(result, "T01")) == (3, 2.92, 0, 0, 3)     # A + B + D = 0.75 + 1.5 + 0.67 h
    assert columns(township(result, "T02")) == (0, 0, 2, 2, 6)        # S2 (A) and S3 (B), both rural
    assert columns(result["county"]) == (3, 2.92, 2, 2, 9)
    zhehai = next(a for a in result["areas"] if a["area_code"] == "zhehai")
    assert columns(zhehai) == (0, 0, 2, 2, 6)


def test_figures_of_one_kind(term):
    db, _ = term
    result = figures.figures(db, TERM, TZ, "teacher_training")
    assert tuple(township(result, "T01")[c] for c in figures.COLUMNS) == (1, 1.5, 0, 0, 3)
    assert tuple(township(result, "T02")[c] for c in figures.COLUMNS) == (0, 0, 1, 1, 6)


def test_attendance_by_accounts_counts_the_teachers_of_that_school_only(term):
    db, ids = term
    store.set_attendance(db, ids[1], "S3", 0, ["t-s3a", "T-S3B"], None, utc(2026, 11, 16, 8))
    assert [(a["school_code"], a["teachers"]) for a in store.attendance_of(db, ids[1])] == [("S1", 3), ("S3", 2)]
    with pytest.raises(Invalid, match="Not a teacher account of school S3: t-s2"):
        store.set_attendance(db, ids[1], "S3", 0, ["t-s2"], None, utc(2026, 11, 16, 8))
    with pytest.raises(Invalid, match="teacher training sessions only"):
        store.set_attendance(db, ids[0], "S2", 5, [], None, utc(2026, 11, 16, 8))
    assert [(a["school_code"], a["teachers"]) for a in store.attendance_of(db, ids[1])] == [("S1", 3), ("S3", 2)]


def test_the_current_term_is_the_one_holding_today():
    terms = ((date(2026, 9, 1), date(2027, 1, 22)), (date(2027, 2, 20), date(2027, 7, 9)))
    assert figures.current_term(terms, date(2026, 12, 1)).label == "2026-09-01..2027-01-22"
    assert figures.current_term(terms, date(2027, 2, 1)).label == "2026-09-01..2027-01-22"  # the holidays
    assert figures.current_term(terms, date(2026, 8, 1)).label == "2026-09-01..2027-01-22"
    assert figures.current_term((), date(2026, 8, 1)) is None


def test_a_school_bound_viewer_gets_the_figures_of_its_schools_only(term):
    db, _ = term
    columns = lambda row: tuple(row[c] for c in figures.COLUMNS)  # noqa: E731
    host = figures.figures(db, TERM, TZ, schools={"S1"})
    assert [(a["area_code"], [t["township_code"] for t in a["townships"]]) for a in host["areas"]] == [
        ("main_urban", ["T01"])]
    assert columns(host["county"]) == (3, 2.92, 0, 0, 3)              # what S1 hosted, S1's own attendance
    receiver = figures.figures(db, TERM, TZ, schools={"S3"})
    assert [a["area_code"] for a in receiver["areas"]] == ["zhehai"]
    assert columns(receiver["county"]) == (0, 0, 1, 1, 6)             # S3 reached by B, its 6 teachers
    assert figures.figures(db, TERM, TZ, schools=set())["areas"] == []


@pytest.mark.e2e
def test_the_figures_api_answers_what_the_page_shows_as_the_document_declares(term, db_path):
    import jsonschema

    viewer, it_s3 = create_user(db_path, "viewer"), create_user(db_path, "it_staff", ["S3"])
    hub = HubProcess(db_path)
    try:
        doc = Visitor(hub.url).get("/api/openapi.json").json()
        path = "/api/v1/delivery/figures"
        answers = doc["paths"][path]["get"]["responses"]
        assert set(answers) == {"200", "400", "401"}
        check = lambda status, body: jsonschema.validate(  # noqa: E731
            body, {**answers[status]["content"]["application/json"]["schema"], "components": doc["components"]})
        asked = {"term": TERM.label}
        county = Visitor(hub.url, viewer).get(path, params=asked)
        assert county.status_code == 200
        check("200", county.json())
        assert county.json() == {**figures.figures(term[0], TERM, TZ), "kind": None}
        assert (county.json()["county"]["held"], county.json()["county"]["hours"]) == (3, 2.92)
        training = Visitor(hub.url, viewer).get(path, params={**asked, "kind": "teacher_training"}).json()
        assert training["kind"] == "teacher_training" and training["county"]["held"] == 1
        mine = Visitor(hub.url, it_s3).get(path, params=asked)
        check("200", mine.json())
        assert [a["area_code"] for a in mine.json()["areas"]] == ["zhehai"]
        assert mine.json()["county"] == {"held": 0, "hours": 0, "schools_reached": 1, "rural_reached": 1,
                                         "attendances": 6}
        for params in ({"term": "2026-13-01..x"}, {"kind": "party"}, {"term": "2026-11-27..2026-11-02"}):
            refused = Visitor(hub.url, viewer).get(path, params=params)
            assert refused.status_code == 400 and refused.json()["error"] == "invalid", params
            check("400", refused.json())
        stranger = Visitor(hub.url).get(path, params=asked)
        assert stranger.status_code == 401
        check("401", stranger.json())
    finally:
        hub.stop()
