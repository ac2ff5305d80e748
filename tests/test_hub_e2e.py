"""The hub as a real process on loopback: health, errors, language, clean shutdown."""
import os
import signal
import subprocess
import sys

import pytest

import requests

from tests.support.hubprocess import HubProcess

pytestmark = pytest.mark.e2e  # real processes: a hub, agents, a browser or Prometheus


def test_healthz_answers_with_the_schema_version(hub):
    answer = hub.get("/healthz")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok"
    assert body["schema_version"] >= 1


def test_api_errors_are_json_and_page_errors_are_html(hub):
    api = hub.get("/api/v1/no-such-thing")
    assert api.status_code == 404
    assert api.headers["Content-Type"].startswith("application/json")
    assert api.json()["error"] == "not_found"
    page = hub.get("/no-such-page")
    assert page.status_code == 404
    assert page.headers["Content-Type"].startswith("text/html")


def test_oversized_body_gets_413_with_a_message(db_path):
    process = HubProcess(db_path, env={"EDUOPS_MAX_BODY_BYTES": "2048"})
    try:
        answer = process.post("/api/v1/anything", data=b"x" * 4096,
                              headers={"Content-Type": "application/json"})
        assert answer.status_code == 413
        assert "2048" in answer.json()["message"]
    finally:
        process.stop()


def test_front_page_speaks_chinese_by_default_and_english_on_request(hub, make_user, login):
    session = requests.Session()
    login(session, make_user("viewer"), hub.url)
    assert "总览" in session.get(hub.url + "/", timeout=10).text
    english = session.get(hub.url + "/", params={"lang": "en"}, timeout=10).text
    assert "Overview" in english and "总览" not in english
    session.get(hub.url + "/lang/en", timeout=10)
    assert "Overview" in session.get(hub.url + "/", timeout=10).text


def test_sigterm_stops_the_hub_within_a_few_seconds(db_path):
    process = HubProcess(db_path)
    assert process.get("/healthz").status_code == 200
    took = process.stop(signal.SIGTERM)
    assert process.proc.returncode is not None
    assert took < 5
    assert "EduOps hub stopped" in process.output


def test_ctrl_c_stops_the_hub(db_path):
    process = HubProcess(db_path)
    process.stop(signal.SIGINT)
    assert "EduOps hub stopped" in process.output


def test_hub_refuses_to_start_without_a_secret_key(db_path):
    env = {k: v for k, v in os.environ.items() if k != "EDUOPS_SECRET_KEY"}
    result = subprocess.run([sys.executable, "-m", "eduops", "hub", "--db", str(db_path), "--port", "0"],
                            capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode != 0
    assert "secret_key" in result.stderr


def test_bad_configuration_stops_the_hub_naming_the_key(db_path):
    result = subprocess.run([sys.executable, "-m", "eduops", "hub", "--db", str(db_path)],
                            capture_output=True, text=True, timeout=30,
                            env={**os.environ, "EDUOPS_SECRET_KEY": "k", "EDUOPS_THREADS": "lots"})
    assert result.returncode != 0
    assert "threads" in result.stderr
