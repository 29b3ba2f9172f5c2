"""Access (issue 11): loopback by default, a login when a password or OIDC is configured, and a refusal
to serve others without one; the Export page builds the audit report. Streamlit's AppTest."""
from __future__ import annotations

import pytest

from conftest import REPO_ROOT, require_data
from dashboard.auth import password_matches

APP = str(REPO_ROOT / "dashboard" / "app.py")


def app():
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(APP, default_timeout=180).run()


def text(at) -> str:
    return " ".join(str(e.value) for e in [*at.title, *at.markdown, *at.error, *at.info, *at.caption])


@pytest.fixture
def address():
    from streamlit import config

    before = config.get_option("server.address")
    yield lambda a: config.set_option("server.address", a)
    config.set_option("server.address", before)


def test_password_compare():
    assert password_matches("s3cret é", "s3cret é")
    assert not password_matches("s3cret", "s3cret ") and not password_matches("", "x")


def test_loopback_without_a_login_opens(monkeypatch, address):
    monkeypatch.delenv("CORGAN_PASSWORD", raising=False)
    address("127.0.0.1")
    at = app()
    assert not at.exception
    assert "Sign in" not in text(at) and not at.text_input


def test_served_to_others_without_a_login_shows_nothing_but_the_refusal(monkeypatch, address):
    monkeypatch.delenv("CORGAN_PASSWORD", raising=False)
    address("0.0.0.0")
    at = app()
    assert not at.exception
    assert len(at.error) == 1 and "no login is set up" in at.error[0].value and "CORGAN_PASSWORD" in at.error[0].value
    assert not at.button and not at.text_input and not at.sidebar.markdown  # no page, no sidebar text ran


def test_password_login(monkeypatch, address):
    monkeypatch.setenv("CORGAN_PASSWORD", "open sesame")
    address("0.0.0.0")
    at = app()
    assert [b.label for b in at.button] == ["Sign in"] and "Sign in to continue" in text(at)
    at.text_input[0].set_value("open sesam")
    at.button[0].click().run()
    assert "That password is not right." in [e.value for e in at.error]
    assert not at.sidebar.markdown
    at.text_input[0].set_value("open sesame")
    at.button[0].click().run()
    assert not at.exception and not at.error
    assert "Sign out" in [b.label for b in at.sidebar.button] and at.sidebar.markdown  # the app itself


def test_export_page_builds_the_audit_report(tmp_path, monkeypatch):
    from corgan_core.runs import Run, TrainSettings
    from corgan_core.runs.execute import execute

    monkeypatch.delenv("CORGAN_PASSWORD", raising=False)
    monkeypatch.setenv("CORGAN_RUNS_DIR", str(tmp_path / "runs"))
    run = Run.create(str(require_data("mimic3-demo")), model="independent", settings=TrainSettings(evaluate=False),
                     run_dir=tmp_path / "runs" / "audited")
    execute(run)
    at = app()
    at.switch_page("../pages/export.py").run()
    assert not at.exception
    next(b for b in at.button if b.label == "Build the audit report").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    labels = [b.proto.label for b in at.get("download_button")]
    assert {"Download audit report (HTML)", "Download audit report (JSON)"} <= set(labels)
    kept = at.session_state["audit_report"]
    assert kept[0] == run.id and run.config()["data"]["sha256"] in kept[2] and "<html" in kept[1]


def test_secrets_password_and_oidc_show_only_the_login(monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.delenv("CORGAN_PASSWORD", raising=False)
    at = AppTest.from_file(APP, default_timeout=180)
    at.secrets["password"] = "from secrets"
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x",
                          "client_id": "id", "client_secret": "s",
                          "server_metadata_url": "https://idp.example/.well-known/openid-configuration"}
    at.run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in with your identity provider", "Sign in"]
    assert not at.sidebar.markdown  # on the loopback interface too, once a login is configured
    at.text_input[0].set_value("from secrets")
    next(b for b in at.button if b.label == "Sign in").click().run()
    assert not at.exception and at.sidebar.markdown
