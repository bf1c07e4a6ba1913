"""Strict scalar types for the wire models (recipes and WebSocket messages).

pydantic's lax mode takes `true` and `"5"` for an int and `"yes"` or 1 for
a bool; a client sending those has a bug worth hearing about. Its strict
mode goes too far the other way and refuses `12.0` for an int, which JSON
Schema calls an integer (schemathesis flags both). These types refuse
booleans and strings for numbers and anything but true/false for
booleans, and leave the rest to pydantic.
"""
from __future__ import annotations

from typing import Annotated, Union

from pydantic import BeforeValidator

I64_MAX = 2**63 - 1     # the engine's ids, pfns and counts are at most int64


def _number(v):
    if isinstance(v, bool):
        raise ValueError("must be a number, not a boolean")
    if not isinstance(v, (int, float)):
        raise ValueError(f"must be a number, not a {type(v).__name__}")
    return v


def _boolean(v):
    if not isinstance(v, bool):
        raise ValueError("must be true or false")
    return v


Int = Annotated[int, BeforeValidator(_number)]
Float = Annotated[float, BeforeValidator(_number)]
Bool = Annotated[bool, BeforeValidator(_boolean)]
Number = Annotated[Union[int, float], BeforeValidator(_number)]   # an int stays an int
