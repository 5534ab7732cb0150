"""The one error root of ptetool and the exit-code contract.

Exit codes (the whole contract; everything else refers to this table):

====  ==============================================================
code  meaning
====  ==============================================================
0     success (``diff``: the two values are equal)
1     an error in the work: unreadable file, permission denied,
      truncated pagemap record (``diff``: the values differ)
2     a usage error: bad option, bad VALUE, unknown field or class
====  ==============================================================

A closed pipe (``ptetool decode ... | head``) ends quietly with code 0.
Library code raises subclasses of :class:`PtetoolError`; only the CLI maps
them to exit codes, in one place.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_WORK = 1
EXIT_USAGE = 2
EXIT_DIFFERENT = 1


class PtetoolError(Exception):
    """Root of every error ptetool reports to a user."""

    exit_code = EXIT_WORK


class UsageError(PtetoolError):
    """The user asked for something malformed: a bad value, field or option."""

    exit_code = EXIT_USAGE


class WorkError(PtetoolError):
    """The work itself failed: a file could not be read, a record was cut short."""

    exit_code = EXIT_WORK


class LayoutError(Exception):
    """A layout table contradicts itself. A bug in ptetool, never a user error."""
