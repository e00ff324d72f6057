"""The kernel table: every batched kernel's name, per-sample inputs and outputs, and the public name
and shape of each result.

Declared once, here. The derivation (:mod:`symgait.symbolic.kernels`) takes each kernel's arguments
from it, code generation writes it into every model's ``manifest.json``
(:mod:`symgait.codegen.signatures`), the runtime (:mod:`symgait.runtime.kernels`, which imports
neither SymPy nor this module) reads the manifest for the shapes of inputs and outputs, the keys of
its results and the launchers it writes, and a test checks the README's API section against it.

Shapes are written in the model's dimensions: ``n`` velocity entries (the size of qd, qdd, tau and
of every derivative's columns with respect to q: the tangent space), ``nq`` configuration entries
(q; equal to ``n`` without quaternion joints), ``nc`` contacts, ``np`` parameters, ``npts`` named
points. Matrices are row-major with the output's rows first
(``dqdd_dq[b, i, j] = d qdd_i / d q_j``).

Result keys name what they hold: ``dtau_dq`` is d ID / d q, ``dqdd_dw`` is d FD / d w and
``grad_q`` a vector-Jacobian product with respect to q. The keys of symgait 0.1.0's first
releases (``'q'``, ``'qd'``, ... for every one of these) are kept as aliases for one release
(``ALIASES``; reading one warns with ``DeprecationWarning``).
"""
from __future__ import annotations

from dataclasses import dataclass

# argument name -> per-sample shape, for every argument any kernel takes
ARG_SHAPES = {"q": "nq", "qd": "n", "qdd": "n", "tau": "n", "w": "nc,6", "p": "np",
              "mu": "n", "nu": "6", "g": "n"}


@dataclass(frozen=True)
class Output:
    name: str    # array name in the generated code
    shape: str   # per-sample shape of the result
    key: str     # key of the result in the runtime's dictionaries


@dataclass(frozen=True)
class KernelSpec:
    name: str
    doc: str
    inputs: tuple   # argument names (shapes in ARG_SHAPES)
    outputs: tuple  # Output, in argument order


def _k(name, doc, inputs, *outputs):
    return KernelSpec(name, doc, tuple(inputs.split()), tuple(Output(*o.split("|")) for o in outputs))


ID_IN = "q qd qdd w p"
FD_IN = "q qd tau w p"
QP = "q p"
VJP_OUT = ("gq|n|grad_q", "gqd|n|grad_qd", "gqdd|n|grad_qdd", "gw|nc,6|grad_w", "gp|np|grad_p")

KERNELS = {k.name: k for k in [
    _k("inverse_dynamics", "Generalized forces ID = M qdd + h - sum_c J_c^T w_c.", ID_IN, "tau|n|tau"),
    _k("root_residual", "Root wrench: world force (N) and world moment about the root body's origin (N m) "
       "that the motion and wrenches leave unexplained.", ID_IN, "res|6|res"),
    _k("mass_matrix", "Joint-space inertia matrix M(q, p), row-major.", QP, "M|n,n|M"),
    _k("inverse_dynamics_derivatives", "ID and its Jacobians d ID/d q, d qd, d w (row-major, ID rows).", ID_IN,
       "tau|n|tau", "dq|n,n|dtau_dq", "dqd|n,n|dtau_dqd", "dw|n,nc,6|dtau_dw"),
    _k("inverse_dynamics_parameter_derivatives", "d ID/d p (row-major, ID rows).", ID_IN, "dp|n,np|dtau_dp"),
    _k("inverse_dynamics_vjp", "Reverse-mode products mu^T d ID / d (q, qd, qdd, w, p).", ID_IN + " mu", *VJP_OUT),
    _k("root_residual_vjp", "Reverse-mode products nu^T d res / d (q, qd, qdd, w, p).", ID_IN + " nu", *VJP_OUT),
    _k("points", "World positions of the named points (n_points x 3).", QP, "out|npts,3|points"),
    _k("point_jacobians", "d point / d q (n_points x 3 x nq).", QP, "out|npts,3,n|point_jacobians"),
    _k("contact_points", "World positions of the contact bodies' origins (n_contacts x 3).", QP,
       "out|nc,3|contact_points"),
    _k("contact_jacobians", "World Jacobians of the contact bodies (n_contacts x 6 x nq): origin velocity rows, "
       "then angular velocity rows.", QP, "out|nc,6,n|contact_jacobians"),
    _k("forward_dynamics", "qdd = M^-1 (tau + sum_c J_c^T w_c - h).", FD_IN, "qdd|n|qdd"),
    _k("forward_dynamics_derivatives", "FD and its Jacobians d qdd/d q, d qd, d tau (= M^-1), d w.", FD_IN,
       "qdd|n|qdd", "dq|n,n|dqdd_dq", "dqd|n,n|dqdd_dqd", "dtau|n,n|dqdd_dtau", "dw|n,nc,6|dqdd_dw"),
    _k("forward_dynamics_parameter_derivatives", "d qdd/d p (row-major, qdd rows).", FD_IN, "dp|n,np|dqdd_dp"),
    _k("forward_dynamics_vjp", "Reverse-mode products g^T d qdd / d (q, qd, tau, w, p), and qdd.", FD_IN + " g",
       "qdd|n|qdd", "gq|n|grad_q", "gqd|n|grad_qd", "gtau|n|grad_tau", "gw|nc,6|grad_w", "gp|np|grad_p"),
]}

# results the runtime assembles from several kernels: key -> (kernel, its output key)
EXTRA_RESULTS = {
    "inverse_dynamics_derivatives": {"dtau_dqdd": ("mass_matrix", "M"),
                                     "dtau_dp": ("inverse_dynamics_parameter_derivatives", "dtau_dp")},
    "forward_dynamics_derivatives": {"dqdd_dp": ("forward_dynamics_parameter_derivatives", "dqdd_dp")},
}

_VJP_ALIASES = {"q": "grad_q", "qd": "grad_qd", "qdd": "grad_qdd", "w": "grad_w", "p": "grad_p"}
# old result key -> key, per kernel (kept for one release)
ALIASES = {
    "inverse_dynamics_derivatives": {"q": "dtau_dq", "qd": "dtau_dqd", "qdd": "dtau_dqdd", "w": "dtau_dw",
                                     "p": "dtau_dp"},
    "forward_dynamics_derivatives": {"q": "dqdd_dq", "qd": "dqdd_dqd", "tau": "dqdd_dtau", "w": "dqdd_dw",
                                     "p": "dqdd_dp"},
    "inverse_dynamics_vjp": dict(_VJP_ALIASES),
    "root_residual_vjp": dict(_VJP_ALIASES),
    "forward_dynamics_vjp": {"q": "grad_q", "qd": "grad_qd", "tau": "grad_tau", "w": "grad_w", "p": "grad_p"},
}


def dimensions(n: int, nc: int, npar: int, npts: int, nq: int | None = None) -> dict:
    """The table's dimensions in numbers (``nq``: the configuration's size, default ``n``)."""
    return {"n": n, "nq": n if nq is None else nq, "nc": nc, "np": npar, "npts": npts}


def shape_of(shape: str, dims: dict) -> tuple:
    """A shape string of this table ("n,nc,6") in numbers."""
    return tuple(dims[s] if s in dims else int(s) for s in shape.split(","))


def size_of(shape: str, dims: dict) -> int:
    out = 1
    for s in shape_of(shape, dims):
        out *= s
    return out


def arguments(name: str, dims: dict) -> tuple[list, list]:
    """([(input, size)], [(output, size)]) of kernel ``name`` for a model of dimensions ``dims``."""
    k = KERNELS[name]
    return ([(a, size_of(ARG_SHAPES[a], dims)) for a in k.inputs],
            [(o.name, size_of(o.shape, dims)) for o in k.outputs])
