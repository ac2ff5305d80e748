"""The bookings store on a real SQLite file: booking, approval, series, edits, cancels, jobs, audit."""
import json
import shutil
from datetime import date, timedelta

import pytest

from eduops import audit
from eduops import db as dbmod
from eduops.audit import COMMAND_LINE
from eduops.bookings import schedule, store
from eduops.bookings.schemas import BookingRequest, EditRequest
from eduops.errors import Conflict, Forbidden, Invalid, NotFound
from eduops.jobs import hub_jobs, record_job_run
from scheduler.runner import run_job
from tests.support.bookings_county import MONDAY, NOW, add_user, at, build, config, rules

RULES = rules()


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The county and its users, made once (password hashing is slow on purpose), copied for each test."""
    path = tmp_path_factory.mktemp("bookings") / "template.db"
    database = dbmod.connect(path)
    build(database)
    users = {"t1": add_user(database, "t1", "teacher", ["A"]), "t2": add_user(database, "t2", "teacher", ["A"]),
             "tb": add_user(database, "tb", "teacher", ["B"]), "it": add_user(database, "it", "it_staff", ["A"]),
             "admin": add_user(database, "admin", "admin"), "viewer": add_user(database, "viewer", "viewer")}
    database.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    database.conn.close()
    return path, users


@pytest.fixture
def county(template, db_path):
    shutil.copy(template[0], db_path)
    database = dbmod.connect(db_path)
    yield database, template[1]
    database.conn.close()


def lesson(**changes) -> BookingRequest:
    fields = {"kind": "open_lesson", "title": "三年级数学公开课", "source_room": "A-BC",
              "starts_at": at(MONDAY, "10:00"), "ends_at": at(MONDAY, "10:45"), "receiving_classes": ["A-C1"]}
    return BookingRequest(**(fields | changes))


def count(database, table="sky_sessions") -> int:
    return database.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def events(database, event):
    return [json.loads(e["detail"]) | {"subject": e["subject"], "actor": e["actor"]}
            for e in audit.search(database, event=event)]


def test_a_session_in_its_own_school_is_booked_with_receivers_and_audited(county):
    database, users = county
    [row] = store.book(database, lesson(), users["t1"], COMMAND_LINE, RULES, NOW)["sessions"]
    assert (row["state"], row["needs_approval"], row["version"], row["host_username"]) == ("booked", False, 1, "t1")
    assert row["receivers"] == [{"room_code": "A-R1", "room_name": "一(1)班教室", "school_code": "A",
                                 "school_name": "实验小学", "class_code": "A-C1", "class_name": "一(1)班", "live": True}]
    [booked] = events(database, "session_booked")
    assert booked["before"] is None and booked["after"]["state"] == "booked"
    assert booked["after"]["receivers"] == ["A-R1"] and booked["subject"] == f"session {row['id']}"


def test_beyond_the_host_school_waits_for_the_county_unless_approval_is_off_or_the_admin_books(county):
    database, users = county
    far = lesson(receiving_classes=["B-C1"])
    assert store.book(database, far, users["t1"], COMMAND_LINE, RULES, NOW)["sessions"][0]["state"] == "pending"
    by_admin = far.model_copy(update={"starts_at": at(MONDAY, "14:00"), "ends_at": at(MONDAY, "14:45")})
    assert store.book(database, by_admin, users["admin"], COMMAND_LINE, RULES, NOW)["sessions"][0]["state"] == "booked"
    free = rules(approval_required=False)
    later = far.model_copy(update={"starts_at": at(MONDAY, "15:00"), "ends_at": at(MONDAY, "15:45")})
    [row] = store.book(database, later, users["t1"], COMMAND_LINE, free, NOW)["sessions"]
    assert (row["state"], row["needs_approval"]) == ("booked", False)


def test_a_pending_session_holds_its_slots_until_rejected_then_they_are_free(county):
    database, users = county
    [pending] = store.book(database, lesson(receiving_classes=["B-C1"]), users["t1"], COMMAND_LINE, RULES,
                           NOW)["sessions"]
    rival = lesson(source_room="B-BC", receiving_classes=[], receiving_rooms=["B-R1"])
    with pytest.raises(Conflict) as caught:
        store.book(database, rival, users["tb"], COMMAND_LINE, RULES, NOW)
    assert caught.value.details["problems"][0]["session_id"] == pending["id"]
    with pytest.raises(Invalid):
        store.decide(database, pending["id"], 1, "this", False, "", users["admin"], COMMAND_LINE, NOW)
    [rejected] = store.decide(database, pending["id"], 1, "this", False, "该时段县里有统一教研", users["admin"],
                              COMMAND_LINE, NOW)
    assert (rejected["state"], rejected["reason"], rejected["version"]) == ("rejected", "该时段县里有统一教研", 2)
    assert store.book(database, rival, users["tb"], COMMAND_LINE, RULES, NOW)["sessions"][0]["state"] == "booked"
    [event] = events(database, "session_rejected")
    assert (event["before"]["state"], event["after"]["state"]) == ("pending", "rejected")


@pytest.mark.parametrize("freeing", ["cancel", "expire"])
def test_cancelled_and_expired_sessions_free_their_slots_at_once(county, freeing):
    database, users = county
    [row] = store.book(database, lesson(receiving_classes=["B-C1"]), users["t1"], COMMAND_LINE, RULES, NOW)["sessions"]
    if freeing == "cancel":
        store.cancel(database, row["id"], 1, "this", "", users["t1"], COMMAND_LINE, NOW)
    else:
        assert store.expire_pending(database, NOW, timedelta(hours=24)) == 0  # six days early: still pending
        assert store.expire_pending(database, at(MONDAY, "09:00"), timedelta(hours=24)) == 1
    state = schedule.session(database, row["id"])["state"]
    assert state == {"cancel": "cancelled", "expire": "expired"}[freeing]
    again = store.book(database, lesson(receiving_classes=["B-C1"], title="重订"), users["t2"], COMMAND_LINE,
                       RULES, NOW)
    assert again["sessions"][0]["title"] == "重订"
    assert len(events(database, f"session_{state}")) == 1


def test_the_approval_of_a_session_books_it_and_only_the_admin_decides(county):
    database, users = county
    [row] = store.book(database, lesson(receiving_classes=["B-C1"]), users["t1"], COMMAND_LINE, RULES, NOW)["sessions"]
    assert [s["id"] for s in schedule.pending_sessions(database, NOW)] == [row["id"]]
    with pytest.raises(Forbidden):
        store.decide(database, row["id"], 1, "this", True, "", users["it"], COMMAND_LINE, NOW)
    [approved] = store.decide(database, row["id"], 1, "this", True, "", users["admin"], COMMAND_LINE, NOW)
    assert approved["state"] == "booked"
    with pytest.raises(Conflict) as caught:
        store.decide(database, row["id"], 2, "this", True, "", users["admin"], COMMAND_LINE, NOW)
    assert caught.value.code == "not_pending"
    assert schedule.pending_sessions(database, NOW) == []


def test_finished_sessions_keep_their_slots_and_are_marked_after_their_end(county):
    database, users = county
    [row] = store.book(database, lesson(), users["t1"], COMMAND_LINE, RULES, NOW)["sessions"]
    assert store.finish_ended(database, at(MONDAY, "10:44")) == 0
    assert store.finish_ended(database, at(MONDAY, "10:45")) == 1
    finished = schedule.session(database, row["id"])
    assert (finished["state"], finished["version"]) == ("finished", 2)
    with pytest.raises(Conflict) as caught:
        store.cancel(database, row["id"], 2, "this", "", users["t1"], COMMAND_LINE, at(MONDAY, "11:00"))
    assert caught.value.code == "not_active"


def test_a_conflict_lists_every_problem_in_words_and_three_suggestions_and_writes_nothing(county):
    database, users = county
    store.book(database, lesson(receiving_classes=["B-C1"]), users["t1"], COMMAND_LINE, RULES, NOW)
    before = count(database), count(database, "audit_log")
    with pytest.raises(Conflict) as caught:
        store.book(database, lesson(receiving_classes=["B-C1", "C-C1"], starts_at=at(MONDAY, "10:30"),
                                    ends_at=at(MONDAY, "11:15")), users["t1"], COMMAND_LINE, RULES, NOW)
    details = caught.value.details
    assert [(p["kind"], p["resource"]) for p in details["problems"]] == [
        ("room_busy", "A-BC"), ("receiver_busy", "B-R1"), ("host_busy", "t1"), ("no_uplink", "C")]
    assert details["problems"][0]["message"] == "希沃录播教室 (A-BC) is taken by “三年级数学公开课”, 10:00–10:45"
    assert len(details["suggestions"]) == 3 and details["preview"][0]["status"] == "fails"
    assert (count(database), count(database, "audit_log")) == before


def test_bandwidth_of_a_village_school_is_a_booked_resource(county):
    database, users = county
    # B has 20 Mbps: 12 for live streams, three of 4 Mbps.
    for i, source in enumerate(["A-BC", "A-DG", "D-BC"]):
        user = users["admin"]
        store.book(database, lesson(source_room=source, receiving_classes=[], receiving_rooms=[f"B-R{i + 1}"],
                                    host=None, title=f"第{i}节"), user if i == 2 else users[("t1", "t2")[i]],
                   COMMAND_LINE, RULES, NOW)
    with pytest.raises(Conflict) as caught:
        store.book(database, lesson(source_room="B-BC", receiving_classes=[], receiving_rooms=["B-R4"]),
                   users["tb"], COMMAND_LINE, RULES, NOW)
    [problem] = caught.value.details["problems"]
    assert (problem["kind"], problem["need_mbps"], problem["free_mbps"]) == ("bandwidth", 8.0, 0.0)
    assert problem["message"] == "者海村小 has too little bandwidth: needs 8 Mbps, 0 Mbps left"
    recording = lesson(kind="recording", source_room="B-BC", receiving_classes=[])
    assert store.book(database, recording, users["tb"], COMMAND_LINE, RULES, NOW)["sessions"][0]["stream_mbps"] == 0


def test_a_school_without_uplink_receives_the_recording_when_the_session_is_recorded(county):
    database, users = county
    [row] = store.book(database, lesson(receiving_classes=["C-C1"], recorded=True), users["t1"], COMMAND_LINE,
                       RULES, NOW)["sessions"]
    assert [(r["room_code"], r["live"]) for r in row["receivers"]] == [("C-R1", False)]


@pytest.mark.parametrize("changes,error,code", [
    ({"source_room": "Z-9"}, NotFound, "unknown_room"),
    ({"receiving_classes": ["Z-C1"]}, NotFound, "unknown_class"),
    ({"receiving_classes": [], "receiving_rooms": ["Z-R1"]}, NotFound, "unknown_room"),
    ({"receiving_classes": ["B-C9"]}, Invalid, "class_without_room"),
    ({"source_room": "A-R2"}, Invalid, "not_a_source_room"),
    ({"source_room": "B-BC"}, Forbidden, "forbidden_school"),
    ({"host": "t2"}, Forbidden, "forbidden_host"),
    ({"host": "nobody"}, NotFound, "unknown_host"),
    ({"receiving_classes": []}, Invalid, "no_receivers"),
    ({"kind": "recording"}, Invalid, "recording_has_receivers"),
    ({"receiving_classes": [], "receiving_rooms": ["A-BC"]}, Invalid, "source_receives"),
    ({"ends_at": at(MONDAY, "09:00")}, Invalid, "ends_before_start"),
    ({"ends_at": at(MONDAY, "10:00")}, Invalid, "too_short"),
    ({"starts_at": at(MONDAY, "06:00"), "ends_at": at(MONDAY, "18:00")}, Invalid, "too_long"),
    ({"starts_at": at(MONDAY, "17:30"), "ends_at": at(MONDAY, "18:15")}, Invalid, "outside_hours"),
    ({"starts_at": at(date(2027, 1, 1), "10:00"), "ends_at": at(date(2027, 1, 1), "10:45")}, Invalid, "holiday"),
    ({"starts_at": at(date(2026, 12, 6), "10:00"), "ends_at": at(date(2026, 12, 6), "10:45")}, Invalid,
     "not_school_day"),
    ({"starts_at": at(date(2026, 11, 30), "10:00"), "ends_at": at(date(2026, 11, 30), "10:45")}, Invalid, "in_past"),
    ({"receiving_classes": ["B-C1"], "starts_at": at(date(2026, 12, 1), "10:00"),
      "ends_at": at(date(2026, 12, 1), "10:45")}, Invalid, "too_late_for_approval"),
    ({"repeat": {"weekdays": ["mon"], "until": "2027-01-25"}}, Invalid, "past_term"),
    ({"repeat": {"weekdays": ["tue"], "until": "2027-01-12"}}, Invalid, "bad_repeat"),
    ({"repeat": {"weekdays": ["mon", "sat"], "until": "2027-01-12"}}, Invalid, "bad_repeat"),
])
def test_bad_requests_are_refused_precisely_and_write_nothing(county, changes, error, code):
    database, users = county
    before = count(database), count(database, "audit_log")
    with pytest.raises(error) as caught:
        store.book(database, lesson(**changes), users["t1"], COMMAND_LINE, RULES, NOW)
    assert caught.value.code == code
    assert caught.value.message
    assert (count(database), count(database, "audit_log")) == before


def test_the_admin_and_sessions_within_the_school_need_no_time_for_approval(county):
    database, users = county
    today = {"starts_at": at(date(2026, 12, 1), "10:00"), "ends_at": at(date(2026, 12, 1), "10:45")}
    assert store.book(database, lesson(**today), users["t1"], COMMAND_LINE, RULES, NOW)["sessions"]
    far = lesson(receiving_classes=["B-C1"], source_room="A-DG", **today)
    assert store.book(database, far, users["admin"], COMMAND_LINE, RULES, NOW)["sessions"][0]["state"] == "booked"


def test_a_series_outside_any_term_is_refused_as_past_term(county):
    database, users = county
    with pytest.raises(Invalid) as caught:
        store.book(database, lesson(repeat={"weekdays": ["mon"], "until": "2026-12-28"}), users["t1"],
                   COMMAND_LINE, rules(terms=""), NOW)
    assert caught.value.code == "past_term"


def series(users, database, book="all", **changes):
    request = lesson(repeat={"weekdays": ["mon", "fri"], "until": "2027-01-04"}, book=book, **changes)
    return store.book(database, request, users["t1"], COMMAND_LINE, RULES, NOW)


def test_a_weekly_series_books_every_free_occurrence_and_skips_holidays(county):
    database, users = county
    answer = series(users, database)
    assert [o["status"] for o in answer["preview"]] == ["book"] * 7 + ["skip", "book"]  # 2027-01-01 a holiday
    assert len(answer["sessions"]) == 8
    assert {s["series_id"] for s in answer["sessions"]} == {answer["sessions"][0]["series_id"]}
    rule = database.execute("SELECT rule FROM sky_session_series").fetchone()[0]
    assert rule == "FREQ=WEEKLY;BYDAY=MO,FR;UNTIL=20270104T155959Z"


def test_a_series_with_a_busy_occurrence_books_all_or_none_or_only_the_free_ones(county):
    database, users = county
    blocker = lesson(source_room="A-DG", receiving_classes=[], receiving_rooms=["A-R1"], title="期末复习",
                     starts_at=at(date(2026, 12, 18), "10:30"), ends_at=at(date(2026, 12, 18), "11:00"))
    store.book(database, blocker, users["t2"], COMMAND_LINE, RULES, NOW)
    preview = store.check(database, lesson(repeat={"weekdays": ["mon", "fri"], "until": "2027-01-04"}),
                          users["t1"], RULES, NOW)
    assert not preview["ok"]
    failing = [o for o in preview["preview"] if o["status"] == "fails"]
    assert [o["day"] for o in failing] == ["2026-12-18"]
    assert failing[0]["problems"][0]["message"] == "一(1)班教室 (A-R1) is taken by “期末复习”, 10:30–11:00"
    with pytest.raises(Conflict):
        series(users, database)
    assert count(database) == 1 and count(database, "sky_session_series") == 0
    answer = series(users, database, book="free")
    assert len(answer["sessions"]) == 7
    assert "2026-12-18" not in {s["occurrence_day"] for s in answer["sessions"]}


def test_editing_the_rest_of_a_series_never_brings_back_a_cancelled_or_skipped_occurrence(county):
    database, users = county
    rows = series(users, database)["sessions"]
    by_day = {s["occurrence_day"]: s for s in rows}
    store.cancel(database, by_day["2026-12-14"]["id"], 1, "this", "", users["t1"], COMMAND_LINE, NOW)
    second = by_day["2026-12-11"]
    changed = store.edit(database, second["id"], EditRequest(version=1, scope="rest", title="改名",
                                                               starts_at=at(date(2026, 12, 11), "14:00"),
                                                               ends_at=at(date(2026, 12, 11), "14:45")),
                         users["t1"], COMMAND_LINE, RULES, NOW)
    assert [s["occurrence_day"] for s in changed] == ["2026-12-11", "2026-12-18", "2026-12-21", "2026-12-25",
                                                      "2026-12-28", "2027-01-04"]
    assert all(s["title"] == "改名" and s["starts_at"].endswith("T06:00:00.000000Z") for s in changed)
    now_rows = schedule.sessions(database, at(MONDAY, "00:00"), at(date(2027, 1, 5), "00:00"))
    assert {s["occurrence_day"]: s["state"] for s in now_rows} == {
        "2026-12-07": "booked", "2026-12-11": "booked", "2026-12-14": "cancelled", "2026-12-18": "booked",
        "2026-12-21": "booked", "2026-12-25": "booked", "2026-12-28": "booked", "2027-01-04": "booked"}
    assert "2027-01-01" not in {s["occurrence_day"] for s in now_rows}
    assert schedule.session(database, by_day["2026-12-07"]["id"])["title"] == "三年级数学公开课"
    assert len(events(database, "session_edited")) == 6
    cancelled = store.cancel(database, second["id"], 2, "rest", "学期调整", users["t1"], COMMAND_LINE, NOW)
    assert len(cancelled) == 6 and {s["state"] for s in cancelled} == {"cancelled"}


def test_an_edit_of_the_rest_may_not_move_the_day(county):
    database, users = county
    first = series(users, database)["sessions"][0]
    with pytest.raises(Invalid) as caught:
        store.edit(database, first["id"], EditRequest(version=1, scope="rest", starts_at=at(date(2026, 12, 8), "10:00"),
                                                      ends_at=at(date(2026, 12, 8), "10:45")),
                   users["t1"], COMMAND_LINE, RULES, NOW)
    assert caught.value.code == "bad_scope"


def test_a_stale_edit_is_refused_and_changes_nothing(county):
    database, users = county
    [row] = store.book(database, lesson(), users["t1"], COMMAND_LINE, RULES, NOW)["sessions"]
    store.edit(database, row["id"], EditRequest(version=1, notes="带教具"), users["t1"], COMMAND_LINE, RULES, NOW)
    with pytest.raises(Conflict) as caught:
        store.edit(database, row["id"], EditRequest(version=1, title="旧页面的改动"), users["t1"], COMMAND_LINE,
                   RULES, NOW)
    assert (caught.value.code, caught.value.details) == ("stale", {"version": 2})
    assert schedule.session(database, row["id"])["title"] == "三年级数学公开课"


def test_an_edit_is_checked_like_a_booking_against_everything_but_itself(county):
    database, users = county
    [mine] = store.book(database, lesson(), users["t1"], COMMAND_LINE, RULES, NOW)["sessions"]
    store.book(database, lesson(source_room="A-DG", receiving_classes=[], receiving_rooms=["A-R2"], title="别人的",
                                starts_at=at(MONDAY, "10:40"), ends_at=at(MONDAY, "11:20")), users["t2"],
               COMMAND_LINE, RULES, NOW)
    moved = store.edit(database, mine["id"], EditRequest(version=1, starts_at=at(MONDAY, "10:05"),
                                                         ends_at=at(MONDAY, "10:45")), users["t1"], COMMAND_LINE,
                       RULES, NOW)
    assert moved[0]["version"] == 2  # overlapping its own old slot is no conflict
    with pytest.raises(Conflict) as caught:
        store.edit(database, mine["id"], EditRequest(version=2, receiving_rooms=["A-R2"]), users["t1"],
                   COMMAND_LINE, RULES, NOW)
    assert caught.value.details["problems"][0]["session_title"] == "别人的"
    far = store.edit(database, mine["id"], EditRequest(version=2, receiving_classes=["B-C1"]), users["t1"],
                     COMMAND_LINE, RULES, NOW)
    assert far[0]["state"] == "pending" and [r["room_code"] for r in far[0]["receivers"]] == ["B-R1"]


@pytest.mark.parametrize("who,allowed", [("t1", True), ("t2", False), ("tb", False), ("it", True),
                                         ("admin", True), ("viewer", False)])
def test_hosts_edit_their_own_it_staff_their_schools_and_the_admin_any(county, who, allowed):
    database, users = county
    [row] = store.book(database, lesson(), users["t1"], COMMAND_LINE, RULES, NOW)["sessions"]
    if allowed:
        assert store.cancel(database, row["id"], 1, "this", "", users[who], COMMAND_LINE, NOW)[0]["state"] == "cancelled"
    else:
        with pytest.raises(Forbidden):
            store.cancel(database, row["id"], 1, "this", "", users[who], COMMAND_LINE, NOW)
        assert schedule.session(database, row["id"])["state"] == "booked"


def test_it_staff_book_for_a_teacher_of_their_school(county):
    database, users = county
    [row] = store.book(database, lesson(host="t2"), users["it"], COMMAND_LINE, RULES, NOW)["sessions"]
    assert row["host_username"] == "t2"
    with pytest.raises(Forbidden):
        store.book(database, lesson(host="tb", starts_at=at(MONDAY, "14:00"), ends_at=at(MONDAY, "14:45")),
                   users["it"], COMMAND_LINE, RULES, NOW)


def test_schedules_list_a_rooms_and_a_schools_sessions_as_source_or_receiver(county):
    database, users = county
    store.book(database, lesson(receiving_classes=["B-C1"]), users["t1"], COMMAND_LINE, RULES, NOW)
    store.book(database, lesson(source_room="D-BC", receiving_classes=["D-C1"], starts_at=at(MONDAY, "14:00"),
                                ends_at=at(MONDAY, "14:45")), users["admin"], COMMAND_LINE, RULES, NOW)
    week = (at(MONDAY, "00:00"), at(MONDAY + timedelta(days=7), "00:00"))
    assert [s["title"] for s in schedule.room_schedule(database, "B-R1", *week)] == ["三年级数学公开课"]
    assert [s["title"] for s in schedule.room_schedule(database, "A-BC", *week)] == ["三年级数学公开课"]
    assert [s["source_room_code"] for s in schedule.school_schedule(database, "B", *week)] == ["A-BC"]
    assert [s["source_room_code"] for s in schedule.sessions(database, *week)] == ["A-BC", "D-BC"]
    assert schedule.sessions(database, at(MONDAY, "10:45"), at(MONDAY, "14:00")) == []  # half-open both ways
    assert len(schedule.sessions(database, at(MONDAY, "10:44"), at(MONDAY, "14:01"))) == 2
    assert [s["title"] for s in schedule.sessions(database, *week, host_id=users["t1"].id)] == ["三年级数学公开课"]
    assert [s["state"] for s in schedule.sessions(database, *week, states=["pending"])] == ["pending"]


def test_the_picker_lists_source_rooms_and_every_class_by_area_township_and_school(county):
    database, _users = county
    assert [r["code"] for r in schedule.source_rooms(database, {"A"})] == ["A-BC", "A-DG"]
    assert {r["code"] for r in schedule.source_rooms(database, None)} == {"A-BC", "A-DG", "B-BC", "D-BC"}
    tree = {a["code"]: a for a in schedule.receiver_choices(database)}
    [zhehai] = tree["zhehai"]["townships"]
    assert [s["code"] for s in zhehai["schools"]] == ["B", "D"]
    assert [c["code"] for c in zhehai["schools"][0]["classes"]] == ["B-C1", "B-C2", "B-C9"]


def test_the_hub_runs_the_booking_jobs_with_the_configured_deadline(county, db_path):
    database, users = county
    [pending] = store.book(database, lesson(receiving_classes=["B-C1"]), users["t1"], COMMAND_LINE, RULES,
                           NOW)["sessions"]
    [booked] = store.book(database, lesson(starts_at=at(MONDAY, "08:00"), ends_at=at(MONDAY, "08:45")), users["t1"],
                          COMMAND_LINE, RULES, NOW)["sessions"]
    jobs = {job.name: job for job in hub_jobs(config(db_path, approval_deadline_h=2))}
    assert run_job(jobs["expire_pending"], database, at(MONDAY, "07:59"), record_job_run) == {"expired": 0}
    assert run_job(jobs["expire_pending"], database, at(MONDAY, "08:00"), record_job_run) == {"expired": 1}
    assert run_job(jobs["finish_sessions"], database, at(MONDAY, "09:00"), record_job_run) == {"finished": 1}
    assert schedule.session(database, pending["id"])["state"] == "expired"
    assert schedule.session(database, booked["id"])["state"] == "finished"
    [expired] = events(database, "session_expired")
    assert (expired["actor"], expired["before"]["state"], expired["after"]["state"]) == (None, "pending", "expired")
