"""Joint torques on each lab's own model (symgait.datasets.lab_reference, training.lab_torques),
checked against OpenSim itself on the OpenSim example trial subject01_walk1: the reference path
against OpenSim's InverseDynamicsTool configured by the lab's own setup file, and the table's row
of gait3d's inverse dynamics against a direct computation. The plate-to-foot assignment and the
lab-to-ground transform are checked on constructed plates and markers with known answers."""
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from scipy.interpolate import CubicSpline

from symgait.datasets.lab_reference import (assign_to_feet, lab_files, lab_to_ground, reference, scored_frames)
from symgait.errors import InputError
from symgait.forces.contacts import Plates
from symgait.io import read_sto

G = "opensim/gait2354_subject01_walk1/"
SCORED = ("hip_flexion", "knee_angle", "ankle_angle", "hip_adduction", "hip_rotation", "subtalar_angle")


def _row(data):
    d = data(G).resolve()
    return dict(name="subject01_walk1", source="opensim", subject="opensim:subject01", activity="walking",
                files=dict(motion=str(d / "subject01_walk1.trc"), forces=str(d / "subject01_walk1_grf.mot"),
                           external_loads=str(d / "subject01_walk1_grf.xml")))


def _opensim_from_setup(osim, setup: Path, out_dir: Path) -> Path:
    """OpenSim's InverseDynamicsTool as the lab's setup file configures it (model, coordinates,
    external loads, time range, 6 Hz, muscles excluded), its relative file names taken from the
    setup's folder and the results written to ``out_dir``."""
    tool = osim.InverseDynamicsTool(str(setup))
    base = setup.parent
    model = osim.Model(str(base / tool.getModelFileName().strip()))
    tool.setModel(model)
    tool.setCoordinatesFileName(str(base / tool.getCoordinatesFileName().strip()))
    tool.setExternalLoadsFileName(str(base / tool.getExternalLoadsFileName().strip()))
    tool.setResultsDir(str(out_dir))
    tool.setOutputGenForceFileName("id.sto")
    assert tool.run()
    del tool, model
    return out_dir / "id.sto"


@pytest.fixture(scope="module")
def subject01(data, tmp_path_factory):
    osim = pytest.importorskip("opensim", reason="OpenSim's Python package is not installed")
    tmp = tmp_path_factory.mktemp("labref")
    files, why = lab_files(_row(data), data().resolve())
    assert files is not None, why
    ref = reference(files, cache_dir=tmp / "cache", log=lambda *a: None)
    oracle = read_sto(_opensim_from_setup(osim, data(G + "subject01_Setup_InverseDynamics.xml").resolve(),
                                          tmp / "opensim"))
    return ref, oracle, files, tmp


def test_reference_is_opensims_inverse_dynamics(subject01):
    """Every scored coordinate (and the residual forces) within 1 % of the range of OpenSim's curve
    at every frame, against the tool run from the lab's own setup file."""
    ref, oracle, _, _ = subject01
    assert ref.time.size == oracle.time.size == 73
    np.testing.assert_allclose(ref.time, oracle.time, atol=1e-5)
    worst = {}
    for c in [f"{s}_{side}" for s in SCORED for side in "rl"] + ["pelvis_tx", "pelvis_ty", "pelvis_tz"]:
        col = f"{c}_force" if c.startswith("pelvis_t") else f"{c}_moment"
        r = oracle.column(col)
        worst[c] = 100 * float(np.abs(ref.column(c) - r).max() / np.ptp(r))
    name = max(worst, key=worst.get)
    print(f"worst {worst[name]:.5f} % of range ({name})")
    assert worst[name] < 1.0, (name, worst[name])
    np.testing.assert_allclose(ref.residual[:, 1], oracle.column("pelvis_ty_force"), atol=1e-3 * np.ptp(
        oracle.column("pelvis_ty_force")))
    assert abs(ref.mass - 72.6) < 0.05 and ref.complete.all() and ref.heading_deg < 15


def test_reference_cache(subject01):
    """A second call reads the cached result (same key, same numbers) without running OpenSim."""
    ref, _, files, tmp = subject01
    again = reference(files, cache_dir=tmp / "cache", log=lambda *a: None)
    assert again.key == ref.key
    np.testing.assert_array_equal(again.tau, ref.tau)
    assert len(list((tmp / "cache" / "lab_reference").glob("*.npz"))) == 1


def test_gait3d_row_equals_direct_computation(subject01, data, kern):
    """The table's row *gait3d ID (labels)* for subject01 equals a direct computation: gait3d's
    inverse dynamics with the measured plates on the trial's frames within the reference, against
    OpenSim's curve (the setup-file run) interpolated there, per kg, both sides pooled. The signs
    measured between gait2354's and gait3d's coordinates are all +1 (gait3d keeps gait2354's)."""
    from symgait.trials.pipeline import process_trial
    from training.lab_torques import LABELS, lag_frames, pool, sign_evidence, signs, trial_errors
    ref, oracle, _, _ = subject01
    m, k = kern("gait3d")
    seq = process_trial(m, k, data(G + "subject01_walk1.trc"), height=1.803, mass=72.6,
                        forces=data(G + "subject01_walk1_grf.mot"),
                        external_loads=data(G + "subject01_walk1_grf.xml")).sequence
    idx = scored_frames(ref, seq.time)
    assert idx.size == 61 and lag_frames(ref, seq) == 0      # 0.5-1.5 s: 0.4-1.6 s less 1/12 s at each end
    jt = np.asarray(seq.JT, float)
    sgn = signs([sign_evidence(ref, seq, idx, jt[idx])])
    assert set(sgn) == set(SCORED) and all(v[0] == 1 for v in sgn.values()), sgn
    assert all(sgn[c][1] > 0.9 and sgn[c][2] == "angle" for c in SCORED[:3]), sgn
    assert sgn["subtalar_angle"][2] == "torque"      # gait2354's IK holds the subtalar joint at 0
    table = pool([trial_errors(ref, seq, {LABELS: jt}, idx, sgn)])[LABELS]
    # direct: gait3d's inverse dynamics here, OpenSim's curve there
    p = np.broadcast_to(np.asarray(seq.p, float), (len(seq), len(seq.p))).copy()
    tau = np.asarray(k.inverse_dynamics(seq.q, seq.qd, seq.qdd, seq.w, p))
    t = seq.time[idx]
    for c in SCORED:
        err, rng = [], []
        for s in "rl":
            r = CubicSpline(oracle.time, oracle.column(f"{c}_{s}_moment"))(t) / seq.mass
            err.append(tau[idx, list(seq.coordinates).index(f"{c}_{s}")] / seq.mass - r)
            rng.append(np.ptp(r))
        rmse = float(np.sqrt(np.mean(np.concatenate(err) ** 2)))
        assert table[c]["rmse"] == pytest.approx(rmse, rel=1e-3, abs=1e-5), c
        assert table[c]["percent"] == pytest.approx(100 * rmse / np.mean(rng), rel=1e-3, abs=1e-3), c
    # gait3d (de Leva) against the subject's OpenSim model: sagittal moments within 15 % of range
    for c in SCORED[:3]:
        assert table[c]["percent"] < 15.0, (c, table[c])


def test_assign_to_feet_known_plates():
    """Two plates, each loaded under one foot for a while: each run goes whole to its foot, the
    two under one foot add up, a run far from both is left out and marked."""
    T = 50
    t = np.arange(T) / 100.0
    heel = {"r": np.array([1.0, 0.05, 0.1]), "l": np.array([0.5, 0.05, -0.1])}
    feet = {s: np.stack([np.tile(h, (T, 1)), np.tile(h + [0.2, 0, 0], (T, 1))], 1) for s, h in heel.items()}
    F = np.zeros((T, 3, 3))
    F[10:30, 0] = [10.0, 600.0, 5.0]            # plate 0 under the right foot
    F[5:40, 1] = [-20.0, 400.0, 0.0]            # plate 1 under the left foot
    F[40:45, 2] = [0.0, 300.0, 0.0]             # plate 2: 2 m away from both
    P = np.zeros((T, 3, 3))
    P[:, 0] = [1.1, 0.0, 0.12]
    P[:, 1] = [0.55, 0.0, -0.08]
    P[:, 2] = [3.0, 0.0, 0.0]
    M = np.cross(P, F)
    M[..., 1] += 2.0 * (F[..., 1] > 0)          # a free moment
    plates = Plates(time=t, names=("a", "b", "c"), force=F, moment=M)
    per_foot, dropped, notes = assign_to_feet(plates, feet)
    np.testing.assert_allclose(per_foot["r"][0], F[:, 0])
    np.testing.assert_allclose(per_foot["l"][1], M[:, 1])
    assert dropped[40:45].all() and not dropped[:40].any() and len(notes) == 1 and "c:" in notes[0]


def test_lab_to_ground_recovers_the_frame():
    """Markers given in a lab frame with Z up: the transform onto the same markers in a Y-up
    ground is the axis permutation, exactly (the markers' own placement noise aside)."""
    rng = np.random.default_rng(0)
    T, n = 20, 8
    ground = rng.normal(size=(T, n, 3)) + [0, 1, 0]
    R = np.array([[-1.0, 0, 0], [0, 0, 1.0], [0, 1.0, 0]])        # ground = R @ lab
    lab = (ground + rng.normal(scale=0.005, size=ground.shape)) @ R

    @dataclass
    class C3D:
        marker_labels: tuple
        markers: np.ndarray
        time: np.ndarray
        point_rate: float = 100.0
        path: str = "synthetic.c3d"
    names = [f"M{i}" for i in range(n)]
    poses = dict(time=np.arange(T) / 100.0, markers=ground, marker_names=names)
    Rf, origin, rms = lab_to_ground(poses, C3D(tuple(names), lab, np.arange(T) / 100.0))
    np.testing.assert_array_equal(Rf, R)
    assert np.allclose(origin, 0) and rms < 0.015
    with pytest.raises(InputError, match="fewer than 12"):
        lab_to_ground(dict(poses, marker_names=["X"] * n), C3D(tuple(names), lab, np.arange(T) / 100.0))


def test_lab_files_of_sources(data):
    """Which sources ship a model of the subject: the OpenSim running trial does not (its folder
    holds none), a c3d.org trial neither; a Schreiber trial maps to its scaled model and IK."""
    root = data().resolve()
    h = root / "opensim" / "hamner_subject02_running"
    none, why = lab_files(dict(name="subject02_running", source="opensim", files=dict(
        motion=str(h / "subject02_running.trc"))), root)
    assert none is None and "76.5 kg" in why
    assert lab_files(dict(name="Walk1", source="c3d_org", files=dict(motion="x.c3d")), root)[0] is None
    s = root / "schreiber2019_walking" / "2014001"
    if s.is_dir():
        f, why = lab_files(dict(name="2014001_C4_05", source="schreiber2019_walking", subject="s", files=dict(
            motion=str(s / "dynamic" / "2014001_C4_05.c3d"))), root)
        assert f.model.name == "2014001_scaledModelAdjusted.osim" and f.coordinates.name == "C4_05_ik.mot"
        assert f.forces_kind == "plates"


def test_schreiber_plates_in_the_models_ground(data, tmp_path):
    """A Schreiber & Moissenet (2019) walk, whose forces are the C3D's plates: the lab frame maps
    onto the model's ground by the axis permutation (X back, Z up → Y up), and Newton's law holds
    on the lab's model with the plates so placed and split: the root residual force is a small
    fraction of body weight (a wrong frame or foot would leave about 1 g)."""
    pytest.importorskip("opensim", reason="OpenSim's Python package is not installed")
    root = data().resolve()
    s = data("schreiber2019_walking/2014001/dynamic/2014001_C4_05.c3d").resolve()
    files, why = lab_files(dict(name="2014001_C4_05", source="schreiber2019_walking", subject="schreiber2019:2014001",
                                files=dict(motion=str(s))), root)
    assert files is not None, why
    ref = reference(files, cache_dir=tmp_path, log=lambda *a: None)
    assert any("rotation [[-1.0, 0.0, -0.0], [-0.0, -0.0, 1.0], [0.0, 1.0, 0.0]]" in n for n in ref.notes), ref.notes
    idx = scored_frames(ref, ref.time)
    res = ref.residual[idx] / ref.mass
    rms = np.sqrt(np.mean(res ** 2, 0))
    print(f"residual RMS (N/kg) AP {rms[0]:.2f}, vertical {rms[1]:.2f}, ML {rms[2]:.2f} over {idx.size} frames")
    assert ref.complete.all() and abs(ref.mass - 67.0) < 0.05
    assert rms[1] < 1.5 and np.linalg.norm(rms) < 2.0, rms
