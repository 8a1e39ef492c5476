"""``python -m funnel send-weekly`` (issue 17, item 6): the weekly pack e-mailed through a local
SMTP server that each test starts itself (aiosmtpd on 127.0.0.1, a free port), never a real one.

The delivery test runs the command as a person would (a subprocess, settings in the
environment, the PDF printed by Debian's chromium). The others run it in-process, most with the
PDF printer replaced by a stub (they test the mail, not the printing)."""

from __future__ import annotations

import email
import email.policy
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from app_helpers import CHROMIUM, copy_store, free_port

from funnel.cli.main import main
from funnel.weekly import mail

ROOT = Path(__file__).resolve().parent.parent
SUBJECT = "Weekly review 2026-W47 (16–22 Nov 2026)"  # the demo's last complete week
SENDER = "Funnel <funnel@shop.example>"
SMTP_VARS = tuple(mail.ENV.values())
PASSWORD = "pa55-w0rd-never-shown"
FAKE_PDF = b"%PDF-1.4\n% a stub: these tests are about the mail, not the printing\n%%EOF\n"


# --- a local SMTP server ----------------------------------------------------------------------


class Recorder:
    """An aiosmtpd handler keeping every message it accepts; refuses the addresses in
    ``refuse`` with 550 at RCPT TO."""

    def __init__(self, refuse: tuple[str, ...] = ()):
        self.refuse = set(refuse)
        self.envelopes: list = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(e.content, policy=email.policy.default)
                for e in self.envelopes]


def _reject_every_login(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=False, handled=False)


class LocalSmtp:
    def __init__(self, refuse: tuple[str, ...] = (), reject_logins: bool = False):
        self.handler = Recorder(refuse)
        self.port = free_port()
        kwargs = {"authenticator": _reject_every_login, "auth_require_tls": False} \
            if reject_logins else {}
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, **kwargs)

    def __enter__(self) -> LocalSmtp:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    def env(self) -> dict[str, str]:
        return {"FUNNEL_SMTP_HOST": "127.0.0.1", "FUNNEL_SMTP_PORT": str(self.port),
                "FUNNEL_SMTP_FROM": SENDER, "FUNNEL_SMTP_TLS": "none"}


@pytest.fixture()
def no_settings(tmp_path, monkeypatch) -> Path:
    """No SMTP setting anywhere: none in the environment, no secrets.toml in the working
    directory or the home directory (both a fresh temp dir). Returns that directory."""
    for name in SMTP_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


@pytest.fixture()
def server(no_settings, monkeypatch):
    """A local SMTP server, configured through the environment."""
    with LocalSmtp() as smtp:
        for name, value in smtp.env().items():
            monkeypatch.setenv(name, value)
        yield smtp


@pytest.fixture()
def stub_pdf(monkeypatch):
    """The PDF printer replaced by a stub that writes FAKE_PDF."""
    from funnel.weekly import export

    def render_pdf(pack, out, timeout=90.0):
        Path(out).write_bytes(FAKE_PDF)
        return Path(out)

    monkeypatch.setattr(export, "render_pdf", render_pdf)


def _parts(msg: email.message.EmailMessage) -> dict[str, list]:
    out: dict[str, list] = {}
    for part in msg.walk():
        if not part.is_multipart():
            out.setdefault(part.get_content_type(), []).append(part)
    return out


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = (f"{CHROMIUM} is missing, so the pack went without its PDF "
              "(apt-get install chromium)")
    if os.environ.get("FUNNEL_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + "; FUNNEL_REQUIRE_BROWSER=1 requires it")
    pytest.skip(reason)


# --- the pack arrives (a subprocess, as a person runs it) ------------------------------------


@pytest.fixture(scope="module")
def delivered(demo_template, tmp_path_factory):
    """``python -m funnel send-weekly --to boss@shop.example`` on a copy of the demo store,
    the settings in the environment; (the finished process, the server's one envelope)."""
    home = tmp_path_factory.mktemp("send-weekly")
    db = copy_store(demo_template, home / "funnel.duckdb")
    with LocalSmtp() as smtp:
        env = {k: v for k, v in os.environ.items()
               if k not in SMTP_VARS and k != "FUNNEL_PII_KEY"}
        env.update(smtp.env(), FUNNEL_DB=str(db), HOME=str(home), PYTHONPATH=str(ROOT),
                   FUNNEL_SMTP_USER="", FUNNEL_SMTP_PASSWORD="")
        proc = subprocess.run(
            [sys.executable, "-m", "funnel", "send-weekly", "--to", "boss@shop.example"],
            cwd=home, env=env, capture_output=True, text=True, timeout=300)
        envelopes = list(smtp.handler.envelopes)
    return proc, envelopes


def test_the_pack_arrives_with_an_html_body_and_a_text_alternative(delivered):
    proc, envelopes = delivered
    assert proc.returncode == 0, proc.stderr
    assert "2026-W47: sent to boss@shop.example" in proc.stderr
    assert len(envelopes) == 1
    envelope = envelopes[0]
    assert envelope.mail_from == "funnel@shop.example"
    assert envelope.rcpt_tos == ["boss@shop.example"]
    msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert msg["Subject"] == SUBJECT
    assert msg["To"] == "boss@shop.example"
    assert msg["From"] == SENDER
    assert msg.get_content_type() == "multipart/mixed"
    parts = _parts(msg)
    (text,) = parts["text/plain"]
    (page,) = parts["text/html"]
    words = text.get_content().replace("\r\n", "\n")  # lines end in CRLF on the wire
    assert words.startswith(f"# {SUBJECT}\n")
    assert "\n## What moved\n" in words
    assert f"<h1>{SUBJECT}</h1>" in page.get_content()
    assert "<script" not in page.get_content()  # no plotly.js in a mail body: the PDF has charts
    body = msg.get_body(preferencelist=("html", "plain"))
    assert body.get_content_type() == "text/html"


def test_the_pack_arrives_with_the_pdf_attached(delivered):
    proc, envelopes = delivered
    assert proc.returncode == 0, proc.stderr
    _require_chromium()
    msg = email.message_from_bytes(envelopes[0].content, policy=email.policy.default)
    (pdf,) = _parts(msg)["application/pdf"]
    assert pdf.get_filename() == "weekly-review-2026-W47.pdf"
    assert pdf.get_content_disposition() == "attachment"
    data = pdf.get_content()
    assert data.startswith(b"%PDF")
    assert len(data) > 10_000  # a printed pack, not an empty page
    assert "PDF is left out" not in proc.stderr


# --- in-process: several recipients, secrets.toml ------------------------------------------


def test_several_recipients_get_one_message(server, demo_db, stub_pdf, capsys):
    code = main(["send-weekly", "--to", "a@shop.example", "--to", "b@shop.example",
                 "--week", "2026-W46"])
    assert code == 0, capsys.readouterr().err
    (envelope,) = server.handler.envelopes
    assert envelope.rcpt_tos == ["a@shop.example", "b@shop.example"]
    (msg,) = server.handler.messages()
    assert msg["To"] == "a@shop.example, b@shop.example"
    assert msg["Subject"] == "Weekly review 2026-W46 (9–15 Nov 2026)"
    (pdf,) = _parts(msg)["application/pdf"]
    assert pdf.get_content() == FAKE_PDF


def test_settings_from_secrets_toml_send_the_pack(no_settings, demo_db, stub_pdf, capsys):
    with LocalSmtp() as smtp:
        secrets = no_settings / ".streamlit" / "secrets.toml"
        secrets.parent.mkdir()
        secrets.write_text(f'[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\n'
                           f'from = "{SENDER}"\ntls = "none"\n', encoding="utf-8")
        code = main(["send-weekly", "--to", "boss@shop.example"])
        assert code == 0, capsys.readouterr().err
        (msg,) = smtp.handler.messages()
    assert msg["Subject"] == SUBJECT


def test_the_environment_wins_over_secrets_toml(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[smtp]\nhost = "smtp.from-file.example"\nport = 2525\n'
                       'from = "file@shop.example"\ntls = "ssl"\nuser = "u"\n'
                       'password = "from file"\n', encoding="utf-8")
    settings = mail.load_settings({"FUNNEL_SMTP_HOST": "smtp.from-env.example",
                                   "FUNNEL_SMTP_TLS": "STARTTLS"}, [secrets])
    assert (settings.host, settings.port, settings.sender, settings.tls) == (
        "smtp.from-env.example", 2525, "file@shop.example", "starttls")
    assert (settings.user, settings.password) == ("u", "from file")
    assert "from file" not in repr(settings)
    # no port: the one that goes with the TLS mode
    assert mail.load_settings({"FUNNEL_SMTP_HOST": "h", "FUNNEL_SMTP_FROM": "f@h.example",
                               "FUNNEL_SMTP_TLS": "ssl"}, []).port == 465
    assert mail.load_settings({"FUNNEL_SMTP_HOST": "h", "FUNNEL_SMTP_FROM": "f@h.example"},
                              []).port == 587


# --- cannot send: exit 1, the reason in words ------------------------------------------------


def test_no_host_says_which_setting_to_add(no_settings, demo_db, capsys):
    assert main(["send-weekly", "--to", "boss@shop.example"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot send: the SMTP server (host) is not set")
    assert "FUNNEL_SMTP_HOST" in err
    assert f'host = "smtp.example.com" under [smtp] in {no_settings}/.streamlit/secrets.toml' \
        in err
    assert "Traceback" not in err


def test_no_sender_says_which_setting_to_add(no_settings, demo_db, monkeypatch, capsys):
    monkeypatch.setenv("FUNNEL_SMTP_HOST", "127.0.0.1")
    assert main(["send-weekly", "--to", "boss@shop.example"]) == 1
    err = capsys.readouterr().err
    assert "the SMTP sender address (from) is not set" in err
    assert "FUNNEL_SMTP_FROM" in err and "FUNNEL_SMTP_HOST" not in err


@pytest.mark.parametrize("name,value,words", [
    ("FUNNEL_SMTP_TLS", "maybe", "use one of starttls, ssl, none"),
    ("FUNNEL_SMTP_PORT", "smtp", "give a port number"),
    ("FUNNEL_SMTP_FROM", "not an address", "is not one e-mail address"),
    ("FUNNEL_SMTP_USER", "someone", "is set but no password"),
])
def test_a_malformed_setting_is_named(server, monkeypatch, capsys, name, value, words):
    monkeypatch.setenv(name, value)
    assert main(["send-weekly", "--to", "boss@shop.example"]) == 1
    err = capsys.readouterr().err
    assert words in err and name in err
    assert server.handler.envelopes == []


def test_a_refused_recipient_is_not_sent(no_settings, demo_db, stub_pdf, monkeypatch, capsys):
    with LocalSmtp(refuse=("nobody@shop.example",)) as smtp:
        for name, value in smtp.env().items():
            monkeypatch.setenv(name, value)
        code = main(["send-weekly", "--to", "nobody@shop.example"])
        err = capsys.readouterr().err
        assert code == 1
        assert "refused nobody@shop.example (550 5.1.1" in err
        assert err.rstrip().endswith("not sent")
        assert smtp.handler.envelopes == []

        # one of two refused: the other gets it, and the exit code says not everyone did
        code = main(["send-weekly", "--to", "boss@shop.example", "--to", "nobody@shop.example"])
        err = capsys.readouterr().err
        assert code == 1
        assert "refused nobody@shop.example" in err
        assert "sent to boss@shop.example only" in err
        (envelope,) = smtp.handler.envelopes
        assert envelope.rcpt_tos == ["boss@shop.example"]


def test_a_failed_login_never_shows_the_password(no_settings, demo_db, stub_pdf, monkeypatch,
                                                 capsys):
    with LocalSmtp(reject_logins=True) as smtp:
        for name, value in smtp.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("FUNNEL_SMTP_USER", "funnel")
        monkeypatch.setenv("FUNNEL_SMTP_PASSWORD", PASSWORD)
        code = main(["send-weekly", "--to", "boss@shop.example"])
        out, err = capsys.readouterr()
        assert code == 1
        assert "refused the login for user 'funnel'" in err
        assert "FUNNEL_SMTP_PASSWORD" in err
        assert PASSWORD not in out + err
        assert smtp.handler.envelopes == []


def test_no_server_listening(server, demo_db, stub_pdf, monkeypatch, capsys):
    monkeypatch.setenv("FUNNEL_SMTP_PORT", str(free_port()))
    assert main(["send-weekly", "--to", "boss@shop.example"]) == 1
    assert "refused the connection" in capsys.readouterr().err


def test_a_server_that_never_answers_times_out(server, demo_db, stub_pdf, monkeypatch, capsys):
    with socket.socket() as silent:  # accepts the connection (backlog), never says hello
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        monkeypatch.setenv("FUNNEL_SMTP_PORT", str(silent.getsockname()[1]))
        monkeypatch.setattr(mail, "SMTP_TIMEOUT", 0.5)
        assert main(["send-weekly", "--to", "boss@shop.example"]) == 1
    assert "did not answer within 0.5 s" in capsys.readouterr().err


def test_starttls_asked_of_a_server_without_it(server, demo_db, stub_pdf, monkeypatch, capsys):
    monkeypatch.setenv("FUNNEL_SMTP_TLS", "starttls")
    assert main(["send-weekly", "--to", "boss@shop.example"]) == 1
    assert "does not offer STARTTLS" in capsys.readouterr().err
    assert server.handler.envelopes == []


# --- --dry-run -------------------------------------------------------------------------------


def test_dry_run_writes_the_message_and_sends_nothing(server, demo_db, stub_pdf, capsysbinary):
    assert main(["send-weekly", "--to", "boss@shop.example", "--dry-run"]) == 0
    captured = capsysbinary.readouterr()
    msg = email.message_from_bytes(captured.out, policy=email.policy.default)
    assert msg["Subject"] == SUBJECT and msg["From"] == SENDER
    assert set(_parts(msg)) == {"text/plain", "text/html", "application/pdf"}
    assert server.handler.envelopes == []


def test_dry_run_to_a_file_needs_no_settings(no_settings, demo_db, stub_pdf, capsys):
    out = no_settings / "pack.eml"
    assert main(["send-weekly", "--to", "boss@shop.example", "--dry-run", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "wrote" in err and "not sent" in err
    assert "FUNNEL_SMTP_FROM" in err  # the From is a placeholder, and it says so
    msg = email.message_from_bytes(out.read_bytes(), policy=email.policy.default)
    assert msg["From"] == mail.PLACEHOLDER_FROM
    assert msg["Subject"] == SUBJECT


# --- usage: exit 2 ---------------------------------------------------------------------------


@pytest.mark.parametrize("argv,words", [
    (["--to", "not-an-address"], "'not-an-address' is not one e-mail address"),
    (["--to", "a@b.example, c@d.example"], "is not one e-mail address"),
    (["--to", "a@b.example", "--out", "x.eml"], "--out is for --dry-run"),
    (["--to", "a@b.example", "--week", "2026-47"], "2026-47"),
    (["--to", "a@b.example", "--schedule", "someday"], "like \"Mon 07:30\""),
    (["--to", "a@b.example", "--schedule", "Mon 25:00"], "24-hour clock"),
    (["--to", "a@b.example", "--schedule", "Mon 07:30", "--dry-run"], "leave out --dry-run"),
])
def test_usage_errors_exit_2(no_settings, capsys, argv, words):
    assert main(["send-weekly", *argv]) == 2
    assert words in capsys.readouterr().err


def test_to_is_required(no_settings, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["send-weekly"])
    assert exc.value.code == 2
    assert "--to" in capsys.readouterr().err


# --- the schedule ----------------------------------------------------------------------------


def test_schedule_lines_for_cron_and_systemd():
    command = "cd /srv/funnel && python3 -m funnel send-weekly --to a@b.example"
    assert mail.schedule_lines("Mon", "07:30", command) == {
        "cron": "30 7 * * 1 " + command,
        "systemd": "OnCalendar=Mon *-*-* 07:30:00",
        "systemd_exec": f"ExecStart=/bin/sh -c '{command}'",
    }
    sunday = mail.schedule_lines("sunday", "6:05", "run")
    assert sunday["cron"] == "5 6 * * 0 run"  # cron counts Sunday as 0
    assert sunday["systemd"] == "OnCalendar=Sun *-*-* 06:05:00"
    odd = mail.schedule_lines("FRI", "23:59", "echo 50% $HOME 'x'")
    assert odd["cron"] == r"59 23 * * 5 echo 50\% $HOME 'x'"  # a bare % is a new line to cron
    assert odd["systemd_exec"] == "ExecStart=/bin/sh -c 'echo 50%% $$HOME '\"'\"'x'\"'\"''"


@pytest.mark.parametrize("weekday,time", [("Mo", "07:30"), ("Funday", "07:30"),
                                          ("Mon", "7.30"), ("Mon", "24:00"), ("Mon", "07:60")])
def test_schedule_lines_refuse_what_they_cannot_read(weekday, time):
    with pytest.raises(mail.ScheduleError):
        mail.schedule_lines(weekday, time, "run")


def test_schedule_prints_both_lines_and_sends_nothing(server, capsys):
    db = Path("/srv/funnel/data/funnel.duckdb")
    code = main(["send-weekly", "--to", "boss@shop.example", "--schedule", "Mon 07:30",
                 "--db", str(db)])
    out = capsys.readouterr().out
    assert code == 0
    lines = [line for line in out.splitlines() if not line.startswith("#")]
    command = (f"cd {Path.cwd()} && {sys.executable} -m funnel send-weekly "
               f"--to boss@shop.example --db {db}")
    assert lines == [f"30 7 * * 1 {command}", "OnCalendar=Mon *-*-* 07:30:00",
                     f"ExecStart=/bin/sh -c '{command}'"]
    assert server.handler.envelopes == []
