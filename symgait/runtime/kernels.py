"""``symgait.kernels(model, backend)``: batched kernels over a leading batch axis.

:class:`Kernels` is the interface every backend shares: the model's dimensions, the manifest of its
generated code, the input check of ``p`` and the public kernel methods, which all run through one
launch method, :meth:`Kernels.launch`, that each backend class implements. The backend classes live
in the sibling modules and name their backend when they subclass :class:`Kernels` (``class
CpuKernels(Kernels, backend="cpu")``): :mod:`~symgait.runtime.cpu` (``'cpu'``),
:mod:`~symgait.runtime.cuda` (``'cuda'``, and the unchecked launches on torch tensors that the layers
use) and :mod:`~symgait.runtime.auto` (``'auto'``). ``Kernels(model, backend)`` constructs the class
of ``backend``; this module imports none of them (they import it), and the package imports them all.

Argument shapes, result keys and shapes are the kernel table's (:mod:`symgait.symbolic.kernel_table`),
as code generation wrote them into the model's ``manifest.json``: the runtime reads them there and
imports neither SymPy nor the symbolic layer. Results of the derivative and vector-Jacobian kernels
are :class:`Results` dictionaries, which also answer to the older keys for one release.

The model's names, sizes, ``parameters(...)`` and physical checks of ``p`` are those of the
generated code (:class:`~symgait.runtime.generated_model.GeneratedModel`): ``symgait.kernels(name)``
of a built-in model starts without parsing its model file (no SymPy); ``symgait.kernels(model)``
of a :class:`symgait.Model` keeps that model as ``k.model``."""
from __future__ import annotations

import abc
import warnings

from ..errors import InputError, StaleKernelsError
from ..paths import BUILTIN_MODELS, ModelFile, builtin_model_file, builtin_model_path, resolve_model_path
from .generated_model import GeneratedModel
from .launchers import load_launchers
from .loader import import_generated
from .manifold import ConfigurationSpace

BACKENDS = ("cpu", "cuda", "auto")
_CLASSES = {}  # backend name -> the Kernels subclass that declared it


class Results(dict):
    """A kernel's results by key (``dtau_dq``, ``dqdd_dw``, ``grad_q``, ...); an older key (``'q'``,
    ``'qd'``, ...) still reads its value, with a ``DeprecationWarning`` naming the new key."""

    def __init__(self, data: dict, aliases: dict):
        super().__init__(data)
        self.aliases = dict(aliases)

    def _key(self, key):
        if not dict.__contains__(self, key) and key in self.aliases:
            new = self.aliases[key]
            warnings.warn(f"result key {key!r} is deprecated: use {new!r} (the old keys go in the next release)",
                          DeprecationWarning, stacklevel=3)
            return new
        return key

    def __getitem__(self, key):
        try:
            return dict.__getitem__(self, self._key(key))
        except KeyError:
            raise KeyError(f"{key!r}: the results have {sorted(dict.keys(self))}") from None

    def __contains__(self, key):
        return dict.__contains__(self, key) or (key in self.aliases and dict.__contains__(self, self.aliases[key]))

    def get(self, key, default=None):
        return self[key] if key in self else default


class Kernels(abc.ABC):
    """Batched dynamics kernels of one model on one backend (see the README for shapes).

    backend: 'cpu' (numpy / CPU torch in and out, :class:`~symgait.runtime.cpu.CpuKernels`), 'cuda'
    (GPU arrays in and out, :class:`~symgait.runtime.cuda.CudaKernels`, docs/gpu.md) or 'auto' (CUDA
    when an input lives on a GPU, else CPU, :class:`~symgait.runtime.auto.AutoKernels`).
    ``Kernels(model, backend, ...)`` returns an instance of that class; a backend class takes the
    same arguments, ``backend`` defaulting to its own."""

    backend: str  # the backend's name, set by the class that declares it
    launchers = "cpu"  # the launchers a class runs (symgait.runtime.launchers: "cpu" or "cuda")

    def __init_subclass__(cls, backend: str | None = None, **kwargs):
        super().__init_subclass__(**kwargs)
        if backend is not None:
            held = _CLASSES.get(backend)
            if backend not in BACKENDS or held is not None and held.__qualname__ != cls.__qualname__:
                raise TypeError(f"{cls.__name__}: backend {backend!r} is not one of {BACKENDS} or already has "
                                f"a class ({held})")
            cls.backend = backend
            _CLASSES[backend] = cls

    def __new__(cls, model=None, backend: str | None = None, *args, **kwargs):
        # Kernels(...) itself: an instance of the backend's class, which __init__ then sets up
        if cls is Kernels:
            backend = "cpu" if backend is None else backend
            if backend not in BACKENDS:
                raise InputError(f"backend must be 'cpu', 'cuda' or 'auto', got {backend!r}")
            cls = _CLASSES[backend]
        return super().__new__(cls)

    def __init__(self, model, backend: str | None = None, generated=None, check_parameters: bool = True):
        if backend is not None and backend != self.backend:
            raise InputError(f"{type(self).__name__} runs backend={self.backend!r}, not {backend!r}; "
                             f"Kernels(model, backend={backend!r}) constructs that backend's class")
        self.generated = generated  # the generated-code directory (None: the model's default)
        package, self.manifest = import_generated(model, generated)
        self.device_module = package.device
        # the model as the generated code describes it; k.model: the Model given, else this
        self.data = GeneratedModel(model, self.manifest, package.model_data)
        self.model = self.data if isinstance(model, ModelFile) else model
        self.module = load_launchers(self.device_module, self.manifest, self.launchers)
        self.checks_parameters = check_parameters
        self._checked_p = None
        d = self.data
        self.nq, self.nv, self.n_contacts, self.n_parameters = d.nq, d.nv, d.n_contacts, d.n_parameters
        self.coordinates, self.velocities, self.parameter_names = d.coordinates, d.velocities, d.parameter_names
        self.argument_shapes = {a: tuple(s) for a, s in self.manifest["arguments"].items()}
        self.space = ConfigurationSpace.of(d)  # q's layout: integrate, difference, the quaternion check

    # --- configurations (models with quaternion joints: symgait.runtime.manifold) -------------------
    def neutral(self):
        """The configuration at rest (nq,): zeros, unit quaternions."""
        return self.space.neutral()

    def integrate(self, q, v, dt: float = 1.0):
        """q ⊕ v dt (Pinocchio's ``integrate``; q + v dt for one-coordinate joints)."""
        return self.space.integrate(q, v, dt)

    def difference(self, q0, q1):
        """The velocity v (nv) with q0 ⊕ v = q1 (Pinocchio's ``difference``)."""
        return self.space.difference(q0, q1)

    def parameters(self, height: float | None = None, mass: float | None = None, **overrides):
        """The model's parameter vector for a subject (:meth:`symgait.Model.parameters`)."""
        return self.data.parameters(height, mass, **overrides)

    def check_parameters(self, p) -> None:
        """Raise :class:`InputError` if ``p`` is non-physical (:meth:`symgait.Model.check_parameters`)."""
        self.data.check_parameters(p)

    def check_p(self, p):
        """Refuse non-physical parameters (every row of a per-sample ``p``) unless the kernels were
        built with ``check_parameters=False``; the last checked ``p`` is remembered."""
        if self.checks_parameters:
            key = p.tobytes()
            if key != self._checked_p:
                self.data.check_parameters(p)
                self._checked_p = key

    def signature(self, name: str) -> dict:
        """The manifest's entry of kernel ``name`` (inputs, outputs, results, work size)."""
        sig = self.manifest["kernels"].get(name)
        if sig is None or name not in self.manifest.get("operations", {}):
            raise StaleKernelsError(f"the generated kernels of model {self.model.name!r} have no {name!r} (generated "
                                    f"by an older symgait); run `symgait generate {self.model.name}`")
        return sig

    @abc.abstractmethod
    def launch(self, name: str, args: dict, out_shapes: dict) -> dict:
        """Run kernel ``name`` of the manifest on this backend: ``args`` by input name (the kernel
        table's ``inputs``), ``out_shapes`` the per-sample shape of each output wanted, by output
        name -> {output name: array of shape (B,) + its shape}."""

    # --- public kernels ----------------------------------------------------------------------
    def _results(self, name: str, args: dict) -> dict:
        """Run kernel ``name``: {result key: array of the table's shape}."""
        sig = self.signature(name)
        results = sig["results"]  # output name -> [key, per-sample shape]
        r = self.launch(name, {a: args[a] for a, _ in sig["inputs"]},
                        {o: tuple(shape) for o, (_, shape) in results.items()})
        return {key: r[o] for o, (key, _) in results.items()}

    def _derivatives(self, name: str, args: dict, parameters: bool = True) -> Results:
        out = self._results(name, args)
        sig = self.signature(name)
        for key, (kernel, src) in sig.get("extra_results", {}).items():
            if parameters or not key.endswith("_dp"):
                out[key] = self._results(kernel, args)[src]
        return Results(out, sig.get("aliases", {}))

    def mass_matrix(self, q, p):
        return self._results("mass_matrix", {"q": q, "p": p})["M"]

    def inverse_dynamics(self, q, qd, qdd, w, p):
        return self._results("inverse_dynamics", dict(q=q, qd=qd, qdd=qdd, w=w, p=p))["tau"]

    def root_residual(self, q, qd, qdd, w, p):
        return self._results("root_residual", dict(q=q, qd=qd, qdd=qdd, w=w, p=p))["res"]

    def forward_dynamics(self, q, qd, tau, w, p):
        return self._results("forward_dynamics", dict(q=q, qd=qd, tau=tau, w=w, p=p))["qdd"]

    def inverse_dynamics_derivatives(self, q, qd, qdd, w, p, parameters: bool = True) -> Results:
        """{'tau': ID, 'dtau_dq', 'dtau_dqd', 'dtau_dqdd' (= M): (B,n,n), 'dtau_dw': (B,n,nc,6),
        'dtau_dp': (B,n,n_p)}. ``parameters=False`` leaves out 'dtau_dp' (its kernel,
        ``inverse_dynamics_parameter_derivatives``, is then not compiled)."""
        return self._derivatives("inverse_dynamics_derivatives", dict(q=q, qd=qd, qdd=qdd, w=w, p=p), parameters)

    def forward_dynamics_derivatives(self, q, qd, tau, w, p, parameters: bool = True) -> Results:
        """{'qdd': FD, 'dqdd_dq', 'dqdd_dqd', 'dqdd_dtau' (= M^-1): (B,n,n), 'dqdd_dw': (B,n,nc,6),
        'dqdd_dp': (B,n,n_p)}. ``parameters=False`` leaves out 'dqdd_dp' (its kernel,
        ``forward_dynamics_parameter_derivatives``, is then not compiled)."""
        return self._derivatives("forward_dynamics_derivatives", dict(q=q, qd=qd, tau=tau, w=w, p=p), parameters)

    def inverse_dynamics_vjp(self, q, qd, qdd, w, p, mu) -> Results:
        """mu^T dID/d(q, qd, qdd, w, p) without forming Jacobians: 'grad_q', 'grad_qd', 'grad_qdd',
        'grad_w', 'grad_p'."""
        return self._derivatives("inverse_dynamics_vjp", dict(q=q, qd=qd, qdd=qdd, w=w, p=p, mu=mu))

    def root_residual_vjp(self, q, qd, qdd, w, p, nu) -> Results:
        """nu^T d res/d(q, qd, qdd, w, p) for the root residual (nu: (B, 6)); keyed like
        :meth:`inverse_dynamics_vjp`."""
        return self._derivatives("root_residual_vjp", dict(q=q, qd=qd, qdd=qdd, w=w, p=p, nu=nu))

    def forward_dynamics_vjp(self, q, qd, tau, w, p, g) -> Results:
        """g^T dqdd/d(q, qd, tau, w, p) without forming Jacobians ('grad_q', 'grad_qd', 'grad_tau',
        'grad_w', 'grad_p'); also 'qdd'."""
        return self._derivatives("forward_dynamics_vjp", dict(q=q, qd=qd, tau=tau, w=w, p=p, g=g))

    def points(self, q, p):
        return self._results("points", {"q": q, "p": p})["points"]

    def point_jacobians(self, q, p):
        return self._results("point_jacobians", {"q": q, "p": p})["point_jacobians"]

    def contact_points(self, q, p):
        return self._results("contact_points", {"q": q, "p": p})["contact_points"]

    def contact_jacobians(self, q, p):
        """(B, n_contacts, 6, nq): world linear velocity of the contact origin, then angular velocity."""
        return self._results("contact_jacobians", {"q": q, "p": p})["contact_jacobians"]


def kernels(model, backend: str = "cpu", generated=None, check_parameters: bool = True) -> Kernels:
    """Batched kernels of ``model`` on ``backend``: a :class:`symgait.Model`, or a name / path. A
    built-in model's name is read from its generated code alone (no model file parsed, no SymPy);
    any other file is loaded with :func:`symgait.load_model`."""
    if isinstance(model, str) and model in BUILTIN_MODELS and resolve_model_path(model) == builtin_model_path(model):
        model = builtin_model_file(model)
    elif not hasattr(model, "source_hash"):
        from ..model import load_model  # SymPy: parses the model file
        model = load_model(model)
    return Kernels(model, backend, generated, check_parameters)
