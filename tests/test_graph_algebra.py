"""The assignment graph's own products, sums and partials (symgait.symbolic.graph: ``mul``, ``add``,
``_partial``) against SymPy's ``*``, ``Add`` and ``diff``: the same canonical expressions (structurally
equal), so that the generated code is the one SymPy's general algebra would give."""
from __future__ import annotations

import random

import sympy as sp

from symgait.symbolic.graph import _partial, add, mul

SYMS = [sp.Symbol(n) for n in ("x0", "x1", "x12", "x7", "q[3]", "qd[0]", "w[5]", "mu[2]")]
NUMS = [sp.Integer(0), sp.Integer(1), sp.Integer(-1), sp.Integer(2), sp.Rational(1, 2), sp.Float(0.25),
        sp.Float(-1.5), sp.Float(1.0), sp.Float(0.0)]


def _atom(rng):
    r = rng.random()
    if r < 0.55:
        return rng.choice(SYMS)
    if r < 0.75:
        return rng.choice(NUMS)
    return rng.choice(NUMS[3:]) * rng.choice(SYMS)  # a number times a symbol (or a negated one)


def _expr(rng):
    """An assignment of the forms the graph builds: sums of products of atoms, powers, sin/cos."""
    terms = []
    for _ in range(rng.randint(1, 4)):
        r = rng.random()
        if r < 0.6:
            terms.append(mul(_atom(rng), _atom(rng)))
        elif r < 0.75:
            terms.append(rng.choice(SYMS) ** rng.choice([2, 3, sp.Rational(1, 2), -1]))
        elif r < 0.9:
            terms.append(rng.choice([sp.sin, sp.cos])(rng.choice(SYMS)) * _atom(rng))
        else:
            terms.append(_atom(rng))
    return sp.Add(*terms)


def test_products_of_atoms_as_sympy():
    rng = random.Random(0)
    for _ in range(3000):
        a, b = _atom(rng), _atom(rng)
        assert mul(a, b) == a * b, (a, b)
        e = _expr(rng)
        assert mul(a, e) == a * e, (a, e)


def test_sums_as_sympy():
    rng = random.Random(1)
    for _ in range(3000):
        terms = [mul(_atom(rng), _atom(rng)) if rng.random() < 0.7 else _atom(rng)
                 for _ in range(rng.randint(0, 6))]
        if rng.random() < 0.3 and terms:  # like terms to collect
            terms.append(mul(rng.choice(NUMS), terms[0]))
        if rng.random() < 0.1:
            terms.append(sp.sin(rng.choice(SYMS)))
        assert add(terms) == sp.Add(*terms), terms


def test_partials_as_sympy_diff():
    rng = random.Random(2)
    for _ in range(2000):
        e = _expr(rng)
        for a in sorted(e.free_symbols, key=str):
            assert _partial(e, a) == sp.diff(e, a), (e, a)
