"""The dashboard's glue, below the thin pages of app_pages/: session state, caches and the
store handle (state), layout helpers (ui), access (auth), the plotly preload (preload), help
texts (docs), findings, tables, and each page's work (upload, allocation)."""
