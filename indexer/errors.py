"""Errors a person can act on, and the one table of exit codes.

Every command of the CLI exits with one of :class:`ExitCode`; library code
raises :class:`StoreError` (or a subclass) carrying the code and a hint, and
the CLI prints both. The numbers follow sysexits.h where one fits (65, 75), so
scripts and systemd units can tell "try again later" from "the data is bad".
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1  # anything else: I/O errors, a bad setting
    USAGE = 2  # a wrong or missing option (click uses 2 as well)
    NO_INDEX = 3  # no index, or nothing published yet
    REFUSED = 4  # nothing usable read, or a guard (mass delete) refused the run
    CORRUPT = 65  # EX_DATAERR: the index or a publication failed a check
    BUSY = 75  # EX_TEMPFAIL: another writer holds the lock; run again later


class StoreError(Exception):
    """A user-facing problem with the index directory (missing, locked, ...).
    A subclass names its usual exit code; a raise may give another."""

    exit_code_default = ExitCode.ERROR

    def __init__(self, message: str, hint: str = "", exit_code: int | None = None):
        super().__init__(message)
        self.hint = hint
        self.exit_code = ExitCode(self.exit_code_default if exit_code is None else exit_code)


class IndexMissing(StoreError):
    exit_code_default = ExitCode.NO_INDEX


class WriterBusy(StoreError):
    exit_code_default = ExitCode.BUSY
