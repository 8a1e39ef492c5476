"""Who may see the dashboard (issue 8, item 5; docs/ACCESS.md): no data before the login, and
none at all to a visitor from another machine while no login is configured.

AppTest drives the gate with secrets and a simulated ``st.user``; it cannot fake the request's
address, so that part is checked on ``is_local_request`` directly and, in a real browser, by
reaching the server under a name other than localhost (Chromium maps it to 127.0.0.1)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from app_helpers import CHROMIUM, CHROMIUM_ARGS, streamlit_server, wait_for_app
from streamlit.testing.v1 import AppTest

from funnel.app import auth as app_auth
from funnel.app.auth import Access, AccessSettings, decide, is_local_request

APP = Path(__file__).resolve().parent.parent / "app.py"
TIMEOUT = 120
PASSWORD = "correct horse battery staple"
ANN = "ann@example.com"
AUTH = {  # an [auth] section as st.login reads it (no provider is contacted in these tests)
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "not-a-real-secret",
    "client_id": "funnel",
    "client_secret": "not-a-real-secret",
    "server_metadata_url": "https://accounts.example.com/.well-known/openid-configuration",
}
OVERVIEW_TITLE = "This week at a glance"


# demo_db (a copy of the demo store per test), fresh_caches, browser_ready: tests/conftest.py
pytestmark = pytest.mark.usefixtures("fresh_caches")


def app(secrets: dict | None = None, user: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for key, value in (secrets or {}).items():
        at.secrets[key] = value
    if user is not None:
        at.user = user
    return at.run()


def shown_text(at: AppTest) -> str:
    """Every text the run drew, sidebar included."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning",
                 "error", "success", "text", "metric", "button", "text_input", "selectbox"):
        for el in at.get(kind):
            parts += [str(getattr(el, attr, "")) for attr in ("value", "label", "body")]
    return "\n".join(parts)


def assert_no_data(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert OVERVIEW_TITLE not in [t.value for t in at.title]
    assert not at.metric and not at.dataframe and not at.get("plotly_chart")
    assert not at.get("multiselect"), "the sidebar filters (channel and owner names) showed"
    # No lead number of any kind: the gate's own words have no digits.
    assert not re.search(r"\d", shown_text(at)), shown_text(at)


def assert_overview(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert OVERVIEW_TITLE in [t.value for t in at.title]
    assert [m.label for m in at.metric][:1] == ["New leads"]


def button(at: AppTest, label: str):
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r}; buttons: {[b.label for b in at.button]}"
    return found[0]


# --- shared password --------------------------------------------------------------------------


def test_password_gate_shows_no_data_until_the_right_password(demo_db):
    at = app({"funnel": {"password": PASSWORD}})
    assert_no_data(at)
    assert at.text_input[0].label == "Password"

    at.text_input[0].input("correct horse battery")  # wrong
    button(at, "Open the dashboard").click().run()
    assert_no_data(at)
    assert "password is not right" in at.error[0].value

    at.text_input[0].input(PASSWORD)
    button(at, "Open the dashboard").click().run()
    assert_overview(at)

    at.run()  # kept in the session: later runs and other pages need no new password
    assert_overview(at)
    at.switch_page("app_pages/marketing.py").run()
    assert not at.exception and "Marketing" in at.title[0].value

    button(at, "Log out").click().run()
    assert_no_data(at)


def test_a_changed_password_signs_sessions_out(demo_db):
    at = app({"funnel": {"password": PASSWORD}})
    at.text_input[0].input(PASSWORD)
    button(at, "Open the dashboard").click().run()
    assert_overview(at)
    at.secrets["funnel"] = {"password": "a new one, told to the team"}
    at.run()
    assert_no_data(at)


def test_password_comparison():
    assert app_auth.password_matches(PASSWORD, PASSWORD)
    assert not app_auth.password_matches(PASSWORD + " ", PASSWORD)
    assert not app_auth.password_matches("", "")  # an empty password never opens anything


# --- st.login with an allow-list -------------------------------------------------------------


def test_allow_list_lets_in_only_the_listed_e_mails(demo_db):
    secrets = {"auth": AUTH, "funnel": {"allowed_emails": ["Ann@Example.com"]}}
    eve = app(secrets, {"is_logged_in": True, "email": "eve@example.com"})
    assert_no_data(eve)
    assert "not on this dashboard's list" in eve.warning[0].value
    assert [b.label for b in eve.button] == ["Log out"]

    ann = app(secrets, {"is_logged_in": True, "email": ANN, "email_verified": True})
    assert_overview(ann)
    assert f"Signed in as {ANN}" in [c.value for c in ann.sidebar.caption]

    for verified in (False, "false", None):  # None: the provider sends no email_verified
        user = {"is_logged_in": True, "email": ANN}
        if verified is not None:
            user["email_verified"] = verified
        unverified = app(secrets, user)
        assert_no_data(unverified)
        assert "does not say it has verified" in unverified.warning[0].value
        assert [b.label for b in unverified.button] == ["Log out"]


def test_allow_list_asks_for_a_login_first(demo_db):
    secrets = {"auth": AUTH, "funnel": {"allowed_emails": [ANN]}}
    at = app(secrets, {"is_logged_in": False})
    assert_no_data(at)
    assert "Log in with your work account" in shown_text(at)


def test_allow_list_without_a_provider_is_a_clear_misconfiguration(demo_db):
    at = app({"funnel": {"allowed_emails": [ANN]}}, {"is_logged_in": False})
    assert_no_data(at)
    assert "add an [auth] section" in at.warning[0].value


def test_allow_list_wins_over_a_password(demo_db):
    at = app({"auth": AUTH, "funnel": {"allowed_emails": [ANN], "password": PASSWORD}},
             {"is_logged_in": True, "email": "eve@example.com"})
    assert_no_data(at)
    assert not at.text_input


# --- no login configured ---------------------------------------------------------------------


def test_without_credentials_no_lead_numbers_when_login_is_required(demo_db, monkeypatch):
    monkeypatch.setenv("FUNNEL_REQUIRE_LOGIN", "1")
    at = app()
    assert_no_data(at)
    assert "Login is not configured" in at.warning[0].value
    assert "docs/ACCESS.md" in at.warning[0].value


def test_without_credentials_a_local_run_opens(demo_db):
    # AppTest has no request headers: "cannot tell", which stays open unless
    # FUNNEL_REQUIRE_LOGIN=1 (a local `streamlit run` for one person).
    assert_overview(app())


LOCAL = {"host": "localhost:8501", "origin": "http://localhost:8501"}


@pytest.mark.parametrize(
    ("headers", "ip", "expected"),
    [
        ({}, None, None),  # no request at all: cannot tell
        (LOCAL, None, True),
        ({"Host": "127.0.0.1:8501"}, None, True),
        ({"host": "[::1]:8501"}, None, True),
        ({"host": "localhost:8501"}, "::ffff:127.0.0.1", True),
        ({"host": "funnel.example.com"}, None, False),  # a tunnel or proxy under a real name
        ({"host": "localhost:8501"}, "192.168.1.20", False),  # from the LAN, Host forged
        ({**LOCAL, "x-forwarded-for": "203.0.113.9"}, None, False),  # through a local proxy
        ({**LOCAL, "Forwarded": "for=203.0.113.9"}, None, False),
        ({"host": "localhost:8501", "origin": "http://evil.example"}, None, False),
        ({"host": "127.0.0.1.nip.io:8501"}, None, False),
    ],
)
def test_is_local_request(headers, ip, expected):
    assert is_local_request(headers, ip) is expected


@pytest.mark.parametrize(
    ("cfg", "local", "user", "password_ok", "expected"),
    [
        (AccessSettings(), True, {}, False, Access.OPEN),
        (AccessSettings(), None, {}, False, Access.OPEN),
        (AccessSettings(), False, {}, False, Access.NOT_CONFIGURED),
        (AccessSettings(require_login=True), True, {}, False, Access.NOT_CONFIGURED),
        (AccessSettings(password="x" * 20), True, {}, False, Access.ASK_PASSWORD),
        (AccessSettings(password="x" * 20), False, {}, True, Access.OPEN),
        (AccessSettings(allowed_emails=frozenset({ANN}), has_auth_section=True), True,
         {"is_logged_in": False}, False, Access.ASK_LOGIN),
        (AccessSettings(allowed_emails=frozenset({ANN}), has_auth_section=True), False,
         {"is_logged_in": True, "email": "ANN@example.com ", "email_verified": True}, False,
         Access.OPEN),
        (AccessSettings(allowed_emails=frozenset({ANN}), has_auth_section=True), False,
         {"is_logged_in": True, "email": ANN, "email_verified": "true"}, False, Access.OPEN),
        # issue 16, item 9: a listed e-mail the provider did not verify is refused
        (AccessSettings(allowed_emails=frozenset({ANN}), has_auth_section=True), False,
         {"is_logged_in": True, "email": ANN}, False, Access.NOT_VERIFIED),
        (AccessSettings(allowed_emails=frozenset({ANN}), has_auth_section=True), False,
         {"is_logged_in": True, "email": ANN, "email_verified": "false"}, False,
         Access.NOT_VERIFIED),
        (AccessSettings(allowed_emails=frozenset({ANN}), has_auth_section=True), False,
         {"is_logged_in": True, "email": ANN, "email_verified": False}, False,
         Access.NOT_VERIFIED),
        (AccessSettings(allowed_emails=frozenset({ANN}), has_auth_section=True), False,
         {"is_logged_in": True, "email": ANN, "email_verified": 1}, False, Access.NOT_VERIFIED),
        (AccessSettings(allowed_emails=frozenset({ANN}), has_auth_section=True), True,
         {"is_logged_in": True, "email": "eve@example.com"}, True, Access.NOT_ALLOWED),
    ],
)
def test_decide(cfg, local, user, password_ok, expected):
    assert decide(cfg, local, user, password_ok) is expected


# --- in a real browser -------------------------------------------------------------------------


def _main_text(page) -> str:
    return page.inner_text("[data-testid='stMain']")


@pytest.mark.browser
def test_in_a_browser_remote_visitors_see_no_data_and_a_password_opens_it(
        browser_ready, demo_db, tmp_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    args = CHROMIUM_ARGS + ["--host-resolver-rules=MAP funnel.test 127.0.0.1"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            # No login configured: localhost opens, the same server under another name not.
            with streamlit_server(demo_db) as url:
                port = url.rsplit(":", 1)[1]
                page = browser.new_context().new_page()
                page.goto(f"http://funnel.test:{port}/marketing")
                page.get_by_text("Login is not configured").wait_for(timeout=60_000)
                wait_for_app(page)
                text = _main_text(page)
                assert not re.search(r"\d", text.replace("ACCESS.md", "")), text
                assert page.locator(".js-plotly-plot").count() == 0
                local = browser.new_context().new_page()
                local.goto(url)
                local.get_by_text(OVERVIEW_TITLE).wait_for(timeout=60_000)

            # A password in a secrets file: asked for, from localhost too.
            secrets = tmp_path / "secrets.toml"
            secrets.write_text(f'[funnel]\npassword = "{PASSWORD}"\n')
            monkeypatch.setenv("STREAMLIT_SECRETS_FILES", str(secrets))
            with streamlit_server(demo_db) as url:
                port = url.rsplit(":", 1)[1]
                page = browser.new_context().new_page()
                page.goto(f"http://funnel.test:{port}/")
                password = page.get_by_label("Password", exact=True)
                password.wait_for(timeout=60_000)
                assert not re.search(r"\d", _main_text(page))
                password.fill("guess")
                page.get_by_role("button", name=re.compile("Open the dashboard")).click()
                page.get_by_text("password is not right").wait_for(timeout=60_000)
                assert page.locator(".js-plotly-plot").count() == 0
                password.fill(PASSWORD)
                page.get_by_role("button", name=re.compile("Open the dashboard")).click()
                page.get_by_text(OVERVIEW_TITLE).wait_for(timeout=60_000)
                wait_for_app(page)
                assert "New leads" in _main_text(page)
        finally:
            browser.close()
