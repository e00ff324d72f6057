"""A small, fast, deterministic printer from SymPy expressions to Python/Numba source.

Handles what the assignment graph produces: symbols (printed by name, e.g. ``q[3]``), numbers,
sums, products, integer and half-integer powers, sin, cos, sqrt. Floats print as ``repr(float)``
(exact round trip). Also counts operations (adds, multiplies, divisions, calls).
"""
from __future__ import annotations

import sympy as sp

_FUNCS = {sp.sin: "math.sin", sp.cos: "math.cos", sp.tan: "math.tan", sp.exp: "math.exp",
          sp.log: "math.log", sp.atan2: "math.atan2"}


class UnsupportedExpression(TypeError):
    pass


class Printer:
    def __init__(self):
        self.ops = 0
        self._cache: dict = {}  # expression -> (text, operations): kernels share most assignments

    def __call__(self, e) -> str:
        hit = self._cache.get(e)
        if hit is None:
            before = self.ops
            text = self._p(sp.sympify(e))
            hit = self._cache[e] = (text, self.ops - before)
            return text
        self.ops += hit[1]
        return hit[0]

    def _num(self, e) -> str:
        if e.is_Integer:
            return str(int(e))
        return repr(float(e))

    def _atom(self, e) -> str:
        """Print with parentheses unless it is a symbol, a non-negative number or a call."""
        s = self._p(e)
        if e.is_Symbol or e.is_Function or (e.is_Number and float(e) >= 0):
            return s
        if e.is_Pow and e.exp == sp.Rational(1, 2):
            return s
        return f"({s})"

    def _p(self, e) -> str:
        if e.is_Symbol:
            return e.name
        if e.is_Number:
            return self._num(e)
        if e is sp.pi:
            return repr(float(sp.pi))
        if e.is_Add:
            terms = list(e.args)
            out = []
            for k, t in enumerate(terms):
                c, rest = t.as_coeff_Mul()
                if c.is_Number and float(c) < 0:
                    body = self._p(-t)
                    out.append(f"- {body}" if k else f"-{self._atom(-t) if (-t).is_Add else body}")
                else:
                    out.append(f"+ {self._p(t)}" if k else self._p(t))
            self.ops += len(terms) - 1
            return " ".join(out)
        if e.is_Mul:
            c, rest = e.as_coeff_Mul()
            if c == -1:
                return f"-{self._atom(rest)}"
            num, den = [], []
            for f in e.args:
                if f.is_Pow and f.exp.is_Number and float(f.exp) < 0:
                    den.append(f.base if f.exp == -1 else sp.Pow(f.base, -f.exp))
                else:
                    num.append(f)
            s = "*".join(self._atom(f) for f in num) if num else "1.0"
            self.ops += max(len(num) - 1, 0)
            for d in den:
                s += f"/{self._atom(d)}"
                self.ops += 1
            return s
        if e.is_Pow:
            b, x = e.base, e.exp
            if x == sp.Rational(1, 2):
                self.ops += 1
                return f"math.sqrt({self._p(b)})"
            if x == -1:
                self.ops += 1
                return f"1.0/{self._atom(b)}"
            if x.is_Integer and 2 <= int(x) <= 4:
                self.ops += int(x) - 1
                a = self._atom(b)
                return "*".join([a] * int(x))
            if x.is_Integer and -4 <= int(x) <= -2:
                self.ops += -int(x)
                a = self._atom(b)
                return "1.0/(" + "*".join([a] * -int(x)) + ")"
            self.ops += 1
            return f"{self._atom(b)}**{self._atom(x)}"
        if e.is_Function and e.func in _FUNCS:
            self.ops += 1
            return f"{_FUNCS[e.func]}({', '.join(self._p(a) for a in e.args)})"
        raise UnsupportedExpression(f"cannot generate code for {e!r} ({type(e).__name__})")
