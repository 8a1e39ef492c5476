"""Definitions: every metric in plain words, read from docs/METRICS.md at run time, and how to
read each chart."""

from __future__ import annotations

import streamlit as st

from funnel.app import docs as app_docs

st.title("Definitions")
st.markdown("What each number means, what it is counted out of, and which leads it covers. "
            "Every chart also has a **How to read this** button next to its title.")

sections = app_docs.dashboard_definitions()
if not sections:
    st.info("The metric definitions (docs/METRICS.md) are not available in this installation.",
            icon=":material/menu_book:")
for section in sections:
    title = app_docs.title_in_words(section.title)
    if section.level == 2:
        st.header(title)
        if section.body:
            st.markdown(section.body)
    else:
        with st.expander(title, expanded=False):
            st.markdown(section.body or "_No text yet._")

st.header("How to read each chart")
for key, entry in app_docs.CHART_HELP.items():
    with st.expander(app_docs.CHART_TITLES.get(key, key)):
        st.markdown(entry["text"])
