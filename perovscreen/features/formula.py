"""Formula parser for screening-scale featurisation (cached; no pymatgen objects).

Accepts element symbols, integer or decimal amounts, nested (), [] or {} groups with multipliers,
and ignores spaces. Anything else raises InputError naming the formula.
"""
from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
from numba import njit

from pymatgen.core.periodic_table import Element

from perovscreen.core.errors import InputError

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


# --- bulk encoding ------------------------------------------------------------------------------
_SYMBOL_CODE = np.zeros(1 << 16, dtype=np.int16)  # (upper << 8 | lower-or-0) -> Z, 0 = unknown
for _s, _z in SYMBOLS.items():
    _SYMBOL_CODE[(ord(_s[0]) << 8) | (ord(_s[1]) if len(_s) > 1 else 0)] = _z
_POW10 = 10.0 ** np.arange(16)
_MAX_WIDTH = 16


@njit(cache=True)
def _tokenize(b, n, table, pow10, width):
    """Flat formulas separated by newlines -> (Z, amount, ok); ok False for anything else."""
    z = np.zeros((n, width), np.int16)
    a = np.zeros((n, width))
    ok = np.ones(n, np.bool_)
    row, col, i, size = 0, 0, 0, len(b)
    while i <= size:
        if i == size or b[i] == 10:
            if col == 0:
                ok[row] = False
            row, col, i = row + 1, 0, i + 1
            continue
        c = np.int32(b[i])
        i += 1
        if c < 65 or c > 90:
            ok[row] = False
            continue
        code = c << 8
        if i < size and 97 <= b[i] <= 122:
            code |= np.int32(b[i])
            i += 1
        mant, n_dig, n_frac, n_dot = np.int64(0), 0, 0, 0
        while i < size and ((48 <= b[i] <= 57) or b[i] == 46):
            if b[i] == 46:
                n_dot += 1
            else:
                mant = mant * 10 + np.int64(b[i] - 48)
                n_dig += 1
                n_frac += n_dot > 0
            i += 1
        zz = table[code]
        if zz == 0 or n_dot > 1 or (n_dot == 1 and n_dig == 0) or n_dig > 15 or col >= width:
            ok[row] = False
        elif n_dig == 0 or mant > 0:
            z[row, col] = zz
            a[row, col] = 1.0 if n_dig == 0 else mant / pow10[n_frac]  # exact as float(text)
            col += 1
        else:
            ok[row] = False  # zero amount: let parse_formula decide
    return z, a, ok


def encode_formulas(formulas, width: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Padded arrays (Z int16 [n, m], amount float64 [n, m]); padding is Z = 0, amount = 0.

    Flat formulas (element symbols and decimal amounts) are tokenised in one compiled pass; any other
    row (brackets, spaces, unknown symbols, malformed numbers) goes through `parse_formula`, which also
    raises the InputError for bad input. Repeated elements of a flat formula stay as separate entries
    (featurize_encoded merges them)."""
    formulas = list(formulas)
    n = len(formulas)
    text = "\n".join(f if isinstance(f, str) else "\n" for f in formulas)
    b = np.frombuffer(text.encode(), dtype=np.uint8)
    if n == 0 or len(b) == 0 or int((b == 10).sum()) != n - 1:  # empty input or newlines inside formulas
        return _encode_slow(formulas, np.ones(n, bool), width)
    z, a, ok = _tokenize(b, n, _SYMBOL_CODE, _POW10, _MAX_WIDTH)
    used = int((a > 0).sum(1).max())
    m = max(width or 0, used)
    z, a = z[:, :m], a[:, :m]
    if not ok.all():
        zs, as_ = _encode_slow(formulas, ~ok, m)
        if zs.shape[1] > m:
            z, a = (np.pad(v, ((0, 0), (0, zs.shape[1] - m))) for v in (z, a))
        z[~ok], a[~ok] = zs[~ok], as_[~ok]
    return np.ascontiguousarray(z), np.ascontiguousarray(a)


def _encode_slow(formulas, mask, width):
    sel = np.flatnonzero(mask)
    parsed = [parse_formula(formulas[i]) for i in sel]
    m = max([width or 1] + [len(p) for p in parsed])
    z = np.zeros((len(formulas), m), dtype=np.int16)
    a = np.zeros((len(formulas), m))
    for i, p in zip(sel, parsed):
        for j, (e, amt) in enumerate(p):
            z[i, j], a[i, j] = SYMBOLS[e], amt
    return z, a


def encode_formulas_checked(formulas) -> tuple[np.ndarray, np.ndarray, dict]:
    """Like `encode_formulas`, but a bad formula does not stop the batch: returns (z, amounts, errors) with
    errors {row: one-line reason}; bad rows are all padding (Z = 0, amount 0)."""
    formulas = list(formulas)
    try:
        z, a = encode_formulas(formulas)
        return z, a, {}
    except InputError:
        pass
    errors, good = {}, []
    for i, f in enumerate(formulas):
        try:
            parse_formula(f)
            good.append(i)
        except InputError as exc:
            errors[i] = str(exc)
    z = np.zeros((len(formulas), 1), np.int16)
    a = np.zeros((len(formulas), 1))
    if good:
        zg, ag = encode_formulas([formulas[i] for i in good])
        z = np.zeros((len(formulas), zg.shape[1]), np.int16)
        a = np.zeros((len(formulas), zg.shape[1]))
        z[good], a[good] = zg, ag
    return z, a, errors


def composition_keys(z: np.ndarray, a: np.ndarray, decimals: int = 3) -> list[str]:
    """A content key per row of encoded compositions: the same reduced composition (atomic fractions
    rounded to `decimals`, repeated elements merged, any order) gives the same key."""
    import hashlib

    z = np.asarray(z, np.int16)
    a = np.where(z > 0, np.asarray(a, float), 0.0)
    order = np.argsort(np.where(z > 0, z, 10_000), axis=1, kind="stable")
    z, a = np.take_along_axis(z, order, 1), np.take_along_axis(a, order, 1)
    dup = np.flatnonzero(((z[:, 1:] == z[:, :-1]) & (z[:, 1:] > 0)).any(1))
    for i in dup:  # a repeated element (rare): merge it
        els = {}
        for e, x in zip(z[i], a[i]):
            if e > 0:
                els[e] = els.get(e, 0.0) + x
        z[i], a[i] = 0, 0.0
        z[i, :len(els)], a[i, :len(els)] = list(els), list(els.values())
    tot = a.sum(1, keepdims=True)
    q = np.rint(np.divide(a, tot, out=np.zeros_like(a), where=tot > 0) * 10 ** decimals).astype(np.int32)
    q[z == 0] = 0
    rows = np.concatenate([z.astype(np.int32), q], axis=1).tobytes()
    w = 8 * z.shape[1]
    return [hashlib.blake2b(rows[i * w:(i + 1) * w], digest_size=10).hexdigest() for i in range(len(z))]
