"""One module per ``ayaall analyze`` subcommand; see ``analyses.command``."""
