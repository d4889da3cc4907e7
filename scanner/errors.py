"""Errors the CLI turns into one-line messages and documented exit codes."""
from __future__ import annotations

EXIT_OK = 0          # scan complete, no finding at or above --fail-on
EXIT_FINDINGS = 1    # findings at or above --fail-on
EXIT_USAGE = 2       # usage or configuration error (bad URL, option, declaration)
EXIT_INCOMPLETE = 3  # scan incomplete (unreachable site, state not reached, timeout)


class ScannerError(Exception):
    """Base class; `exit_code` tells the CLI how to exit."""

    exit_code = EXIT_USAGE


class UsageError(ScannerError):
    exit_code = EXIT_USAGE


class ChromiumNotFound(ScannerError):
    exit_code = EXIT_USAGE
