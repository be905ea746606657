"""The CP tools' errors: ``UsageError`` (bad command line: message and usage table, exit 1),
``CommandError`` (one error line in the tool's format, exit 1) and ``RestError`` (an error answer
of the lab's Kafka REST v3)."""

from __future__ import annotations


class UsageError(Exception):
    """Bad command line: the message, then the usage table, on stderr; exit 1."""


class CommandError(Exception):
    """The command failed: one error line in the tool's format; exit 1."""


class RestError(Exception):
    """A Kafka REST v3 error answer."""

    def __init__(self, status: int, error_code: int | None, message: str):
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
