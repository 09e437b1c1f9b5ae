"""Every tracker parameter's type and accepted values, declared beside it and checked once for all trackers.

A tracker declares ``PARAMS = {name: (default, help, rule)}``. The rule is a short phrase a user can read in
``help()`` and in the error, and this module checks it:

    "int >= 1"                   a whole number (not a bool, not 1.5) of at least 1
    "float in [0, 1]"            a finite number, ints included; brackets say which ends are allowed
    "float > 0", "float"         a finite number above 0; any finite number
    "bool", "str", "path"        True/False; any text; a file path (text or ``os.PathLike``)
    "one of ncc, ssd"            one of these words
    "tuple of float > 0"         a tuple or list whose items each follow the rule after "of"
    "tuple of 2 one of a, b"     ... with exactly 2 items
    "None or int >= 1"           alternatives, separated by " or "

:func:`check_seed` is the one rule for seeds (trackers, runners and the command line).
"""
from __future__ import annotations

import math
import numbers
import os
import re
from dataclasses import dataclass
from functools import lru_cache

from ..errors import TrackerError

#: numpy's generators refuse negative seeds and torch's those of 64 bits and more
MAX_SEED = 2 ** 63 - 1

_NUMBER = r"[-+]?(?:\d+\.?\d*(?:e[-+]?\d+)?|inf)"
_BOUND = re.compile(rf"^(>=|>|<=|<)\s*({_NUMBER})$")
_INTERVAL = re.compile(rf"^in\s*([\[(])\s*({_NUMBER})\s*,\s*({_NUMBER})\s*([\])])$")


def is_number(value, finite: bool = True) -> bool:
    """A real number (numpy's too) that is not a bool and not NaN; finite unless ``finite=False``, where the
    infinities are allowed (a presence threshold of -inf means "always present")."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    v = float(value)
    return math.isfinite(v) if finite else not math.isnan(v)


@dataclass(frozen=True)
class _Number:
    kind: str               # "int" or "float"
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False

    def accepts(self, value) -> bool:
        if not is_number(value) or (self.kind == "int" and not isinstance(value, numbers.Integral)):
            return False
        v = float(value)
        return ((v > self.low if self.low_open else v >= self.low)
                and (v < self.high if self.high_open else v <= self.high))


@dataclass(frozen=True)
class _Choice:
    words: tuple

    def accepts(self, value) -> bool:
        return isinstance(value, str) and value in self.words


@dataclass(frozen=True)
class _Kind:
    kind: str  # "bool", "str", "path", "None"

    def accepts(self, value) -> bool:
        if self.kind == "None":
            return value is None
        if self.kind == "bool":
            return isinstance(value, bool) or type(value).__name__ == "bool_"  # numpy's bool too
        if self.kind == "str":
            return isinstance(value, str)
        return isinstance(value, (str, os.PathLike)) and str(value) != ""


@dataclass(frozen=True)
class _Tuple:
    item: object
    length: int | None

    def accepts(self, value) -> bool:
        if not isinstance(value, (tuple, list)) or not value:
            return False
        if self.length is not None and len(value) != self.length:
            return False
        return all(self.item.accepts(v) for v in value)


@dataclass(frozen=True)
class _Any:
    options: tuple

    def accepts(self, value) -> bool:
        return any(o.accepts(value) for o in self.options)


def _parse_one(text: str):
    text = text.strip()
    if text in ("None", "bool", "str", "path"):
        return _Kind(text)
    if text.startswith("one of "):
        words = tuple(w.strip() for w in text[len("one of "):].split(","))
        if not all(words):
            raise ValueError(text)
        return _Choice(words)
    if text.startswith("tuple of "):
        rest = text[len("tuple of "):]
        head, _, tail = rest.partition(" ")
        if head.isdigit():
            return _Tuple(_parse_one(tail), int(head))
        return _Tuple(_parse_one(rest), None)
    kind, _, cond = text.partition(" ")
    if kind not in ("int", "float"):
        raise ValueError(text)
    cond = cond.strip()
    if not cond:
        return _Number(kind)
    m = _BOUND.match(cond)
    if m:
        op, x = m.group(1), float(m.group(2))
        if op.startswith(">"):
            return _Number(kind, low=x, low_open=op == ">")
        return _Number(kind, high=x, high_open=op == "<")
    m = _INTERVAL.match(cond)
    if m:
        return _Number(kind, float(m.group(2)), float(m.group(3)), m.group(1) == "(", m.group(4) == ")")
    raise ValueError(text)


@lru_cache(maxsize=None)
def rule(spec: str):
    """The checker of a rule phrase (see the module's docstring); a malformed phrase is a programming error
    (``ValueError``), caught by the tests that check every registered tracker's rules."""
    # " or " separates alternatives, except inside "one of a, b" (which holds no " or ")
    options = [_parse_one(part) for part in spec.split(" or ")]
    return options[0] if len(options) == 1 else _Any(tuple(options))


def rule_of(entry: tuple) -> str | None:
    """The rule phrase of a ``PARAMS`` entry; None for a ``(default, help)`` pair, the form trackers registered
    outside the package used before rules existed: their values are passed on unchecked."""
    return entry[2] if len(entry) > 2 else None


def check_params(tracker: str, declared: dict, given: dict) -> None:
    """Every ``given`` parameter is declared and follows its rule, else one :class:`TrackerError` naming the
    tracker, the parameter, the accepted values and the value given."""
    unknown = sorted(set(given) - set(declared))
    if unknown:
        known = ", ".join(declared) or "none"
        raise TrackerError(f"{tracker}: unknown parameter(s) {', '.join(unknown)}; known: {known}")
    for name, value in given.items():
        spec = rule_of(declared[name])
        if spec is not None and not rule(spec).accepts(value):
            raise TrackerError(f"{tracker}: parameter {name} must be {spec}, got {value!r}")


def check_seed(seed, who: str = "seed") -> int:
    """A seed as an int: a whole number from 0 to 2**63 - 1 (not 1.7, not True), else :class:`TrackerError`."""
    if (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
            or not 0 <= int(seed) <= MAX_SEED):
        raise TrackerError(f"{who} must be a whole number from 0 to 2**63 - 1, got {seed!r}")
    return int(seed)


__all__ = ["MAX_SEED", "check_params", "check_seed", "is_number", "rule", "rule_of"]
