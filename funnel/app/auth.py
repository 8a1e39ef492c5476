"""Who may open the dashboard: a login whenever it is reached from anywhere but this machine.

Configured in ``.streamlit/secrets.toml`` (git-ignored; see ``.streamlit/secrets.toml.example``
and docs/ACCESS.md):

- ``[auth]`` and ``[funnel] allowed_emails``: Streamlit's ``st.login`` (OpenID Connect) says who
  the user is, the allow-list says whether they may see the data.
- ``[funnel] password``: one shared password, the fallback when there is no allow-list.
- neither: only a browser on this machine (``localhost``) gets in; anyone else gets a page that
  says the login is not configured, and no data. ``FUNNEL_REQUIRE_LOGIN=1`` turns the local
  exception off (for a host where requests cannot be told apart, e.g. behind a proxy that hides
  the client).

A configured login applies to every visitor, this machine included. ``require_access()`` runs
first in app.py, before any data is read, and stops the run when access is not granted.

A section under ``@st.fragment`` reruns alone, without app.py: each fragment starts with
``fragment_allowed()``, the same decision, so a session signed out since (a new password, an
e-mail taken off the list) gets no data from it, and the whole page reruns into the gate.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import ipaddress
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlsplit

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from funnel.safe_text import md_text

SECRETS_SECTION = "funnel"
REQUIRE_LOGIN_ENV = "FUNNEL_REQUIRE_LOGIN"
PASSWORD_STATE_KEY = "funnel_password_ok"
PASSWORD_FORM_KEY = "funnel_login"
SIGNED_OUT_KEY = "funnel_signed_out"  # a fragment found the session signed out: tell the gate
WRONG_PASSWORD_DELAY_S = 1.0  # slows guessing down, one session at a time
# Headers a reverse proxy adds: with one in the path, the TCP peer is the proxy, not the user.
PROXY_HEADERS = ("x-forwarded-for", "x-forwarded-host", "forwarded", "x-real-ip")
NOT_CONFIGURED = ("Login is not configured: set it up in secrets.toml (see docs/ACCESS.md). "
                  "Until then the dashboard opens only in a browser on the computer that runs it.")
SIGNED_OUT = ("You are signed out: the dashboard's login changed since this page was opened (a "
              "new password, or your e-mail is no longer on the list). Nothing more is shown "
              "until you sign in again.")


class Access(Enum):
    """What the gate does for one request."""

    OPEN = "open"  # show the dashboard
    ASK_PASSWORD = "ask_password"
    ASK_LOGIN = "ask_login"  # st.login (OIDC)
    NOT_ALLOWED = "not_allowed"  # logged in, but not on the allow-list
    NOT_VERIFIED = "not_verified"  # logged in, but the provider has not verified the e-mail
    NOT_CONFIGURED = "not_configured"  # no login set up, and the request is not local
    MISCONFIGURED = "misconfigured"


@dataclass(frozen=True)
class AccessSettings:
    """The ``[funnel]`` section of secrets.toml (and whether ``[auth]`` exists)."""

    allowed_emails: frozenset[str] = frozenset()
    password: str = ""
    provider: str | None = None  # a named ``[auth.<provider>]`` for st.login
    has_auth_section: bool = False
    require_login: bool = False  # FUNNEL_REQUIRE_LOGIN=1

    @property
    def mode(self) -> str:
        """'oidc', 'password' or 'none'; an allow-list wins over a password."""
        if self.allowed_emails:
            return "oidc"
        return "password" if self.password else "none"


def settings() -> AccessSettings:
    """Read the access settings from ``st.secrets`` (no secrets file: nothing configured)."""
    try:
        section = dict(st.secrets.get(SECRETS_SECTION) or {})
        has_auth = "auth" in st.secrets
    except FileNotFoundError:  # StreamlitSecretNotFoundError: no secrets.toml anywhere
        section, has_auth = {}, False
    emails = section.get("allowed_emails") or []
    if isinstance(emails, str):
        emails = [emails]
    return AccessSettings(
        allowed_emails=frozenset(e.strip().lower() for e in emails if str(e).strip()),
        password=str(section.get("password") or ""),
        provider=section.get("provider") or None,
        has_auth_section=has_auth,
        require_login=os.environ.get(REQUIRE_LOGIN_ENV) == "1",
    )


def _is_local_name(host: str | None) -> bool:
    if not host:
        return False
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback


def is_local_request(headers: Mapping[str, str], ip_address: str | None) -> bool | None:
    """True when the browser runs on this machine, False when not, None when it cannot be
    told (no request headers: a test harness, or a session without a browser connection).

    Local means: the TCP peer is a loopback address (``st.context.ip_address`` is None for
    those), the ``Host`` (and any ``Origin``) the browser used is localhost or a loopback
    address, and no proxy header says the request was relayed for someone else.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    if not lower:
        return None
    if any(h in lower for h in PROXY_HEADERS):
        return False
    if ip_address is not None and not _is_local_name(ip_address):
        return False
    if not _is_local_name(urlsplit("//" + lower.get("host", "")).hostname):
        return False
    origin = lower.get("origin")
    return not (origin and origin != "null" and not _is_local_name(urlsplit(origin).hostname))


def decide(
    cfg: AccessSettings,
    local: bool | None,
    user: Mapping[str, object],
    password_ok: bool,
) -> Access:
    """The gate's decision for one request (no Streamlit calls: unit-testable)."""
    if cfg.mode == "oidc":
        if not user.get("is_logged_in"):
            return Access.ASK_LOGIN if cfg.has_auth_section else Access.MISCONFIGURED
        email = str(user.get("email") or "").strip().lower()
        if email not in cfg.allowed_emails:
            return Access.NOT_ALLOWED
        return Access.OPEN if email_verified(user) else Access.NOT_VERIFIED
    if cfg.mode == "password":
        return Access.OPEN if password_ok else Access.ASK_PASSWORD
    if cfg.require_login or local is False:
        return Access.NOT_CONFIGURED
    return Access.OPEN


def email_verified(user: Mapping[str, object]) -> bool:
    """Whether the provider says it checked the e-mail address: ``email_verified`` true (the
    boolean, or the text "true" some providers send). Missing or anything else is no: an
    address nobody verified could be anyone's, and the allow-list is of addresses."""
    verified = user.get("email_verified")
    return verified is True or (isinstance(verified, str) and verified.strip().lower() == "true")


def password_matches(entered: str, password: str) -> bool:
    """Constant-time comparison of the entered password with the configured one."""
    return bool(password) and hmac.compare_digest(entered.encode(), password.encode())


def _fingerprint(password: str) -> str:
    # What the session keeps once the password was right: changing the password in
    # secrets.toml signs every session out.
    return hashlib.sha256(b"funnel-session\x00" + password.encode()).hexdigest()


def _password_ok(cfg: AccessSettings) -> bool:
    kept = st.session_state.get(PASSWORD_STATE_KEY)
    return (cfg.mode == "password" and isinstance(kept, str)
            and hmac.compare_digest(kept, _fingerprint(cfg.password)))


def _user() -> Mapping[str, object]:
    try:
        return st.user.to_dict()
    except Exception:  # st.user unavailable (no session): nobody is logged in
        return {}


def _current() -> tuple[AccessSettings, Mapping[str, object], Access]:
    """This session's settings, user and the gate's decision, read now (secrets, cookie,
    request headers)."""
    cfg = settings()
    local = is_local_request(st.context.headers, st.context.ip_address)
    user = _user() if cfg.mode == "oidc" else {}
    return cfg, user, decide(cfg, local, user, _password_ok(cfg))


def require_access() -> None:
    """Let the run go on only when this visitor may see the data; else draw the login (or the
    reason) and stop the run. Call before anything reads the store."""
    cfg, user, access = _current()
    signed_out = st.session_state.pop(SIGNED_OUT_KEY, False)
    if access is Access.OPEN:
        _signed_in_sidebar(cfg, user)
        return
    st.title("Funnel")
    if signed_out:
        st.info(SIGNED_OUT, icon=":material/logout:")
    if access is Access.ASK_PASSWORD:
        _password_form(cfg)
    elif access is Access.ASK_LOGIN:
        _login_button(cfg)
    elif access is Access.NOT_ALLOWED:
        email = md_text(user.get("email")) or "this account"  # the provider's words: plain
        st.warning(f"You are signed in as {email}, which is not on this dashboard's list of "
                   "allowed e-mails. Ask its owner to add it (allowed_emails in secrets.toml), "
                   "or log out and sign in with another account.", icon=":material/block:")
        st.button("Log out", on_click=st.logout, icon=":material/logout:")
    elif access is Access.NOT_VERIFIED:
        email = md_text(user.get("email")) or "this account"
        st.warning(f"You are signed in as {email}, but your login provider does not say it has "
                   "verified that this e-mail address is yours, so the allow-list cannot vouch "
                   "for it. Verify the address with your provider (or ask the dashboard's owner "
                   "to use a provider that verifies e-mails), then log in again.",
                   icon=":material/gpp_maybe:")
        st.button("Log out", on_click=st.logout, icon=":material/logout:")
    elif access is Access.MISCONFIGURED:
        st.warning("An allow-list of e-mails is set, but the OpenID Connect provider is not: "
                   "add an [auth] section to secrets.toml (see docs/ACCESS.md).",
                   icon=":material/settings:")
    else:
        st.warning(NOT_CONFIGURED, icon=":material/lock:")
    st.stop()


def access_allowed() -> bool:
    """Whether this session may see the data right now (the gate's decision, drawing
    nothing)."""
    return _current()[2] is Access.OPEN


def fragment_allowed() -> bool:
    """The gate for an ``@st.fragment``: call first in every fragment, and draw nothing of the
    data when it is False.

    A fragment's rerun (a widget inside it) runs the fragment alone, not app.py, so
    :func:`require_access` does not run again: a tab opened before the password changed (or
    before its e-mail left the allow-list) would keep reading through it. This decides again;
    when the session is no longer allowed it says so and, in a fragment's own rerun, reruns the
    whole page, whose gate then stops it before any data (and clears what the page showed).
    """
    if access_allowed():
        return True
    st.warning(SIGNED_OUT, icon=":material/lock:")
    if _fragment_rerun():
        st.session_state[SIGNED_OUT_KEY] = True
        st.rerun(scope="app")
    return False


def _fragment_rerun() -> bool:
    ctx = get_script_run_ctx(suppress_warning=True)
    return bool(ctx is not None and ctx.fragment_ids_this_run)


def _password_form(cfg: AccessSettings) -> None:
    st.markdown("This dashboard holds your customers' data. Enter the team's password.")
    with st.form(PASSWORD_FORM_KEY):
        entered = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Open the dashboard", icon=":material/login:")
    if not submitted:
        return
    if password_matches(entered, cfg.password):
        st.session_state[PASSWORD_STATE_KEY] = _fingerprint(cfg.password)
        st.rerun()
    time.sleep(WRONG_PASSWORD_DELAY_S)
    st.error("That password is not right. Try again, or ask whoever set up the dashboard.",
             icon=":material/key_off:")


def _login_button(cfg: AccessSettings) -> None:
    st.markdown("This dashboard holds your customers' data. Log in with your work account.")
    if importlib.util.find_spec("authlib") is None:
        st.warning("Logging in needs the Authlib package on the server: pip install Authlib "
                   "(see docs/ACCESS.md).",
                   icon=":material/settings:")
        return
    args = (cfg.provider,) if cfg.provider else ()
    st.button("Log in", on_click=st.login, args=args, type="primary", icon=":material/login:")


def _sign_out_password() -> None:
    st.session_state.pop(PASSWORD_STATE_KEY, None)


def _signed_in_sidebar(cfg: AccessSettings, user: Mapping[str, object]) -> None:
    if cfg.mode == "none":
        return
    with st.sidebar:
        if cfg.mode == "oidc":
            # an address on the owner's own allow-list (the gate let it in): their words
            st.caption(f"Signed in as {user.get('email')}")
            st.button("Log out", on_click=st.logout, icon=":material/logout:")
        else:
            st.button("Log out", on_click=_sign_out_password, icon=":material/logout:")
