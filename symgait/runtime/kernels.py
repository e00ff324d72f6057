"""``symgait.kernels(model, backend)``: batched kernels over a leading batch axis."""
from __future__ import annotations

import numpy as np

from ..errors import InputError, StaleKernelsError
from . import threads
from .arrays import batch_input, check_outputs, param_input, to_numpy, wrap
from .loader import import_backend

PER_SAMPLE_SHAPES = {  # per-sample input shapes (by argument name) given n, nc
    "q": lambda n, nc: (n,), "qd": lambda n, nc: (n,), "qdd": lambda n, nc: (n,), "tau": lambda n, nc: (n,),
    "mu": lambda n, nc: (n,), "g": lambda n, nc: (n,), "nu": lambda n, nc: (6,), "w": lambda n, nc: (nc, 6),
}


class Kernels:
    """Batched dynamics kernels of one model on one backend (see the README for shapes).

    backend: 'cpu' (numpy / CPU torch in and out), 'cuda' (GPU arrays in and out, see
    :mod:`symgait.runtime.cuda_arrays` and docs/gpu.md) or 'auto' (CUDA when an input lives on a GPU,
    else CPU)."""

    def __init__(self, model, backend: str = "cpu", generated=None, check_parameters: bool = True):
        if backend not in ("cpu", "cuda", "auto"):
            raise InputError(f"backend must be 'cpu', 'cuda' or 'auto', got {backend!r}")
        if backend == "cuda":  # device arrays, streams and launches: symgait/runtime/cuda_arrays.py
            from .cuda_arrays import require_cuda
            require_cuda()
        self.model = model
        self.backend = backend
        self.generated = generated  # the generated-code directory (None: the model's default)
        self.module, self.manifest = import_backend(model, "cuda" if backend == "cuda" else "cpu", generated)
        if backend != "cuda":
            threads.select()
        self._cuda = self.module if backend == "cuda" else None
        self.check_parameters = check_parameters
        self._checked_p = None
        m = model
        self.nq, self.n_contacts, self.n_parameters = m.nq, m.n_contacts, m.n_parameters
        self._npts = len(m.points)

    def cuda_module(self):
        """The model's generated CUDA launchers (imported on first use with backend='auto')."""
        if self._cuda is None:
            self._cuda, _ = import_backend(self.model, "cuda", self.generated)
        return self._cuda

    def check_p(self, p):
        """Refuse non-physical parameters (every row of a per-sample ``p``); the last checked ``p`` is remembered."""
        if self.check_parameters:
            key = p.tobytes()
            if key != self._checked_p:
                self.model.check_parameters(p)
                self._checked_p = key

    def signature(self, name: str) -> dict:
        """The manifest's entry of kernel ``name`` (inputs, outputs, work size)."""
        sig = self.manifest["kernels"].get(name)
        if sig is None or name not in self.manifest.get("operations", {}):
            raise StaleKernelsError(f"the generated kernels of model {self.model.name!r} have no {name!r} (generated "
                                    f"by an older symgait); run `symgait generate {self.model.name}`")
        return sig

    # --- generic call ------------------------------------------------------------------------
    def _call(self, name: str, args: dict, out_shapes: dict):
        if self.backend != "cpu":  # 'cuda', or 'auto' with an input on a GPU
            from . import cuda_arrays
            if self.backend == "cuda" or cuda_arrays.on_device(args.values()):
                return cuda_arrays.call(self, name, args, out_shapes)
        sig = self.signature(name)
        n, nc = self.nq, self.n_contacts
        arrays, kinds = {}, set()
        q, kind = to_numpy("q", args["q"])
        kinds.add(kind)
        dtype = q.dtype
        batch = q.shape[0] if q.ndim >= 1 else None
        for a, size in sig["inputs"]:
            if a == "p":
                continue
            x, kind = to_numpy(a, args[a])
            kinds.add(kind)
            arrays[a] = batch_input(a, x, size, PER_SAMPLE_SHAPES[a](n, nc), dtype, batch if a != "q" else None)
            if a == "q":
                dtype, batch = arrays[a].dtype, arrays[a].shape[0]
        praw, _ = to_numpy("p", args["p"])
        p = param_input(praw, self.n_parameters, dtype, batch)
        self.check_p(p)
        arrays["p"] = p
        outs = {a: np.empty((batch, size), dtype=dtype) for a, size in sig["outputs"]}
        call = [arrays[a] for a, _ in sig["inputs"]] + [outs[a] for a, _ in sig["outputs"]]
        call.append(np.empty((batch, sig["work"]), dtype=dtype))
        launch = name if threads.parallel(batch, self.manifest["operations"][name]) else f"{name}_serial"
        getattr(self.module, launch)(*call)
        check_outputs(name, outs, arrays)
        kind = "torch" if "torch" in kinds else "numpy"
        return {a: wrap(kind, outs[a].reshape((batch,) + shp)) for a, shp in out_shapes.items()}

    # --- public kernels ----------------------------------------------------------------------
    def mass_matrix(self, q, p):
        n = self.nq
        return self._call("mass_matrix", {"q": q, "p": p}, {"M": (n, n)})["M"]

    def inverse_dynamics(self, q, qd, qdd, w, p):
        return self._call("inverse_dynamics", dict(q=q, qd=qd, qdd=qdd, w=w, p=p), {"tau": (self.nq,)})["tau"]

    def root_residual(self, q, qd, qdd, w, p):
        return self._call("root_residual", dict(q=q, qd=qd, qdd=qdd, w=w, p=p), {"res": (6,)})["res"]

    def forward_dynamics(self, q, qd, tau, w, p):
        return self._call("forward_dynamics", dict(q=q, qd=qd, tau=tau, w=w, p=p), {"qdd": (self.nq,)})["qdd"]

    def inverse_dynamics_derivatives(self, q, qd, qdd, w, p, parameters: bool = True):
        """{'tau': ID, 'q','qd','qdd': (B,n,n), 'w': (B,n,nc,6), 'p': (B,n,n_p)}. ``parameters=False``
        leaves out 'p' (its kernel, ``inverse_dynamics_parameter_derivatives``, is then not compiled)."""
        n, nc, npar = self.nq, self.n_contacts, self.n_parameters
        args = dict(q=q, qd=qd, qdd=qdd, w=w, p=p)
        r = self._call("inverse_dynamics_derivatives", args,
                       {"tau": (n,), "dq": (n, n), "dqd": (n, n), "dw": (n, nc, 6)})
        out = {"tau": r["tau"], "q": r["dq"], "qd": r["dqd"], "qdd": self.mass_matrix(q, p), "w": r["dw"]}
        if parameters:
            out["p"] = self._call("inverse_dynamics_parameter_derivatives", args, {"dp": (n, npar)})["dp"]
        return out

    def forward_dynamics_derivatives(self, q, qd, tau, w, p, parameters: bool = True):
        """{'qdd': FD, 'q','qd','tau': (B,n,n), 'w': (B,n,nc,6), 'p': (B,n,n_p)}. ``parameters=False``
        leaves out 'p' (its kernel, ``forward_dynamics_parameter_derivatives``, is then not compiled)."""
        n, nc, npar = self.nq, self.n_contacts, self.n_parameters
        args = dict(q=q, qd=qd, tau=tau, w=w, p=p)
        r = self._call("forward_dynamics_derivatives", args,
                       {"qdd": (n,), "dq": (n, n), "dqd": (n, n), "dtau": (n, n), "dw": (n, nc, 6)})
        out = {"qdd": r["qdd"], "q": r["dq"], "qd": r["dqd"], "tau": r["dtau"], "w": r["dw"]}
        if parameters:
            out["p"] = self._call("forward_dynamics_parameter_derivatives", args, {"dp": (n, npar)})["dp"]
        return out

    def inverse_dynamics_vjp(self, q, qd, qdd, w, p, mu):
        """mu^T dID/d(q, qd, qdd, w, p) without forming Jacobians: dict keyed 'q','qd','qdd','w','p'."""
        n, nc, npar = self.nq, self.n_contacts, self.n_parameters
        r = self._call("inverse_dynamics_vjp", dict(q=q, qd=qd, qdd=qdd, w=w, p=p, mu=mu),
                       {"gq": (n,), "gqd": (n,), "gqdd": (n,), "gw": (nc, 6), "gp": (npar,)})
        return {"q": r["gq"], "qd": r["gqd"], "qdd": r["gqdd"], "w": r["gw"], "p": r["gp"]}

    def root_residual_vjp(self, q, qd, qdd, w, p, nu):
        """nu^T d res/d(q, qd, qdd, w, p) for the root residual (nu: (B, 6)); dict keyed like
        :meth:`inverse_dynamics_vjp`."""
        n, nc, npar = self.nq, self.n_contacts, self.n_parameters
        r = self._call("root_residual_vjp", dict(q=q, qd=qd, qdd=qdd, w=w, p=p, nu=nu),
                       {"gq": (n,), "gqd": (n,), "gqdd": (n,), "gw": (nc, 6), "gp": (npar,)})
        return {"q": r["gq"], "qd": r["gqd"], "qdd": r["gqdd"], "w": r["gw"], "p": r["gp"]}

    def forward_dynamics_vjp(self, q, qd, tau, w, p, g):
        """g^T dqdd/d(q, qd, tau, w, p) without forming Jacobians; also returns 'qdd'."""
        n, nc, npar = self.nq, self.n_contacts, self.n_parameters
        r = self._call("forward_dynamics_vjp", dict(q=q, qd=qd, tau=tau, w=w, p=p, g=g),
                       {"qdd": (n,), "gq": (n,), "gqd": (n,), "gtau": (n,), "gw": (nc, 6), "gp": (npar,)})
        return {"qdd": r["qdd"], "q": r["gq"], "qd": r["gqd"], "tau": r["gtau"], "w": r["gw"], "p": r["gp"]}

    def points(self, q, p):
        return self._call("points", {"q": q, "p": p}, {"out": (self._npts, 3)})["out"]

    def point_jacobians(self, q, p):
        return self._call("point_jacobians", {"q": q, "p": p}, {"out": (self._npts, 3, self.nq)})["out"]

    def contact_points(self, q, p):
        return self._call("contact_points", {"q": q, "p": p}, {"out": (self.n_contacts, 3)})["out"]

    def contact_jacobians(self, q, p):
        """(B, n_contacts, 6, nq): world linear velocity of the contact origin, then angular velocity."""
        return self._call("contact_jacobians", {"q": q, "p": p}, {"out": (self.n_contacts, 6, self.nq)})["out"]


def kernels(model, backend: str = "cpu", generated=None, check_parameters: bool = True) -> Kernels:
    """Batched kernels of ``model`` (a :class:`Model` or a name/path) on ``backend``."""
    if not hasattr(model, "spec"):
        from ..model import load_model
        model = load_model(model)
    return Kernels(model, backend, generated, check_parameters)
