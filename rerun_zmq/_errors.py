"""The SDK's error policy: bad input warns at the user's own line, or raises in strict mode.

The SDK never crashes the user's program over bad data in non-strict mode: the offending field
(or log call) is dropped with a warning that names the entity path, archetype, field and the
shape expected, and everything else the program logs is kept.
"""

from __future__ import annotations

import os
import sys
import threading
import warnings
from pathlib import Path

_PACKAGE_DIR = str(Path(__file__).resolve().parent)
_state = threading.local()
_global_strict: bool | None = None


class RerunZmqWarning(UserWarning):
    """Warning category for data the SDK refused or could not deliver."""


class RerunZmqError(Exception):
    """Base class of errors the SDK raises on purpose."""


class NotYetAvailableError(RerunZmqError, NotImplementedError):
    """A feature named by the API that this build does not provide yet."""


def set_strict_mode(strict: bool) -> None:
    """Raise ``ValueError``/``TypeError`` on bad input instead of warning (process-wide)."""
    global _global_strict
    _global_strict = bool(strict)


def strict_mode() -> bool:
    override = getattr(_state, "strict", None)
    if override is not None:
        return override
    if _global_strict is not None:
        return _global_strict
    return os.environ.get("RERUN_ZMQ_STRICT", "").strip().lower() in ("1", "true", "yes", "on")


def _user_frame():
    """The innermost stack frame outside this package (the user's own line)."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_PACKAGE_DIR):
            return frame
        frame = frame.f_back
    return None


def warn_user(message: str, category: type[Warning] = RerunZmqWarning) -> None:
    """Emit ``message`` as a warning attributed to the user's line of code."""
    frame = _user_frame()
    if frame is None:
        warnings.warn(message, category, stacklevel=2)
        return
    warnings.warn_explicit(
        message,
        category,
        frame.f_code.co_filename,
        frame.f_lineno,
        module=frame.f_globals.get("__name__", "<unknown>"),
        registry=frame.f_globals.setdefault("__warningregistry__", {}),
    )


def report(exc: Exception) -> None:
    """Apply the policy to ``exc``: raise it in strict mode, otherwise warn at the user's line."""
    if strict_mode():
        raise exc
    warn_user(str(exc))
