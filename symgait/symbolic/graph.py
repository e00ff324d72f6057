"""Assignment graph: straight-line code over intermediate symbols, with forward and reverse mode.

Every non-trivial expression is bound to a fresh symbol ``x<k>`` by :meth:`Graph.let`, which also
hash-conses (an identical expression gets the same symbol: common-subexpression elimination at the
assignment level) and folds constants (numbers, symbols and negated symbols are never bound).
Expressions therefore stay small, SymPy stays fast, and the graph grows linearly with the model.

Differentiation runs along the graph, not on expanded expressions:

* :meth:`forward` (tangents): for ``s = f(a_1..a_k)``, ``ds/dx_d = sum_m df/da_m * da_m/dx_d``, only
  over the directions ``d`` that actually reach ``s`` (sparsity falls out: a tangent that is zero is
  never created);
* :meth:`reverse` (adjoints): ``abar_m += sbar * df/da_m`` in reverse creation order.

The partials ``df/da_m`` are computed once per assignment and shared by both modes.

Both passes build their products and partials directly from the assignments' own structure (a
product of a partial and a tangent is a product of two graph atoms; the partial of a sum, a product,
a power or sin/cos is written from its arguments) rather than through SymPy's general ``diff`` and
operator overloading; each result is the canonical SymPy expression that ``diff`` and ``*`` would
give (the same objects, so the generated code is the same), at a fraction of the cost.
"""
from __future__ import annotations

import sympy as sp
from sympy.core.basic import _args_sortkey

ZERO = sp.Integer(0)
ONE = sp.Integer(1)
NEG_ONE = sp.Integer(-1)
_Basic = sp.Basic
_Mul, _Add, _Pow, _Number, _Symbol = sp.Mul, sp.Add, sp.Pow, sp.Number, sp.Symbol


def _factors(e):
    """(coefficient, [symbols]) of a number, a symbol or a number times a symbol; None otherwise."""
    if e.is_Symbol:
        return ONE, [e]
    if e.is_Number:
        return e, []
    if e.is_Mul and len(e.args) == 2 and e.args[0].is_Number and e.args[1].is_Symbol:
        return e.args[0], [e.args[1]]
    return None


def mul(a, b):
    """``a * b`` as SymPy's operator evaluates it, fast for the products of graph atoms (numbers, symbols and
    numbers times symbols, distinct): the canonical Mul is assembled without SymPy's general
    flattening (the general ``Mul`` for anything else)."""
    if (a.is_Number and not a) or (b.is_Number and not b):  # 0 or 0.0: SymPy's ``*`` gives 0
        return ZERO
    if a is ONE:
        return b
    if b is ONE:
        return a
    fa, fb = _factors(a), _factors(b)
    if fa is None or fb is None:
        return _Mul(a, b)
    syms = fa[1] + fb[1]
    if len(syms) == 2 and syms[0] == syms[1]:
        return _Mul(a, b)
    c = fa[0] if fb[0] is ONE else (fb[0] if fa[0] is ONE else fa[0] * fb[0])
    if c.is_zero:
        return ZERO
    if not syms:
        return c
    if len(syms) == 2:
        syms.sort(key=_args_sortkey)
    if c is ONE:
        return syms[0] if len(syms) == 1 else _Mul._from_args(syms, True)
    if not c.is_finite:
        return _Mul(a, b)
    return _Mul._from_args([c] + syms, True)


def add(terms):
    """``Add(*terms)`` as SymPy evaluates it, fast for sums of graph atoms and their products:
    like terms collected, the canonical order assembled without SymPy's general flattening (the
    general ``Add`` for anything else)."""
    terms = [t for t in terms if t is not ZERO]
    if len(terms) <= 1:
        return terms[0] if terms else ZERO
    if len(terms) == 2:
        a, b = terms
        if b.is_Rational:
            a, b = b, a
        if a.is_Rational and b.is_Mul:
            return _Add._from_args([a, b], True)
    coeff = ZERO
    collected: dict = {}
    for o in terms:
        if o.is_Number:
            if not o.is_finite:
                return _Add(*terms)
            coeff = coeff + o
            continue
        if o.is_Mul:
            c, t = o.as_coeff_Mul()
        elif o.is_Symbol or o.is_Function:
            c, t = ONE, o
        else:
            return _Add(*terms)
        old = collected.get(t)
        collected[t] = c if old is None else old + c
    seq = []
    for t, c in collected.items():
        if c.is_zero:
            continue
        if c is ONE:
            seq.append(t)
        elif t.is_Mul:
            seq.append(t._new_rawargs(*((c,) + t.args)))
        else:
            seq.append(_Mul(c, t))
    seq.sort(key=_args_sortkey)
    if coeff is not ZERO:
        seq.insert(0, coeff)
    return _Add._from_args(seq, True)


def _partial(e, a):
    """d e / d a for an assignment's expression ``e`` and a symbol ``a`` that it contains: sums,
    products, numeric powers, sin and cos from their arguments (SymPy's ``diff`` otherwise)."""
    if e.is_Symbol:
        return ONE if e == a else ZERO
    if e.is_Add:
        return _Add(*[_partial(t, a) for t in e.args if a in t.free_symbols])
    if e.is_Mul:
        args = e.args
        terms = []
        for i, f in enumerate(args):
            if a in f.free_symbols:
                d = _partial(f, a)
                if d is not ZERO:
                    terms.append(_Mul(*args[:i], d, *args[i + 1:]))
        return _Add(*terms)
    if e.is_Pow and e.exp.is_Number and e.base.is_Symbol:
        return _Mul(e.exp, _Pow(e.base, e.exp - 1)) if e.base == a else ZERO
    if isinstance(e, sp.sin):
        return _Mul(sp.cos(e.args[0]), _partial(e.args[0], a))
    if isinstance(e, sp.cos):
        return _Mul(-sp.sin(e.args[0]), _partial(e.args[0], a))
    if e.is_Atom:
        return ZERO
    return sp.diff(e, a)


def _sort_key(s: sp.Symbol):
    return s.name


def is_trivial(e) -> bool:
    if e.is_Atom:
        return True
    if e.is_Mul and len(e.args) == 2 and e.args[0] == -1 and e.args[1].is_Symbol:
        return True
    return False


class Graph:
    def __init__(self, prefix: str = "x"):
        self.prefix = prefix
        self.exprs: dict[sp.Symbol, sp.Expr] = {}
        self.order: list[sp.Symbol] = []
        self._index: dict[sp.Symbol, int] = {}
        self._cons: dict[sp.Expr, sp.Symbol] = {}
        self._funcs: dict[sp.Expr, sp.Symbol] = {}  # sin(q0) -> x3, used to rewrite partials
        self._partials: dict[sp.Symbol, list] = {}
        self._free: dict[sp.Symbol, frozenset] = {}  # symbol -> free symbols of its expression

    def __len__(self):
        return len(self.order)

    def let(self, e) -> sp.Expr:
        if not isinstance(e, _Basic):
            e = sp.sympify(e)
        if is_trivial(e):
            return e
        s = self._cons.get(e)
        if s is not None:
            return s
        s = sp.Symbol(f"{self.prefix}{len(self.order)}")
        self._index[s] = len(self.order)
        self.exprs[s] = e
        self.order.append(s)
        self._cons[e] = s
        if isinstance(e, sp.Function):
            self._funcs[e] = s
        return s

    def letv(self, v):
        return [self.let(x) for x in v]

    # --- dependencies ---------------------------------------------------------------------------
    def deps(self, e) -> list[sp.Symbol]:
        return sorted((s for s in sp.sympify(e).free_symbols), key=_sort_key)

    def free(self, s: sp.Symbol) -> frozenset:
        """The free symbols of assignment ``s``'s expression (cached)."""
        out = self._free.get(s)
        if out is None:
            out = self._free[s] = frozenset(self.exprs[s].free_symbols)
        return out

    def partials(self, s: sp.Symbol) -> list[tuple[sp.Symbol, sp.Expr]]:
        """[(a, df/da)] for the assignment s = f(...), cached."""
        out = self._partials.get(s)
        if out is None:
            e = self.exprs[s]
            out = []
            for a in sorted(self.free(s), key=_sort_key):
                d = _partial(e, a)
                if self._funcs:
                    d = d.xreplace(self._funcs)
                out.append((a, self.let(d)))
            self._partials[s] = out
        return out

    def reachable(self, outputs) -> list[sp.Symbol]:
        """Intermediate symbols the outputs depend on, in creation (topological) order."""
        seen = set()
        stack = [s for e in outputs for s in sp.sympify(e).free_symbols if s in self.exprs]
        while stack:
            s = stack.pop()
            if s in seen:
                continue
            seen.add(s)
            stack.extend(a for a in self.free(s) if a in self.exprs and a not in seen)
        return sorted(seen, key=self._index.__getitem__)

    # --- forward mode -------------------------------------------------------------------------
    def forward(self, seeds: dict, outputs) -> dict:
        """Tangents of every intermediate that the ``outputs`` need.

        seeds: {input_symbol: {direction: tangent_expr}}. Returns {symbol: {direction: expr}},
        including the seeds. Only intermediates reachable from ``outputs`` are differentiated.
        """
        tan = {k: dict(v) for k, v in seeds.items()}
        for s in self.reachable(outputs):
            if not any(a in tan for a in self.free(s)):
                continue
            parts = [(a, d) for a, d in self.partials(s) if a in tan]
            acc: dict = {}
            for a, d in parts:
                for direction, t in tan[a].items():
                    acc.setdefault(direction, []).append(mul(d, t))
            out = {}
            for direction, terms in acc.items():
                v = self.let(add(terms))
                if v != 0:
                    out[direction] = v
            if out:
                tan[s] = out
        return tan

    def tangent_of(self, e, tan: dict, direction) -> sp.Expr:
        """Tangent of an arbitrary expression of graph symbols (an output) along ``direction``."""
        e = sp.sympify(e)
        terms = []
        for a in self.deps(e):
            t = tan.get(a, {}).get(direction)
            if t is not None:
                terms.append(mul(_partial(e, a), t))
        return self.let(add(terms)) if terms else ZERO

    # --- reverse mode -------------------------------------------------------------------------
    def reverse(self, cotangents: list[tuple[sp.Expr, sp.Expr]], wrt: list[sp.Symbol]) -> list[sp.Expr]:
        """Adjoints d(sum_i mu_i * out_i)/d(wrt) for [(out_i, mu_i)]: one reverse sweep."""
        contrib: dict = {}
        for out, mu in cotangents:
            out = sp.sympify(out)
            for a in self.deps(out):
                contrib.setdefault(a, []).append(mul(mu, _partial(out, a)))
        outs = [o for o, _ in cotangents]
        for s in reversed(self.reachable(outs)):
            terms = contrib.pop(s, None)
            if not terms:
                continue
            sbar = self.let(add(terms))
            if sbar == 0:
                continue
            for a, d in self.partials(s):
                contrib.setdefault(a, []).append(mul(sbar, d))
        return [self.let(add(contrib.get(x, []))) for x in wrt]
