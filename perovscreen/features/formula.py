"""Formula parser for screening-scale featurisation (cached; no pymatgen objects).

Accepts element symbols, integer or decimal amounts, nested (), [] or {} groups with multipliers,
and ignores spaces. Anything else raises InputError naming the formula.
"""
from __future__ import annotations

import re
from functools import lru_cache

from pymatgen.core.periodic_table import Element

from perovscreen.errors import InputError

_TOKEN = re.compile(r"([A-Z][a-z]?)|(\d+\.?\d*|\.\d+)|([(\[{])|([)\]}])|(\s+)")
SYMBOLS = {e.symbol: e.Z for e in Element if e.Z <= 103}


@lru_cache(maxsize=200_000)
def parse_formula(formula: str) -> tuple[tuple[str, float], ...]:
    """Return ((symbol, amount), ...) in order of first appearance; amounts summed over groups."""
    if not isinstance(formula, str) or not formula.strip():
        raise InputError(f"formula {formula!r}: empty or not a string")
    stack: list[dict[str, float]] = [{}]
    pending: dict[str, float] | None = None  # the element or group a following number multiplies

    def flush():
        if pending:
            for e, a in pending.items():
                stack[-1][e] = stack[-1].get(e, 0.0) + a

    pos = 0
    while pos < len(formula):
        m = _TOKEN.match(formula, pos)
        if m is None:
            raise InputError(f"formula {formula!r}: unexpected character {formula[pos]!r} at position {pos}")
        el, num, op, cl, _ = m.groups()
        pos = m.end()
        if num:
            if not pending:
                raise InputError(f"formula {formula!r}: number {num} does not follow an element or group")
            k = float(num)
            pending = {e: a * k for e, a in pending.items()}
            flush()
            pending = None
            continue
        if el or op or cl:
            flush()
            pending = None
        if el:
            if el not in SYMBOLS:
                raise InputError(f"formula {formula!r}: unknown element {el!r}")
            pending = {el: 1.0}
        elif op:
            stack.append({})
        elif cl:
            if len(stack) == 1:
                raise InputError(f"formula {formula!r}: unbalanced closing bracket")
            pending = stack.pop()
    flush()
    if len(stack) != 1:
        raise InputError(f"formula {formula!r}: unbalanced opening bracket")
    out = tuple((e, a) for e, a in stack[0].items() if a > 0)
    if not out:
        raise InputError(f"formula {formula!r}: no elements with positive amount")
    return out
