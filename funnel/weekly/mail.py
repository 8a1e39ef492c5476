"""The weekly pack by e-mail (issue 17, item 6): SMTP settings, the message, sending it, and the
schedule lines for cron and a systemd timer. No Streamlit.

The message is ``multipart/mixed``: a ``multipart/alternative`` body (the Markdown summary as
text, the HTML export without its charts as HTML: mail programs run no JavaScript and a 5 MB
body would be refused by many servers) and the PDF that ``weekly --format pdf`` prints (charts
included) attached. Subject: the pack's title, ``Weekly review 2026-W47 (16–22 Nov 2026)``.

SMTP settings come from the environment (``FUNNEL_SMTP_HOST``, ``_PORT``, ``_USER``,
``_PASSWORD``, ``_FROM``, ``_TLS``) or the ``[smtp]`` table of ``.streamlit/secrets.toml``
(``host, port, user, password, from, tls``); the environment wins. The password is never put in
a message, an error or a ``repr``.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import os
import re
import smtplib
import socket
import ssl
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

# setting -> its environment variable (the [smtp] key in secrets.toml is the setting's name)
ENV = {
    "host": "FUNNEL_SMTP_HOST",
    "port": "FUNNEL_SMTP_PORT",
    "user": "FUNNEL_SMTP_USER",
    "password": "FUNNEL_SMTP_PASSWORD",
    "from": "FUNNEL_SMTP_FROM",
    "tls": "FUNNEL_SMTP_TLS",
}
EXAMPLES = {
    "host": "smtp.example.com",
    "port": "587",
    "user": "funnel@example.com",
    "password": "the SMTP password",
    "from": "Funnel <funnel@example.com>",
    "tls": "starttls",
}
TLS_MODES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
SECRETS_SECTION = "smtp"
SMTP_TIMEOUT = 30.0  # seconds for the connection and for each answer of the server
PLACEHOLDER_FROM = "funnel@localhost"  # --dry-run's From when none is configured


class SettingsError(ValueError):
    """The SMTP settings are missing or malformed; the message says which setting to add or fix."""


class SendError(RuntimeError):
    """The server could not be reached or would not take the message (never holds the password)."""


class ScheduleError(ValueError):
    """A weekday or time of day that cannot be read."""


# --- settings ---------------------------------------------------------------------------------


def secrets_paths(cwd: Path | None = None, home: Path | None = None) -> list[Path]:
    """Where Streamlit keeps secrets, weakest first: ``~/.streamlit/secrets.toml``, then the
    project's ``.streamlit/secrets.toml`` (in the directory the command runs from)."""
    home = Path.home() if home is None else home
    cwd = Path.cwd() if cwd is None else cwd
    return [home / ".streamlit" / "secrets.toml", cwd / ".streamlit" / "secrets.toml"]


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None
    port: int
    sender: str | None  # the From header, e.g. "Funnel <funnel@example.com>"
    tls: str = "starttls"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sources: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def envelope_from(self) -> str | None:
        """The bare address of the From header (the SMTP ``MAIL FROM``)."""
        return email.utils.parseaddr(self.sender)[1] if self.sender else None


def _where(setting: str, paths: list[Path]) -> str:
    return (f"set {ENV[setting]} (e.g. {ENV[setting]}={_shell_example(setting)}) or add "
            f'{setting} = "{EXAMPLES[setting]}" under [{SECRETS_SECTION}] in {paths[-1]}')


def _shell_example(setting: str) -> str:
    value = EXAMPLES[setting]
    return f"'{value}'" if re.search(r"[\s<>]", value) else value


def _read_secrets(paths: list[Path]) -> tuple[dict[str, object], dict[str, str]]:
    """The [smtp] tables of the secrets files merged (later files win), and where each key
    came from."""
    values: dict[str, object] = {}
    sources: dict[str, str] = {}
    for path in paths:
        if not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(f"cannot read {path}: {exc.__class__.__name__}") from None
        except tomllib.TOMLDecodeError as exc:  # says the line and column, not the text
            raise SettingsError(f"{path} is not valid TOML: {exc}") from None
        section = data.get(SECRETS_SECTION)
        if section is None:
            continue
        if not isinstance(section, dict):
            raise SettingsError(f"{path}: [{SECRETS_SECTION}] must be a table of host, port, "
                                "user, password, from, tls")
        for key, value in section.items():
            if key in ENV:
                values[key] = value
                sources[key] = f"[{SECRETS_SECTION}] {key} in {path}"
    return values, sources


def load_settings(environ: Mapping[str, str] | None = None, paths: list[Path] | None = None,
                  require: Iterable[str] = ("host", "from")) -> SmtpSettings:
    """The SMTP settings: the environment over ``.streamlit/secrets.toml``. Raises
    :class:`SettingsError` naming the setting to add when one in ``require`` is missing, or the
    one to fix when it cannot be read (an empty variable counts as not set)."""
    environ = os.environ if environ is None else environ
    paths = secrets_paths() if paths is None else paths
    values, sources = _read_secrets(paths)
    for key, name in ENV.items():
        if (environ.get(name) or "").strip():
            values[key] = environ[name]
            sources[key] = name
    text: dict[str, str | None] = {}
    for key in ENV:
        value = values.get(key)
        if isinstance(value, bool) or (value is not None and not isinstance(value, str | int)):
            raise SettingsError(f"{sources[key]} must be text; {_where(key, paths)}")
        text[key] = None if value is None or not str(value).strip() else str(value).strip()
    if key_password := values.get("password"):  # a password keeps its spaces
        text["password"] = str(key_password)
    for key in require:
        if not text.get(key):
            raise SettingsError(f"the SMTP {_label(key)} is not set: {_where(key, paths)}")

    tls = (text["tls"] or "starttls").lower()
    if tls not in TLS_MODES:
        raise SettingsError(f"{sources['tls']} is {text['tls']!r}; use one of "
                            f"{', '.join(TLS_MODES)} (starttls for port 587, ssl for 465)")
    port = DEFAULT_PORTS[tls]
    if text["port"] is not None:
        try:
            port = int(text["port"])
        except ValueError:
            port = -1
        if not 0 < port < 65536:
            raise SettingsError(f"{sources['port']} is {text['port']!r}; give a port number "
                                "such as 587 (starttls), 465 (ssl) or 25")
    if text["from"] is not None:
        _check_address(email.utils.parseaddr(text["from"])[1] or text["from"],
                       f"the sender ({sources['from']})")
    if text["user"] and not text["password"]:
        raise SettingsError(f"{sources['user']} is set but no password: "
                            f"{_where('password', paths)}")
    if text["password"] and not text["user"]:
        raise SettingsError(f"a password is set but no user: {_where('user', paths)}")
    return SmtpSettings(host=text["host"], port=port, sender=text["from"], tls=tls,
                        user=text["user"], password=text["password"], sources=sources)


def _label(setting: str) -> str:
    return {"host": "server (host)", "from": "sender address (from)"}.get(setting, setting)


def _check_address(address: str, what: str) -> str:
    """``address`` when it is one plain e-mail address (``name@domain``), else SettingsError."""
    try:
        parsed = Address(addr_spec=address)
        ok = bool(parsed.username and parsed.domain) and parsed.addr_spec == address.strip()
    except Exception:  # the parser raises several kinds for bad input
        ok = False
    if not ok or re.search(r"[\s,;]", address.strip()):
        raise SettingsError(f"{what}: {address!r} is not one e-mail address like a@b.example")
    return address.strip()


def check_recipients(addresses: Iterable[str]) -> list[str]:
    """The addresses, each checked to be one plain e-mail address (SettingsError if not)."""
    out = [_check_address(a, "--to") for a in addresses]
    if not out:
        raise SettingsError("give at least one --to address")
    return out


# --- the message ------------------------------------------------------------------------------


def build_message(subject: str, text: str, html: str, sender: str, recipients: list[str],
                  pdf: bytes | None = None, pdf_name: str = "weekly.pdf",
                  date: dt.datetime | None = None) -> EmailMessage:
    """A ``multipart/mixed`` message: text and HTML alternatives, the PDF attached when given."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = email.utils.format_datetime(date or dt.datetime.now().astimezone())
    domain = (email.utils.parseaddr(sender)[1].rpartition("@")[2] or "localhost")
    msg["Message-ID"] = email.utils.make_msgid("funnel-weekly", domain=domain)
    msg.set_content(text, subtype="plain", charset="utf-8")
    msg.add_alternative(html, subtype="html", charset="utf-8")
    if pdf is not None:
        msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=pdf_name)
    return msg


def pack_message(pack, sender: str, recipients: list[str], pdf: bytes | None,
                 pdf_note: str | None = None) -> EmailMessage:
    """The weekly pack as a message: the Markdown summary as text, the HTML export (without
    charts) as HTML, the PDF attached. ``pdf_note`` (why there is no PDF) heads both bodies."""
    from funnel.weekly import export as weekly_export

    text = weekly_export.render_markdown(pack)
    page = weekly_export.render_html(pack, charts_included=False)
    if pdf_note:
        import html as html_lib

        text = f"{pdf_note}\n\n{text}"
        page = page.replace("<main>", f'<main><p class="sub">{html_lib.escape(pdf_note)}</p>', 1)
    return build_message(pack.title, text, page, sender, recipients, pdf=pdf,
                         pdf_name=f"weekly-review-{pack.week}.pdf")


# --- sending ----------------------------------------------------------------------------------


def send(msg: EmailMessage, settings: SmtpSettings, recipients: list[str],
         timeout: float | None = None) -> None:
    """Send ``msg`` to ``recipients`` through the configured server. Raises :class:`SendError`
    with a reason a person can act on (every recipient must be accepted; the password is never
    in the reason)."""
    if not settings.host or not settings.envelope_from:
        raise SendError("no SMTP server or sender address is configured")
    timeout = SMTP_TIMEOUT if timeout is None else timeout
    try:
        _send(msg, settings, recipients, timeout)
    except SendError as exc:
        raise SendError(_scrub(str(exc), settings.password)) from None
    except Exception as exc:  # every failure becomes one sentence
        raise SendError(_scrub(_reason(exc, settings, timeout), settings.password)) from None


def _send(msg: EmailMessage, settings: SmtpSettings, recipients: list[str],
          timeout: float) -> None:
    context = ssl.create_default_context()
    if settings.tls == "ssl":
        smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
    with smtp:
        smtp.ehlo()
        if settings.tls == "starttls":
            if not smtp.has_extn("starttls"):
                raise SendError(f"{_server(settings)} does not offer STARTTLS: use "
                                f"{ENV['tls']}=ssl (port 465) or, only for a relay on this "
                                f"machine, {ENV['tls']}=none")
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.user:
            smtp.login(settings.user, settings.password or "")
        refused = smtp.send_message(msg, from_addr=settings.envelope_from, to_addrs=recipients)
    if refused:
        accepted = [r for r in recipients if r not in refused]
        raise SendError(f"{_server(settings)} refused {_refusals(refused)}; "
                        + (f"sent to {', '.join(accepted)} only" if accepted else "not sent"))


def _server(settings: SmtpSettings) -> str:
    return f"the SMTP server {settings.host}:{settings.port}"


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _refusals(refused: Mapping[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{address} ({code} {_text(reply).strip()})"
                     for address, (code, reply) in refused.items())


def _reason(exc: Exception, settings: SmtpSettings, timeout: float) -> str:
    server = _server(settings)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return f"{server} refused {_refusals(exc.recipients)}; not sent"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return (f"{server} refused the login for user {settings.user!r} ({exc.smtp_code} "
                f"{_text(exc.smtp_error).strip()}): check {ENV['user']} and {ENV['password']}")
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return (f"{server} refused the sender {settings.envelope_from} ({exc.smtp_code} "
                f"{_text(exc.smtp_error).strip()}): check {ENV['from']}")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return (f"{server} does not support what was asked ({exc}): without a login leave "
                f"{ENV['user']} and {ENV['password']} unset")
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{server} answered {exc.smtp_code} {_text(exc.smtp_error).strip()}; not sent"
    if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
        # smtplib words a read that timed out as "Connection unexpectedly closed: timed out"
        return (f"{server} did not answer within {timeout:g} s: check {ENV['host']} and "
                f"{ENV['port']} (a port that expects TLS at once, like 465, needs "
                f"{ENV['tls']}=ssl)")
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return (f"{server} closed the connection ({exc or 'no reason given'}): check "
                f"{ENV['port']} and {ENV['tls']} (starttls for 587, ssl for 465)")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"{server}'s certificate cannot be trusted: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        return (f"the TLS handshake with {server} failed ({exc.reason or exc}): check "
                f"{ENV['tls']} ({'ssl' if settings.tls == 'ssl' else 'starttls'} is set; "
                "ssl is for port 465, starttls for 587)")
    if isinstance(exc, ConnectionRefusedError):
        return f"{server} refused the connection: is it running, and is the port right?"
    if isinstance(exc, socket.gaierror):
        return f"cannot find the SMTP host {settings.host!r}: check {ENV['host']}"
    if isinstance(exc, smtplib.SMTPException | OSError):
        return f"cannot send through {server}: {exc.__class__.__name__}: {exc}"
    return f"cannot send through {server}: {exc.__class__.__name__}"


def _scrub(text: str, password: str | None) -> str:
    return text.replace(password, "***") if password else text


# --- schedule ---------------------------------------------------------------------------------

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_FULL = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def schedule_lines(weekday: str, time: str, command: str) -> dict[str, str]:
    """The lines that run ``command`` (a shell command line) every week on ``weekday`` (Mon or
    Monday, any case) at ``time`` (HH:MM, 24-hour, the machine's time zone):

    - ``cron``: a crontab line (``%`` escaped, which cron would read as a new line);
    - ``systemd``: the ``OnCalendar=`` line of a systemd timer's ``[Timer]`` section;
    - ``systemd_exec``: the ``ExecStart=`` line of the service that timer starts.

    Pure: raises :class:`ScheduleError` for a weekday or time it cannot read."""
    name = weekday.strip().lower()
    matches = [i for i, full in enumerate(_FULL) if name in (full, full[:3])]
    if not matches:
        raise ScheduleError(f"weekday {weekday!r}: use Mon, Tue, Wed, Thu, Fri, Sat or Sun")
    day = matches[0]
    found = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", time)
    hour, minute = (int(found.group(1)), int(found.group(2))) if found else (-1, -1)
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ScheduleError(f"time {time!r}: use HH:MM on a 24-hour clock, like 07:30")
    if not command.strip() or "\n" in command or "\r" in command:
        raise ScheduleError("the command must be one non-empty line")
    cron_day = (day + 1) % 7  # cron: 0 is Sunday
    cron_command = command.replace("%", r"\%")
    unit_command = command.replace("\\", "\\\\").replace("%", "%%").replace("$", "$$")
    quoted = "'" + unit_command.replace("'", "'\"'\"'") + "'"
    return {
        "cron": f"{minute} {hour} * * {cron_day} {cron_command}",
        "systemd": f"OnCalendar={WEEKDAYS[day]} *-*-* {hour:02d}:{minute:02d}:00",
        "systemd_exec": f"ExecStart=/bin/sh -c {quoted}",
    }


def parse_schedule(text: str) -> tuple[str, str]:
    """``"Mon 07:30"`` as (weekday, time), checked (ScheduleError if not)."""
    parts = text.split()
    if len(parts) != 2:
        raise ScheduleError(f"--schedule {text!r}: write the day and the time, like \"Mon 07:30\"")
    schedule_lines(parts[0], parts[1], "true")  # checks both
    return parts[0], parts[1]


def scheduled_command(recipients: list[str], db: Path | None) -> str:
    """The shell command a schedule runs: from this directory (where .streamlit/secrets.toml
    is read), this Python, the store named in full."""
    import shlex
    import sys

    from funnel.store import connection as store

    path = (db or store.default_db_path()).expanduser().resolve()
    argv = [sys.executable, "-m", "funnel", "send-weekly"]
    for address in recipients:
        argv += ["--to", address]
    argv += ["--db", str(path)]
    return f"cd {shlex.quote(str(Path.cwd()))} && {shlex.join(argv)}"
