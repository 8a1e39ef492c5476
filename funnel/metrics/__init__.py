"""Metrics: one function per metric over the store (metrics), and the statistics they use
(stats): typed DataFrames, no Streamlit."""
