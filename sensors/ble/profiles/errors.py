"""Errors of the GATT profile codecs: every one says which payload, which byte and which field."""

from __future__ import annotations

from sensors.errors import PsoasError


class ProfileError(PsoasError):
    """Base of the profile codec errors."""


class ProfileDecodeError(ProfileError):
    """A GATT payload does not follow its profile.

    ``offset`` (byte offset in the payload) and ``field`` say where, when known; the message
    repeats both so that a log line alone is enough to find the fault.
    """

    def __init__(self, message: str, *, offset: int | None = None, field: str | None = None):
        super().__init__(message)
        self.offset = offset
        self.field = field


class ProfileEncodeError(ProfileError, ValueError):
    """A value cannot be put into a GATT payload (out of the field's range, unknown name, ...)."""


def decode_error(payload: str, offset: int, field: str, problem: str) -> ProfileDecodeError:
    """A :class:`ProfileDecodeError` reading ``"<payload>: byte <offset> (<field>): <problem>"``."""
    return ProfileDecodeError(
        f"{payload}: byte {offset} ({field}): {problem}", offset=offset, field=field
    )
