"""Every error a person can cause and fix, under one base.

* WuganError
  * ConfigError: a file that configures wugan (under ``rules/``) or a connection is wrong
    * RuleError: a rule set, parameter, lifecycle or rule-test file
    * ExpressionError: a rule expression outside the SQL allow-list
  * InputError: a value someone typed (option, form field, API body) cannot be used
  * ModelError: a model cannot be trained, found or trusted
    * UntrustedModelError: a model file holds types nobody reviewed
  * WorkflowError: a state change that the current state does not allow

The message says where (file and line when there is one) and why; ``hint``
says what to do. The CLI prints a ``WuganError`` as one line and exits 2;
any other exception is a bug and keeps its traceback. Each is a
``ValueError``, as these errors were before they had a family, so callers
that catch ``ValueError`` still do.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "ConfigError",
    "ExpressionError",
    "InputError",
    "ModelError",
    "RuleError",
    "UntrustedModelError",
    "WorkflowError",
    "WuganError",
    "display_path",
]


def display_path(path: Path) -> str:
    """Path relative to the working directory when inside it (``rules/x.yaml``), else absolute."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


class WuganError(ValueError):
    """Base class: something a person can fix from the message alone."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class ConfigError(WuganError):
    """A configuration file (bundles, guardrails, review rates) or a connection is wrong.

    With ``path`` the message starts ``path:line:``, so an editor jumps there.
    """

    hint = "fix the file and run again"

    def __init__(self, message: str, *, path: Path | str | None = None, line: int | None = None,
                 hint: str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.line = line
        self.reason = message
        where = "" if self.path is None else display_path(self.path) + (f":{line}" if line else "") + ": "
        super().__init__(where + message, hint=hint)


class RuleError(ConfigError):
    """A rule set, parameter, lifecycle or rule-test file that cannot be loaded: ``file:line: why``."""

    hint = "fix the file; `wugan rules test` checks every rule set"

    def __init__(self, path: Path | str, line: int | None, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, path=path, line=line, hint=hint)


class ExpressionError(ConfigError):
    """Why a rule expression is refused; ``name`` is the offending token.

    The loader finds the token's line and raises a ``RuleError`` in its place.
    """

    def __init__(self, message: str, name: str | None = None) -> None:
        super().__init__(message)
        self.name = name


class InputError(WuganError):
    """A value someone typed (a command option, a form field, an API body) that cannot be used.

    The message names the value and what would be accepted.
    """

    hint = "see --help"


class ModelError(WuganError):
    """A model that cannot be trained (too few labelled visits), found (no champion) or trusted."""


class UntrustedModelError(ModelError):
    """A model file holds a type nobody reviewed; it is not loaded."""

    hint = "retrain the model here, or review the types and add them to REVIEWED_TYPES"


class WorkflowError(WuganError):
    """A state change that the current state does not allow, such as finishing an item twice."""

    hint = "reload the case: someone may have changed it"
