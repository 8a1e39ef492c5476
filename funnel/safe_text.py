"""Text from a file or a person, made inert for where it is shown (docs/SECURITY.md):

- :func:`neutralise`: a cell a spreadsheet would run as a formula (CSV/formula injection);
- :func:`md_text`: a value shown through Markdown (Streamlit's ``st.markdown``, captions,
  alerts, labels, ``st.table`` cells; the Markdown exports), so it shows as the characters it
  holds: no link, image, heading, list, HTML, emphasis, code, math, table, emoji or
  Streamlit directive (``:red[...]``, ``:material/...:``);
- :func:`label_text`: a value shown in a plotly label (axis categories, trace names, bar text,
  hover templates, annotations), so plotly's tags (``<a href>``, ``<b>``, ``<br>``...), its
  entities and its ``%{...}`` placeholders show as text.

Each escapes what one renderer gives meaning to, so apply each once, to the value, where that
renderer shows it (not when storing it: the store, JSON, CSV and ``st.dataframe`` keep the
characters as they are). Funnel's own words (canonical channel labels such as "Cold call",
stage names, numbers) hold none of these characters and pass through unchanged.
"""

from __future__ import annotations

import re

# '=', '+', '-', '@' start a formula in Excel, LibreOffice and Google Sheets; a leading tab or
# carriage return is also read as one by some of them.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Prefix ``'`` to a string that starts like a formula; return anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


# --- Markdown ----------------------------------------------------------------------------------

# Line breaks of every kind (a newline in a cell would start a heading, a list, a quote...).
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\x0b\x0c\x85\u2028\u2029]")
# Characters that start inline Markdown anywhere in a line: escapes, code, emphasis,
# strikethrough, table cells, links/images/footnotes/task boxes, raw HTML and autolinks, ATX
# headings, and e-mail autolinks (GitHub-flavoured Markdown, which Streamlit renders).
_ALWAYS = frozenset("\\`*~|[]<#@")
# An HTML entity (``&lt;``, ``&#60;``): escaped, it shows as typed instead of as its character.
_ENTITY = re.compile(r"&(?=#[0-9]{1,7};|#[xX][0-9A-Fa-f]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)")
# What GitHub-flavoured Markdown turns into a link by itself, even escaped (it searches the
# text after escapes are read): ``http://`` and ``https://``, ``www.``, ``name@host.tld``.
# A zero-width space breaks each: ``http:<ZWSP>//``, ``www<ZWSP>.``, ``name<ZWSP>@host``.
_AUTOLINK = re.compile(r"(?i)(?<=https:)(?=//)|(?<=http:)(?=//)|(?<=\bwww)(?=\.)|(?=@)")
# Markdown that only counts at the start of a line (the value may land at one): a quote, a
# list item ("- ", "+ ", "1. ", "1) "), a setext underline or thematic break ("===", "- - -").
_LINE_START = re.compile(r">|[-+](?=\s|$)|[0-9]{1,9}(?=[.)](?:\s|$))|[-=](?=[-=\s]*$)")
# ``:word:``: an emoji or icon shortcode, the Streamlit logo (``:streamlit:``); renderers
# replace it in the text itself, after escapes are read, so it gets a zero-width space.
_SHORTCODE = re.compile(r":(?=[\w+/-]+:)")
ZERO_WIDTH_SPACE = "\u200b"


def md_text(value: object) -> str:
    """``value`` as Markdown that shows exactly its characters, on one line.

    Line breaks become spaces, leading and trailing blanks go, and every character Markdown
    (GitHub's, and Streamlit's additions: ``:color[...]`` directives, ``$...$`` math, emoji and
    icon shortcodes) would read as markup gets a backslash, so ``![x](http://host/b.png)``,
    ``[Click](http://...)``, ``# heading``, ``**x**``, ``<a href=...>`` and ``:red[x]`` show as
    typed. Text without such characters, like Funnel's own words, comes back unchanged.
    ``None`` is the empty string. Escape a value once: escaped twice, its backslashes show.
    """
    if value is None:
        return ""
    text = _LINE_BREAKS.sub(" ", str(value)).strip()
    if not text:
        return ""
    text = _SHORTCODE.sub(":" + ZERO_WIDTH_SPACE, text)
    text = _AUTOLINK.sub(ZERO_WIDTH_SPACE, text)
    out: list[str] = []
    last = len(text) - 1
    for i, ch in enumerate(text):
        if ch in _ALWAYS:
            out.append("\\" + ch)
        elif ch == "_":
            # emphasis, unless between two letters or digits ("cold_call" reads as it is)
            inside = 0 < i < last and text[i - 1].isalnum() and text[i + 1].isalnum()
            out.append("_" if inside else "\\_")
        elif ch == ":":
            # a directive (:red[x]), an icon (:material/x:), a URL scheme (http:): a colon
            # followed by anything but a blank; "Owner: Sam" stays as it is
            out.append("\\:" if i < last and not text[i + 1].isspace() else ":")
        elif ch == "$":
            # math needs a closing '$' that no digit follows ('$4$'); '$1,200' is money
            out.append("$" if i < last and text[i + 1].isdigit() else "\\$")
        else:
            out.append(ch)
    text = "".join(out)
    text = _ENTITY.sub(r"\\&", text)
    start = _LINE_START.match(text)
    if start:
        end = start.end()
        text = (text[:end] + "\\" + text[end:]) if text[0].isdigit() else "\\" + text
    return text


def md_texts(values) -> list[str]:
    """:func:`md_text` of each value."""
    return [md_text(v) for v in values]


# --- plotly labels -------------------------------------------------------------------------

_PLOTLY = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_PLOTLY_CHARS = re.compile(r"[&<>]|%(?=\{)")


def label_text(value: object) -> str:
    """``value`` as plotly label text that shows exactly its characters.

    plotly reads a small HTML subset in every label (``<a href>`` becomes a live link, ``<b>``,
    ``<br>``, ``<span style>``...) and entities (``&lt;``); in hover and text templates it also
    fills ``%{...}`` placeholders. ``&``, ``<`` and ``>`` become entities and the ``%`` of a
    ``%{`` becomes ``&#37;``, which plotly shows as the characters. Text without them, like
    Funnel's own words, comes back unchanged. ``None`` is the empty string. Escape a value
    once. For HTML outside plotly use :func:`html.escape`.
    """
    if value is None:
        return ""
    return _PLOTLY_CHARS.sub(lambda m: _PLOTLY.get(m.group(0), "&#37;"), str(value))
