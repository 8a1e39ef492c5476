"""The weekly pack as files to take away: one self-contained HTML page (static SVG charts, no
script: it opens offline and stays small), a Markdown summary for notes or chat, CSVs of its
tables, and a PDF printed by the Debian chromium. Pure functions of a
:class:`funnel.weekly.pack.WeeklyPack`; no Streamlit.

Every table cell written here goes through :func:`funnel.safe_text.neutralise` (formula
injection); no personal data is in the pack to begin with (CRM id, channel, owner only). Words
from the files (channels kept as their own, owners, CRM ids, and the pack's sentences that name
them) are plain text everywhere: escaped for Markdown (:func:`funnel.safe_text.md_text`), for
HTML (:func:`html.escape`) and for plotly labels (:func:`funnel.safe_text.label_text`).
"""

from __future__ import annotations

import html
import io
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from funnel import charts
from funnel import format as fmt
from funnel.safe_text import label_text, md_text, neutralise
from funnel.weekly import pack as weekly
from funnel.weekly import svg, tables
from funnel.weekly.checks import ALPHA
from funnel.weekly.pack import METRIC_LABELS, WeeklyPack

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw",
    "--virtual-time-budget=15000", "--window-size=1168,1000",
]
INK = "#262730"
MUTED = "#6b7280"
BAND = "#d9dde3"


# --- figures --------------------------------------------------------------------------------


def leads_against_band(pack: WeeklyPack) -> go.Figure:
    """Each channel's new leads this week (dot) on its normal range (grey bar), with the
    4-week average (tick). Dots outside their bar are the flagged changes; no red or green."""
    rows = pack.changes[(pack.changes["metric"] == "leads") & ~pack.changes["is_total"]]
    rows = rows[rows["band_high"].notna()]
    names = [label_text(v) for v in rows["label"]]
    fig = go.Figure()
    fig.add_bar(
        y=names, x=rows["band_high"] - rows["band_low"], base=rows["band_low"], orientation="h",
        marker_color=BAND, width=0.55, name="Normal range", customdata=rows["band_high"],
        hovertemplate="%{y}: normal range %{base:,}–%{customdata:,}<extra></extra>",
    )
    fig.add_scatter(
        y=names, x=rows["trailing_mean"], mode="markers", name="4-week average",
        marker={"symbol": "line-ns", "size": 16, "line": {"width": 2, "color": MUTED}},
        hovertemplate="%{y}: average %{x:.1f} a week<extra></extra>",
    )
    flagged = rows["is_flagged"].to_numpy()
    colours = charts.channel_colors(list(rows["channel"]))  # as on the other charts
    fig.add_scatter(
        y=names, x=rows["this_week"], mode="markers+text", name="This week",
        marker={"size": [15 if f else 11 for f in flagged],
                "color": [colours[c] for c in rows["channel"]],
                "line": {"width": [2.5 if f else 1 for f in flagged], "color": INK}},
        text=[f"{fmt.count(v)}  {'▲ outside' if d == 'up' else '▼ outside' if d == 'down' else ''}"
              for v, d in zip(rows["this_week"], rows["direction"], strict=True)],
        textposition="middle right", textfont={"size": 13, "color": INK},
        hovertemplate="%{y}: %{x:,} this week<extra></extra>", cliponaxis=False,
    )
    height = max(240, 80 + 24 * len(names))
    fig.update_layout(
        template="plotly_white", height=height, barmode="overlay", showlegend=True,
        font={"family": charts.FONT, "size": 13, "color": INK},
        margin={"l": 10, "r": 70, "t": 30, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0, "font": {"size": 12}},
    )
    fig.update_yaxes(categoryorder="array", categoryarray=names[::-1], automargin=True)
    top = float(max(rows["band_high"].max(), rows["this_week"].max(), 1))
    fig.update_xaxes(range=[0, top * 1.18], gridcolor="#eef0f2", automargin=True)
    return fig


def trend(pack: WeeklyPack) -> go.Figure:
    """New leads and deals won per week, all channels, the chosen week in full colour
    (``charts.headline_by_week`` on the pack's trend)."""
    df = pack.trend.rename(columns={"won": "wins_closed"}).assign(
        week=lambda d: pd.to_datetime(d["week_start"]))
    fig = charts.headline_by_week(df, weeks=len(df))
    fig.update_layout(height=300, font={"size": 13}, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    fig.update_annotations(font_size=14)
    fig.update_traces(textfont_size=10)
    return fig


def figures(pack: WeeklyPack) -> dict[str, go.Figure]:
    """The pack's charts by title (empty when there is nothing to draw)."""
    out: dict[str, go.Figure] = {}
    leads = pack.changes[(pack.changes["metric"] == "leads") & ~pack.changes["is_total"]]
    if leads["band_high"].notna().any():
        out["New leads by channel against their normal range"] = leads_against_band(pack)
    if len(pack.trend):
        title = (f"The last {len(pack.trend)} weeks, all channels" if len(pack.trend) > 1
                 else "This week, all channels")
        out[title] = trend(pack)
    return out


# --- shared words ---------------------------------------------------------------------------


def headline(pack: WeeklyPack) -> list[tuple[str, str, str]]:
    """The key numbers: (what, value, compared with what and verdict)."""
    out = []
    undated = (pack.wins_without_date or "").startswith("Not in the data")
    for metric in ("leads", "wins", "close_rate", "won_value"):
        row = pack.total(metric)
        if metric != "leads" and undated:  # counted by the week they were won: no date, no week
            out.append((METRIC_LABELS[metric], "not in the data",
                        "the files give no date the leads were won"))
            continue
        value = weekly.value_text(metric, row["this_week"])
        note = _average_note(pack, metric, row)
        if metric == "close_rate" and not fmt.is_missing(row["this_week_closed"]):
            note = f"won of {fmt.count(row['this_week_closed'])} closed; {note}"
        out.append((METRIC_LABELS[metric], value, note))
    temps = dict(zip(pack.pipeline["temperature"], pack.pipeline["open_leads"], strict=True))
    stale = f"{fmt.count(pack.stale_total)} going stale" if pack.stale_total else "none stale"
    out.append(("Hot deals open", fmt.count(temps.get("hot", 0)),
                f"{stale}; {fmt.count(temps.get('warm', 0))} warm, "
                f"{fmt.count(temps.get('cold', 0))} cold"))
    return out


def _base(pack: WeeklyPack, metric: str) -> list:
    return pack.baseline_weeks if metric == "leads" else pack.closing_baseline_weeks


def _average_note(pack: WeeklyPack, metric: str, row: pd.Series) -> str:
    """'4-week average 96.8; within normal variation', or, with no week before to compare
    with, what there is instead."""
    weeks = len(_base(pack, metric))
    if pack.one_week:
        return "one week of data so far: nothing to compare with yet"
    if not weeks:
        return "no earlier week old enough to compare with yet"
    average = weekly.mean_text(metric, row["trailing_mean"])
    return f"{weeks}-week average {average}; {_short_verdict(row)}"


def _short_verdict(row: pd.Series) -> str:
    if row["is_flagged"]:
        return f"{row['direction']}, outside normal variation"
    return str(row["verdict"]).split(" (")[0]


def subtitle(pack: WeeklyPack) -> str:
    text = f"Data as of {fmt.date(pack.as_of)} · compared with {pack.baseline_text}"
    if not pack.is_complete:
        text += " · this week is not over yet"
    return text


def tests_note(pack: WeeklyPack) -> list[str]:
    """How the checks work, in a few sentences (the footer of every export)."""
    band = f"{100 * (1 - ALPHA):.0f}%"
    checks = len(pack.changes[pack.changes["status"].isin(["flagged", "normal"])])
    expected = checks * ALPHA
    alarms = ("about one false alarm in two weeks" if 0.3 <= expected < 0.75 else
              f"about {fmt.about_count(expected)} false alarm"
              f"{'' if fmt.about_count(expected) == '1' else 's'} a week")
    lines = [
        f"A change is flagged only when it falls outside its normal range: the {band} of values "
        "an ordinary week lands in, given the weeks before. Everything else is within normal "
        f"variation, however it looks next to last week. This pack makes {checks} checks, so "
        f"{alarms} is to be expected by chance.",
        f"New leads and deals won: {weekly.TESTS['leads']}.",
        f"Close rate (won of the deals won or lost this week): {weekly.TESTS['close_rate']}.",
        f"Won value: {weekly.TESTS['won_value']}.",
    ]
    lumpy = pack.changes[pack.changes["dispersion"] > 1]
    if len(lumpy):
        names = ", ".join(f"{r.label} ({r.metric_label.lower()})"
                          for r in lumpy.itertuples(index=False))
        lines.append("Some numbers swung more than luck alone over the last "
                     f"{weekly.TREND_WEEKS} weeks (a trade show, a campaign): their normal range "
                     f"is widened to match: {names}.")
    if len(pack.closing_baseline_weeks) < len(pack.baseline_weeks):
        lines.append("Wins, close rate and won value compare with fewer weeks: the first weeks "
                     "of data miss the wins of leads created before it starts.")
    lines.append("Deals won and won value count deals by the date they were won, whenever "
                 "created; the conversion of this week's new leads is not judged here (they are "
                 "days old): see the Sales page.")
    return lines


def head_to_head_title(pack: WeeklyPack) -> str:
    """'Referral against cold call' (the Sales page's pair), or 'Head to head'."""
    h = pack.head_to_head
    if h is None:
        return "Head to head"
    return f"{h['a']['label']} against {fmt.in_sentence(h['b']['label'])}"


def head_to_head_lines(pack: WeeklyPack) -> list[str]:
    """The head-to-head finding and where it comes from."""
    h = pack.head_to_head
    if h is None:
        return ["Head to head needs at least two channels with leads."]
    return [h["sentence"],
            f"Every lead that came in up to {fmt.date(h['up_to'])}, as on the Sales page's head "
            "to head with no dates picked."]


def advice_lines(pack: WeeklyPack) -> tuple[str, list[tuple[str, str, str, str]]]:
    """The allocation advice: its summary, and per channel it moves (name, to do, why, what
    would change it)."""
    if pack.advice is None:
        return "No allocation advice.", []
    return pack.advice.summary, list(pack.advice.moves)


def cohort_sentence(pack: WeeklyPack) -> str:
    """What became of this week's new leads so far (the Sales page judges their conversion)."""
    c = pack.cohort
    if not c["leads"]:
        return "No new leads this week."
    return (f"Of this week's {fmt.count(c['leads'])} new leads, {fmt.count(c['won'])} are "
            f"already won, {fmt.count(c['lost'])} lost and {fmt.count(c['open'])} still open; "
            "their conversion is judged on the Sales page once they have had time to close.")


# --- Markdown -------------------------------------------------------------------------------


def render_markdown(pack: WeeklyPack) -> str:
    """A summary to paste into meeting notes or a chat: headline, what moved, what to decide
    (the head to head, the allocation advice, the last decision), the tables."""
    out = [f"# {pack.title}", "", subtitle(pack), ""]
    out += [f"- **{what}: {value}** ({note})" for what, value, note in headline(pack)]
    out += ["", "## What moved", ""]
    # the pack's sentences name channels and owners as the files spell them: plain text
    out += [f"- {md_text(s)}" for s in pack.moved] or [f"- {nothing_moved(pack)}"]
    out += ["", "## To decide today", ""]
    out += [f"- {md_text(s)}" for s in pack.agenda]
    out += ["", f"## {md_text(head_to_head_title(pack))}", ""]
    out += [md_text(line) + "\n" for line in head_to_head_lines(pack)]
    summary, moves = advice_lines(pack)
    out += ["## Where next week's money and hours go", "", md_text(summary), ""]
    out += [f"- **{md_text(name)}** ({to_do.lower()}): {md_text(why)} *What would change it:* "
            f"{md_text(change)}" for name, to_do, why, change in moves]
    out += ["", "## Last meeting's decisions", ""]
    if len(pack.decisions):
        out += [*_md_table(tables.decisions_table(pack)), ""]
    if pack.decisions_note:
        out += [md_text(pack.decisions_note)]
    out += ["", "## New leads by channel", "", *_md_table(tables.leads_table(pack)), "",
            cohort_sentence(pack)]
    out += ["", "## Deals won by channel", "", *_md_table(tables.sales_table(pack))]
    out += ["", "## Open pipeline by temperature", "", *_md_table(tables.pipeline_table(pack))]
    out += ["", f"## Oldest hot deals ({fmt.count(pack.hot_total)} in all)", ""]
    out += _md_table(tables.hot_leads_table(pack)) if len(pack.hot_leads) else ["No hot deals."]
    out += ["", "## How to read this", ""]
    out += [f"- {md_text(s)}" for s in tests_note(pack)]
    return "\n".join(out).rstrip() + "\n"


def nothing_moved(pack: WeeklyPack) -> str:
    """What 'What moved' says when nothing did."""
    if pack.one_week:
        return "Nothing to compare with yet: this is the first week of data."
    return "Nothing moved beyond normal variation."


def _cell(value: object) -> str:
    text = "" if fmt.is_missing(value) else str(value)
    return str(neutralise(text)).replace("\r", " ").replace("\n", " ")


def _md_table(df: pd.DataFrame) -> list[str]:
    """A display table as Markdown (:func:`funnel.format.md_table`): the files' words escaped
    as plain text, every cell neutralised against formula injection."""
    words = [c in tables.FROM_FILES for c in df.columns]  # the files' words: plain text
    rows = [[md_text(_cell(v)) if w else _cell(v) for v, w in zip(row, words, strict=True)]
            for row in df.itertuples(index=False, name=None)]
    return fmt.md_table([str(c) for c in df.columns], rows,
                        [_is_numeric_column(df[c]) for c in df.columns])


def _is_numeric_column(series: pd.Series) -> bool:
    """Right-align columns of numbers, money, percentages and days."""
    texts = [str(v) for v in series if not fmt.is_missing(v) and str(v) != fmt.MISSING]
    if not texts:
        return False
    mark = fmt.current_mark()  # money in the store's currency: '€1,000', 'CHF 1,000'
    return all(t[:1].isdigit() or t[:1] in "$−+" or t.lstrip("−+").startswith(mark)
               for t in texts)


# --- HTML -----------------------------------------------------------------------------------


def render_html(pack: WeeklyPack, charts_included: bool = True) -> str:
    """One self-contained page: inline CSS and static SVG charts (:mod:`funnel.weekly.svg`), no
    script, no link or resource outside the file: it opens offline and weighs kilobytes."""
    parts = ["<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{html.escape(pack.title)}</title>", f"<style>{_CSS}</style>",
             "</head><body><main>",
             f"<header><h1>{html.escape(pack.title)}</h1>",
             f'<p class="sub">{html.escape(subtitle(pack))}</p></header>',
             '<section class="kpis">']
    for what, value, note in headline(pack):
        parts.append(f'<div class="kpi"><div class="what">{html.escape(what)}</div>'
                     f'<div class="value">{html.escape(value)}</div>'
                     f'<div class="note">{html.escape(note)}</div></div>')
    parts.append("</section>")
    moved = pack.moved or [nothing_moved(pack)]
    parts += ['<section class="two">',
              '<div><h2>What moved</h2>', _html_list(moved), "</div>",
              '<div><h2>To decide today</h2>', _html_list(pack.agenda), "</div>",
              "</section>"]
    parts.append(f"<section><h2>{html.escape(head_to_head_title(pack))}</h2>"
                 + "".join(f"<p>{html.escape(line)}</p>" for line in head_to_head_lines(pack))
                 + "</section>")
    summary, moves = advice_lines(pack)
    advice = _html_table(tables.advice_table(pack)) if moves else ""
    parts.append("<section><h2>Where next week's money and hours go</h2>"
                 f"<p>{html.escape(summary)}</p>{advice}</section>")
    decisions = _html_table(tables.decisions_table(pack)) if len(pack.decisions) else ""
    note = f"<p>{html.escape(pack.decisions_note)}</p>" if pack.decisions_note else ""
    parts.append(f"<section><h2>Last meeting's decisions</h2>{decisions}{note}</section>")
    if charts_included:
        drawn = svg.figures(pack)
        if drawn:
            parts.append('<section class="charts">')
            parts += [f"<figure><figcaption>{html.escape(title)}</figcaption>{picture}</figure>"
                      for title, picture in drawn.items()]
            parts.append("</section>")
    parts += [_html_section("New leads by channel", tables.leads_table(pack), verdicts=True,
                            after=cohort_sentence(pack)),
              _html_section("Deals won by channel", tables.sales_table(pack), verdicts=True),
              _html_section("Open pipeline by temperature", tables.pipeline_table(pack)),
              _html_section(f"Oldest hot deals ({fmt.count(pack.hot_total)} in all)",
                            tables.hot_leads_table(pack), empty="No hot deals.")]
    parts += ['<footer><h2>How to read this</h2>', _html_list(tests_note(pack)), "</footer>",
              "</main></body></html>"]
    return "\n".join(parts) + "\n"


_CSS = """
:root{--ink:#262730;--muted:#6b7280;--rule:#e3e6ea;--soft:#f5f6f8}
*{box-sizing:border-box}
body{font-family:"Source Sans Pro","Segoe UI",Helvetica,Arial,sans-serif;color:var(--ink);
margin:0;font-size:14px;line-height:1.4;background:#fff}
main{max-width:1120px;margin:0 auto;padding:20px 24px}
h1{font-size:24px;margin:0}h2{font-size:16px;margin:18px 0 6px}
.sub{color:var(--muted);margin:2px 0 12px}
.kpis{display:grid;grid-template-columns:repeat(5,1fr);gap:10px}
.kpi{border:1px solid var(--rule);border-radius:6px;padding:8px 10px;background:var(--soft)}
.kpi .what{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.03em}
.kpi .value{font-size:22px;font-weight:600}
.kpi .note{font-size:12px;color:var(--muted)}
.two{display:grid;grid-template-columns:1fr 1fr;gap:24px}
ul{margin:4px 0;padding-left:18px}li{margin:2px 0}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:16px;margin-top:8px}
figure{margin:0}figcaption{font-weight:600;font-size:14px;margin:10px 0 2px}
table{border-collapse:collapse;width:100%;font-size:13px}
th{text-align:left;font-weight:600;border-bottom:2px solid var(--rule);padding:3px 6px}
td{border-bottom:1px solid var(--rule);padding:3px 6px;vertical-align:top}
td.r,th.r{text-align:right;white-space:nowrap}
tr.total td{font-weight:600;border-top:2px solid var(--rule)}
td.flag{font-weight:700}
p.after{color:var(--muted);margin:4px 0 0}
footer{color:var(--muted);font-size:12px;border-top:1px solid var(--rule);margin-top:18px}
footer h2{font-size:13px}
@media print{main{padding:0}body{zoom:.85}
figure,tr,.kpi,li{break-inside:avoid}h2{break-after:avoid}}
@page{size:A4 landscape;margin:10mm}
"""


def _html_list(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in items) + "</ul>"


def _html_section(title: str, df: pd.DataFrame, verdicts: bool = False, empty: str = "",
                  after: str = "") -> str:
    body = _html_table(df, verdicts) if len(df) else f"<p>{html.escape(empty)}</p>"
    note = f'<p class="after">{html.escape(after)}</p>' if after else ""
    return f"<section><h2>{html.escape(title)}</h2>{body}{note}</section>"


def _html_table(df: pd.DataFrame, verdicts: bool = False) -> str:
    right = [_is_numeric_column(df[c]) for c in df.columns]

    def cells(values, tag: str) -> str:
        out = []
        for value, is_right, column in zip(values, right, df.columns, strict=True):
            classes = ["r"] if is_right else []
            text = _cell(value)
            if verdicts and tag == "td" and column == "Is it real?" and "outside" in text:
                classes.append("flag")
            attr = f' class="{" ".join(classes)}"' if classes else ""
            out.append(f"<{tag}{attr}>{html.escape(text)}</{tag}>")
        return "".join(out)

    rows = []
    for values in df.itertuples(index=False, name=None):
        total = ' class="total"' if values and values[0] == "All channels" else ""
        rows.append(f"<tr{total}>{cells(values, 'td')}</tr>")
    return (f"<table><thead><tr>{cells(df.columns, 'th')}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


# --- CSV ------------------------------------------------------------------------------------


def csv_tables(pack: WeeklyPack) -> dict[str, pd.DataFrame]:
    """The pack's tables as data (not words), one CSV each: changes (every check), pipeline,
    hot leads, hot leads by owner, trend, decisions."""
    changes = pack.changes.assign(week=str(pack.week))
    tables = {
        "changes": changes[["week", *[c for c in changes.columns if c != "week"]]],
        "pipeline": pack.pipeline,
        "hot_leads": pack.hot_leads,
        "hot_by_owner": pack.hot_by_owner,
        "trend": pack.trend,
    }
    if len(pack.decisions):
        tables["decisions"] = pack.decisions
    return tables


def csv_text(df: pd.DataFrame) -> str:
    """A table as CSV text, every text cell neutralised against formula injection."""
    safe = df.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(
                lambda v: neutralise(v) if isinstance(v, str) else
                neutralise(_list_text(v)) if isinstance(v, list | tuple) else v)
    return safe.to_csv(index=False, lineterminator="\n")


def _list_text(value: list | tuple) -> str:
    return "; ".join(str(v) for v in value)


def write_csvs(pack: WeeklyPack, directory: Path) -> list[Path]:
    """Write every table as ``weekly_<week>_<table>.csv`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, df in csv_tables(pack).items():
        path = directory / f"weekly_{pack.week}_{name}.csv"
        path.write_text(csv_text(df), encoding="utf-8")
        paths.append(path)
    return paths


def csv_zip(pack: WeeklyPack) -> bytes:
    """Every table's CSV in one zip (for a single download button)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, df in csv_tables(pack).items():
            zf.writestr(f"weekly_{pack.week}_{name}.csv", csv_text(df))
    return buffer.getvalue()


# --- PDF ------------------------------------------------------------------------------------


class PdfUnavailable(RuntimeError):
    """The Debian chromium is missing or failed to print."""


def pdf_available() -> bool:
    return Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)


def pdf_bytes(pack: WeeklyPack, timeout: float = 90.0) -> bytes:
    """The PDF as bytes (for a download button): :func:`render_pdf` into a temp folder."""
    with tempfile.TemporaryDirectory(prefix="funnel-weekly-pdf-") as tmp:
        return render_pdf(pack, Path(tmp) / "weekly.pdf", timeout).read_bytes()


def render_pdf(pack: WeeklyPack, out: Path, timeout: float = 90.0) -> Path:
    """Print the HTML export to ``out`` with ``chromium --headless --print-to-pdf`` (A4
    landscape, charts rendered first). Raises :class:`PdfUnavailable` when it cannot."""
    if not pdf_available():
        raise PdfUnavailable(f"{CHROMIUM} is not installed: export HTML and print it instead")
    out = Path(out).resolve()
    with tempfile.TemporaryDirectory(prefix="funnel-weekly-") as tmp:
        page = Path(tmp) / "weekly.html"
        page.write_text(render_html(pack), encoding="utf-8")
        target = Path(tmp) / "weekly.pdf"
        command = [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={Path(tmp) / 'profile'}",
                   f"--print-to-pdf={target}", page.as_uri()]
        try:
            result = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PdfUnavailable(f"chromium took over {timeout:.0f} s to print") from exc
        if result.returncode != 0 or not target.is_file() or target.stat().st_size < 1000:
            tail = result.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            raise PdfUnavailable("chromium could not print the PDF: " + " | ".join(tail))
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target, out)
    return out
