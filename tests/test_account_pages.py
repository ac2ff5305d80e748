"""The account pages through the Flask test client: sessions, CSRF, tokens, user management, audit log."""
import logging
import re
from datetime import datetime, timedelta, timezone

import pytest

from eduops import auth
from eduops.app import create_app
from tests.support.accounts_helpers import csrf_from
from tests.support.clock import Clock


@pytest.fixture
def clock():
    return Clock(datetime(2024, 9, 2, 0, 30, tzinfo=timezone.utc))  # 08:30 in Huize


@pytest.fixture
def app(hub_config, fresh_db, clock):
    """The hub on the test's clock."""
    return create_app(hub_config, clock)


def session_cookie(client) -> str | None:
    cookie = client.get_cookie(auth.SESSION_COOKIE)
    return cookie.value if cookie else None


def create_app_client(client):
    """Another browser on the same hub."""
    return client.application.test_client()


def sign_in_form(client, username, password, **extra):
    token = csrf_from(client.get("/login").text)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token, **extra})


def test_pages_ask_to_sign_in_in_chinese_and_in_english(client):
    answer = client.get("/")
    assert answer.status_code == 303 and answer.headers["Location"] == "/login?next=/"
    page = client.get("/login").text
    assert "登录" in page and "用户名" in page
    assert "Username" in client.get("/login?lang=en").text
    assert client.get("/api/v1/me").status_code == 401


def test_session_cookie_is_httponly_lax_and_a_new_id_at_every_sign_in(client, make_user):
    user = make_user("viewer")
    answer = sign_in_form(client, user.username, user.password)
    assert answer.status_code == 303
    header = [h for h in answer.headers.getlist("Set-Cookie") if h.startswith(auth.SESSION_COOKIE)][0]
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" not in header
    first = session_cookie(client)
    sign_in_form(client, user.username, user.password)
    second = session_cookie(client)
    assert first != second
    other = create_app_client(client)
    other.set_cookie(auth.SESSION_COOKIE, first)
    assert other.get("/account").status_code == 303  # the replaced session ended


def test_over_https_the_cookies_are_secure_and_hsts_is_sent(app, make_user):
    user = make_user("viewer")
    client = app.test_client()
    form = client.get("/login", base_url="https://hub.example")
    assert "Secure" in form.headers["Set-Cookie"]
    answer = client.post("/login", base_url="https://hub.example", data={
        "username": user.username, "password": user.password, "csrf_token": csrf_from(form.text)})
    assert "Secure" in answer.headers["Set-Cookie"]
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")


def test_signing_in_goes_back_to_the_page_asked_for_but_never_to_another_site(client, make_user):
    user = make_user("admin")
    assert sign_in_form(client, user.username, user.password, next="/users").headers["Location"] == "/users"
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example",
                   # browsers drop tabs and newlines from a URL, so these are //evil.example to them
                   "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "\t//evil.example",
                   "/\x00/evil.example", "/\x7f/evil.example", "/\t\\evil.example", "javascript:alert(1)"):
        answer = sign_in_form(client, user.username, user.password, next=target)
        assert (answer.status_code, answer.headers["Location"]) == (303, "/"), repr(target)


def test_a_next_page_sent_as_the_browser_would_encode_it_is_refused_too(client, make_user):
    user = make_user("admin")
    form = client.get("/login?next=/%09/evil.example")  # the phishing link of defect 1
    answer = client.post("/login", data={"username": user.username, "password": user.password,
                                         "csrf_token": csrf_from(form.text), "next": "/\t/evil.example"})
    assert answer.headers["Location"] == "/"
    # a percent sign that stays encoded is a path on this hub, and goes through as it is
    assert sign_in_form(client, user.username, user.password, next="/%09x").headers["Location"] == "/%09x"


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(client, make_user):
    user = make_user("viewer")
    wrong_password = sign_in_form(client, user.username, "not-the-password")
    unknown_user = sign_in_form(client, "nobody-here", "not-the-password")
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert "用户名或密码错误" in wrong_password.text and "用户名或密码错误" in unknown_user.text
    assert session_cookie(client) is None


def test_repeated_failures_get_429_with_retry_after(app, make_user):
    app.config["EDUOPS"] = app.config["EDUOPS"].replace(login_max_failures_per_account=3)
    user, client = make_user("viewer"), app.test_client()
    for _ in range(3):
        assert sign_in_form(client, user.username, "not-the-password").status_code == 401
    answer = sign_in_form(client, user.username, user.password)
    assert answer.status_code == 429
    assert 0 < int(answer.headers["Retry-After"]) <= 15 * 60
    assert "分钟后再试" in answer.text


def test_logout_ends_the_session_so_the_cookie_is_useless_after(client, make_user, login):
    login(client, make_user("viewer"))
    captured = session_cookie(client)
    assert client.post("/logout").status_code == 303
    assert session_cookie(client) is None
    replay = create_app_client(client)
    replay.set_cookie(auth.SESSION_COOKIE, captured)
    assert replay.get("/account").status_code == 303
    assert replay.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize("sent", [None, "", "0" * 64, "from-another-session"])
def test_state_changes_without_the_sessions_csrf_token_are_refused(app, make_user, login, sent):
    user = make_user("admin")
    client, other = app.test_client(), app.test_client()
    login(client, user)
    other_token = login(other, make_user("admin"))
    client.environ_base.pop("HTTP_X_CSRF_TOKEN")
    headers = {} if sent is None else {"X-CSRF-Token": other_token if sent == "from-another-session" else sent}
    for path, data in (("/logout", {}), ("/users", {"username": "mallory", "role": "admin"}),
                       ("/account/tokens", {"name": "stolen"})):
        answer = client.post(path, data=data, headers=headers)
        assert answer.status_code == 403, path
        assert "表单已过期" in answer.text
    assert client.get("/api/v1/me").json["username"] == user.username  # still signed in
    assert "mallory" not in client.get("/users").text
    json_answer = client.post("/account/tokens", json={"name": "x"}, headers=headers)
    assert json_answer.status_code == 403


def test_the_sign_in_form_needs_its_csrf_token_too(client, make_user):
    user = make_user("viewer")
    client.get("/login")
    answer = client.post("/login", data={"username": user.username, "password": user.password})
    assert answer.status_code == 403
    assert session_cookie(client) is None


def test_the_csrf_token_may_come_as_a_form_field(client, make_user, login):
    token = login(client, make_user("viewer"))
    client.environ_base.pop("HTTP_X_CSRF_TOKEN")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303


def test_changing_ones_password_checks_the_old_one_and_signs_out_elsewhere(app, make_user, login):
    user = make_user("viewer")
    here, elsewhere = app.test_client(), app.test_client()
    login(here, user)
    login(elsewhere, user)
    wrong = here.post("/account/password", data={"current_password": "nope-nope-nope",
                                                 "new_password": "fresh-password-9",
                                                 "confirm_password": "fresh-password-9"})
    assert wrong.status_code == 400 and "当前密码不正确" in wrong.text
    short = here.post("/account/password", data={"current_password": user.password, "new_password": "short",
                                                 "confirm_password": "short"})
    assert short.status_code == 400 and "至少需要 10 个字符" in short.text
    done = here.post("/account/password", data={"current_password": user.password, "new_password": "fresh-password-9",
                                                "confirm_password": "fresh-password-9"})
    assert done.status_code == 303
    assert here.get("/account").status_code == 200
    assert elsewhere.get("/account").status_code == 303
    assert sign_in_form(app.test_client(), user.username, "fresh-password-9").status_code == 303


def test_an_api_token_is_shown_once_acts_as_its_user_and_dies_when_revoked(client, two_schools, make_user, login):
    user = make_user("it_staff", ["S1"])
    login(client, user)
    page = client.post("/account/tokens", data={"name": "nightly export"})
    assert page.status_code == 201
    token = re.search(r'value="(eduops_[^"]+)"', page.text).group(1)
    account = client.get("/account").text
    assert "nightly export" in account and token[:11] in account and token not in account
    bearer = {"Authorization": f"Bearer {token}"}
    scripts = create_app_client(client)
    me = scripts.get("/api/v1/me", headers=bearer).json
    assert me == {"id": user.id, "username": user.username, "role": "it_staff", "schools": ["S1"], "auth": "token"}
    assert scripts.get("/users", headers=bearer).status_code == 403  # the token has its user's role only
    token_id = re.search(r"/account/tokens/(\d+)/revoke", account).group(1)
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 303
    assert scripts.get("/api/v1/me", headers=bearer).status_code == 401


def test_a_bad_bearer_token_is_refused_even_beside_a_good_cookie(client, make_user, login):
    login(client, make_user("admin"))
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer eduops_forged"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic YWRtaW46YWRtaW4="}).status_code == 401


def test_token_calls_need_no_csrf_token(app, make_user, login):
    admin = app.test_client()
    login(admin, make_user("admin"))
    token = re.search(r'value="(eduops_[^"]+)"', admin.post("/account/tokens", data={"name": "ci"}).text).group(1)
    script = app.test_client()
    answer = script.post("/users", data={"username": "added-by-script", "role": "viewer"},
                         headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 201


def test_no_one_revokes_another_users_token_from_their_account_page(app, two_schools, make_user, login):
    owner, other = app.test_client(), app.test_client()
    login(owner, make_user("teacher", ["S2"]))
    token = re.search(r'value="(eduops_[^"]+)"', owner.post("/account/tokens", data={"name": "mine"}).text).group(1)
    login(other, make_user("teacher", ["S1"]))
    token_id = re.search(r"/account/tokens/(\d+)/revoke", owner.get("/account").text).group(1)
    assert other.post(f"/account/tokens/{token_id}/revoke").status_code == 404
    assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_the_admin_adds_a_user_who_then_signs_in_with_the_password_shown(client, two_schools, make_user, login):
    login(client, make_user("admin"))
    page = client.post("/users", data={"username": "wang.li", "role": "it_staff", "schools": "S1，S2"})
    assert page.status_code == 201
    password = re.search(r'class="secret" value="([^"]+)"', page.text).group(1)
    newcomer = create_app_client(client)
    assert sign_in_form(newcomer, "wang.li", password).status_code == 303
    assert newcomer.get("/api/v1/me").json["schools"] == ["S1", "S2"]
    again = client.post("/users", data={"username": "wang.li", "role": "viewer", "schools": ""})
    assert again.status_code == 400 and "已被使用" in again.text
    assert client.post("/users", data={"username": "li", "role": "teacher", "schools": "S9"}).status_code == 400


def test_role_changes_reset_and_disable_take_effect_on_the_users_open_session(app, two_schools, make_user, login):
    admin, victim_client = app.test_client(), app.test_client()
    login(admin, make_user("admin"))
    victim = make_user("teacher", ["S1"])
    login(victim_client, victim)
    assert victim_client.get("/users").status_code == 403
    assert admin.post(f"/users/{victim.id}/access", data={"role": "admin", "schools": ""}).status_code == 303
    assert victim_client.get("/users").status_code == 200
    assert admin.post(f"/users/{victim.id}/access", data={"role": "teacher", "schools": ""}).status_code == 400
    assert admin.post(f"/users/{victim.id}/access", data={"role": "teacher", "schools": "S2"}).status_code == 303
    assert victim_client.get("/api/v1/me").json["schools"] == ["S2"]
    reset = admin.post(f"/users/{victim.id}/password")
    new_password = re.search(r'class="secret" value="([^"]+)"', reset.text).group(1)
    assert victim_client.get("/account").status_code == 303  # signed out by the reset
    login(victim_client, type(victim)(victim.id, victim.username, new_password, "teacher", frozenset({"S2"})))
    assert admin.post(f"/users/{victim.id}/disable").status_code == 303
    assert victim_client.get("/account").status_code == 303
    assert sign_in_form(app.test_client(), victim.username, new_password).status_code == 401
    assert admin.post(f"/users/{victim.id}/enable").status_code == 303
    assert sign_in_form(app.test_client(), victim.username, new_password).status_code == 303


def test_the_last_admin_cannot_lock_the_county_out(client, make_user, login):
    me = make_user("admin")
    login(client, me)
    answer = client.post(f"/users/{me.id}/disable")
    assert answer.status_code == 400 and "最后一个有效的管理员" in answer.text
    assert client.get("/api/v1/me").status_code == 200


def test_the_audit_log_is_searchable_by_user_event_and_local_date(app, clock, make_user, login):
    clock.now = datetime(2024, 9, 2, 15, 30, tzinfo=timezone.utc)  # 23:30 in Huize
    admin = app.test_client()
    login(admin, make_user("admin", username="root"))
    make_user("viewer", username="zhao")
    clock.now += timedelta(hours=1)  # 00:30 on 3 September in Huize, still the 2nd in UTC
    sign_in_form(app.test_client(), "zhao", "wrong-password-here")
    page = admin.get("/audit?user=zhao").text
    assert "2024-09-03 00:30" in page and "<td>登录失败</td>" in page and "<td>添加用户</td>" in page
    by_event = admin.get("/audit?event=login_failed").text
    assert "<td>zhao</td>" in by_event and "<td>root</td>" not in by_event
    one_day = admin.get("/audit?from=2024-09-03&to=2024-09-03").text
    assert "<td>登录失败</td>" in one_day and "<td>root</td>" not in one_day
    day_before = admin.get("/audit?from=2024-09-02&to=2024-09-02").text
    assert "<td>root</td>" in day_before and "<td>登录失败</td>" not in day_before
    assert admin.get("/audit?from=yesterday").status_code == 400


def test_security_headers_allow_only_the_hubs_own_assets(client, make_user, login):
    # the agent report route is answered below Flask (eduops/bare.py): its answers carry them too
    for answer in (client.get("/login"), client.get("/static/eduops.css"), client.get("/api/v1/me"),
                   client.get("/no-such-page"), client.post("/api/v1/reports", data=b"{}")):
        csp = answer.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "http" not in csp
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["X-Frame-Options"] == "DENY"
    assert client.post("/api/v1/reports", data=b"{}").headers["Cache-Control"] == "no-store"
    login(client, make_user("admin"))
    assert client.get("/account").headers["Cache-Control"] == "no-store"


def test_templates_carry_no_inline_script_or_foreign_asset():
    from pathlib import Path
    for template in (Path(__file__).parent.parent / "eduops/templates").glob("**/*.html"):
        text = template.read_text(encoding="utf-8")
        # A script may only be a file the hub serves itself; a tag with a body is inline code.
        for tag in re.findall(r"<script[^>]*>(.*?)</script>", text, flags=re.S):
            assert tag == "", template.name
        assert re.findall(r"<script[^>]*>", text) == re.findall(
            r"<script (?:defer )?src=\"\{\{ url_for\('static', [^>]*>", text), template.name
        assert " on" + "click=" not in text, template.name
        assert not re.search(r'(src|href)="(https?:)?//', text), template.name


def test_no_password_token_or_session_id_reaches_the_log(app, two_schools, make_user, login, caplog):
    caplog.set_level(logging.DEBUG)
    admin_user = make_user("admin")
    admin = app.test_client()
    secrets = [admin_user.password, login(admin, admin_user), session_cookie(admin)]
    page = admin.post("/users", data={"username": "qian", "role": "teacher", "schools": "S1"})
    secrets.append(re.search(r'class="secret" value="([^"]+)"', page.text).group(1))
    token_page = admin.post("/account/tokens", data={"name": "t"})
    secrets.append(re.search(r'value="(eduops_[^"]+)"', token_page.text).group(1))
    secrets.append("typed-wrong-password")
    sign_in_form(app.test_client(), "qian", "typed-wrong-password")
    app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {secrets[-2]}"})
    app.test_client().get("/api/v1/me", headers={"Authorization": "Bearer eduops_wrong"})
    admin.post("/account/password", data={"current_password": admin_user.password,
                                          "new_password": "next-password-7", "confirm_password": "next-password-7"})
    secrets.append("next-password-7")
    admin.post("/logout")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "signed in" in logged and "failed sign-in" in logged  # the log does speak of these events
    for secret in secrets:
        assert secret and secret not in logged
