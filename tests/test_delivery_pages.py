"""The delivery pages in-process, signed in through the real form: readiness on the session page and in
the upcoming list, attendance, notifications, robots (masked), the overview and its workbook."""
import io
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from eduops import db as dbmod
from eduops.clock import to_iso
from eduops.delivery import pages, recordings, store
from scheduler import delivery_jobs
from tests.support.delivery_kit import add_report, add_room_agent, add_session, build_county, utc

T = utc(2026, 11, 16, 6, 0)   # 14:00 in Huize


@pytest.fixture
def county(db_path, make_user):
    build_county(db_path)
    host = make_user("teacher", ["S1"], username="demo-teacher")
    it_s3 = make_user("it_staff", ["S3"], username="it-s3")
    it_s1 = make_user("it_staff", ["S1"], username="it-s1")
    db = dbmod.connect(db_path)
    training = add_session(db, host.id, T, 90, kind="teacher_training", title="希沃白板培训",
                           receivers=("S2-R1", "S3-R1"))
    source, receiver = add_room_agent(db, "S1-B"), add_room_agent(db, "S2-R1")
    add_report(db, source, T - timedelta(minutes=31))
    add_report(db, receiver, T - timedelta(minutes=31), screen_on=False)
    delivery_jobs.check_readiness(db, T - timedelta(minutes=30), [30, 10], -75, store)
    add_report(db, source, T + timedelta(minutes=10))
    add_report(db, receiver, T + timedelta(minutes=10))
    delivery_jobs.record_deliveries(db, T + timedelta(hours=2), timedelta(days=3), store)
    db.conn.close()
    return {"host": host, "it_s3": it_s3, "it_s1": it_s1, "training": training}


@pytest.fixture
def at(app):
    """Set the hub's clock for the next requests."""
    def set_clock(moment):
        app.config["EDUOPS_CLOCK"] = lambda: moment
    set_clock(T + timedelta(hours=3))
    return set_clock


def test_the_session_page_shows_readiness_with_reasons_and_what_was_delivered(client, county, login, at):
    login(client, county["host"])
    page = client.get(f"/bookings/{county['training']}").get_data(as_text=True)
    assert "开课前 30 分钟检查" in page
    assert "显示屏未开" in page                               # S2-R1's display was off at T-30
    assert "没有在线终端、未预留直播带宽（无出口带宽记录）" in page   # S3-R1: no agent, no uplink
    assert "已开课" in page and "2 个接收教室中 1 个在线收看" in page and "1.50 小时" in page


def test_a_failed_recording_shows_its_reason_with_the_agents_phrase_translated(app, client, county, login, at,
                                                                              db_path):
    db = dbmod.connect(db_path)
    source = db.execute("SELECT id FROM agents WHERE room_code = 'S1-B'").fetchone()[0]
    said = "the recorder exited early (status 1): rtsp://10.1.2.9/main: Connection refused"
    with dbmod.write(db):
        recordings.record_recordings(db, source, to_iso(T + timedelta(minutes=20)),
                                     [(str(county["training"]), "failed", said, to_iso(T + timedelta(minutes=12)))])
    db.conn.close()
    login(client, county["host"])
    page = client.get(f"/bookings/{county['training']}").get_data(as_text=True)
    assert '<span class="state failed">录制失败</span>' in page
    assert "录播程序提前退出 (status 1): rtsp://10.1.2.9/main: Connection refused" in page
    assert "2026-11-16 14:12" in page                                  # when it failed, by the agent
    assert said in client.get(f"/bookings/{county['training']}?lang=en").get_data(as_text=True)
    recorder = (Path(__file__).resolve().parent.parent / "agents" / "recorder.py").read_text(encoding="utf-8")
    with app.test_request_context("/"):
        assert all(lead in recorder for lead in pages.recording_leads())  # the phrases the agent really says


def test_attendance_is_entered_by_a_receiving_schools_it_staff_and_no_one_elses(client, county, login, at, db_path):
    login(client, county["it_s3"])
    answer = client.post(f"/delivery/sessions/{county['training']}/attendance", data={"school": "S3", "teachers": "7"})
    assert answer.status_code == 303
    assert client.post(f"/delivery/sessions/{county['training']}/attendance",
                       data={"school": "S2", "teachers": "9"}).status_code == 404   # not their school
    refused = client.post(f"/delivery/sessions/{county['training']}/attendance", data={"school": "S3", "teachers": ""})
    assert "attendance_error=invalid" in refused.headers["Location"]
    db = dbmod.connect(db_path)
    assert [(a["school_code"], a["teachers"]) for a in store.attendance_of(db, county["training"])] == [("S3", 7)]
    db.conn.close()
    assert "7 名教师" in client.get(f"/bookings/{county['training']}").get_data(as_text=True)


def test_the_host_is_told_in_the_hub_and_the_upcoming_list_shows_readiness(client, county, login, at):
    login(client, county["host"])
    assert '<span class="count">1</span>' in client.get("/delivery/").get_data(as_text=True)   # unread, in the bar
    told = client.get("/notifications").get_data(as_text=True)
    assert "《希沃白板培训》（2026-11-16 14:00）开始前 30 分钟尚未就绪" in told
    client.post("/notifications/read")
    assert '<span class="count">' not in client.get("/notifications").get_data(as_text=True)
    at(T - timedelta(minutes=20))
    listed = client.get("/delivery/upcoming").get_data(as_text=True)
    assert "希沃白板培训" in listed and "3 个教室中 2 个未就绪" in listed


def test_it_staff_add_their_schools_robot_and_see_it_masked(client, county, login, at):
    login(client, county["it_s1"])
    added = client.post("/delivery/robots", data={"school": "S1", "label": "古城一小信息群",
                                                  "url": "dingtalk://0123456789abcdefTOKEN/"})
    assert added.status_code == 303
    page = client.get("/delivery/robots").get_data(as_text=True)
    assert "古城一小信息群" in page and "0123456789abcdefTOKEN" not in page
    assert client.post("/delivery/robots", data={"school": "", "label": "全县", "url": "wecombot://KEY123456"}
                       ).status_code == 400                           # county-wide robots are the admin's
    assert "不是 Apprise 认识的机器人地址" in client.post(
        "/delivery/robots", data={"school": "S1", "label": "x", "url": "https://x.invalid/"}).get_data(as_text=True)


def workbook_rows(client, asked: str) -> dict:
    answer = client.get("/delivery/delivered.xlsx?" + asked)
    assert answer.status_code == 200
    return {(r[0], r[1]): r[2:] for r in load_workbook(io.BytesIO(answer.data)).active.iter_rows(
        min_row=4, values_only=True)}


def test_the_overview_and_its_workbook_give_the_terms_figures(app, client, county, login, make_user, at, db_path):
    login(client, make_user("viewer"))
    page = client.get("/delivery/?term=2026-11-02..2026-11-27").get_data(as_text=True)
    assert "空中课堂开课情况" in page and "仅统计本校" not in page
    rows = workbook_rows(client, "term=2026-11-02..2026-11-27&kind=teacher_training")
    assert rows[("主城区", "古城街道")] == (1, 1.5, 0, 0, 0)
    assert rows[("者海片区", "者海镇")] == (0, 0, 1, 1, 0)
    assert rows[("全县", None)] == (1, 1.5, 1, 1, 0)
    it_staff = app.test_client()
    login(it_staff, county["it_s1"])                                  # IT staff: their school's figures only
    assert "仅统计本校" in it_staff.get("/delivery/?term=2026-11-02..2026-11-27").get_data(as_text=True)
    rows = workbook_rows(it_staff, "term=2026-11-02..2026-11-27&kind=teacher_training")
    assert ("者海片区", "者海镇") not in rows
    assert rows[("全县", None)] == (1, 1.5, 0, 0, 0)                  # S1 hosted it; S2 was reached, not S1
    assert client.get("/delivery/?term=2026-13-01..x").status_code == 400
    assert client.get("/delivery/?kind=party").status_code == 400
