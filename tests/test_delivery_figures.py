"""A made-up term whose delivered figures were worked out by hand (see each session's comment)."""
from datetime import date, timedelta

import pytest

from eduops import db as dbmod
from eduops.delivery import figures, store
from eduops.errors import Invalid
from scheduler import delivery_jobs
from tests.support.delivery_kit import add_report, add_room_agent, add_session, add_user, build_county, utc

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
