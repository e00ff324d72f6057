"""Shared test helpers (importable as ``symgait_testing`` from any test directory: pytest puts
tests/ on sys.path when it loads tests/conftest.py)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import symgait
from symgait.codegen import generate
from symgait.paths import default_data_dir

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATA = default_data_dir()  # ../shared/data beside the repository, or $SYMGAIT_DATA
TEST_MODELS = HERE / "models"
BUILTIN = ["planar", "gait3d", "fullbody"]
MODEL_NAMES = set(BUILTIN) | {p.stem for p in TEST_MODELS.glob("*.yaml")}

_CACHE = {}


def data_file(rel: str = "") -> Path:
    """Path of a file (or, with no argument, the folder) of the shared public data; skips the
    test with the reason when it is absent."""
    p = DATA / rel
    if not p.exists():
        pytest.skip(f"shared data {rel or 'folder'} not found under {DATA} "
                    "(the public data set is not part of the repository; set SYMGAIT_DATA to its folder)")
    return p


def model_and_kernels(name: str, gen_root: Path):
    """(Model, Kernels) for a built-in name or a tests/models/<name>.yaml test model."""
    if name not in _CACHE:
        if name in BUILTIN:
            m = symgait.load_model(name)
            k = symgait.kernels(m)
        else:
            path = TEST_MODELS / f"{name}.yaml"
            out = Path(gen_root) / name
            generate(path, out=out, log=lambda *a: None)
            m = symgait.load_model(path)
            k = symgait.kernels(m, generated=out)
        _CACHE[name] = (m, k)
    return _CACHE[name]


def random_state(model, batch, seed=0, scale=0.6):
    """(q, qd, qdd, tau, w) at random: q (B, nq) with unit quaternions uniform on the rotations, the
    others (B, nv) and (B, nc, 6)."""
    rng = np.random.default_rng(seed)
    n, nc = model.nv, model.n_contacts
    q = rng.uniform(-scale, scale, (batch, model.nq))
    qd = rng.uniform(-1.5, 1.5, (batch, n))
    qdd = rng.uniform(-3.0, 3.0, (batch, n))
    tau = rng.uniform(-20.0, 20.0, (batch, n))
    w = rng.normal(0.0, 40.0, (batch, nc, 6))
    for _, kind, qi, _ in model.quaternion_joints:
        a = qi + (3 if kind == "free_flyer" else 0)
        quat = rng.normal(size=(batch, 4))
        q[:, a: a + 4] = quat / np.linalg.norm(quat, axis=1, keepdims=True)
    return q, qd, qdd, tau, w


def central(f, x, eps=1e-6):
    """d f / d x by central differences: f maps (B, k) -> (B, ...); returns (B, ..., k)."""
    cols = []
    for j in range(x.shape[1]):
        dx = np.zeros_like(x)
        dx[:, j] = eps
        cols.append((f(x + dx) - f(x - dx)) / (2 * eps))
    return np.stack(cols, axis=-1)


def tangent_central(k, f, q, n, eps=1e-6):
    """d f / d q in the tangent space by central differences, (f(q ⊕ eps e_j) - f(q ⊕ -eps e_j)) / (2 eps)
    for j < n (``k.integrate``: the configuration space's q ⊕ δ)."""
    cols = []
    for j in range(n):
        d = np.zeros((q.shape[0], n))
        d[:, j] = eps
        cols.append((f(k.integrate(q, d)) - f(k.integrate(q, -d))) / (2 * eps))
    return np.stack(cols, axis=-1)


def close(a, b, tol=2e-6):
    """|a - b| within ``tol`` of max(1, |b|)."""
    scale = max(1.0, np.abs(b).max())
    assert np.abs(a - b).max() / scale < tol, np.abs(a - b).max() / scale


def rel_err(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(np.abs(a - b).max() / max(1.0, np.abs(b).max()))


def example_robot_file(rel: str) -> Path:
    """A file of the pip package example-robot-data (its robots/ folder); skips where it is absent."""
    import importlib.metadata
    try:
        files = importlib.metadata.files("example-robot-data") or []
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("example-robot-data is not installed (`pip install example-robot-data`)")
    for f in files:
        if str(f).endswith("share/example-robot-data/robots/" + rel):
            return Path(f.locate())
    pytest.skip(f"example-robot-data has no robots/{rel}")


def joint_slices(model) -> list:
    """(joint name, q index, nq, v index, nv) of every moving joint of ``model`` (a one-coordinate
    joint is named like its coordinate; a quaternion joint by its own name)."""
    return [(f.name, f.coordinate, f.motion.nq, f.velocity, f.motion.nv) for f in model.spec.frames
            if f.motion.has_coordinate]


class PinMatch:
    """A Pinocchio model beside ours, vectors and matrices matched by joint name: ``P[i]`` is the
    Pinocchio index of our velocity entry i, ``Pq[i]`` of our configuration entry i (Pinocchio joints
    named like our joints: a one-coordinate joint like its coordinate)."""

    def __init__(self, pin, pin_model, model):
        self.pin, self.m = pin, pin_model
        self.m.gravity.linear = np.array(model.gravity)
        self.data = pin_model.createData()
        assert (pin_model.nq, pin_model.nv) == (model.nq, model.nv), "one Pinocchio joint per joint"
        names = [pin_model.names[i] for i in range(1, pin_model.njoints)]
        joints = joint_slices(model)
        assert sorted(names) == sorted(j[0] for j in joints)
        self.Pq, self.P = np.zeros(model.nq, int), np.zeros(model.nv, int)
        for name, qi, nq, vi, nv in joints:
            j = pin_model.joints[pin_model.getJointId(name)]
            assert (j.nq, j.nv) == (nq, nv), name
            self.Pq[qi: qi + nq] = np.arange(j.idx_q, j.idx_q + nq)
            self.P[vi: vi + nv] = np.arange(j.idx_v, j.idx_v + nv)

    def q_in(self, x):
        """Our configuration -> Pinocchio's."""
        out = np.empty_like(x)
        out[self.Pq] = x
        return out

    def vec_in(self, x):
        """Our velocity-like vector (v, a, tau) -> Pinocchio's."""
        out = np.empty_like(x)
        out[self.P] = x
        return out

    def mat(self, a, sym=False):
        a = np.asarray(a)
        if sym:
            a = np.triu(a) + np.triu(a, 1).T
        return a[np.ix_(self.P, self.P)]


def assert_dynamics_match_pinocchio(model, kern, pm: PinMatch, n_states: int, seed: int, tol: float):
    """M, ID, FD, dID/dq, dID/dq̇, dFD/dq, dFD/dq̇, dFD/dτ of our kernels against Pinocchio (no contacts)."""
    pin = pm.pin
    q, qd, qdd, tau, _ = random_state(model, n_states, seed=seed)
    p = model.parameters()
    w = np.zeros((n_states, model.n_contacts, 6))
    M = kern.mass_matrix(q, p)
    di = kern.inverse_dynamics_derivatives(q, qd, qdd, w, p)
    df = kern.forward_dynamics_derivatives(q, qd, tau, w, p)
    for b in range(n_states):
        x = pm.q_in(q[b])
        v, a, t = (pm.vec_in(y[b]) for y in (qd, qdd, tau))
        assert rel_err(M[b], pm.mat(pin.crba(pm.m, pm.data, x), sym=True)) < tol
        assert rel_err(di["tau"][b], pin.rnea(pm.m, pm.data, x, v, a)[pm.P]) < tol
        dq, dv, _ = pin.computeRNEADerivatives(pm.m, pm.data, x, v, a)
        assert rel_err(di["dtau_dq"][b], pm.mat(dq)) < tol
        assert rel_err(di["dtau_dqd"][b], pm.mat(dv)) < tol
        pin.computeABADerivatives(pm.m, pm.data, x, v, t)
        assert rel_err(df["qdd"][b], pm.data.ddq[pm.P]) < tol
        assert rel_err(df["dqdd_dq"][b], pm.mat(pm.data.ddq_dq)) < tol
        assert rel_err(df["dqdd_dqd"][b], pm.mat(pm.data.ddq_dv)) < tol
        assert rel_err(df["dqdd_dtau"][b], pm.mat(pm.data.Minv, sym=True)) < tol


def assert_points_match_pinocchio(model, kern, pm: PinMatch, q, tol: float):
    """Our named points and their Jacobians at the configurations ``q`` against the Pinocchio frames of
    the same names (positions, LOCAL_WORLD_ALIGNED linear Jacobians)."""
    pin = pm.pin
    X, J = kern.points(q, model.parameters()), kern.point_jacobians(q, model.parameters())
    for b in range(len(q)):
        pin.computeJointJacobians(pm.m, pm.data, pm.q_in(q[b]))
        pin.updateFramePlacements(pm.m, pm.data)
        for i, name in enumerate(model.points):
            fid = pm.m.getFrameId(name)
            assert rel_err(X[b, i], pm.data.oMf[fid].translation) < tol
            Jp = pin.getFrameJacobian(pm.m, pm.data, fid, pin.LOCAL_WORLD_ALIGNED)[:3]
            assert rel_err(J[b, i], Jp[:, pm.P]) < tol


def pinocchio_from_spec(pin, model, p):
    """A Pinocchio model built joint by joint from ``model``'s frames at parameters ``p`` (revolute and
    prismatic joints about their axes, ``JointModelSpherical``, ``JointModelFreeFlyer``; fixed frames
    folded into the placements, bodies appended to their joints), joints named as in
    :func:`joint_slices`: the independent dynamics of a model that URDF cannot describe."""
    import sympy as sp
    spec = model.spec
    env = dict(zip(spec.parameter_symbols, [float(v) for v in p]))
    num = lambda e: float(sp.sympify(e).subs(env))  # noqa: E731
    joint_models = {"revolute": lambda f: pin.JointModelRevoluteUnaligned(np.array(f.axis, float)),
                    "prismatic": lambda f: pin.JointModelPrismaticUnaligned(np.array(f.axis, float)),
                    "spherical": lambda f: pin.JointModelSpherical(),
                    "free_flyer": lambda f: pin.JointModelFreeFlyer()}
    pm = pin.Model()
    pm.gravity.linear = np.array(model.gravity)
    where = {}  # frame -> (Pinocchio joint id, placement of the frame in that joint's frame)
    for f in spec.frames:
        jid, rel = (0, pin.SE3.Identity()) if f.parent < 0 else where[f.parent]
        place = rel * pin.SE3(np.array(f.rotation, float), np.array([num(o) for o in f.offset]))
        if f.motion.has_coordinate:
            jid = pm.addJoint(jid, joint_models[f.motion.name](f), place, f.name)
            place = pin.SE3.Identity()
        where[f.index] = (jid, place)
        if f.body is not None:
            b = spec.bodies[f.body]
            ixx, iyy, izz, ixy, ixz, iyz = (num(x) for x in b.inertia)
            Ic = np.array([[ixx, ixy, ixz], [ixy, iyy, iyz], [ixz, iyz, izz]])
            R = place.rotation
            pm.appendBodyToJoint(jid, pin.Inertia(num(b.mass), place.act(np.array([num(c) for c in b.com])),
                                                  R @ Ic @ R.T), pin.SE3.Identity())
    return pm


def assert_refused(path, text: str, words) -> str:
    """Write ``text`` to ``path``, load it as a model and assert a ModelError naming the file and every
    one of ``words``; returns the message."""
    import pytest
    path.write_text(text)
    with pytest.raises(symgait.ModelError) as e:
        symgait.load_model(path)
    msg = str(e.value)
    assert str(path) in msg
    for w in words:
        assert w in msg, msg
    return msg


def subprocess_env(**extra) -> dict:
    """The environment of a test's child process: one Numba and one OpenMP thread (the 2-core machine
    runs two test workers), this checkout first on the path, and ``extra`` variables."""
    import os
    env = dict(os.environ, NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1", **extra)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def default_sigint():
    """``preexec_fn`` of a child that a test interrupts: SIGINT's default disposition, as in a shell. A
    process started by a pytest-xdist worker inherits SIGINT ignored, and Python then installs no handler."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_DFL)
