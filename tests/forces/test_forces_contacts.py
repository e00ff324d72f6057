"""Contact wrenches in the model convention (both directions) and contact labels, on the shared
real files (OpenSim plates + ExternalLoads, C3D plates)."""
import numpy as np

from symgait.forces.contacts import (foot_point_indices, labels_from_force, labels_from_kinematics, reactions_from_external_loads, reactions_from_mot, wrench_to_cop_form, wrenches_to_reactions)
from symgait.markers.ik import retarget
from symgait.markers.sources import load_source
from symgait.trials.pipeline import process_trial
from symgait.forces.wrench import cop_to_wrench

G = "opensim/gait2354_subject01_walk1/"


def test_wrench_round_trips():
    rng = np.random.default_rng(0)
    T, nc = 7, 2
    F = rng.normal(0, 50, (T, nc, 3))
    F[..., 1] = np.abs(F[..., 1]) + 300
    cop = rng.normal(0, 0.5, (T, nc, 3))
    cop[..., 1] = 0.0
    tz = rng.normal(0, 3, (T, nc))
    o = rng.normal(0, 0.5, (T, nc, 3))
    w = cop_to_wrench(F, cop, tz, o)                                  # about the foot origins
    r = wrenches_to_reactions(w, o, np.arange(T) / 100, ("foot_r", "foot_l"))
    assert np.allclose(r.wrenches(o), w)                              # origin -> point -> back
    F2, cop2, tz2 = wrench_to_cop_form(w, o)
    assert np.allclose(F2, F) and np.allclose(cop2, cop) and np.allclose(tz2, tz)
    F3, cop3, tz3 = r.cop()
    assert np.allclose(cop3, cop) and np.allclose(tz3, tz)


def test_external_loads_mapping_and_labels(data, kern):
    m, k = kern("gait3d")
    r = reactions_from_external_loads(m, data(G + "subject01_walk1_grf.xml"))
    assert r.contacts == ("foot_r", "foot_l")
    # a stride of walking: mean total vertical force ~ body weight (72.6 kg)
    assert abs(r.force[..., 1].sum(1).mean() / (72.6 * 9.80665) - 1) < 0.08
    # the .mot alone finds the XML that names it
    r2 = reactions_from_mot(m, data(G + "subject01_walk1_grf.mot"))
    assert np.allclose(r2.force, r.force) and np.allclose(r2.moment, r.moment)
    # model wrenches at the fitted pose; labels from force vs from kinematics
    src = load_source(data(G + "subject01_walk1.trc"))
    ik, p, _ = retarget(m, k, src, height=1.803, mass=72.6)
    rr = r.resampled(ik.time)
    w = rr.wrenches(k.contact_points(ik.q, p))
    assert w.shape == (ik.q.shape[0], 2, 6)
    lf = labels_from_force(w, 20.0)
    lk, det = labels_from_kinematics(k.points(ik.q, p), ik.rate, foot_point_indices(m))
    assert np.linalg.norm(det["ground_velocity"]) > 0.5             # treadmill detected
    assert (lk == lf).mean() > 0.95
    # both directions at the fitted pose: back to the plate's COP (on the floor, y = 0)
    F, cop, tz = wrench_to_cop_form(w, k.contact_points(ik.q, p), min_vertical_force=100)
    P0 = rr.cop(min_vertical_force=100)[1]
    ok = np.isfinite(cop) & np.isfinite(P0)
    assert np.allclose(cop[ok], P0[ok], atol=1e-9)


def test_c3d_plates_assigned_to_feet(data, kern):
    m, k = kern("gait3d")
    tr = process_trial(m, k, data("c3d_org/Walk1.c3d"), height=1.75, mass=88.0)
    s = tr.sequence
    assert s.label_kind == "measured"
    assert any("cropped" in n for n in tr.notes)
    # left foot strikes plate 1, then the right foot plate 2 (one foot per plate strike)
    first = np.argmax(s.contact.any(1))
    assert s.contact[first, 1] and not s.contact[first, 0]
    assert s.contact[-1, 0]
    # measured wrenches: the vertical residual is a few % of body weight per kg
    ty = s.coordinates.index("pelvis_ty")
    assert np.sqrt(np.mean((s.tau[:, ty] / s.mass) ** 2)) < 2.5
