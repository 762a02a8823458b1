"""Exceptions the CLI turns into one-line messages and exit codes."""


class KpiError(Exception):
    """Base class: a failure with a one-line message for the user.

    Attributes:
        exit_code: process exit status the CLI uses (1 failed work, 2 bad input/usage).
    """

    exit_code = 1


class UsageError(KpiError):
    """Bad input or usage (malformed file, unknown table, bad date): exit 2."""

    exit_code = 2


class DatabaseError(KpiError):
    """The database is unreachable or refused an operation: exit 1."""

    exit_code = 1


class BuildFailed(KpiError):
    """A dbt build/test failed: exit 1."""

    exit_code = 1
