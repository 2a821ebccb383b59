"""A wrapper for secrets (the patient's PIN, the staff passcode) whose text never leaks.

`repr`, `str` and `format` show only a mask with the digit count, `json.dumps` refuses it, and
pickling is refused, so a secret cannot slip into a log line, an audit record, a host message
or a view model by accident. The only way to the digits is the explicit `reveal()`.
"""

from __future__ import annotations

import hmac
from typing import NoReturn

from myna_reader.daemon.errors import DaemonError

DIGITS = frozenset("0123456789")


class SecretFormatError(DaemonError, ValueError):
    """A secret that is not made of decimal digits."""


class Secret:
    """A string of decimal digits that hides itself. Immutable."""

    __slots__ = ("_value",)
    _value: str

    def __init__(self, value: str = "") -> None:
        if not DIGITS.issuperset(value):
            raise SecretFormatError("a secret holds decimal digits only")
        object.__setattr__(self, "_value", value)

    def reveal(self) -> str:
        """The digits. Call it only where the secret is used (VERIFY, the passcode check)."""
        return self._value

    def __len__(self) -> int:
        return len(self._value)

    def append(self, digit: int) -> Secret:
        if not 0 <= digit <= 9:
            raise SecretFormatError("a keypad digit is 0..9")
        return Secret(self._value + str(digit))

    def drop_last(self) -> Secret:
        return Secret(self._value[:-1])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(len(self._value))

    def __repr__(self) -> str:
        return f"Secret({'*' * len(self._value)})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("Secret is immutable")

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled")

    def __deepcopy__(self, memo: dict[int, object]) -> Secret:
        return self  # immutable: dataclasses.asdict may copy it safely


EMPTY_SECRET = Secret()
