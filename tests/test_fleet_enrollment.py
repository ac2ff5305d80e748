"""Enrollment against a real hub: tokens (expiry, revocation, rotation, use limit, school), keys, hardware."""
from datetime import timedelta


import pytest

from eduops import db as dbmod
from eduops.audit import COMMAND_LINE
from eduops.clock import utcnow
from eduops.fleet import tokens
from tests.support.fleet_kit import Agent, build_county, create_token, eduops, query

pytestmark = pytest.mark.e2e  # real processes: a hub, agents, a browser or Prometheus



def token_made_at(db_path, now, expires_in) -> str:
    """A token made at another time, straight through the storage layer (the clock is injected)."""
    database = dbmod.connect(db_path)
    try:
        return tokens.create_token(database, "S1", now, expires_in, None, COMMAND_LINE).secret
    finally:
        database.conn.close()


def test_an_agent_enrolls_with_a_token_and_gets_a_key_shown_once(county_hub, db_path):
    agent = Agent(county_hub.url, room="S1-R2", hostname="jiaoshi-201")
    answer = agent.enroll(create_token(db_path))
    assert answer.status_code == 201
    body = answer.json()
    assert body["agent_id"].startswith("ag_") and body["agent_key"].startswith("ak_")
    assert (body["school"], body["room"], body["terminal"]) == ("S1", "S1-R2", "S1-T3")  # the room's only terminal
    assert (body["report_interval_s"], body["protocol"]) == (60, 1)
    [(key_hash, state)] = query(db_path, "SELECT key_hash, state FROM agents WHERE id = ?", [body["agent_id"]])
    assert key_hash == tokens.hash_secret(body["agent_key"]) and state == "online"
    assert body["agent_key"] not in county_hub.output and key_hash not in county_hub.output
    assert agent.send().status_code == 200


def test_the_terminal_is_the_one_whose_asset_tag_the_machine_names(county_hub, db_path):
    token = create_token(db_path)
    named = Agent(county_hub.url, hostname="HZ-2").enroll(token).json()
    unnamed = Agent(county_hub.url, hostname="pc-7").enroll(token).json()
    assert named["terminal"] == "S1-T2"
    assert unnamed["terminal"] == "S1-T1"   # the one left free in the room


def test_an_expired_token_is_refused(county_hub, db_path):
    secret = token_made_at(db_path, utcnow() - timedelta(days=8), expires_in=timedelta(days=7))
    answer = Agent(county_hub.url).enroll(secret)
    assert answer.status_code == 401
    assert answer.json()["error"] == "token_expired" and "expired" in answer.json()["message"]
    assert "reenroll" not in answer.json()
    assert query(db_path, "SELECT COUNT(*) FROM agents") == [(0,)]


def test_an_unknown_token_is_refused(county_hub, db_path):
    answer = Agent(county_hub.url).enroll("et_not-a-real-token")
    assert (answer.status_code, answer.json()["error"]) == (401, "token_unknown")


def test_a_revoked_token_stops_at_once_but_its_agents_keep_their_keys(county_hub, db_path):
    token = create_token(db_path)
    enrolled = Agent(county_hub.url)
    assert enrolled.enroll(token).status_code == 201
    token_id = query(db_path, "SELECT id FROM enrollment_tokens")[0][0]
    result = eduops("enroll-token", "revoke", str(token_id), "--db", str(db_path))
    assert result.returncode == 0, result.stderr
    refused = Agent(county_hub.url).enroll(token)
    assert (refused.status_code, refused.json()["error"]) == (401, "token_revoked")
    assert enrolled.send().status_code == 200
    listing = eduops("enroll-token", "list", "--db", str(db_path)).stdout
    assert "revoked" in listing


def test_a_rotated_token_overlaps_with_the_old_one_until_it_expires(county_hub, db_path):
    old = create_token(db_path)
    old_id = query(db_path, "SELECT id FROM enrollment_tokens")[0][0]
    rotated = eduops("enroll-token", "rotate", str(old_id), "--expires", "14d", "--db", str(db_path))
    assert rotated.returncode == 0, rotated.stderr
    new = rotated.stdout.splitlines()[1]
    assert new.startswith("et_") and new != old
    assert Agent(county_hub.url).enroll(old).status_code == 201
    assert Agent(county_hub.url).enroll(new).status_code == 201
    [(replaced_by,)] = query(db_path, "SELECT replaced_by FROM enrollment_tokens WHERE id = ?", [old_id])
    assert replaced_by == old_id + 1
    assert f"replaced by {old_id + 1}" in eduops("enroll-token", "list", "--db", str(db_path)).stdout


def test_a_token_allows_only_its_number_of_uses_and_shows_its_last_use(county_hub, db_path):
    token = create_token(db_path, "S1", "--uses", "2")
    assert Agent(county_hub.url, hostname="pc-1").enroll(token).status_code == 201
    last = Agent(county_hub.url, hostname="pc-2")
    assert last.enroll(token).status_code == 201
    third = Agent(county_hub.url, hostname="pc-3").enroll(token)
    assert (third.status_code, third.json()["error"]) == (401, "token_used_up")
    [(uses, used_by)] = query(db_path, "SELECT uses, last_used_by FROM enrollment_tokens")
    assert (uses, used_by) == (2, f"pc-2 ({last.instance_id})")
    listing = eduops("enroll-token", "list", "--school", "S1", "--db", str(db_path)).stdout
    assert "used up" in listing and "uses 2/2" in listing and f"by pc-2 ({last.instance_id})" in listing


def test_a_token_never_works_for_another_schools_room(county_hub, db_path):
    answer = Agent(county_hub.url, room="S1-R1").enroll(create_token(db_path, "S2"))
    assert answer.status_code == 403
    assert answer.json()["error"] == "forbidden" and "S2" in answer.json()["message"]
    assert query(db_path, "SELECT COUNT(*), (SELECT uses FROM enrollment_tokens) FROM agents") == [(0, 0)]


def test_an_unknown_room_is_refused_with_the_closest_codes_of_the_tokens_school(county_hub, db_path):
    token = create_token(db_path)
    answer = Agent(county_hub.url, room="S1-R9").enroll(token)
    assert (answer.status_code, answer.json()["error"]) == (400, "unknown_room")
    said = answer.json()
    assert (said["school"], sorted(said["closest"])) == ("S1", ["S1-R1", "S1-R2"])  # S2-R1 is another school's
    assert (f"Room S1-R9 is not in the inventory of school S1. Closest room codes of school S1: "
            f"{', '.join(said['closest'])}.") in said["message"]
    # A room's name typed for its code (the county names its rooms S1-R1 and so on, "S1 R2" as a person types it).
    assert Agent(county_hub.url, room="s1 r2").enroll(token).json()["closest"][0] == "S1-R2"
    assert query(db_path, "SELECT COUNT(*), (SELECT uses FROM enrollment_tokens) FROM agents") == [(0, 0)]


def test_enrolling_again_issues_a_new_key_and_revokes_the_old(county_hub, db_path):
    token = create_token(db_path)
    agent = Agent(county_hub.url)
    agent.enroll(token)
    old_key, agent_id = agent.key, agent.agent_id
    assert agent.enroll(token).status_code == 201
    assert agent.agent_id == agent_id and agent.key != old_key
    refused = agent.send(key=old_key)
    assert refused.status_code == 401 and refused.json()["reenroll"] is True
    assert agent.send().status_code == 200
    assert query(db_path, "SELECT COUNT(*) FROM agents") == [(1,)]


def test_instances_claiming_the_same_hardware_are_flagged_never_merged(county_hub, db_path):
    token = create_token(db_path)
    original = Agent(county_hub.url, hostname="lab-01", machine_id="cafe0001", macs=("3c:97:0e:11:22:33",))
    clone = Agent(county_hub.url, hostname="lab-01", machine_id="cafe0001", macs=("3c:97:0e:11:22:33",))
    other = Agent(county_hub.url, hostname="lab-02", machine_id="cafe0002", macs=("3c:97:0e:44:55:66",))
    for agent in (original, clone, other):
        assert agent.enroll(token).status_code == 201
    assert len({original.agent_id, clone.agent_id, other.agent_id}) == 3
    flags = query(db_path, "SELECT agent_id, other_id, fact, value FROM hardware_flags ORDER BY fact")
    assert flags == [(clone.agent_id, original.agent_id, "mac", "3c:97:0e:11:22:33"),
                     (clone.agent_id, original.agent_id, "machine_id", "cafe0001")]
    listing = eduops("terminals", "list", "--db", str(db_path)).stdout
    assert listing.count("shares hardware (2)") == 2
    shown = eduops("terminals", "show", original.agent_id, "--db", str(db_path)).stdout
    assert f"shares machine_id cafe0001 with {clone.agent_id}" in shown


def test_token_commands_refuse_what_cannot_be_done(db_path):
    build_county(db_path)
    unknown_school = eduops("enroll-token", "create", "--school", "S9", "--db", str(db_path))
    assert unknown_school.returncode != 0 and "unknown school 'S9'" in unknown_school.stderr
    bad_expiry = eduops("enroll-token", "create", "--school", "S1", "--expires", "soon", "--db", str(db_path))
    assert bad_expiry.returncode != 0 and "not a duration" in bad_expiry.stderr
    assert "no enrollment token number 42" in eduops("enroll-token", "revoke", "42", "--db", str(db_path)).stderr
    token_made_at(db_path, utcnow() - timedelta(days=8), expires_in=timedelta(days=7))
    expired = eduops("enroll-token", "rotate", "1", "--db", str(db_path))
    assert expired.returncode != 0 and "revoked or expired" in expired.stderr
