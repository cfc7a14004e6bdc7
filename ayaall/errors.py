"""Errors a user can act on.

A ``UserError`` carries one sentence naming what is wrong (the file, row and field where there is
one). The command line prints it without a traceback; everything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

__all__ = ["UserError"]


class UserError(Exception):
    """A problem with the user's input or request, explained in one sentence."""
