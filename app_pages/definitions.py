"""Definitions: every number in an owner's words (``funnel.app.docs.OWNER_DEFINITIONS``), and how
to read each chart. docs/METRICS.md is the engineers' reference; this page never shows it."""

from __future__ import annotations

import streamlit as st

from funnel.app import docs as app_docs

st.title("Definitions")
st.markdown("What each number means, what it is counted out of, and which leads it covers. "
            "Every chart also has a **How to read this** button next to its title.")

for section in app_docs.dashboard_definitions():
    if section.level == 2:
        st.header(section.title)
        if section.body:
            st.markdown(section.body)
    else:
        with st.expander(section.title, expanded=False):
            st.markdown(section.body)

st.header("How to read each chart")
for key, entry in app_docs.CHART_HELP.items():
    with st.expander(app_docs.CHART_TITLES.get(key, key)):
        st.markdown(entry["text"])
