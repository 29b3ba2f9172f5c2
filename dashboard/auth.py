"""Who may see the dashboard: nobody but this machine's user, unless a login is set up.

- Served on the loopback interface (``server.address = "127.0.0.1"`` in .streamlit/config.toml, the
  default) and with no login configured, the dashboard opens at once: only this machine can reach it.
- Served to others (any other ``server.address``, an explicit setting), it needs a login and refuses
  to show anything until one is configured.
- A login is Streamlit's OIDC (``st.login``) where ``[auth]`` is set in ``.streamlit/secrets.toml``,
  or a shared password from the ``CORGAN_PASSWORD`` environment variable or ``password`` in the
  secrets file, compared in constant time (``hmac.compare_digest``). Once either is configured, it is
  asked for on the loopback interface too.

:func:`require_login` runs in ``dashboard/app.py`` before the navigation, so no page's code (and no
Stop or Delete button) runs for a visitor who has not signed in.
"""
from __future__ import annotations

import hmac
import os
import time

import streamlit as st

PASSWORD_ENV = "CORGAN_PASSWORD"
LOCAL_ADDRESSES = ("127.0.0.1", "localhost", "::1")
_OK = "corgan_signed_in"


def _secrets() -> dict:
    """The secrets file's content, or {} when there is none (st.secrets raises then)."""
    try:
        return {k: st.secrets[k] for k in st.secrets}
    except Exception:  # noqa: BLE001 - no secrets.toml, or an unreadable one: no secrets
        return {}


def expected_password() -> str | None:
    """The configured password: the environment variable first, then ``password`` in secrets."""
    value = os.environ.get(PASSWORD_ENV) or _secrets().get("password")
    return str(value) if value else None


def password_matches(given: str, expected: str) -> bool:
    """Constant-time comparison, so the time taken says nothing about how much of it was right."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _oidc_configured() -> bool:
    auth = _secrets().get("auth")
    return bool(auth) and hasattr(st, "login")


def served_locally() -> bool:
    return str(st.get_option("server.address") or "").strip() in LOCAL_ADDRESSES


def require_login() -> None:
    """Return when the visitor may use the dashboard; otherwise show the login (only) and stop."""
    password, oidc = expected_password(), _oidc_configured()
    if not password and not oidc:
        if served_locally():
            return
        st.title("corGAN studio")
        st.error(f"This dashboard is served on {st.get_option('server.address')}, beyond this machine, but no "
                 f"login is set up: set {PASSWORD_ENV} or an [auth] section in .streamlit/secrets.toml, "
                 "or serve it on 127.0.0.1.")
        st.stop()
    if st.session_state.get(_OK) or (oidc and getattr(st.user, "is_logged_in", False)):
        with st.sidebar:
            if st.button("Sign out", icon=":material/logout:"):
                st.session_state.pop(_OK, None)
                if oidc and getattr(st.user, "is_logged_in", False):
                    st.logout()
                st.rerun()
        return
    _login_form(password, oidc)
    st.stop()


def _login_form(password: str | None, oidc: bool) -> None:
    st.title("corGAN studio")
    st.markdown("This dashboard holds patient data. Sign in to continue.")
    if oidc:
        st.button("Sign in with your identity provider", on_click=st.login, type="primary")
    if password:
        with st.form("login", border=True):
            given = st.text_input("Password", type="password")
            if st.form_submit_button("Sign in", type="primary"):
                if password_matches(given, password):
                    st.session_state[_OK] = True
                    st.rerun()
                time.sleep(1.0)  # slows guessing; the compare itself is constant-time
                st.error("That password is not right.")
