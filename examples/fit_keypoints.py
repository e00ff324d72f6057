"""Fit gait3d's coordinates q to 3-D keypoints by gradient descent through the forward-kinematics layer.

Default (no downloads): keypoints of every named point of gait3d at known random poses, plus
Gaussian noise; the fit starts from the standing pose placed at the keypoints' centroid and runs
L-BFGS on the mean squared keypoint error. Prints the keypoint RMS before and after and the error
of the recovered q.

``--cmu AMC``: joint centres of a CMU motion (``../shared/data/cmu/subject08/08_01.amc``, its ``.asf``
beside it) instead: hips, knees, ankles and toe bases (bone ends of the ASF skeleton, rotated into
OpenSim's frame), the model scaled to the subject's thigh length, a small pull of the unobserved
rotations towards 0.

    python examples/fit_keypoints.py [--frames 8] [--noise 0.005] [--cmu AMC]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

import symgait
from symgait.layers import ForwardKinematics

ROOT_TRANSLATIONS = ("pelvis_tx", "pelvis_ty", "pelvis_tz")
# gait3d point <- CMU bone whose end is that joint centre
CMU_POINTS = {"hip_r_center": "rhipjoint", "knee_r_center": "rfemur", "ankle_r_center": "rtibia",
              "mtp_r_center": "rfoot", "hip_l_center": "lhipjoint", "knee_l_center": "lfemur",
              "ankle_l_center": "ltibia", "mtp_l_center": "lfoot"}


def synthetic_keypoints(fk: ForwardKinematics, frames: int, noise: float, seed: int = 0):
    """(q_true (B, nq), keypoints (B, n_points, 3)): random poses (angles within ±0.5 rad, the pelvis
    about 1 m up) and their points plus N(0, noise²) per coordinate (m)."""
    m = fk.model
    g = torch.Generator().manual_seed(seed)
    q = 0.5 * (2 * torch.rand(frames, m.nq, generator=g, dtype=torch.float64) - 1)
    tx, ty, tz = (m.coordinates.index(c) for c in ROOT_TRANSLATIONS)
    q[:, ty] += 1.0
    q[:, [tx, tz]] *= 2.0
    x = fk(q)
    return q, x + noise * torch.randn(x.shape, generator=g, dtype=torch.float64)


def initial_guess(fk: ForwardKinematics, keypoints, p=None):
    """The standing pose (q = 0) moved so that its points' centroid is the keypoints' centroid."""
    m = fk.model
    q0 = torch.zeros(keypoints.shape[0], m.nq, dtype=keypoints.dtype)
    shift = keypoints.mean(1) - fk(q0, p=p).mean(1)
    for k, c in enumerate(ROOT_TRANSLATIONS):
        q0[:, m.coordinates.index(c)] = shift[:, k]
    return q0


def fit_keypoints(fk: ForwardKinematics, keypoints, q0, *, p=None, iterations: int = 1000,
                  prior_weight: float = 0.0):
    """q minimizing, per frame, the mean |fk(q) - keypoints|² (+ prior_weight · mean of the non-root
    coordinates², which holds coordinates no keypoint sees near 0), summed over the frames (they are
    independent), by L-BFGS (strong Wolfe line search) through the
    layer. Returns (q (B, nq), keypoint RMS (m) at the start and at the end)."""
    m = fk.model
    free = torch.ones(m.nq, dtype=keypoints.dtype)
    for c in m.spec.bodies[0].coordinates:
        free[m.coordinates.index(c)] = 0.0
    q = q0.detach().clone().requires_grad_()
    opt = torch.optim.LBFGS([q], lr=1.0, max_iter=iterations, tolerance_grad=1e-12, tolerance_change=1e-15,
                            history_size=50, line_search_fn="strong_wolfe")

    def loss_fn():
        opt.zero_grad()
        r = fk(q, p=p) - keypoints
        loss = (r * r).sum(-1).mean(-1).sum() + prior_weight * ((q * free) ** 2).mean(-1).sum()
        loss.backward()
        return loss

    def rms():
        with torch.no_grad():
            return float(((fk(q, p=p) - keypoints) ** 2).sum(-1).mean().sqrt())
    before = rms()
    opt.step(loss_fn)
    return q.detach(), before, rms()


def cmu_keypoints(amc: Path, frames: int):
    """(keypoints (B, 8, 3) in OpenSim's frame, point names, thigh length (m)) of ``frames`` frames
    spread over a CMU motion."""
    from symgait.io.asf_amc import asf_to_opensim, forward_kinematics, read_amc, read_asf
    asf = amc.parent / (amc.name.split("_")[0] + ".asf")
    skel = read_asf(asf)
    kin = forward_kinematics(skel, read_amc(amc, skel))
    pos, _ = asf_to_opensim(kin.positions)
    rows = np.linspace(0, len(pos) - 1, frames).round().astype(int)
    names = list(CMU_POINTS)
    x = np.stack([pos[rows, kin.index(CMU_POINTS[n])] for n in names], 1)
    thigh = np.linalg.norm(pos[:, kin.index("rfemur")] - pos[:, kin.index("rhipjoint")], axis=1).mean()
    return torch.from_numpy(np.ascontiguousarray(x)), names, float(thigh)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--noise", type=float, default=0.005, help="keypoint noise (m, standard deviation)")
    ap.add_argument("--iterations", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cmu", type=Path, help="a CMU .amc motion (its .asf beside it) instead of synthetic keypoints")
    a = ap.parse_args(argv)
    m = symgait.load_model("gait3d")
    t0 = time.perf_counter()
    if a.cmu is None:
        fk = ForwardKinematics(m)
        q_true, x = synthetic_keypoints(fk, a.frames, a.noise, a.seed)
        q, before, after = fit_keypoints(fk, x, initial_guess(fk, x), iterations=a.iterations)
        err = (q - q_true).abs()
        print(f"{a.frames} frames, {len(fk.points)} keypoints, noise {a.noise * 1000:g} mm")
        print(f"keypoint RMS: {before * 1000:.2f} mm before, {after * 1000:.3f} mm after")
        print(f"q error: max {err.max():.2e} (rad or m), RMS {err.pow(2).mean().sqrt():.2e}")
    else:
        x, names, thigh = cmu_keypoints(a.cmu, a.frames)
        height = thigh / 0.2425  # de Leva: thigh length / height (docs/model_format.md)
        p = m.parameters(height=height)
        fk = ForwardKinematics(m, points=names)
        q, before, after = fit_keypoints(fk, x, initial_guess(fk, x, p), p=p, iterations=a.iterations,
                                         prior_weight=1e-4)
        print(f"{a.cmu.name}: {a.frames} frames, {len(names)} joint centres, model height {height:.2f} m")
        print(f"keypoint RMS: {before * 1000:.1f} mm before, {after * 1000:.1f} mm after")
    print(f"({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
