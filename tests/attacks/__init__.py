"""Disclosure attacks (issue 12): what a determined reader recovers from everything that leaves the server."""
