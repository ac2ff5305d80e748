"""The fleet's pages through the Flask test client: terminals and enrollment tokens, by role and school."""
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from eduops.app import create_app
from eduops.audit import COMMAND_LINE
from eduops.fleet import store, tokens
from tests.support.clock import Clock
from tests.support.fleet_kit import build_county, iso, report_body

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc)  # Monday 10:00 in Huize, in class hours
SECRET = re.compile(r"et_[A-Za-z0-9_-]{43}")


def enroll(client, school: str, room: str, hostname: str, machine_id: str, database) -> tuple[str, str]:
    secret = tokens.create_token(database, school, NOW, timedelta(days=1), None, COMMAND_LINE).secret
    answer = client.post("/api/v1/enroll", json={
        "token": secret, "room": room, "instance_id": str(uuid.uuid4()), "agent_version": "0.1.0",
        "hardware": {"hostname": hostname, "machine_id": machine_id, "macs": [], "display_serials": []}})
    assert answer.status_code == 201, answer.text
    return answer.json["agent_id"], answer.json["agent_key"]


@pytest.fixture
def world(db_path, hub_config, fresh_db, make_user, login):
    """S1: agent ``wired`` (reporting, clock 5 minutes slow) and ``clone`` (same machine id, proposed for
    retirement); S2: agent ``other``. ``sign_in(role, *schools)`` gives a signed-in client."""
    build_county(db_path)
    app = create_app(hub_config, Clock(NOW))
    client = app.test_client()
    ids = {}
    ids["wired"], key = enroll(client, "S1", "S1-R1", "HZ-1", "m-1", fresh_db)
    ids["clone"], _ = enroll(client, "S1", "S1-R2", "jiaoshi-2", "m-1", fresh_db)
    ids["other"], _ = enroll(client, "S2", "S2-R1", "jiaoshi-3", "m-3", fresh_db)
    sent = client.post("/api/v1/reports", headers={"Authorization": f"Bearer {key}"}, json={
        "sent_at": iso(NOW - timedelta(seconds=300)), "reports": [
            {"id": str(uuid.uuid4()), "seq": 1, "agent_time": iso(NOW - timedelta(seconds=420)),
             "body": report_body(wired_up=True, ssid="HZJY-S1", dbm=-61)}]})
    assert sent.status_code == 200, sent.text
    store.record_verdicts(fresh_db, [], [ids["clone"]], NOW)

    def sign_in(role: str, *schools: str):
        signed_in = app.test_client()
        login(signed_in, make_user(role, schools))
        return signed_in
    return sign_in, ids


def agent_state(database, agent_id: str) -> str:
    return database.execute("SELECT state FROM agents WHERE id = ?", [agent_id]).fetchone()[0]


def test_it_staff_see_their_schools_terminals_in_chinese(world):
    sign_in, ids = world
    staff = sign_in("it_staff", "S1")
    page = staff.get("/fleet/terminals")
    assert page.status_code == 200
    text = page.text
    assert ids["wired"] in text and ids["clone"] in text and ids["other"] not in text
    assert "S1-T1" in text and "在线" in text
    assert "偏差 +300 秒" in text  # hub clock minus agent clock, beyond clock_skew_warn_s
    assert "1 次上报中 1 次有线连通" in text and "HZJY-S1，最强 -61 dBm" in text
    assert text.count("与其他代理共用硬件（1）") == 2
    assert "建议报废" in text and "确认报废" in text
    assert "2026-11-30 09:58" in text and "2分钟前" in text  # made 7 minutes ago by a clock 5 minutes slow
    assert staff.get("/fleet/terminals?school=S2").status_code == 403
    assert staff.get("/fleet/terminals?state=asleep").status_code == 400
    assert ids["wired"] not in staff.get("/fleet/terminals?state=offline").text
    assert "Wired link up in 1 of 1 reports" in staff.get("/fleet/terminals?lang=en").text


def test_viewers_look_teachers_see_no_fleet_pages(world):
    sign_in, ids = world
    viewer = sign_in("viewer")
    text = viewer.get("/fleet/terminals").text
    assert all(agent_id in text for agent_id in ids.values())
    assert "确认报废" not in text and 'href="/fleet/terminals"' in text and 'href="/fleet/tokens"' not in text
    assert viewer.post(f"/fleet/terminals/{ids['clone']}/retire").status_code == 403
    assert viewer.get("/fleet/tokens").status_code == 403
    teacher = sign_in("teacher", "S1")
    assert teacher.get("/fleet/terminals").status_code == 403
    assert teacher.get("/fleet/tokens").status_code == 403
    assert 'href="/fleet/' not in teacher.get("/account").text


def test_it_staff_confirm_a_retirement_in_their_school_only(world, fresh_db):
    sign_in, ids = world
    staff = sign_in("it_staff", "S1")
    assert staff.post(f"/fleet/terminals/{ids['other']}/retire").status_code == 403
    assert agent_state(fresh_db, ids["other"]) == "online"
    assert staff.post("/fleet/terminals/ag_nowhere/retire").status_code == 404
    done = staff.post(f"/fleet/terminals/{ids['clone']}/retire")
    assert done.status_code == 303 and done.headers["Location"] == f"/fleet/terminals?school=S1&done={ids['clone']}"
    assert agent_state(fresh_db, ids["clone"]) == "retired"
    assert "已报废" in staff.get(done.headers["Location"]).text


def test_forms_without_the_csrf_token_are_refused(world, fresh_db):
    sign_in, ids = world
    staff = sign_in("it_staff", "S1")
    staff.environ_base.pop("HTTP_X_CSRF_TOKEN")
    assert staff.post(f"/fleet/terminals/{ids['clone']}/retire").status_code == 403
    assert staff.post("/fleet/tokens", data={"school": "S1", "days": "3"}).status_code == 403
    assert agent_state(fresh_db, ids["clone"]) == "online"
    assert len(tokens.list_tokens(fresh_db)) == 3  # the fixture's own


def test_it_staff_create_a_token_and_see_the_enroll_command_once(world, fresh_db):
    sign_in, _ids = world
    staff = sign_in("it_staff", "S1")
    answer = staff.post("/fleet/tokens", data={"school": "S1", "days": "3", "max_uses": "5"})
    assert answer.status_code == 201
    secret = SECRET.search(answer.text).group(0)
    # Every room of the school, with its Linux and Windows commands, the token filled in.
    assert f"sudo sh install-linux.sh --hub http://localhost --token {secret} --room S1-R1" in answer.text
    assert (f"powershell -ExecutionPolicy Bypass -File .\\install-windows.ps1 -Hub http://localhost "
            f"-Token {secret} -Room S1-R2") in answer.text
    assert "S2-R1" not in answer.text
    new = tokens.list_tokens(fresh_db, ["S1"])[0]
    assert (new["max_uses"], new["expires_at"][:10]) == (5, "2026-12-03")
    assert secret not in staff.get("/fleet/tokens").text
    listed = staff.get("/fleet/tokens").text
    assert "有效" in listed and "0 / 5" in listed and "古城第一小学" in listed and "古城第二小学" not in listed
    assert "sudo sh install-linux.sh --hub http://localhost --token TOKEN --room S1-R2" in listed


def test_the_token_page_lists_the_schools_rooms_with_their_agents_for_the_admin_on_request(world):
    sign_in, _ids = world
    admin = sign_in("admin")
    assert "install-linux.sh" not in admin.get("/fleet/tokens").text  # many schools: the admin picks one
    page = admin.get("/fleet/tokens?rooms=S2").text
    assert "--room S2-R1" in page and "--room S1-R1" not in page
    staff = sign_in("it_staff", "S1")
    assert staff.get("/fleet/tokens?rooms=S2").status_code == 403
    rows = re.findall(r'<tr data-room="([^"]+)">.*?</tr>', staff.get("/fleet/tokens").text, re.S)
    assert rows == ["S1-R1", "S1-R2"]


def test_it_staff_may_not_touch_another_schools_tokens(world, fresh_db):
    sign_in, _ids = world
    staff = sign_in("it_staff", "S1")
    theirs = tokens.create_token(fresh_db, "S2", NOW, timedelta(days=1), None, COMMAND_LINE)
    assert staff.post("/fleet/tokens", data={"school": "S2", "days": "3"}).status_code == 403
    assert staff.post(f"/fleet/tokens/{theirs.id}/revoke").status_code == 403
    assert staff.post(f"/fleet/tokens/{theirs.id}/rotate").status_code == 403
    assert staff.post("/fleet/tokens/9999/revoke").status_code == 404
    listed = tokens.list_tokens(fresh_db, ["S2"])
    assert [tokens.token_status(t, NOW) for t in listed] == ["active", "active"] and not listed[0]["replaced_by"]
    assert f"<td>{theirs.id}</td>" not in staff.get("/fleet/tokens").text
    assert f"<td>{theirs.id}</td>" in sign_in("admin").get("/fleet/tokens").text


def test_bad_form_values_are_told_and_nothing_is_made(world, fresh_db):
    sign_in, _ids = world
    staff = sign_in("it_staff", "S1")
    for form, message in (({"school": "S1", "days": "0"}, "有效天数须为 1 到 365 之间的整数。"),
                          ({"school": "S1", "max_uses": "-2"}, "最多注册次数须为 1 到 100000 之间的整数。"),
                          ({"school": ""}, "请选择令牌所属的学校。")):
        answer = staff.post("/fleet/tokens", data=form)
        assert answer.status_code == 400 and message in answer.text, form
    assert len(tokens.list_tokens(fresh_db)) == 3


def test_it_staff_revoke_and_rotate_their_schools_token(world, fresh_db):
    sign_in, _ids = world
    staff = sign_in("it_staff", "S1")
    first, second = (tokens.create_token(fresh_db, "S1", NOW, timedelta(days=2), None, COMMAND_LINE) for _ in range(2))
    rotated = staff.post(f"/fleet/tokens/{first.id}/rotate")
    assert rotated.status_code == 201
    secret = SECRET.search(rotated.text).group(0)
    replacement = tokens.list_tokens(fresh_db, ["S1"])[0]
    assert replacement["id"] not in (first.id, second.id)
    assert fresh_db.execute("SELECT token_hash FROM enrollment_tokens WHERE id = ?",
                            [replacement["id"]]).fetchone()[0] == tokens.hash_secret(secret)
    revoked = staff.post(f"/fleet/tokens/{second.id}/revoke")
    assert revoked.status_code == 303
    statuses = {t["id"]: (tokens.token_status(t, NOW), t["replaced_by"]) for t in tokens.list_tokens(fresh_db)}
    assert statuses[first.id] == ("active", replacement["id"]) and statuses[second.id][0] == "revoked"
    again = staff.post(f"/fleet/tokens/{second.id}/rotate")
    assert again.status_code == 400 and f"令牌 {second.id} 已吊销或已过期" in again.text
    assert "已吊销" in staff.get("/fleet/tokens").text


def test_token_and_retirement_actions_are_in_the_audit_log_with_who_did_them(world, fresh_db):
    from eduops import audit

    sign_in, ids = world
    staff = sign_in("it_staff", "S1")
    made = staff.post("/fleet/tokens", data={"school": "S1", "days": "3"})
    assert made.status_code == 201
    token_id = tokens.list_tokens(fresh_db, ["S1"])[0]["id"]
    assert staff.post(f"/fleet/tokens/{token_id}/rotate").status_code == 201
    assert staff.post(f"/fleet/tokens/{token_id}/revoke").status_code == 303
    assert staff.post(f"/fleet/terminals/{ids['clone']}/retire").status_code == 303
    events = {}
    for e in audit.search(fresh_db):  # newest first: the fixture's own tokens came from the command line
        events.setdefault(e["event"], e)
    username = fresh_db.execute("SELECT username FROM users WHERE role = 'it_staff'").fetchone()[0]
    for event in ("enroll_token_created", "enroll_token_rotated", "enroll_token_revoked", "terminal_retired"):
        assert events[event]["actor"] == username and events[event]["subject"] == "S1", event
    assert SECRET.search(str(list(audit.search(fresh_db)))) is None  # no token secret in the log
