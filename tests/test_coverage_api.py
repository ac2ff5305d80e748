"""The coverage API and pages of a real hub process serving the hand-built county, as each role sees them."""
import csv
import io
from datetime import datetime, timezone

import openpyxl
import pytest

from eduops import db as dbmod
from eduops.coverage import figures
from tests.support import coverage_county
from tests.support.accounts_helpers import Visitor, create_user
from tests.support.hubprocess import HubProcess
from tests.support.coverage_county import EXPECTED

pytestmark = pytest.mark.e2e  # real processes: a hub, agents, a browser or Prometheus


@pytest.fixture(scope="module")
def county_hub(tmp_path_factory):
    """The hand-built county with agents' times relative to the real clock, which the hub reads,
    and one account per role: (hub, {identity: account})."""
    path = tmp_path_factory.mktemp("coverage") / "hub.db"
    database = dbmod.connect(path)
    dbmod.migrate(database)
    coverage_county.build(database, now=datetime.now(timezone.utc))
    database.conn.close()
    accounts = {"viewer": create_user(path, "viewer"), "admin": create_user(path, "admin"),
                "it_staff@B": create_user(path, "it_staff", ["B"]), "teacher@C": create_user(path, "teacher", ["C"])}
    process = HubProcess(path)
    yield process, accounts
    process.stop()


@pytest.fixture(scope="module")
def hub(county_hub):
    """A county-wide viewer of the hub (most tests look as the county technology centre does)."""
    process, accounts = county_hub
    return Visitor(process.url, accounts["viewer"])


def get_json(hub, path, expect=200, **params):
    answer = hub.get(path, params=params)
    assert answer.status_code == expect, answer.text
    assert answer.headers["Content-Type"].startswith("application/json")
    return answer.json()


def test_county_figures_and_areas_match_the_hand_worked_county(hub):
    county = get_json(hub, "/api/v1/coverage")
    assert county["figures"] == figures.ratios(EXPECTED[("county", "")])
    assert [(a["code"], a["name"]) for a in county["children"]] == [
        ("main_urban", "主城区"), ("zhehai", "者海片区"), ("nagu", "娜姑片区"), ("daibu", "待补片区"), ("yiche", "迤车片区")]
    assert {a["code"]: a["figures"] for a in county["children"]} == {
        code: figures.ratios(EXPECTED[("area", code)]) for code in ("main_urban", "zhehai", "nagu", "daibu", "yiche")}


def test_drill_down_from_area_to_township_to_school(hub):
    area = get_json(hub, "/api/v1/coverage/areas/main_urban")
    assert [t["code"] for t in area["children"]] == ["T1", "T3"]
    township = get_json(hub, "/api/v1/coverage/townships/T2")
    assert [(s["code"], s["figures"]) for s in township["children"]] == [
        ("B", figures.ratios(EXPECTED[("school", "B")])), ("C", figures.ratios(EXPECTED[("school", "C")]))]
    assert [p["code"] for p in township["parents"]] == ["", "nagu"]
    school = get_json(hub, "/api/v1/coverage/schools/A")
    marks = {c["code"]: c["marks"] for c in school["classes"]}
    assert list(marks) == ["A-C1", "A-C2", "A-C3", "A-C4", "A-C5"]
    assert marks["A-C4"]["class_terminal"] == {"inventory": False, "observed": True}  # the moved terminal
    assert marks["A-C5"]["class_terminal"] == {"inventory": True, "observed": False}  # retired
    assert school["marks"] == {"school_wired": {"inventory": True, "observed": True},
                               "school_wireless": {"inventory": True, "observed": True}}
    assert get_json(hub, "/api/v1/coverage/schools/C")["classes"] == []


def test_a_class_shows_its_rooms_terminals_and_agents(hub):
    moved_from = get_json(hub, "/api/v1/coverage/classes/A-C3")
    assert [t["code"] for t in moved_from["terminals"]] == ["A-T2"] and moved_from["agents"] == []
    moved_to = get_json(hub, "/api/v1/coverage/classes/A-C4")
    assert moved_to["terminals"] == []
    [agent] = moved_to["agents"]
    assert (agent["id"], agent["terminal_code"]) == ("ag-2", "A-T2")
    assert [d["wifi_best_dbm"] for d in agent["days"]] == [-70]  # the day 8 days back is outside the window
    assert get_json(hub, "/api/v1/coverage/classes/B-C3")["room"] is None


def test_gap_list_filters(hub):
    def codes(**params):
        return [(g["school_code"], g["class_code"]) for g in get_json(hub, "/api/v1/coverage/gaps", **params)["gaps"]]

    assert codes(measure="class_wired", status="missing") == [("A", "A-C4"), ("B", "B-C2"), ("B", "B-C3")]
    assert codes(small_scale="yes") == [("B", None), ("B", "B-C1"), ("B", "B-C2"), ("B", "B-C3")]
    assert codes(area="nagu", stage="junior") == [("C", None)]
    assert codes(township="T3") == [("D", None), ("D", "D-C1")]
    assert codes(measure="school_wireless", status="unobserved") == [("D", None), ("E", None), ("F", None), ("C", None)]
    page = get_json(hub, "/api/v1/coverage/gaps", limit=3, offset=3)
    assert page["total"] == 15 and [g["class_code"] for g in page["gaps"]] == [None, "D-C1", None]
    assert page["counts"]["class_terminal"] == {"missing": 2, "unobserved": 6}


def test_disagreements_by_kind(hub):
    found = get_json(hub, "/api/v1/coverage/disagreements")
    assert [(d["kind"], d["school_code"], d["room_code"]) for d in found["disagreements"]] == [
        ("terminal_unseen", "A", "A-R2"), ("agent_unlisted", "A", "A-R3"), ("terminal_retired", "A", "A-R4"),
        ("wifi_unseen", "D", None), ("terminal_unseen", "E", "E-R1"), ("terminal_unseen", "E", "E-R2"),
        ("terminal_unseen", "E", "E-R3"), ("terminal_unseen", "E", "E-R4")]
    retired = get_json(hub, "/api/v1/coverage/disagreements", kind="terminal_retired")["disagreements"]
    assert [(d["room_code"], d["terminal"]) for d in retired] == [("A-R4", "A-T4")]  # ag-4 retired, A-T4 listed
    only = get_json(hub, "/api/v1/coverage/disagreements", kind="wifi_unseen")["disagreements"]
    assert [(d["school_code"], d["wifi_ssid"]) for d in only] == [("D", "D-WIFI")]


@pytest.mark.parametrize("path, params, status, words", [
    ("/api/v1/coverage/gaps", {"area": "mars"}, 400, "area='mars' is not a known area"),
    ("/api/v1/coverage/gaps", {"measure": "printer"}, 400, "measure='printer'"),
    ("/api/v1/coverage/gaps", {"small_scale": "maybe"}, 400, "yes or no"),
    ("/api/v1/coverage/gaps", {"limit": "0"}, 400, "limit='0' must be a whole number from 1 to 10000"),
    ("/api/v1/coverage/gaps", {"offset": "-1"}, 400, "offset"),
    ("/api/v1/coverage/disagreements", {"kind": "ghost"}, 400, "kind='ghost'"),
    ("/api/v1/coverage/trend", {"level": "galaxy"}, 400, "level='galaxy'"),
    ("/api/v1/coverage/trend", {"days": "9999"}, 400, "days='9999'"),
    ("/api/v1/coverage/trend", {"level": "area", "code": "nowhere"}, 404, "No area with code 'nowhere'"),
    ("/api/v1/coverage/areas/nowhere", {}, 404, "No area with code 'nowhere'"),
    ("/api/v1/coverage/schools/Z", {}, 404, "No school with code 'Z'"),
    ("/api/v1/coverage/classes/Z-C1", {}, 404, "No class with code 'Z-C1'"),
])
def test_bad_requests_get_a_precise_json_error(hub, path, params, status, words):
    assert words in get_json(hub, path, status, **params)["message"]


def test_gap_export_as_xlsx_and_as_csv_that_excel_reads_in_chinese(hub):
    answer = hub.get("/coverage/gaps.xlsx", params={"area": "nagu"})
    assert answer.status_code == 200
    assert "attachment" in answer.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames == ["缺口清单", "小规模学校"]
    keep = list(book["缺口清单"].values)
    assert keep[0][:4] == ("片区", "乡（镇、街道）", "学校编码", "学校")
    assert [row[2] for row in keep[1:]] == ["C"]
    small = list(book["小规模学校"].values)
    assert [(r[6], r[9], r[10], r[11]) for r in small[1:]] == [
        (None, None, None, None), ("B-C1", "未观测到", "未观测到", "缺"), ("B-C2", "缺", "缺", "缺"), ("B-C3", "缺", "缺", "缺")]
    raw = hub.get("/coverage/gaps.csv", params={"measure": "class_terminal", "lang": "en"}).content
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Area", "Township", "School code"]
    assert [(r[6], r[9]) for r in rows[1:]] == [("A-C3", "not observed"), ("A-C5", "not observed"),
                                                ("E-C1", "not observed"), ("E-C2", "not observed"),
                                                ("E-C3", "not observed"), ("B-C1", "not observed"),
                                                ("B-C2", "missing"), ("B-C3", "missing")]
    assert rows[1][1] == "古城街道"  # place names stay as the inventory writes them


def test_pages_speak_chinese_by_default_and_english_on_request(hub):
    front = hub.get("/")
    assert front.url.endswith("/coverage/") and "第九条措施" in front.text and "台账" in front.text
    english = hub.get("/coverage/areas/nagu", params={"lang": "en"}).text
    assert "Nagu" in english and "By township" in english and "台账" not in english
    school = hub.get("/coverage/schools/C").text
    assert "台账中该校没有班级" in school
    gaps = hub.get("/coverage/gaps", params={"small_scale": "yes"}).text
    assert "娜姑村小" in gaps and "古城小学" not in gaps
    assert hub.get("/coverage/classes/A-C4").text.count("ag-2") == 1
    assert "台账与探针一致" not in hub.get("/coverage/disagreements").text


def test_a_school_page_says_why_its_wifi_cannot_be_observed(hub):
    english = hub.get("/coverage/schools/F", params={"lang": "en"}).text
    assert "The inventory names no Wi-Fi network (SSID) for this school" in english
    assert "The inventory names no Wi-Fi network" not in hub.get("/coverage/schools/E", params={"lang": "en"}).text


def test_a_bad_filter_on_a_page_is_a_400_page_that_says_why(hub):
    answer = hub.get("/coverage/gaps", params={"stage": "university"})
    assert answer.status_code == 400
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "stage=&#39;university&#39; is not a known stage" in answer.text
    assert hub.get("/coverage/gaps", params={"page": "7"}).status_code == 400
    assert hub.get("/coverage/gaps.pdf").status_code == 404


def test_it_staff_see_only_their_own_school(county_hub):
    process, accounts = county_hub
    staff = Visitor(process.url, accounts["it_staff@B"])
    county = get_json(staff, "/api/v1/coverage")
    assert county["figures"] == figures.ratios(EXPECTED[("school", "B")])
    assert [a["code"] for a in county["children"]] == ["nagu"]
    assert [s["code"] for s in get_json(staff, "/api/v1/coverage/townships/T2")["children"]] == ["B"]
    assert {g["school_code"] for g in get_json(staff, "/api/v1/coverage/gaps")["gaps"]} == {"B"}
    assert get_json(staff, "/api/v1/coverage/disagreements")["disagreements"] == []
    assert [s["code"] for s in get_json(staff, "/api/v1/coverage/trend")["series"]] == ["B"]
    for other in ("/api/v1/coverage/schools/A", "/api/v1/coverage/classes/A-C1"):
        assert get_json(staff, other, 403)["error"] == "forbidden_school"
    assert get_json(staff, "/api/v1/coverage/areas/main_urban", 404)["error"] == "not_found"
    assert get_json(staff, "/api/v1/coverage/gaps", 400, school="A")["error"] == "bad_filter"
    assert "古城小学" not in staff.get("/coverage/gaps.csv").content.decode("utf-8-sig")
    assert staff.get("/coverage/schools/A").status_code == 403
    assert "娜姑村小" in staff.get("/coverage/schools/B").text


def test_a_teacher_sees_their_school_and_admin_and_viewer_the_county(county_hub):
    process, accounts = county_hub
    teacher = Visitor(process.url, accounts["teacher@C"])
    assert get_json(teacher, "/api/v1/coverage")["figures"] == figures.ratios(EXPECTED[("school", "C")])
    assert get_json(teacher, "/api/v1/coverage/schools/B", 403)["error"] == "forbidden_school"
    for role in ("admin", "viewer"):
        looker = Visitor(process.url, accounts[role])
        assert get_json(looker, "/api/v1/coverage")["figures"] == figures.ratios(EXPECTED[("county", "")])
        assert get_json(looker, "/api/v1/coverage/classes/A-C1")["code"] == "A-C1"


def test_strangers_must_sign_in(county_hub):
    process, _accounts = county_hub
    stranger = Visitor(process.url)
    assert get_json(stranger, "/api/v1/coverage/gaps", 401)["error"] == "unauthorized"
    page = stranger.get("/coverage/gaps", allow_redirects=False)
    assert page.status_code == 303 and page.headers["Location"].startswith("/login")
    assert stranger.get("/coverage/gaps.xlsx", allow_redirects=False).status_code == 303
