"""Schemathesis over the hub's whole OpenAPI document, against a real hub: as a stranger, with the
county admin's API token, and with an agent key. No answer is a 5xx, and every answer's status,
content type, headers and body are what the document says for that operation."""
from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_headers_conformance,
                                               response_schema_conformance, status_code_conformance)

from tests.support.accounts_helpers import create_user
from tests.support.fleet_kit import Agent, build_county, create_token, eduops
from tests.support.hubprocess import HubProcess

pytestmark = pytest.mark.e2e  # starts real hub processes

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
EXAMPLES = 5  # per operation and per credential: enough for CI on two shared cores (bench: more)


@pytest.fixture(scope="module")
def fuzzed_hub(tmp_path_factory):
    db_path = tmp_path_factory.mktemp("fuzz") / "hub.db"
    build_county(db_path)
    admin = create_user(db_path, "admin")
    made = eduops("user", "token", "create", admin.username, "--name", "fuzz", "--db", str(db_path))
    assert made.returncode == 0, made.stderr
    hub = HubProcess(db_path)
    agent = Agent(hub.url)
    assert agent.enroll(create_token(db_path)).status_code == 201
    assert agent.send().status_code == 200
    yield hub, {"nobody": None, "admin": made.stdout.split()[-1], "agent": agent.key}
    hub.stop()
    assert "Traceback" not in hub.output


@pytest.fixture(scope="module")
def operations(fuzzed_hub):
    url = fuzzed_hub[0].url + "/api/openapi.json"
    found = [result.ok() for result in schemathesis.openapi.from_url(url).get_all_operations()]
    documented = {f"{method.upper()} {path}" for path, methods in requests.get(url, timeout=10).json()["paths"].items()
                  for method in methods}
    assert documented - {o.label for o in found} == {"GET /api/openapi.json"}  # Schemathesis leaves out the document
    return found


@pytest.mark.parametrize("who", ["nobody", "admin", "agent"])
def test_no_5xx_and_every_answer_is_what_the_document_says(fuzzed_hub, operations, who):
    hub, credentials = fuzzed_hub
    headers = {"Authorization": f"Bearer {credentials[who]}"} if credentials[who] else {}
    for operation in operations:
        @given(operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
        def fuzz(case):
            case.call_and_validate(base_url=hub.url, headers=headers, checks=CHECKS)

        fuzz()
