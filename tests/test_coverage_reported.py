"""Coverage of school E of the hand-built county, made by real agents reporting over HTTP to a real hub.

Each case is one a county meets every week; the figures are worked out by hand
(``now`` is the real clock the hub reads; every report lies well inside a county-local day):

e1  enrolls in E-R1 (terminal E-T1). Yesterday it reported with its wired link up and
    the school's E-TEACH at -60 dBm, then a teacher's phone hotspot at -40 dBm.
    Today it was moved to E-R2 (terminal E-T2) and reported there with no wired
    link, on the school's other network E-OFFICE at -70 dBm.
      E-R1: working, wired, wireless (yesterday's reports, made in E-R1; the hotspot hides nothing)
      E-R2: working, wireless (E-OFFICE is the school's too), not wired (nothing wired was seen there)
e2  enrolls in E-R3 (terminal E-T3) and sends one report, made 7 days and 3 minutes
    ago, wired link up. The window is the last 7 county-local days, today included:
    that day is outside it, for every measure.
      E-R3: not working, not wired, not wireless
e3  enrolls in E-R4 (terminal E-T4, no class's home), reports now, then IT staff retire it:
    the inventory still lists E-T4 (a disagreement, until the inventory is cleaned).
School E: wired (E-R1), Wi-Fi (E-R1, E-R2); no wifi_unseen. No terminal_unseen in E
(each room had reports).
"""
from datetime import datetime, timedelta, timezone

import pytest

from eduops import db as dbmod
from tests.support import coverage_county
from tests.support.accounts_helpers import Visitor, create_user
from tests.support.fleet_kit import Agent, create_token
from tests.support.hubprocess import HubProcess


@pytest.fixture(scope="module")
def reported_hub(tmp_path_factory):
    path = tmp_path_factory.mktemp("reported") / "hub.db"
    database = dbmod.connect(path)
    dbmod.migrate(database)
    coverage_county.build(database, now=datetime.now(timezone.utc))
    database.conn.close()
    viewer, admin = create_user(path, "viewer"), create_user(path, "admin")
    process = HubProcess(path)
    token = create_token(path, "E")
    now = datetime.now(timezone.utc)

    e1 = Agent(process.url, room="E-R1", hostname="e1")
    assert e1.enroll(token).status_code == 201
    yesterday = now - timedelta(days=1)
    answer = e1.send(e1.report(yesterday, ssid="E-TEACH", dbm=-60),
                     e1.report(yesterday + timedelta(seconds=1), ssid="Teacher-Phone", dbm=-40))
    assert answer.status_code == 200, answer.text
    answer = e1.send(e1.report(now, wired_up=False, ssid="E-OFFICE", dbm=-70), room="E-R2")
    assert answer.status_code == 200, answer.text

    e2 = Agent(process.url, room="E-R3", hostname="e2")
    assert e2.enroll(token).status_code == 201
    assert e2.send(e2.report(now - timedelta(days=7, minutes=3), ssid=None, dbm=None)).status_code == 200
    e3 = Agent(process.url, room="E-R4", hostname="e3")
    assert e3.enroll(token).status_code == 201
    assert e3.send(e3.report(now)).status_code == 200
    staff = Visitor(process.url, admin)
    retired = staff.session.post(f"{process.url}/api/v1/terminals/{e3.agent_id}/retire", timeout=10)
    assert retired.status_code == 200, retired.text
    yield Visitor(process.url, viewer)
    process.stop()
    assert "Traceback" not in process.output


def get_json(hub, path, **params):
    answer = hub.get(path, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def marks(hub, school="E"):
    answer = get_json(hub, f"/api/v1/coverage/schools/{school}")
    found = {c["room_code"]: {m: v["observed"] for m, v in c["marks"].items()} for c in answer["classes"]}
    return found, {m: v["observed"] for m, v in answer["marks"].items()}


def test_a_phone_hotspot_never_hides_the_schools_own_wifi(reported_hub):
    rooms, school = marks(reported_hub)
    assert rooms["E-R1"]["class_wireless"] is True
    assert school["school_wireless"] is True
    unseen = get_json(reported_hub, "/api/v1/coverage/disagreements", kind="wifi_unseen")["disagreements"]
    assert "E" not in [d["school_code"] for d in unseen]


def test_any_of_a_schools_ssids_counts_as_its_wifi(reported_hub):
    rooms, _school = marks(reported_hub)
    assert rooms["E-R2"]["class_wireless"] is True  # E-OFFICE, the second of E's networks


def test_observations_stay_in_the_room_where_they_were_made(reported_hub):
    rooms, school = marks(reported_hub)
    assert rooms["E-R1"] == {"class_terminal": True, "class_wired": True, "class_wireless": True}
    assert rooms["E-R2"] == {"class_terminal": True, "class_wired": False, "class_wireless": True}
    assert school["school_wired"] is True
    found = get_json(reported_hub, "/api/v1/coverage/disagreements", school="E")["disagreements"]
    assert ("terminal_unseen", "E-R1") not in [(d["kind"], d["room_code"]) for d in found]
    detail = get_json(reported_hub, "/api/v1/coverage/classes/E-C1")
    assert [(a["terminal_code"], len(a["days"])) for a in detail["agents"]] == [("E-T2", 1)]


def test_one_window_rule_a_report_seven_days_and_three_minutes_old_counts_for_no_measure(reported_hub):
    rooms, _school = marks(reported_hub)
    assert rooms["E-R3"] == {"class_terminal": False, "class_wired": False, "class_wireless": False}


def test_a_retired_terminal_the_inventory_still_lists_is_a_disagreement(reported_hub):
    found = get_json(reported_hub, "/api/v1/coverage/disagreements", school="E")["disagreements"]
    assert [(d["kind"], d["room_code"], d.get("terminal")) for d in found] == [
        ("terminal_retired", "E-R4", "E-T4")]


def test_the_overview_states_the_window_rule(reported_hub):
    page = reported_hub.get("/coverage/", params={"lang": "en"}).text
    assert "on one of the last 7 county-local days, today included" in page
