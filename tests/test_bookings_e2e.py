"""Booking over HTTP against a real hub process: book, refuse with 409, edit, approve, and 50
concurrent requests for one slot or one school's bandwidth, where exactly what fits wins.
Every answer is checked against the OpenAPI document the hub serves."""
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import requests
from jsonschema import Draft202012Validator

from eduops import db as dbmod
from tests.support.hubprocess import HubProcess
from tests.support.bookings_county import (add_broadcast_rooms, add_hosts, add_token, add_user, add_village, at,
                                           build, live_settings, next_school_monday)

pytestmark = pytest.mark.e2e
TODAY = datetime.now(timezone.utc).date()
MONDAY = next_school_monday(TODAY)
S = "/api/v1/sessions"


@pytest.fixture(scope="module")
def live_hub(tmp_path_factory):
    """A real hub on the test county, with tokens for a teacher of A, a teacher of B, the admin and a viewer,
    a village school V (40 Mbps: six live streams) with 50 rooms, and 50 broadcast rooms and hosts at A."""
    path = tmp_path_factory.mktemp("bookings-e2e") / "hub.db"
    database = dbmod.connect(path)
    build(database)
    tokens = {name: add_token(database, add_user(database, name, role, schools))
              for name, role, schools in [("t1", "teacher", ["A"]), ("t2", "teacher", ["A"]),
                                          ("tb", "teacher", ["B"]), ("admin", "admin", []),
                                          ("viewer", "viewer", [])]}
    extra = {"village_rooms": add_village(database, "V", 40.0, 50),
             "sources": add_broadcast_rooms(database, "A", 50), "hosts": add_hosts(database, "A", 50)}
    database.conn.close()
    hub = HubProcess(path, env=live_settings(TODAY))
    try:
        doc = requests.get(hub.url + "/api/openapi.json", timeout=10).json()
        yield hub, tokens, extra, doc
    finally:
        hub.stop()
    assert "Traceback" not in hub.output


def call(hub, doc, token, method, path, headers=None, **kw):
    """One request with a token; its answer must match the schema the served document declares."""
    answer = requests.request(method, hub.url + path, headers={"Authorization": f"Bearer {token}", **(headers or {})},
                              timeout=30, **kw)
    bare = path.split("?")[0]
    template = bare if bare in doc["paths"] else next(
        t for t in doc["paths"] if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", t), bare))
    declared = doc["paths"][template][method.lower()]["responses"]
    assert str(answer.status_code) in declared, (method, path, answer.status_code, answer.text)
    schema = declared[str(answer.status_code)]["content"]["application/json"]["schema"]
    problems = [e.message for e in Draft202012Validator({**schema, "components": doc["components"]}).iter_errors(
        answer.json())]
    assert not problems, (method, path, problems)
    return answer


def lesson(start="10:00", end="10:45", **changes):
    return {"kind": "open_lesson", "title": "三年级数学公开课", "source_room": "A-BC",
            "starts_at": at(MONDAY, start).isoformat(), "ends_at": at(MONDAY, end).isoformat(),
            "receiving_classes": ["A-C1"]} | changes


def test_a_teacher_books_sees_edits_and_cancels_a_session_over_http(live_hub):
    hub, tokens, _extra, doc = live_hub
    created = call(hub, doc, tokens["t1"], "POST", S, json=lesson("08:00", "08:45", title="早读课"))
    assert created.status_code == 201, created.text
    [row] = created.json()["sessions"]
    assert row["state"] == "booked" and row["starts_at"].endswith("T00:00:00.000000Z")
    week = call(hub, doc, tokens["viewer"], "GET", "/api/v1/rooms/A-BC/schedule", params={"from": MONDAY.isoformat()})
    assert [s["id"] for s in week.json()["sessions"]] == [row["id"]]
    assert call(hub, doc, tokens["viewer"], "GET", "/api/v1/schools/A/schedule",
                params={"from": MONDAY.isoformat()}).json()["sessions"][0]["id"] == row["id"]
    edited = call(hub, doc, tokens["t1"], "PATCH", f"{S}/{row['id']}", json={"version": 1, "notes": "带上教具"})
    assert edited.json()["sessions"][0]["version"] == 2
    stale = call(hub, doc, tokens["t1"], "PATCH", f"{S}/{row['id']}", json={"version": 1, "title": "旧页面"})
    assert (stale.status_code, stale.json()["error"], stale.json()["version"]) == (409, "stale", 2)
    other = call(hub, doc, tokens["t2"], "POST", f"{S}/{row['id']}/cancel", json={"version": 2})
    assert other.status_code == 403
    cancelled = call(hub, doc, tokens["t1"], "POST", f"{S}/{row['id']}/cancel", json={"version": 2, "reason": "调课"})
    assert cancelled.json()["sessions"][0]["state"] == "cancelled"
    assert call(hub, doc, tokens["viewer"], "GET", f"{S}/{row['id']}").json()["reason"] == "调课"


def test_a_conflict_answers_409_in_the_teachers_language_with_three_suggestions(live_hub):
    hub, tokens, _extra, doc = live_hub
    assert call(hub, doc, tokens["t1"], "POST", S, json=lesson("14:00", "14:45")).status_code == 201
    refused = call(hub, doc, tokens["t2"], "POST", S, json=lesson("14:30", "15:15"),
                   headers={"Accept-Language": "zh-CN"})
    assert refused.status_code == 409
    body = refused.json()
    assert body["error"] == "conflict"
    assert body["message"].startswith("希沃录播教室 (A-BC) 已被《三年级数学公开课》占用, 14:00–14:45")
    assert len(body["suggestions"]) == 3
    dry = call(hub, doc, tokens["t2"], "POST", f"{S}/check", json=lesson("14:30", "15:15"))
    assert dry.status_code == 200 and dry.json()["ok"] is False
    assert dry.json()["suggestions"] == body["suggestions"]
    slot = body["suggestions"][0]
    taken = call(hub, doc, tokens["t2"], "POST", S, json=lesson() | slot)
    assert taken.status_code == 201, taken.text


def test_a_cross_school_session_waits_for_the_admin_who_approves_it(live_hub):
    hub, tokens, _extra, doc = live_hub
    created = call(hub, doc, tokens["t1"], "POST", S, json=lesson("16:00", "16:45", receiving_classes=["B-C2"]))
    [row] = created.json()["sessions"]
    assert row["state"] == "pending"
    queue = call(hub, doc, tokens["admin"], "GET", S, params={"state": "pending", "from": MONDAY.isoformat()})
    assert row["id"] in [s["id"] for s in queue.json()["sessions"]]
    assert call(hub, doc, tokens["t1"], "POST", f"{S}/{row['id']}/approve", json={"version": 1}).status_code == 403
    approved = call(hub, doc, tokens["admin"], "POST", f"{S}/{row['id']}/approve", json={"version": 1})
    assert approved.json()["sessions"][0]["state"] == "booked"
    again = call(hub, doc, tokens["admin"], "POST", f"{S}/{row['id']}/reject", json={"version": 2, "reason": "x"})
    assert (again.status_code, again.json()["error"]) == (409, "not_pending")


@pytest.mark.parametrize("body,status,error", [
    (lesson(starts_at=f"{MONDAY}T10:00:00"), 400, "invalid"),                      # a time without its zone
    (lesson(receivers=["A-C1"]), 400, "invalid"),                                  # a field that does not exist
    (lesson("10:00", "09:00"), 400, "ends_before_start"),
    (lesson("10:00", "10:00"), 400, "too_short"),
    (lesson("06:00", "18:00"), 400, "too_long"),
    (lesson(source_room="NOPE"), 404, "unknown_room"),
    (lesson(receiving_classes=["NOPE"]), 404, "unknown_class"),
    (lesson(source_room="A-R2"), 400, "not_a_source_room"),
    (lesson(source_room="B-BC"), 403, "forbidden_school"),
    (lesson(repeat={"weekdays": ["mon"], "until": "2099-01-01"}), 400, "past_term"),
])
def test_bad_input_gets_a_precise_4xx_and_writes_nothing(live_hub, body, status, error):
    hub, tokens, _extra, doc = live_hub
    before = call(hub, doc, tokens["viewer"], "GET", S, params={"from": MONDAY.isoformat()}).json()["sessions"]
    answer = call(hub, doc, tokens["t1"], "POST", S, json=body)
    assert (answer.status_code, answer.json()["error"]) == (status, error), answer.text
    assert answer.json()["message"]
    assert call(hub, doc, tokens["viewer"], "GET", S, params={"from": MONDAY.isoformat()}).json()["sessions"] == before


def test_a_viewer_and_a_stranger_cannot_book(live_hub):
    hub, tokens, _extra, doc = live_hub
    assert call(hub, doc, tokens["viewer"], "POST", S, json=lesson("11:00", "11:45")).status_code == 403
    assert call(hub, doc, "not-a-token", "POST", S, json=lesson("11:00", "11:45")).status_code == 401
    assert call(hub, doc, tokens["viewer"], "GET", S, params={"from": "tomorrow"}).status_code == 400


def _race(hub, bodies_and_tokens):
    """Send every request at the same moment; return the answers."""
    start = threading.Barrier(len(bodies_and_tokens))

    def send(item):
        token, body = item
        start.wait()
        return requests.post(hub.url + S, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60)

    with ThreadPoolExecutor(len(bodies_and_tokens)) as pool:
        return list(pool.map(send, bodies_and_tokens))


def test_fifty_concurrent_requests_for_one_slot_book_it_once_and_49_hear_who_won(live_hub):
    hub, tokens, _extra, doc = live_hub
    body = lesson("11:00", "11:45", title="同一时段")
    answers = _race(hub, [(tokens[("t1", "t2")[i % 2]], body | {"notes": f"请求 {i}"}) for i in range(50)])
    won = [a for a in answers if a.status_code == 201]
    lost = [a for a in answers if a.status_code == 409]
    assert len(won) == 1 and len(lost) == 49, [a.status_code for a in answers]
    winner = won[0].json()["sessions"][0]["id"]
    for answer in lost:
        problems = answer.json()["problems"]
        assert {p["session_id"] for p in problems if p["kind"] == "room_busy"} == {winner}
    week = call(hub, doc, tokens["viewer"], "GET", "/api/v1/rooms/A-BC/schedule",
                params={"from": MONDAY.isoformat()}).json()["sessions"]
    assert [s["id"] for s in week if s["title"] == "同一时段"] == [winner]


def test_fifty_concurrent_requests_over_one_schools_bandwidth_book_exactly_what_fits(live_hub):
    hub, tokens, extra, doc = live_hub
    # V has 40 Mbps, 24 for live streams: six streams of 4 Mbps. Each request is its own room, host and receiver.
    bodies = [(tokens["admin"], lesson("09:00", "09:45", title=f"村小直播 {i}", source_room=source, host=host,
                                       receiving_classes=[], receiving_rooms=[room]))
              for i, (source, host, room) in enumerate(zip(extra["sources"], extra["hosts"], extra["village_rooms"]))]
    answers = _race(hub, bodies)
    won = [a for a in answers if a.status_code == 201]
    lost = [a for a in answers if a.status_code == 409]
    assert len(won) == 6 and len(lost) == 44, [a.status_code for a in answers]
    for answer in lost:
        [problem] = answer.json()["problems"]
        assert (problem["kind"], problem["resource"], problem["need_mbps"], problem["free_mbps"]) == (
            "bandwidth", "V", 4.0, 0.0)
    held = call(hub, doc, tokens["viewer"], "GET", "/api/v1/schools/V/schedule",
                params={"from": MONDAY.isoformat()}).json()["sessions"]
    assert sorted(s["id"] for s in held) == sorted(a.json()["sessions"][0]["id"] for a in won)


def test_a_series_preview_says_per_occurrence_book_or_fails_and_books_only_the_free_ones(live_hub):
    hub, tokens, _extra, doc = live_hub
    until = (MONDAY + timedelta(days=21)).isoformat()
    blocker = lesson("12:00", "12:30", title="占位", source_room="A-DG", receiving_classes=[], receiving_rooms=["A-R2"])
    blocker |= {"starts_at": at(MONDAY + timedelta(days=7), "12:00").isoformat(),
                "ends_at": at(MONDAY + timedelta(days=7), "12:30").isoformat()}
    assert call(hub, doc, tokens["t2"], "POST", S, json=blocker).status_code == 201
    series = lesson("12:00", "12:40", receiving_classes=[], receiving_rooms=["A-R2"],
                    repeat={"weekdays": ["mon"], "until": until})
    preview = call(hub, doc, tokens["t1"], "POST", f"{S}/check", json=series).json()
    assert [o["status"] for o in preview["preview"]] == ["book", "fails", "book", "book"]
    assert preview["problems"][0]["session_title"] == "占位" and not preview["ok"]
    assert call(hub, doc, tokens["t1"], "POST", S, json=series).status_code == 409
    booked = call(hub, doc, tokens["t1"], "POST", S, json=series | {"book": "free"}).json()["sessions"]
    assert len(booked) == 3 and len({s["series_id"] for s in booked}) == 1
    mine = call(hub, doc, tokens["t1"], "GET", S, params={"mine": "yes", "from": MONDAY.isoformat(),
                                                           "to": (MONDAY + timedelta(days=28)).isoformat()})
    assert {s["id"] for s in booked} <= {s["id"] for s in mine.json()["sessions"]}
    assert all(s["host_username"] == "t1" for s in mine.json()["sessions"])


@pytest.mark.parametrize("path,params,status,error", [
    (S, {"from": "2026-12-07T08:00:00"}, 400, "bad_argument"),         # a time without its zone
    (S, {"from": "2026-12-01", "to": "2027-06-01"}, 400, "bad_argument"),  # more than 92 days
    (S, {"state": "lost"}, 400, "bad_argument"),
    (S, {"host": "nobody"}, 400, "bad_argument"),
    (f"{S}/999999", {}, 404, "not_found"),
    ("/api/v1/rooms/NOPE/schedule", {}, 404, "unknown_room"),
    ("/api/v1/schools/NOPE/schedule", {}, 404, "unknown_school"),
])
def test_bad_reads_get_a_precise_4xx(live_hub, path, params, status, error):
    hub, tokens, _extra, doc = live_hub
    answer = call(hub, doc, tokens["viewer"], "GET", path, params=params)
    assert (answer.status_code, answer.json()["error"]) == (status, error), answer.text
