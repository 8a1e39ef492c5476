"""The weekly pack: what moved this week and whether it is real (pack), and its exports:
Markdown, HTML, CSV, JSON and PDF (export)."""
