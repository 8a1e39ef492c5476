"""The demo: the bundled CRM exports (generate writes them) and the demo store built from
them (store)."""
