"""``python -m funnel send-weekly``: the weekly review pack by e-mail (issue 17, item 6).

    python -m funnel send-weekly --to a@b.example [--to ...] [--db PATH] [--week 2026-W47]
                                 [--dry-run [--out FILE]] [--schedule "Mon 07:30"]

Builds the pack as ``weekly`` does and mails it: the HTML export (without charts) as the body,
the Markdown summary as its plain-text alternative, the PDF that ``weekly --format pdf`` prints
attached (sent without it, saying why, where chromium cannot print it). SMTP settings:
``FUNNEL_SMTP_*`` or ``[smtp]`` in ``.streamlit/secrets.toml`` (:mod:`funnel.weekly.mail`).
``--dry-run`` writes the message (.eml) to standard output or ``--out`` instead of sending it;
``--schedule "Mon 07:30"`` prints the cron and systemd timer lines that send it every week and
sends nothing. Exit codes: 0 sent (or written, or printed); 1 it cannot be sent (no SMTP
settings, the server refused, the store cannot be opened or holds no leads); 2 usage.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from funnel.cli.common import DB_HELP, fail
from funnel.cli.weekly import load_pack


def add_send_weekly_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``send-weekly`` command to ``funnel.cli``'s subparsers; returns its parser."""
    parser = subparsers.add_parser(
        "send-weekly",
        help="e-mail the weekly review pack (HTML body, PDF attached) through SMTP",
        description="E-mail the weekly review pack for one ISO week through the SMTP server in "
                    "FUNNEL_SMTP_* or [smtp] of .streamlit/secrets.toml.",
    )
    parser.add_argument("--to", action="append", required=True, metavar="ADDRESS",
                        help="a recipient (give --to again for more)")
    parser.add_argument("--week", metavar="YYYY-Www",
                        help="ISO week, like 2026-W47 (default: the last complete week)")
    parser.add_argument("--db", type=Path, help=DB_HELP)
    parser.add_argument("--dry-run", action="store_true",
                        help="write the message (.eml) instead of sending it")
    parser.add_argument("--out", type=Path, metavar="FILE",
                        help="with --dry-run: write the .eml here (default: standard output)")
    parser.add_argument("--schedule", metavar='"DAY HH:MM"',
                        help='print the cron and systemd timer lines that send the pack every '
                             'week at that time, like "Mon 07:30"; sends nothing')
    parser.set_defaults(handler=run_send_weekly)
    return parser


def run_send_weekly(args: argparse.Namespace) -> int:
    """Build the pack and send it (or write it, or print the schedule); returns the exit code."""
    from funnel.weekly import mail
    from funnel.weekly import week as iso_week

    try:
        recipients = mail.check_recipients(args.to or [])
    except mail.SettingsError as exc:
        return fail(2, str(exc))
    if args.out is not None and not args.dry_run:
        return fail(2, "--out is for --dry-run (the message is sent, not written)")
    if args.week is not None:
        try:
            iso_week.Week.parse(args.week)
        except iso_week.WeekError as exc:
            return fail(2, str(exc))
    if args.schedule is not None:
        return _print_schedule(args, recipients)

    settings = None
    try:
        settings = mail.load_settings(require=() if args.dry_run else ("host", "from"))
    except mail.SettingsError as exc:
        if not args.dry_run:
            return fail(1, f"cannot send: {exc}")
        print(f"note: {exc}", file=sys.stderr)
    sender = settings.sender if settings and settings.sender else None
    if sender is None:
        sender = mail.PLACEHOLDER_FROM
        print(f"note: no sender configured ({mail.ENV['from']}); the From line reads {sender}",
              file=sys.stderr)
    if settings and settings.user and settings.tls == "none" and not args.dry_run:
        print(f"warning: {mail.ENV['tls']}=none sends the password unencrypted",
              file=sys.stderr)

    built = _build(args, sender, recipients)
    if isinstance(built, int):
        return built
    msg, week = built
    if args.dry_run:
        return _write_eml(msg, args.out, week)
    try:
        mail.send(msg, settings, recipients)
    except mail.SendError as exc:
        return fail(1, f"{week}: not sent: {exc}")
    print(f"{week}: sent to {', '.join(recipients)} through {settings.host}:{settings.port}",
          file=sys.stderr)
    return 0


def _build(args: argparse.Namespace, sender: str, recipients: list[str]):
    """(the message, the week) or an exit code."""
    from funnel import format as fmt
    from funnel.weekly import export as weekly_export
    from funnel.weekly import mail

    pack = load_pack(args.db, args.week)
    if isinstance(pack, int):
        return pack
    pdf, note = None, None
    with fmt.in_currency(pack.currency):  # money in the store's mark, as on the pages
        with tempfile.TemporaryDirectory(prefix="funnel-send-weekly-") as tmp:
            try:
                pdf = weekly_export.render_pdf(pack, Path(tmp) / "weekly.pdf").read_bytes()
            except weekly_export.PdfUnavailable as exc:
                note = f"No PDF this week: {exc}."
                print(f"warning: {pack.week}: the PDF is left out: {exc}", file=sys.stderr)
        return mail.pack_message(pack, sender, recipients, pdf, pdf_note=note), pack.week


def _write_eml(msg, out: Path | None, week) -> int:
    data = msg.as_bytes()
    if out is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return 0
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    except OSError as exc:
        return fail(1, f"cannot write {out}: {exc.strerror or exc}")
    print(f"{week}: wrote {out} (not sent)", file=sys.stderr)
    return 0


def _print_schedule(args: argparse.Namespace, recipients: list[str]) -> int:
    from funnel.weekly import mail

    if args.dry_run or args.week is not None:
        return fail(2, "--schedule prints the lines that send the last complete week each "
                        "time: leave out --dry-run and --week")
    try:
        weekday, time = mail.parse_schedule(args.schedule)
    except mail.ScheduleError as exc:
        return fail(2, str(exc))
    lines = mail.schedule_lines(weekday, time, mail.scheduled_command(recipients, args.db))
    print(f"# cron (crontab -e), {weekday} at {time} on this machine's clock:")
    print(lines["cron"])
    print("# systemd: the [Timer] line of funnel-weekly.timer (add Persistent=true) and the "
          "[Service] line of funnel-weekly.service:")
    print(lines["systemd"])
    print(lines["systemd_exec"])
    return 0
