"""One module per ``ayaall analyze`` subcommand; see ``reports.command``."""
