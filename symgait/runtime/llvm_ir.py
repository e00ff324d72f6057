"""Translate the straight-line generated device functions to LLVM IR.

The generated ``device.py`` is the one source of every backend. Most of its functions are
straight-line: a docstring, assignments ``x12 = <expression>`` and ``out[3] = <expression>`` over
float64 array elements, calls of other straight-line functions with the same arguments, and
``return``. Numba types and lowers every one of those statements in Python, which costs about
1.5-3 ms per operation; the same code written as LLVM IR by this module costs microseconds per
operation to emit, and LLVM's own code generation is all that remains.

Each translated function becomes ``void @name(ptr noalias %arg0, ...)``: every argument is a
pointer to the first element of a contiguous array (arguments never overlap). Arithmetic is float64
in Python's evaluation order (left to right), IEEE without fast-math flags, so results agree with
CPython evaluating the same source to the last bit. The float32 variant (``name_f32``) copies its
float32 arrays into float64 ones on the stack (the elements the function reads), calls the
float64 function and rounds what it wrote back to float32: one code body, float64 arithmetic.
"""
from __future__ import annotations

import ast
import struct

_BINOPS = {ast.Add: "fadd", ast.Sub: "fsub", ast.Mult: "fmul", ast.Div: "fdiv"}
_CALLS = {"sin": "llvm.sin.f64", "cos": "llvm.cos.f64", "sqrt": "llvm.sqrt.f64", "exp": "llvm.exp.f64",
          "log": "llvm.log.f64"}


class NotStraightLine(Exception):
    """A function with loops, slices or other statements this translator does not handle."""


def _statements(fn: ast.FunctionDef) -> list[ast.stmt]:
    """The statements of a straight-line function, less its docstring and a bare ``return``."""
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return [st for st in body if not (isinstance(st, ast.Return) and st.value is None)]


def _double(v: float) -> str:
    return "0x%016X" % struct.unpack("<Q", struct.pack("<d", float(v)))[0]


F32_SUFFIX = "_f32"


class _Function:
    def __init__(self, fn: ast.FunctionDef, straight: dict, prefix: str):
        self.args = [a.arg for a in fn.args.args]
        self.length = [0] * len(self.args)     # elements used of each argument
        self.read = [False] * len(self.args)
        self.written = [False] * len(self.args)
        self.index = {a: i for i, a in enumerate(self.args)}
        self.fn, self.straight = fn, straight
        self.symbol = prefix + fn.name
        self.lines: list[str] = []
        self.names: dict[str, str] = {}
        self.n = 0
        self.intrinsics: set[str] = set()
        self.callees: set[str] = set()

    def tmp(self) -> str:
        self.n += 1
        return f"%t{self.n}"

    def elem(self, node: ast.Subscript) -> str:
        """Pointer to arr[k] for a constant k."""
        if not (isinstance(node.value, ast.Name) and node.value.id in self.index
                and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int)):
            raise NotStraightLine(ast.unparse(node))
        i = self.index[node.value.id]
        self.length[i] = max(self.length[i], node.slice.value + 1)
        (self.written if isinstance(node.ctx, ast.Store) else self.read)[i] = True
        if node.slice.value == 0:
            return f"%a{self.index[node.value.id]}"
        p = self.tmp()
        self.lines.append(f"  {p} = getelementptr inbounds double, ptr %a{self.index[node.value.id]}, "
                          f"i64 {node.slice.value}")
        return p

    def expr(self, e: ast.expr) -> str:
        if isinstance(e, ast.Constant) and isinstance(e.value, (int, float)) and not isinstance(e.value, bool):
            return _double(e.value)
        if isinstance(e, ast.Name):
            if e.id not in self.names:
                raise NotStraightLine(f"{e.id} read before it is assigned")
            return self.names[e.id]
        if isinstance(e, ast.Subscript):
            p = self.elem(e)
            t = self.tmp()
            self.lines.append(f"  {t} = load double, ptr {p}")
            return t
        if isinstance(e, ast.BinOp) and type(e.op) in _BINOPS:
            a, b = self.expr(e.left), self.expr(e.right)
            t = self.tmp()
            self.lines.append(f"  {t} = {_BINOPS[type(e.op)]} double {a}, {b}")
            return t
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub):
            if isinstance(e.operand, ast.Constant):
                return _double(-e.operand.value)
            a = self.expr(e.operand)
            t = self.tmp()
            self.lines.append(f"  {t} = fneg double {a}")
            return t
        if (isinstance(e, ast.Call) and isinstance(e.func, ast.Attribute) and isinstance(e.func.value, ast.Name)
                and e.func.value.id == "math" and e.func.attr in _CALLS and len(e.args) == 1):
            a = self.expr(e.args[0])
            t = self.tmp()
            name = _CALLS[e.func.attr]
            self.intrinsics.add(name)
            self.lines.append(f"  {t} = call double @{name}(double {a})")
            return t
        raise NotStraightLine(ast.unparse(e))

    def translate(self) -> str:
        for st in _statements(self.fn):
            if isinstance(st, ast.Assign) and len(st.targets) == 1:
                tgt = st.targets[0]
                v = self.expr(st.value)
                if isinstance(tgt, ast.Name):
                    if v.startswith("0x"):  # a constant bound to a name
                        t = self.tmp()
                        self.lines.append(f"  {t} = fadd double {v}, 0x0000000000000000")
                        v = t
                    self.names[tgt.id] = v
                elif isinstance(tgt, ast.Subscript):
                    p = self.elem(tgt)
                    self.lines.append(f"  store double {v}, ptr {p}")
                else:
                    raise NotStraightLine(ast.unparse(st))
                continue
            if (isinstance(st, ast.Expr) and isinstance(st.value, ast.Call) and isinstance(st.value.func, ast.Name)
                    and st.value.func.id in self.straight
                    and [a.id for a in st.value.args if isinstance(a, ast.Name)] == self.args
                    and len(st.value.args) == len(self.args)):
                callee = st.value.func.id
                self.callees.add(callee)
                c = self.straight[callee]
                for i in range(len(self.args)):
                    self.length[i] = max(self.length[i], c.length[i])
                    self.read[i] |= c.read[i]
                    self.written[i] |= c.written[i]
                args = ", ".join(f"ptr %a{i}" for i in range(len(self.args)))
                self.lines.append(f"  call void @{c.symbol}({args})")
                continue
            raise NotStraightLine(ast.unparse(st)[:80])
        params = ", ".join(f"ptr noalias %a{i}" for i in range(len(self.args)))
        return "\n".join([f"define void @{self.symbol}({params}) {{", "entry:", *self.lines, "  ret void", "}"])


    def f32_wrapper(self) -> str:
        """``name_f32``: float32 arrays in and out, the float64 function in between."""
        n = len(self.args)
        lines, call, block = [], [], "entry"
        for i in range(n):
            if not (self.read[i] or self.written[i]):
                call.append(f"ptr %a{i}")
                continue
            lines.append(f"  %b{i} = alloca double, i64 {self.length[i]}")
            call.append(f"ptr %b{i}")
            if self.read[i]:
                lines += _copy_loop(f"in{i}", block, f"%a{i}", "float", f"%b{i}", "double", "fpext", self.length[i])
                block = f"in{i}_done"
        lines.append(f"  call void @{self.symbol}({', '.join(call)})")
        for i in range(n):
            if self.written[i]:
                lines += _copy_loop(f"out{i}", block, f"%b{i}", "double", f"%a{i}", "float", "fptrunc", self.length[i])
                block = f"out{i}_done"
        params = ", ".join(f"ptr noalias %a{i}" for i in range(n))
        return "\n".join([f"define void @{self.symbol}{F32_SUFFIX}({params}) {{", "entry:", *lines,
                          "  ret void", "}"])


def _copy_loop(tag, pred, src, sty, dst, dty, conv, length) -> list[str]:
    """Convert ``length`` elements from src to dst: a loop entered from block ``pred``; the block
    after it is ``tag_done``."""
    return [f"  br label %{tag}",
            f"{tag}:",
            f"  %{tag}_i = phi i64 [0, %{pred}], [%{tag}_n, %{tag}]",
            f"  %{tag}_s = getelementptr inbounds {sty}, ptr {src}, i64 %{tag}_i",
            f"  %{tag}_v = load {sty}, ptr %{tag}_s",
            f"  %{tag}_c = {conv} {sty} %{tag}_v to {dty}",
            f"  %{tag}_d = getelementptr inbounds {dty}, ptr {dst}, i64 %{tag}_i",
            f"  store {dty} %{tag}_c, ptr %{tag}_d",
            f"  %{tag}_n = add i64 %{tag}_i, 1",
            f"  %{tag}_k = icmp ult i64 %{tag}_n, {length}",
            f"  br i1 %{tag}_k, label %{tag}, label %{tag}_done",
            f"{tag}_done:"]


def _splat(lines, tmp, scalar: str, width: int) -> str:
    """A <width x double> with every lane ``scalar``."""
    a, b = tmp(), tmp()
    lines.append(f"  {a} = insertelement <{width} x double> poison, double {scalar}, i64 0")
    lines.append(f"  {b} = shufflevector <{width} x double> {a}, <{width} x double> poison, "
                 f"<{width} x i32> zeroinitializer")
    return b


def _load(lines, tmp, ptr: str, ty: str, wide: str, f32: bool, align: str = "") -> str:
    """Emit a load of ``ty`` from ``ptr`` (float32 data widened to ``wide`` by ``fpext``); its register."""
    t = tmp()
    lines.append(f"  {t} = load {ty}, ptr {ptr}{align}")
    if f32:
        d = tmp()
        lines.append(f"  {d} = fpext {ty} {t} to {wide}")
        t = d
    return t


def vector_variant(fn: ast.FunctionDef, symbol: str, width: int, f32: bool = False) -> str:
    """``void @symbol(ptr H, ptr X, i64 stride, double scale)``: the straight-line function
    ``fn(H, x)`` (such as the generated ``ltdl_solve``) applied to ``width`` vectors at once, with
    vector instructions. Element ``x[k]`` of lane ``j`` is ``X[k*stride + j]`` (each row of ``width``
    lanes contiguous), ``H`` is shared by the lanes; every element that ``fn`` writes is stored once,
    at the end, multiplied by ``scale`` (every element it reads or writes is multiplied). Per lane, the same float64 operations in the same order as
    ``fn`` (with ``f32``: float32 ``H`` and ``X``, read into float64 and rounded back at the end, as
    the ``_f32`` functions do)."""
    args = [a.arg for a in fn.args.args]
    if len(args) != 2:
        raise NotStraightLine(f"{fn.name}: a vector variant needs the arguments (H, x)")
    hname, xname = args
    ety = "float" if f32 else "double"
    vty, lanes = f"<{width} x double>", f"<{width} x {ety}>"
    lines, cur, hval, n = [], {}, {}, [0]

    def tmp():
        n[0] += 1
        return f"%t{n[0]}"

    def index(node):
        if not (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)
                and node.value.id in (hname, xname) and isinstance(node.slice, ast.Constant)
                and isinstance(node.slice.value, int)):
            raise NotStraightLine(ast.unparse(node))
        return node.value.id, node.slice.value

    def value(e):
        """(text, is_vector)"""
        if isinstance(e, ast.Constant) and isinstance(e.value, (int, float)) and not isinstance(e.value, bool):
            return _double(e.value), False
        if isinstance(e, ast.Subscript):
            arr, k = index(e)
            if arr == hname:
                if k not in hval:
                    p = tmp()
                    lines.append(f"  {p} = getelementptr inbounds {ety}, ptr %H, i64 {k}")
                    hval[k] = _load(lines, tmp, p, ety, "double", f32)
                return hval[k], False
            if k not in cur:
                off, p = tmp(), tmp()
                lines.append(f"  {off} = mul i64 %stride, {k}")
                lines.append(f"  {p} = getelementptr inbounds {ety}, ptr %X, i64 {off}")
                cur[k] = _load(lines, tmp, p, lanes, vty, f32, f", align {4 if f32 else 8}")
            return cur[k], True
        if isinstance(e, ast.BinOp) and type(e.op) in _BINOPS:
            (a, va), (b, vb) = value(e.left), value(e.right)
            t = tmp()
            if va or vb:
                a = a if va else _splat(lines, tmp, a, width)
                b = b if vb else _splat(lines, tmp, b, width)
                lines.append(f"  {t} = {_BINOPS[type(e.op)]} {vty} {a}, {b}")
                return t, True
            lines.append(f"  {t} = {_BINOPS[type(e.op)]} double {a}, {b}")
            return t, False
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub):
            a, va = value(e.operand)
            t = tmp()
            lines.append(f"  {t} = fneg {vty if va else 'double'} {a}")
            return t, va
        raise NotStraightLine(ast.unparse(e))

    for st in _statements(fn):
        if not (isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Subscript)):
            raise NotStraightLine(ast.unparse(st)[:80])
        arr, k = index(st.targets[0])
        if arr != xname:
            raise NotStraightLine(f"{fn.name} writes {arr}")
        v, isv = value(st.value)
        cur[k] = v if isv else _splat(lines, tmp, v, width)
    touched = sorted(cur)
    sc = _splat(lines, tmp, "%scale", width)
    for k in touched:
        off, p, t = tmp(), tmp(), tmp()
        lines.append(f"  {t} = fmul {vty} {cur[k]}, {sc}")
        if f32:
            r = tmp()
            lines.append(f"  {r} = fptrunc {vty} {t} to {lanes}")
            t = r
        lines.append(f"  {off} = mul i64 %stride, {k}")
        lines.append(f"  {p} = getelementptr inbounds {ety}, ptr %X, i64 {off}")
        lines.append(f"  store {lanes} {t}, ptr {p}, align {4 if f32 else 8}")
    return "\n".join([f"define void @{symbol}(ptr noalias %H, ptr noalias %X, i64 %stride, double %scale) {{",
                      "entry:", *lines, "  ret void", "}"])


BATCH_WIDTH = 8      # samples per call of a batch variant
BATCH_SUFFIX = f"_b{BATCH_WIDTH}"


def batch_variant(fn: ast.FunctionDef, straight: set, symbol: str, prefix: str, width: int = BATCH_WIDTH) -> str:
    """``void @symbol(ptr a0, i64 s0, ..., ptr work)``: the straight-line function ``fn(a0, ...,
    work)`` on ``width`` samples at once, with vector instructions. Element k of argument i for
    sample j is ``a_i[j*s_i + k]`` (``s_i`` = 0: shared by the samples, as a shared ``p``); the
    scratch ``work`` is the samples' own, interleaved: element k of sample j at ``work[k*width + j]``.
    Calls of other straight-line functions with the same arguments (a kernel's ``_partN`` chunks) call
    their batch variants (``prefix + name + BATCH_SUFFIX``). Per sample, the same float64 operations
    in the same order as ``fn``."""
    args = [a.arg for a in fn.args.args]
    if not args or args[-1] != "work":
        raise NotStraightLine(f"{fn.name}: a batch variant needs the scratch argument work last")
    index = {a: i for i, a in enumerate(args)}
    W = width
    vty = f"<{W} x double>"
    pty = f"<{W} x ptr>"
    ity = f"<{W} x i64>"
    true = f"<{W} x i1> <{', '.join(['i1 true'] * W)}>"
    lines, names, n = [], {}, [0]
    known: dict = {}  # (argument, element) -> its current value: arguments never overlap, so a value
                      # read or written once is reused (no second gather)

    def tmp():
        n[0] += 1
        return f"%t{n[0]}"

    def const(v: str) -> str:
        return f"<{', '.join(['double ' + v] * W)}>"

    for i, a in enumerate(args[:-1]):  # lane offsets j*s_i
        lines.append(f"  %ls{i}.0 = insertelement {ity} poison, i64 %s{i}, i64 0")
        lines.append(f"  %ls{i}.1 = shufflevector {ity} %ls{i}.0, {ity} poison, <{W} x i32> zeroinitializer")
        lines.append(f"  %lane{i} = mul {ity} %ls{i}.1, <{', '.join(f'i64 {j}' for j in range(W))}>")

    def pointers(node):
        if not (isinstance(node.value, ast.Name) and node.value.id in index and isinstance(node.slice, ast.Constant)
                and isinstance(node.slice.value, int)):
            raise NotStraightLine(ast.unparse(node))
        i, k = index[node.value.id], node.slice.value
        if node.value.id == "work":
            p = tmp()
            lines.append(f"  {p} = getelementptr inbounds double, ptr %a{i}, i64 {k * W}")
            return p, False
        ix, p = tmp(), tmp()
        lines.append(f"  {ix} = add {ity} %lane{i}, <{', '.join([f'i64 {k}'] * W)}>")
        lines.append(f"  {p} = getelementptr inbounds double, ptr %a{i}, {ity} {ix}")
        return p, True

    def expr(e) -> str:
        if isinstance(e, ast.Constant) and isinstance(e.value, (int, float)) and not isinstance(e.value, bool):
            return const(_double(e.value))
        if isinstance(e, ast.Name):
            if e.id not in names:
                raise NotStraightLine(f"{e.id} read before it is assigned")
            return names[e.id]
        if isinstance(e, ast.Subscript):
            key = (getattr(e.value, "id", None), getattr(e.slice, "value", None))
            if key in known:
                return known[key]
            p, gather = pointers(e)
            t = tmp()
            known[key] = t
            if gather:
                lines.append(f"  {t} = call {vty} @llvm.masked.gather.v{W}f64.v{W}p0({pty} {p}, i32 8, {true}, "
                             f"{vty} poison)")
            else:
                lines.append(f"  {t} = load {vty}, ptr {p}, align 8")
            return t
        if isinstance(e, ast.BinOp) and type(e.op) in _BINOPS:
            a, b = expr(e.left), expr(e.right)
            t = tmp()
            lines.append(f"  {t} = {_BINOPS[type(e.op)]} {vty} {a}, {b}")
            return t
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub):
            if isinstance(e.operand, ast.Constant):
                return const(_double(-e.operand.value))
            a = expr(e.operand)
            t = tmp()
            lines.append(f"  {t} = fneg {vty} {a}")
            return t
        if (isinstance(e, ast.Call) and isinstance(e.func, ast.Attribute) and isinstance(e.func.value, ast.Name)
                and e.func.value.id == "math" and e.func.attr in _CALLS and len(e.args) == 1):
            a = expr(e.args[0])
            t = tmp()
            lines.append(f"  {t} = call {vty} @{_CALLS[e.func.attr].replace('.f64', f'.v{W}f64')}({vty} {a})")
            return t
        raise NotStraightLine(ast.unparse(e))

    params = [f"ptr noalias %a{i}, i64 %s{i}" for i in range(len(args) - 1)] + [f"ptr noalias %a{len(args) - 1}"]
    for st in _statements(fn):
        if isinstance(st, ast.Assign) and len(st.targets) == 1:
            tgt = st.targets[0]
            v = expr(st.value)
            if isinstance(tgt, ast.Name):
                if v.startswith("<"):  # a constant bound to a name
                    t = tmp()
                    lines.append(f"  {t} = fadd {vty} {v}, {const('0x0000000000000000')}")
                    v = t
                names[tgt.id] = v
            elif isinstance(tgt, ast.Subscript):
                p, scatter = pointers(tgt)
                known[(tgt.value.id, tgt.slice.value)] = v
                if scatter:
                    lines.append(f"  call void @llvm.masked.scatter.v{W}f64.v{W}p0({vty} {v}, {pty} {p}, i32 8, {true})")
                else:
                    lines.append(f"  store {vty} {v}, ptr {p}, align 8")
            else:
                raise NotStraightLine(ast.unparse(st))
            continue
        if (isinstance(st, ast.Expr) and isinstance(st.value, ast.Call) and isinstance(st.value.func, ast.Name)
                and st.value.func.id in straight
                and [a.id for a in st.value.args if isinstance(a, ast.Name)] == args):
            call = ", ".join([f"ptr %a{i}, i64 %s{i}" for i in range(len(args) - 1)] + [f"ptr %a{len(args) - 1}"])
            lines.append(f"  call void @{prefix}{st.value.func.id}{BATCH_SUFFIX}({call})")
            continue
        raise NotStraightLine(ast.unparse(st)[:80])
    return "\n".join([f"define void @{symbol}({', '.join(params)}) {{", "entry:", *lines, "  ret void", "}"])


def batch_declarations(width: int = BATCH_WIDTH) -> list[str]:
    v = f"<{width} x double>"
    decl = [f"declare {v} @llvm.masked.gather.v{width}f64.v{width}p0(<{width} x ptr>, i32, <{width} x i1>, {v})",
            f"declare void @llvm.masked.scatter.v{width}f64.v{width}p0({v}, <{width} x ptr>, i32, <{width} x i1>)"]
    decl += [f"declare {v} @{c.replace('.f64', f'.v{width}f64')}({v})" for c in _CALLS.values()]
    return decl


VECTOR_ARGS = ["H", "X", "stride", "scale"]
# name of a generated function -> (the straight-line function it applies to SOLVE_BLOCK columns at once)
VECTOR_FUNCTIONS = {"ltdl_solve_block": "ltdl_solve"}


def _module_constant(tree: ast.Module, name: str):
    for st in tree.body:
        if (isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name)
                and st.targets[0].id == name and isinstance(st.value, ast.Constant)):
            return st.value.value
    return None


BATCHED = ("inverse_dynamics_derivatives",)  # kernels that also get a batch variant (and their parts)


def translate_module(source: str, names: list[str] | None = None, prefix: str = "",
                     batched: tuple = BATCHED) -> tuple[str, dict[str, list]]:
    """LLVM IR of the straight-line functions of ``source`` (all of them, or ``names`` and what they
    call) and their float32 variants, each function ``name`` as the symbol ``prefix + name`` (and
    ``prefix + name + F32_SUFFIX``). Where ``source`` defines a function of ``VECTOR_FUNCTIONS``
    (``ltdl_solve_block``: ``ltdl_solve`` on ``SOLVE_BLOCK`` columns), it is written as the
    :func:`vector_variant` of its straight-line function, with ``SOLVE_BLOCK`` lanes (with ``names``:
    where named); each kernel of ``batched`` also gets its :func:`batch_variant` (and its parts'), as
    ``prefix + name + BATCH_SUFFIX`` with the arguments ``["batch", *kernel arguments]``. Returns the
    IR text and {function: argument names}."""
    tree = ast.parse(source)
    fns = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    straight, texts, intrinsics, calls = {}, {}, set(), {}
    for name, fn in fns.items():  # definitions precede their callers in generated code
        try:
            f = _Function(fn, straight, prefix)
            texts[name] = f.translate() + "\n\n" + f.f32_wrapper()
        except NotStraightLine:
            continue
        straight[name] = f
        intrinsics |= f.intrinsics
        calls[name] = f.callees
    if names is not None:
        keep, todo = set(), list(names)
        while todo:
            n = todo.pop()
            if n not in straight:
                raise NotStraightLine(f"{n} is not a straight-line function")
            if n not in keep:
                keep.add(n)
                todo += calls[n]
    else:
        keep = straight
    order = [n for n in fns if n in keep]
    decl = [f"declare double @{i}(double)" for i in sorted(intrinsics)]
    out = {n: straight[n].args for n in order}
    vtexts = []
    width = _module_constant(tree, "SOLVE_BLOCK")
    for name, base in VECTOR_FUNCTIONS.items():
        if name in fns and base in fns and isinstance(width, int) and (names is None or name in names):
            vtexts += [vector_variant(fns[base], prefix + name, width),
                       vector_variant(fns[base], prefix + name + F32_SUFFIX, width, f32=True)]
            out[name] = list(VECTOR_ARGS)
    btexts = []
    for name in batched:
        if name in straight and (names is None or name in names):
            for part in sorted(calls[name]) + [name]:
                btexts.append(batch_variant(fns[part], set(straight), prefix + part + BATCH_SUFFIX, prefix))
            out[name + BATCH_SUFFIX] = ["batch"] + straight[name].args
    if btexts:
        decl += batch_declarations()
    ir = "\n\n".join(decl + [texts[n] for n in order] + vtexts + btexts) + "\n"
    return ir, out
