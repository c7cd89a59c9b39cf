"""One small hierarchy: user errors (exit 2, a clear message) and infrastructure faults.

A failing test is never an exception: it is an :class:`~codesynth.records.Execution`.
"""

from __future__ import annotations


class CodesynthError(Exception):
    """Base class for every error codesynth raises on purpose."""

    exit_code = 1


class UserError(CodesynthError):
    """Bad input or configuration: the message says what to fix. Exit status 2."""

    exit_code = 2


class InputError(UserError):
    """A record in an input file is malformed; names the file, line and field."""

    def __init__(self, path: str, line: int | None, message: str, field: str | None = None):
        where = f"{path}:{line}" if line is not None else path
        what = f" field '{field}'" if field else ""
        super().__init__(f"{where}:{what} {message}")
        self.path, self.line, self.field = path, line, field


class InfrastructureError(CodesynthError):
    """The machinery failed (not the program under test). Exit status 3."""

    exit_code = 3


class SandboxUnavailable(InfrastructureError):
    """A sandbox backend cannot run here (missing kernel features, no engine...)."""


class ModelUnavailable(InfrastructureError):
    """The model server is dead or unreachable: no request can get an answer."""
