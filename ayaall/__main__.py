try:
    from ayaall.cli import run
except KeyboardInterrupt:  # Ctrl-C while Python was still starting the command line
    import sys

    sys.stderr.write("ayaall: interrupted.\n")
    raise SystemExit(130) from None

run()
