"""The command line, ``python -m funnel``: the parser and dispatch (main), one module per
command family."""
