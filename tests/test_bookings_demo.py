"""The demo county comes alive: a term of sky classroom sessions, booked through the booking store's rules."""
import pytest

from tests.support import demo_term


@pytest.fixture(scope="module")
def booked(tmp_path_factory):
    database, count = demo_term.build(tmp_path_factory.mktemp("demo") / "demo.db")
    yield database, count
    database.conn.close()


def rows(database, sql, *params):
    return database.execute(sql, params).fetchall()


def test_the_demo_term_has_every_kind_of_session(booked):
    database, count = booked
    assert count == rows(database, "SELECT COUNT(*) FROM sky_sessions")[0][0] > 100
    kinds = dict(rows(database, "SELECT kind, COUNT(*) FROM sky_sessions GROUP BY kind"))
    assert set(kinds) == {"open_lesson", "collective_research", "teacher_training", "recording"}
    assert rows(database, "SELECT COUNT(*) FROM sky_sessions s JOIN sky_session_receivers r ON r.session_id = s.id "
                          "WHERE s.kind = 'recording'") == [(0,)]
    # The past is finished, the future booked; nothing pending has started.
    now = "2026-12-02T01:00:00.000000Z"
    assert rows(database, "SELECT COUNT(*) FROM sky_sessions WHERE state = 'finished' AND ends_at > ?", now) == [(0,)]
    assert rows(database, "SELECT COUNT(*) FROM sky_sessions WHERE state = 'booked' AND ends_at <= ?", now) == [(0,)]
    assert rows(database, "SELECT COUNT(*) FROM sky_sessions WHERE state = 'finished'")[0][0] > 20


def test_each_area_s_lead_school_broadcasts_weekly_to_village_schools(booked):
    database, _count = booked
    found = rows(database, """
        SELECT t.area_code, s.source_school_code, COUNT(DISTINCT s.series_id), COUNT(DISTINCT r.school_code),
               MIN(sc.name LIKE '%村小学')
        FROM sky_sessions s JOIN sky_session_receivers r ON r.session_id = s.id JOIN schools sc ON sc.code = r.school_code
        JOIN schools src ON src.code = s.source_school_code JOIN townships t ON t.code = src.township_code
        WHERE s.kind = 'open_lesson' AND s.series_id IS NOT NULL GROUP BY t.area_code, s.source_school_code""")
    assert {area for area, *_ in found} == {"main_urban", "zhehai", "nagu", "daibu", "yiche"}
    for area, _lead, series, schools, all_villages in found:
        assert series == 2 and schools >= 5 and all_villages == 1, area


def test_demo_teacher_has_own_sessions_two_awaiting_approval_and_one_rejected(booked):
    database, _count = booked
    mine = dict(rows(database, "SELECT s.state, COUNT(*) FROM sky_sessions s JOIN users u ON u.id = s.host_user_id "
                               "WHERE u.username = 'demo-teacher' GROUP BY s.state"))
    assert mine["pending"] == 2 and mine["rejected"] == 1 and mine["booked"] >= 10
    rejected = rows(database, "SELECT reason FROM sky_sessions WHERE state = 'rejected'")
    assert len(rejected) == 1 and "改期" in rejected[0][0]
    # The pending ones reach beyond the host's area: that is why they wait for the county.
    areas = rows(database, """SELECT DISTINCT t.area_code FROM sky_sessions s
        JOIN sky_session_receivers r ON r.session_id = s.id JOIN schools sc ON sc.code = r.school_code
        JOIN townships t ON t.code = sc.township_code WHERE s.state = 'pending'""")
    assert areas and "main_urban" not in {a for a, in areas}


def test_no_room_is_ever_double_booked_in_the_demo(booked):
    database, _count = booked
    clash = rows(database, """
        WITH holding AS (SELECT id, source_room_code AS room, starts_at, ends_at FROM sky_sessions
                         WHERE state IN ('pending', 'booked', 'finished')
                         UNION ALL SELECT s.id, r.room_code, s.starts_at, s.ends_at FROM sky_sessions s
                         JOIN sky_session_receivers r ON r.session_id = s.id
                         WHERE s.state IN ('pending', 'booked', 'finished'))
        SELECT COUNT(*) FROM holding a JOIN holding b ON a.room = b.room AND a.id < b.id
        WHERE a.starts_at < b.ends_at AND b.starts_at < a.ends_at""")
    assert clash == [(0,)]
