"""Signed-out sessions read nothing through a fragment (issue 16, item 6; docs/ACCESS.md).

An ``@st.fragment`` reruns alone when one of its widgets changes: app.py, and the login gate at
its top, do not run. A tab opened before the shared password changed (or before its e-mail
left the allow-list) kept getting head-to-head figures that way. Every fragment now starts
with ``funnel.app.auth.fragment_allowed()``.

AppTest always runs the whole script, so a fragment-only rerun is made here the way Streamlit
makes one: the run's ``RerunData`` names the fragment (``fragment_id_queue``)."""

from __future__ import annotations

import ast
import functools
from pathlib import Path
from unittest import mock

import pytest
from streamlit.testing.v1 import AppTest, local_script_runner

from funnel.app import auth as app_auth

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
SALES = "app_pages/sales.py"
TIMEOUT = 180
PASSWORD = "correct horse battery staple"
ANN = "ann@example.com"
AUTH = {  # an [auth] section as st.login reads it (no provider is contacted)
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "not-a-real-secret",
    "client_id": "funnel",
    "client_secret": "not-a-real-secret",
    "server_metadata_url": "https://accounts.example.com/.well-known/openid-configuration",
}
H2H_LABELS = ["Referral conversion", "Cold call conversion", "Chance referral converts better"]


# demo_db (a copy of the demo store per test, as $FUNNEL_DB) and fresh_caches: tests/conftest.py
pytestmark = pytest.mark.usefixtures("fresh_caches")


# --- every fragment checks access first -------------------------------------------------------


def fragments() -> dict[str, ast.FunctionDef]:
    """Every function decorated with ``st.fragment`` in the app's code, by file and name."""
    found = {}
    files = [APP, *sorted((ROOT / "app_pages").glob("*.py")),
             *sorted((ROOT / "funnel").rglob("*.py"))]
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
                    "fragment" in ast.unparse(d) for d in node.decorator_list):
                found[f"{path.relative_to(ROOT)}:{node.name}"] = node
    return found


def test_every_fragment_checks_access_before_anything_else():
    found = fragments()
    assert {"app_pages/sales.py:head_to_head", "app_pages/sales.py:time_to_win"} <= set(found)
    for name, node in found.items():
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]  # the docstring
        first = body[0]
        assert isinstance(first, ast.If), f"{name}: the access check is not first"
        assert ast.unparse(first.test) == "not app_auth.fragment_allowed()", name
        assert [ast.unparse(s) for s in first.body] == ["return"], name


# --- a fragment's own rerun -------------------------------------------------------------------


def app(secrets: dict, user: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for key, value in secrets.items():
        at.secrets[key] = value
    if user is not None:
        at.user = user
    return at


def button(at: AppTest, label: str):
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r}; buttons: {[b.label for b in at.button]}"
    return found[0]


def fragment_ids(at: AppTest) -> list[str]:
    """The fragments the last run drew, in the order they were drawn."""
    storage = at._fragment_storage
    order = storage._registration_sequence_by_id
    return sorted(order, key=order.get)


def run_fragment(at: AppTest, fragment_id: str) -> AppTest:
    """Rerun only ``fragment_id``, as a widget inside it does in the browser."""
    rerun_data = functools.partial(local_script_runner.RerunData,
                                   fragment_id_queue=[fragment_id])
    with mock.patch.object(local_script_runner, "RerunData", rerun_data):
        return at.run()


def signed_in_on_sales(secrets: dict, user: dict | None = None) -> AppTest:
    at = app(secrets, user).run()
    if "password" in secrets.get("funnel", {}):
        at.text_input[0].input(PASSWORD)
        button(at, "Open the dashboard").click().run()
    at.switch_page(SALES).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [m.label for m in at.metric] == H2H_LABELS  # the head-to-head, drawn with data
    return at


def assert_signed_out(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.metric and not at.get("plotly_chart") and not at.dataframe
    assert not at.get("multiselect") and not at.selectbox
    assert [t.value for t in at.title] == ["Funnel"]  # the gate's page


def test_a_fragment_rerun_without_the_check_would_leak(demo_db):
    """The hole, reproduced: with the check bypassed, a fragment's own rerun after the
    password changed returns the head-to-head's figures (no gate, no page title)."""
    at = signed_in_on_sales({"funnel": {"password": PASSWORD}})
    head_to_head = fragment_ids(at)[0]
    at.secrets["funnel"] = {"password": "a new one, told to the team"}
    with mock.patch.object(app_auth, "fragment_allowed", lambda: True):
        run_fragment(at, head_to_head)
    assert not at.title  # only the fragment ran: app.py's gate did not
    assert [m.label for m in at.metric] == H2H_LABELS and at.get("plotly_chart")


@pytest.mark.parametrize("which", [0, 1], ids=["head_to_head", "time_to_win"])
def test_a_changed_password_stops_a_fragment_rerun(demo_db, which):
    at = signed_in_on_sales({"funnel": {"password": PASSWORD}})
    fragment = fragment_ids(at)[which]
    at.secrets["funnel"] = {"password": "a new one, told to the team"}
    run_fragment(at, fragment)
    # the fragment drew nothing of the data and sent the whole page back to the gate, which
    # says why and asks for the (new) password
    assert_signed_out(at)
    assert any("You are signed out" in i.value for i in at.info), [i.value for i in at.info]
    assert at.text_input[0].label == "Password"

    at.text_input[0].input("a new one, told to the team")
    button(at, "Open the dashboard").click().run()
    assert not at.exception and at.title and "Sales" in at.title[0].value
    assert not any("You are signed out" in i.value for i in at.info)  # said once


def test_an_e_mail_taken_off_the_list_stops_a_fragment_rerun(demo_db):
    secrets = {"auth": AUTH, "funnel": {"allowed_emails": [ANN]}}
    at = signed_in_on_sales(secrets, {"is_logged_in": True, "email": ANN, "email_verified": True})
    head_to_head = fragment_ids(at)[0]
    at.secrets["funnel"] = {"allowed_emails": ["bob@example.com"]}
    run_fragment(at, head_to_head)
    assert_signed_out(at)
    assert any("not on this dashboard's list" in w.value for w in at.warning)


def test_an_allowed_session_keeps_its_fragment(demo_db):
    at = signed_in_on_sales({"funnel": {"password": PASSWORD}})
    run_fragment(at, fragment_ids(at)[0])
    assert not at.exception
    assert [m.label for m in at.metric] == H2H_LABELS and not at.title  # the fragment alone


# --- the guard itself -------------------------------------------------------------------------


def _guard_script() -> None:
    import streamlit as st

    from funnel.app import auth

    st.session_state["allowed"] = auth.fragment_allowed()


def test_the_guard_refuses_a_session_that_is_not_allowed(monkeypatch):
    monkeypatch.delenv("FUNNEL_REQUIRE_LOGIN", raising=False)
    at = AppTest.from_function(_guard_script, default_timeout=TIMEOUT)
    at.secrets["funnel"] = {"password": PASSWORD}  # and this session never typed it
    at.run()
    assert not at.exception
    assert at.session_state["allowed"] is False
    assert any("You are signed out" in w.value for w in at.warning)

    at = AppTest.from_function(_guard_script, default_timeout=TIMEOUT)
    at.session_state[app_auth.PASSWORD_STATE_KEY] = app_auth._fingerprint(PASSWORD)
    at.secrets["funnel"] = {"password": PASSWORD}
    at.run()
    assert at.session_state["allowed"] is True and not at.warning

    monkeypatch.setenv("FUNNEL_REQUIRE_LOGIN", "1")  # nothing configured, login required
    at = AppTest.from_function(_guard_script, default_timeout=TIMEOUT)
    at.secrets["other"] = {"x": 1}
    at.run()
    assert at.session_state["allowed"] is False
