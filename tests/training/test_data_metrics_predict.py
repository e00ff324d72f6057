"""training.data, .metrics, .plots, .evaluate, .predict, .experiments (planar, tiny).

Real-data tests read ``<repo>/../shared/data`` (``SYMGAIT_DATA`` overrides) and skip with a
reason where it is absent.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from symgait.trials.sequence import Sequence
from symgait.datasets.cache import SequenceCache

from symgait_testing import DATA, data_file as need_data

pytestmark = pytest.mark.xdist_group("training_dmp")


def fake_seq(name="s", T=200, rate=100.0, nq=10, nc=2, n_act=7, kind="derived", seed=0):
    rng = np.random.default_rng(seed)
    coords = tuple(f"c{i}" for i in range(nq))
    w = rng.normal(size=(T, nc, 6))
    tau = rng.normal(size=(T, nq))
    if kind == "none":
        w[:] = np.nan
        tau[:] = np.nan
    return Sequence(name=name, model="planar", rate=rate, time=np.arange(T) / rate,
                    q=rng.normal(size=(T, nq)), qd=rng.normal(size=(T, nq)), qdd=rng.normal(size=(T, nq)),
                    w=w, tau=tau, contact=rng.random((T, nc)) < 0.5, p=np.ones(3), mass=70.0, height=1.8,
                    source="fake", label_kind=kind, coordinates=coords,
                    contacts=("calcn_r", "calcn_l")[:nc], actuated=coords[nq - n_act:])


# --- metrics ---------------------------------------------------------------------------------

def test_rmse_rrmse_hand_computed():
    from training.metrics import rmse, rrmse
    p = np.array([1.0, 2.0, 3.0, 4.0])
    t = np.array([1.0, 1.0, 5.0, 4.0])
    assert rmse(p, t) == pytest.approx(np.sqrt((0 + 1 + 4 + 0) / 4))
    # range of the label 5 - 1 = 4
    assert rrmse(p, t) == pytest.approx(100 * np.sqrt(5 / 4) / 4)
    # NaN labels are excluded
    t2 = np.array([1.0, np.nan, 5.0, 4.0])
    assert rmse(p, t2) == pytest.approx(np.sqrt(4 / 3))
    # per component: ranges 2 and 20, errors 1 and 10 -> mean(1/2, 10/20) * 100
    P = np.array([[1.0, 10.0], [3.0, 30.0]])
    Y = np.array([[0.0, 0.0], [2.0, 20.0]])
    assert rmse(P, Y) == pytest.approx(np.sqrt((1 + 100 + 1 + 100) / 4))
    assert rrmse(P, Y) == pytest.approx(100 * np.mean([1 / 2, 10 / 20]))
    # a component with zero range (foot never loaded) is left out of the rRMSE average
    Y0 = np.array([[0.0, 0.0], [2.0, 0.0]])
    P0 = np.array([[1.0, 0.5], [3.0, 0.5]])
    assert rrmse(P0, Y0) == pytest.approx(100 * 1 / 2)


def test_gait_metrics_per_kg_and_pooled():
    from training.metrics import gait_metrics
    T, nc, na = 4, 2, 3
    true = dict(w=np.zeros((T, nc, 6)), JT=np.zeros((T, na)))
    true["w"][:, 0, 1] = [0, 100, 200, 0]           # vertical force of contact 0: range 200 N
    true["JT"][:, 0] = [0, 10, 20, 30]
    pred = dict(w=true["w"].copy(), JT=true["JT"].copy())
    pred["w"][:, 0, 1] += 20.0                       # 20 N error on 1 of 6 force components
    pred["w"][:, 1, 4] += 5.0                        # 5 N·m on 1 of 6 moment components
    pred["JT"][:, 0] += 3.0
    m = gait_metrics(pred, true, mass=10.0)
    assert m["ef"] == pytest.approx(np.sqrt(2.0 ** 2 / 6))          # per kg: 20/10 on 1/6 entries
    assert m["em"] == pytest.approx(np.sqrt(0.5 ** 2 / 6))
    assert m["et"] == pytest.approx(np.sqrt(0.3 ** 2 / 3))
    assert m["rf"] == pytest.approx(100 * 20 / 200)                 # only component with a range
    assert np.isnan(m["rm"])                                         # no moment label has a range
    assert m["rt"] == pytest.approx(100 * 3 / 30)
    assert m["frames"] == T
    # NaN labels excluded; pooling two sequences = one concatenated sequence of the same mass
    t2 = dict(w=true["w"].copy(), JT=true["JT"].copy())
    t2["w"][2:] = np.nan
    t2["JT"][2:] = np.nan
    pooled = gait_metrics([pred, pred], [true, true], [10.0, 10.0])
    assert pooled["ef"] == pytest.approx(m["ef"]) and pooled["rt"] == pytest.approx(m["rt"])
    half = gait_metrics(pred, t2, 10.0)
    assert half["ef"] == pytest.approx(np.sqrt(2.0 ** 2 / 6)) and half["frames"] == 2
    # swing force: mean |Fy| / kg over frames labelled off the ground
    c = np.array([[1, 0], [1, 0], [0, 0], [0, 1]], bool)
    ms = gait_metrics(pred, true, 10.0, c)
    fy = pred["w"][..., 1] / 10.0
    assert ms["f_swing"] == pytest.approx(np.abs(fy[~c]).mean())
    with pytest.raises(ValueError):
        gait_metrics(pred, dict(w=true["w"][:, :1], JT=true["JT"]), 10.0)


def test_symmetry_metrics_shifted_feet():
    from training.metrics import symmetry_metrics
    rate, per = 100.0, 1.0
    t = np.arange(400) / rate
    fr = np.clip(np.sin(2 * np.pi * t / per), 0, None) * 700
    fl = np.clip(np.sin(2 * np.pi * (t - 0.5) / per), 0, None) * 700
    w = np.zeros((t.size, 2, 6))
    w[:, 0, 1], w[:, 1, 1] = fr, fl
    s = symmetry_metrics(w, rate, contact=np.stack([fr > 0, fl > 0], 1), mass=70.0)
    assert s["period"] == pytest.approx(per, abs=0.02)
    assert s["corr_shifted"] > 0.99 and s["peak_ratio"] == pytest.approx(1.0, abs=1e-6)
    assert s["swing_mean"] == pytest.approx(0.0, abs=1e-9)


# --- data: label reduction, noise -----------------------------------------------------------------

@pytest.mark.parametrize("fraction", [1.0, 0.5, 0.25, 0.1, 0.0])
def test_reduce_labels_fraction(fraction):
    from training.data import reduce_labels
    seqs = [fake_seq("a", 400, seed=1), fake_seq("b", 600, seed=2), fake_seq("m", 300, kind="none")]
    out = reduce_labels(seqs, fraction, seed=3, chunk_seconds=0.5)
    if fraction == 1.0:
        assert out == seqs
        return
    lab = sum(len(s) for s in out if s.label_kind != "none" and s.name != "m")
    chunks = [s for s in out if s.name != "m"]
    assert sum(len(s) for s in chunks) == 1000                    # every frame kept once
    assert abs(lab / 1000 - fraction) <= 0.05 + 1e-9              # within one 50-frame chunk
    assert all(np.isnan(s.w).all() and np.isnan(s.tau).all() for s in out if s.label_kind == "none")
    assert out[-1] is seqs[-1]                                    # motion-only passes through
    # labelled chunks keep their labels bit for bit; deterministic per seed
    a = next(s for s in seqs if s.name == "a")
    for s in chunks:
        if s.label_kind != "none" and s.name.startswith("a#"):
            i0 = int(round(s.time[0] * s.rate))
            assert np.array_equal(s.w, a.w[i0:i0 + len(s)])
    again = reduce_labels(seqs, fraction, seed=3, chunk_seconds=0.5)
    assert [s.label_kind for s in again] == [s.label_kind for s in out]


def test_reduce_labels_min_chunk_and_errors():
    from training.data import reduce_labels
    out = reduce_labels([fake_seq("a", 300)], 0.5, seed=0, chunk_seconds=0.1, min_chunk_frames=50)
    assert min(len(s) for s in out) >= 50
    with pytest.raises(ValueError):
        reduce_labels([fake_seq()], 1.5, 0)


def test_angle_noise_and_label_noise():
    import symgait
    from symgait.signals.filters import derivatives
    from training.data import with_angle_noise, with_contact_label_noise
    m = symgait.load_model("planar")
    s = fake_seq(T=2000, nq=m.nq, n_act=m.n_actuated)
    s = Sequence(**{**{k: getattr(s, k) for k in s.__dataclass_fields__},
                    "coordinates": tuple(m.coordinates), "actuated": tuple(m.actuated)})
    s.q[:] = 0.0
    n1, = with_angle_noise([s], 0.6, seed=5, model=m)
    d = np.degrees(n1.q - s.q)
    root = ["pelvis_tx", "pelvis_ty", "pelvis_tilt"]
    for i, c in enumerate(m.coordinates):
        if c in root:
            assert np.all(d[:, i] == 0), c                       # root untouched by default
        else:
            assert np.std(d[:, i]) == pytest.approx(0.6, rel=0.1), c
    qd, qdd = derivatives(n1.q, s.rate)
    assert np.allclose(n1.qd, qd) and np.allclose(n1.qdd, qdd)   # consistent with noisy q
    assert np.array_equal(n1.w, s.w) and np.array_equal(n1.tau, s.tau)
    assert np.array_equal(n1.contact, s.contact)
    n2, = with_angle_noise([s], 0.6, seed=5, model=m)
    assert np.array_equal(n1.q, n2.q)                            # seeded
    assert with_angle_noise([s], 0.0, 0, m)[0] is s
    f, = with_contact_label_noise([s], seed=1)
    changed = (f.contact != s.contact).mean()
    assert 0.035 < changed < 0.065                               # 10 % chosen x 50 % flipped
    assert np.array_equal(f.q, s.q)


def test_split_unknown_frames_lose_their_labels():
    """A dataset row's ``split_unknown`` spans (s) make exactly those frames' labels NaN, at any
    frame rate; the motion and the contact labels stay; rows without spans change nothing."""
    from training.data import split_unknown_masked
    seq = fake_seq(T=200, rate=100.0, kind="measured")
    out = split_unknown_masked(dict(split_unknown=[[0.5, 0.59], [1.2, 1.2]]), seq)
    off = np.zeros(200, bool)
    off[50:60] = off[120] = True
    assert np.isnan(out.w[off]).all() and np.isnan(out.tau[off]).all()
    np.testing.assert_array_equal(out.w[~off], seq.w[~off])
    np.testing.assert_array_equal(out.q, seq.q)
    np.testing.assert_array_equal(out.contact, seq.contact)
    assert split_unknown_masked(dict(split_unknown=None), seq) is seq
    assert split_unknown_masked(dict(), seq) is seq


def test_synthetic_set_split():
    from training.data import synthetic_set
    d = synthetic_set("planar", n_train=1, n_test=1, n_motion=1, seconds=1.0)
    assert [s.label_kind for s in d["train"] + d["test"]] == ["derived", "derived"]
    assert d["motion_only"][0].label_kind == "none" and np.isnan(d["motion_only"][0].w).all()


# --- real data ----------------------------------------------------------------------------------

def test_load_real_roles_and_cache(tmp_path):
    from training.data import load_real
    need_data("opensim")
    msgs = []
    cache = SequenceCache(tmp_path)
    r = load_real(DATA, "planar", cache=cache, log=msgs.append,
                  trials=["subject01_walk1", "Walk1", "08_01", "08_02"])
    names = {s.name: s for s in r["train"] + r["test"] + r["motion_only"]}
    assert [s.name for s in r["test"]] == ["Walk1"]
    assert [s.name for s in r["train"]] == ["subject01_walk1"]
    assert all(s.label_kind == "measured" for s in r["train"] + r["test"])
    assert [s.label_kind for s in r["motion_only"]] == ["none", "none"]
    assert np.isnan(names["08_01"].w).all() and names["08_01"].contact.any()
    assert len(names["subject01_walk1"]) == 151 and names["subject01_walk1"].mass == 72.6
    info = {i["name"]: i for i in r["info"]}
    assert info["Walk1"]["role"] == "test" and info["Walk1"]["rate"] == 60.0
    r2 = load_real(DATA, "planar", cache=cache, log=msgs.append, rate=60.0,
                   trials=["subject01_walk1", "Walk1", "08_01", "08_02"], include_motion_only=True)
    assert all(i["cached"] for i in r2["info"])
    assert len(r2["train"]) == 3                                  # + motion-only
    m1 = next(s for s in r2["motion_only"] if s.name == "08_01")
    assert m1.rate == 60.0 and abs(len(m1) - len(names["08_01"]) / 2) <= 1
    assert np.array_equal(r2["test"][0].tau, r["test"][0].tau)


def test_load_real_skips_missing(tmp_path):
    from training.data import load_real
    msgs = []
    r = load_real(tmp_path, "planar", cache=SequenceCache(tmp_path), log=msgs.append, trials=["Walk1"])
    assert r["skipped"] and "missing" in r["skipped"][0]["reason"]
    assert any("skip Walk1" in m for m in msgs)
    with pytest.raises(FileNotFoundError):
        load_real(tmp_path / "nope", "planar")


# --- trained tiny bundle: evaluate, predict ------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_bundle(tmp_path_factory):
    from training.config import load_config
    from training.data import synthetic_set
    from training.trainer import train
    out = tmp_path_factory.mktemp("tiny")
    cfg = load_config("tiny", ["train.steps=3"])
    d = synthetic_set("planar", n_train=1, n_test=1, n_motion=1, seconds=1.0)
    bundle = train(cfg, d["train"] + d["motion_only"], out_dir=out, log=lambda *a: None)
    return bundle, out, d


def test_evaluate_and_report(tiny_bundle, tmp_path):
    from training.evaluate import evaluate_and_report
    bundle, _, d = tiny_bundle
    res = evaluate_and_report(bundle, d["test"] + d["motion_only"], tmp_path, log=lambda *a: None)
    name = d["test"][0].name
    assert set(res["per_sequence"]) == {name}
    s = d["test"][0]
    pred = bundle.predict(s)
    for k, (a, b) in {"ef": (pred["w"][..., :3], s.w[..., :3]), "em": (pred["w"][..., 3:], s.w[..., 3:]),
                      "et": (pred["JT"], s.tau[:, [s.coordinates.index(c) for c in s.actuated]])}.items():
        want = np.sqrt(np.mean(((np.asarray(a) - b) / s.mass) ** 2))  # the RMSE per kg, by hand
        assert res["pooled"][k] == pytest.approx(want, rel=1e-6), k
    for k in ("rf", "rm", "rt"):
        assert res["pooled"][k] > 0
    # the motion-only sequence trained the network: left out, not scored as if new
    assert d["motion_only"][0].name not in res["unlabelled"] and res["unseen_sequences"] == [name]
    j = json.loads((tmp_path / "metrics.json").read_text())
    assert j["pooled"]["ef"] == pytest.approx(res["pooled"]["ef"])
    md = (tmp_path / "metrics.md").read_text()
    assert "εf (N/kg)" in md and name in md and "pooled" in md
    assert (tmp_path / f"grf_{name}.png").stat().st_size > 5000


def test_plots(tiny_bundle, tmp_path):
    from training.plots import plot_grf, plot_loss
    bundle, out, d = tiny_bundle
    s = d["test"][0]
    from matplotlib.image import imread
    from training.plots import read_log
    p = plot_grf(tmp_path / "g.png", s, {"a": bundle.predict(s)["w"], "b": s.w * 0.9})
    img = imread(p)
    assert img.shape[:2] == (round(90 * (2.3 * len(s.contacts) + 0.6)), 810)  # one panel per contact, 90 dpi
    assert img[..., :3].std() > 0.05                                            # not blank
    log = tmp_path / "log.jsonl"
    log.write_text('{"step": 1, "total": 2.0, "sup": 1.0}\nnot json\n{"step": 2, "total": 1.0, "sup": 0.5}\n')
    assert [r["step"] for r in read_log(log)] == [1, 2]                          # the bad line skipped
    assert imread(plot_loss(tmp_path / "l.png", log)).shape[:2] == (360, 630)
    if (out / "log.jsonl").exists():
        assert imread(plot_loss(tmp_path / "l2.png", out / "log.jsonl"))[..., :3].std() > 0.05


def write_mot(path, seq):
    """An OpenSim coordinates .mot (degrees) of a sequence's coordinates."""
    import symgait
    from symgait.model.coordinates import rotational_coordinates
    m = symgait.load_model(seq.model)
    rot = set(rotational_coordinates(m))
    q = seq.q.copy()
    for i, c in enumerate(seq.coordinates):
        if c in rot:
            q[:, i] = np.degrees(q[:, i])
    lines = ["Coordinates", "version=1", f"nRows={len(seq)}", f"nColumns={len(seq.coordinates) + 1}",
             "inDegrees=yes", "endheader", "\t".join(("time",) + tuple(seq.coordinates))]
    lines += ["\t".join(f"{v:.8f}" for v in (t, *row)) for t, row in zip(seq.time, q)]
    Path(path).write_text("\n".join(lines) + "\n")
    return path


def test_predict_csv_columns_units(tiny_bundle, tmp_path):
    from training.cli import main
    from training.predict import read_prediction_csv
    _, out, d = tiny_bundle
    s = d["test"][0]
    mot = write_mot(tmp_path / "walk.mot", s)
    csv_path = tmp_path / "pred.csv"
    rc = main(["predict", "--checkpoint", str(out / "last.pt"), "--motion", str(mot), "--mass",
               f"{s.mass}", "--height", f"{s.height}", "--out", str(csv_path)])
    assert rc == 0
    cols, units, x = read_prediction_csv(csv_path)
    r, l = s.contacts
    assert cols[:7] == ["time"] + [f"{r}_{a}" for a in ("Fx", "Fy", "Fz", "Mx", "My", "Mz")]
    assert cols[7:13] == [f"{l}_{a}" for a in ("Fx", "Fy", "Fz", "Mx", "My", "Mz")]
    na = len(s.actuated)
    assert cols[13:13 + na] == list(s.actuated)
    assert cols[13 + na:] == [f"{c}_{a}" for c in (r, l) for a in ("COPx", "COPy", "COPz", "Tfree")]
    assert units["time"] == "s" and units[f"{r}_Fy"] == "N" and units[f"{l}_Mz"] == "N·m"
    assert units[s.actuated[0]] == "N·m" and units[f"{r}_COPx"] == "m" and units[f"{l}_Tfree"] == "N·m"
    assert x.shape == (len(s), 1 + 12 + na + 8) and np.isfinite(x[:, :13 + na]).all()
    # centre of pressure: on the ground where the foot carries more than 20 N, empty elsewhere
    from training.metrics import GROUND, STANCE_N
    for k, c in enumerate((r, l)):
        fy = x[:, cols.index(f"{c}_Fy")]
        cop = x[:, [cols.index(f"{c}_COP{a}") for a in "xyz"]]
        on = fy > STANCE_N
        assert np.isnan(cop[~on]).all() and np.isfinite(cop[on]).all()
        np.testing.assert_allclose(cop[on, 1], GROUND, atol=1e-9)
    assert np.allclose(x[:, 0], s.time, atol=1e-6)
    assert csv_path.with_suffix(".png").stat().st_size > 5000


def test_predict_csv_one_header_line(tiny_bundle, tmp_path):
    """The CSV has one plain header line (numpy's and pandas' readers take it as it is); the units
    are in the JSON beside it."""
    from training.cli import main
    _, out, d = tiny_bundle
    s = d["test"][0]
    csv_path = tmp_path / "p.csv"
    assert main(["predict", "--checkpoint", str(out / "last.pt"), "--motion", str(write_mot(tmp_path / "w.mot", s)),
                 "--mass", f"{s.mass}", "--height", f"{s.height}", "--out", str(csv_path), "--plot", "none"]) == 0
    x = np.genfromtxt(csv_path, delimiter=",", names=True)
    r = s.contacts[0]
    assert x.dtype.names[:2] == ("time", f"{r}_Fx") and len(x) == len(s)
    units = json.loads(csv_path.with_suffix(".json").read_text())["units"]
    assert units[f"{r}_Fy"] == "N" and units[s.actuated[0]] == "N·m" and units[f"{r}_COPx"] == "m"
    assert not csv_path.read_text().startswith("#")


def test_grf_for_opensim():
    """Force, point and torque that give back the wrench in stance (cop_to_wrench, the inverse
    formula); zero force and torque out of stance, the point held at the last (first) centre of
    pressure, a contact never in stance at its origin on the ground."""
    from symgait.forces.wrench import cop_to_wrench
    from training.metrics import GROUND, STANCE_N
    from training.predict import grf_for_opensim
    rng = np.random.default_rng(3)
    T = 12
    o = rng.normal(size=(T, 2, 3)) * 0.2 + [0.5, 0.08, 0.1]
    w = rng.normal(size=(T, 2, 6)) * [50, 1, 50, 20, 20, 20]
    w[:, 0, 1] = np.where((np.arange(T) >= 3) & (np.arange(T) < 8), 700.0, 5.0)   # stance frames 3-7
    w[:, 1, 1] = 10.0                                                             # never in stance
    F, P, Tq = grf_for_opensim(w, o)
    on = w[:, 0, 1] > STANCE_N
    back = cop_to_wrench(F[on, 0], P[on, 0], Tq[on, 0], o[on, 0])
    np.testing.assert_allclose(back, w[on, 0], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(P[on, 0, 1], GROUND)
    assert (Tq[on, 0][:, [0, 2]] == 0).all()
    assert (F[~on, 0] == 0).all() and (Tq[~on, 0] == 0).all()
    np.testing.assert_array_equal(P[:3, 0], np.repeat(P[3:4, 0], 3, axis=0))     # before: the first
    np.testing.assert_array_equal(P[8:, 0], np.repeat(P[7:8, 0], T - 8, axis=0))  # after: the last
    assert (F[:, 1] == 0).all()
    np.testing.assert_allclose(P[:, 1], o[:, 1] * [1, 0, 1] + [0, GROUND, 0])


def test_predict_opensim_files(tiny_bundle, tmp_path):
    """``--out X.mot``: the GRF .mot, its ExternalLoads .xml and the joint torques X_id.sto, read by
    OpenSim with the numbers of the CSV: forces in stance, centre of pressure and free moment
    (vertical torque), zero force and torque out of stance; OpenSim's ExternalForce, attached to a
    model, evaluates to the written values."""
    osim = pytest.importorskip("opensim", reason="OpenSim's Python package is not installed")
    from training.cli import main
    from training.predict import read_prediction_csv
    from training.metrics import STANCE_N
    _, out, d = tiny_bundle
    s = d["test"][0]
    mot = write_mot(tmp_path / "walk.mot", s)
    base = ["predict", "--checkpoint", str(out / "last.pt"), "--motion", str(mot), "--mass", f"{s.mass}",
            "--height", f"{s.height}", "--plot", "none"]
    assert main(base + ["--out", str(tmp_path / "pred.csv")]) == 0
    assert main(base + ["--out", str(tmp_path / "osim" / "pred.mot")]) == 0
    cols, _, x = read_prediction_csv(tmp_path / "pred.csv")
    c = {n: x[:, i] for i, n in enumerate(cols)}
    grf, xml, sto = (tmp_path / "osim" / n for n in ("pred.mot", "pred.xml", "pred_id.sto"))
    tab = osim.TimeSeriesTable(str(grf))
    get = lambda n: tab.getDependentColumn(n).to_numpy()
    np.testing.assert_allclose(np.asarray(tab.getIndependentColumn()), c["time"], atol=1e-6)
    for contact, pre in zip(s.contacts, ("R_ground", "L_ground")):
        on = c[f"{contact}_Fy"] > STANCE_N             # an untrained network: stance may be every frame
        for a in "xyz":
            np.testing.assert_allclose(get(f"{pre}_force_v{a}")[on], c[f"{contact}_F{a}"][on], rtol=1e-5, atol=1e-3)
            np.testing.assert_allclose(get(f"{pre}_force_p{a}")[on], c[f"{contact}_COP{a}"][on], rtol=1e-5, atol=1e-6)
            assert (get(f"{pre}_force_v{a}")[~on] == 0).all() and (get(f"{pre}_torque_{a}")[~on] == 0).all()
        np.testing.assert_allclose(get(f"{pre}_torque_y")[on], c[f"{contact}_Tfree"][on], rtol=1e-5, atol=1e-3)
        assert np.isfinite(get(f"{pre}_force_px")).all()          # held out of stance, never NaN
    el = osim.ExternalLoads(str(xml), True)
    assert el.getDataFileName() == "pred.mot" and el.getSize() == 2
    assert [osim.ExternalForce.safeDownCast(el.get(i)).get_applied_to_body() for i in range(2)] == ["calcn_r", "calcn_l"]
    model = osim.Model()
    for b in ("calcn_r", "calcn_l"):
        body = osim.Body(b, 1.0, osim.Vec3(0), osim.Inertia(0.1, 0.1, 0.1))
        model.addBody(body)
        model.addJoint(osim.FreeJoint(f"{b}_joint", model.getGround(), body))
    model.addModelComponent(el)
    model.initSystem()
    ef = osim.ExternalForce.safeDownCast(el.get(0))
    r = s.contacts[0]
    for k in np.flatnonzero(c[f"{r}_Fy"] > STANCE_N)[::7]:
        f, pt = ef.getForceAtTime(float(c["time"][k])), ef.getPointAtTime(float(c["time"][k]))
        np.testing.assert_allclose([f.get(i) for i in range(3)], [c[f"{r}_F{a}"][k] for a in "xyz"], rtol=1e-5, atol=1e-3)
        np.testing.assert_allclose([pt.get(i) for i in range(3)], [c[f"{r}_COP{a}"][k] for a in "xyz"], rtol=1e-5, atol=1e-6)
    st = osim.Storage(str(sto))
    assert st.getSize() == len(s) and not st.isInDegrees()
    jt = osim.TimeSeriesTable(str(sto))
    assert list(jt.getColumnLabels()) == [f"{a}_moment" for a in s.actuated]
    for a in s.actuated:
        np.testing.assert_allclose(jt.getDependentColumn(f"{a}_moment").to_numpy(), c[a], rtol=1e-5, atol=1e-3)


def test_predict_errors(tiny_bundle, tmp_path, capsys):
    from training.cli import main
    _, out, d = tiny_bundle
    mot = write_mot(tmp_path / "w.mot", d["test"][0])
    ck = str(out / "last.pt")
    out_csv = str(tmp_path / "a.csv")
    with pytest.raises(SystemExit) as e:   # argparse: --mass is required
        main(["predict", "--checkpoint", ck, "--motion", str(mot), "--out", out_csv])
    assert e.value.code == 2 and "--mass" in capsys.readouterr().err
    assert main(["predict", "--checkpoint", ck, "--motion", str(tmp_path / "missing.trc"), "--mass", "70",
                 "--out", out_csv]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["predict", "--checkpoint", str(tmp_path / "no.pt"), "--motion", str(mot), "--mass", "70",
                 "--out", out_csv]) == 2
    assert "no.pt not found" in capsys.readouterr().err
    for rate in ("0", "-60"):
        assert main(["predict", "--checkpoint", ck, "--motion", str(mot), "--mass", "70", "--rate", rate,
                     "--out", out_csv]) == 2
        assert f"error: --rate {rate}: give a positive frame rate" in capsys.readouterr().err
    not_ck = tmp_path / "notes.pt"
    not_ck.write_text("not a checkpoint\n")
    assert main(["predict", "--checkpoint", str(not_ck), "--motion", str(mot), "--mass", "70",
                 "--out", out_csv]) == 2
    err = capsys.readouterr().err
    assert "notes.pt is not a training checkpoint" in err and "Traceback" not in err
    import torch
    torch.save({"weights": 1}, tmp_path / "other.pt")
    from training.checkpoint import CheckpointError, load
    with pytest.raises(CheckpointError, match=r"lacks \['cfg'"):
        load(tmp_path / "other.pt")
    assert not Path(out_csv).exists()
    from training.predict import PredictError, process_motion
    with pytest.raises(PredictError, match="mass"):
        process_motion("planar", mot, mass=None, height=1.8)
    bad = tmp_path / "x.txt"
    bad.write_text("x")
    with pytest.raises(PredictError, match="unsupported"):
        process_motion("planar", bad, mass=70, height=1.8)


def test_predict_amc_finds_asf(tiny_bundle, tmp_path):
    from training.cli import main
    amc = need_data("cmu/subject08/08_01.amc")
    _, out, _ = tiny_bundle
    rc = main(["predict", "--checkpoint", str(out / "last.pt"), "--motion", str(amc), "--mass", "65",
               "--height", "1.65", "--out", str(tmp_path / "cmu.csv"), "--plot", "none"])
    assert rc == 0 and (tmp_path / "cmu.csv").exists()


# --- experiments (tiny) ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["noise", "reduced", "transfer"])
def test_experiment_tiny(name, tmp_path):
    from training.cli import main
    out = tmp_path / name
    assert main(["experiment", name, "--tiny", "--out", str(out), "--set", "train.steps=2"]) == 0
    md = (out / "results.md").read_text()
    j = json.loads((out / "metrics.json").read_text())
    assert j["experiment"] == name and j["tiny"] and j["rows"]
    if name == "noise":
        assert "fnet σ=0.3°" in md and "cfinet σ=2.3°" in md and "0.626" in md
        assert (out / "noise.png").exists()
    elif name == "reduced":
        assert "baseline 100 %" in md and "fnet 25 %" in md
        assert (out / "reduced.png").exists()
    else:
        assert set(j["rows"]) == {"baseline", "fnet"}
        assert (out / "transfer_grf.png").stat().st_size > 5000
    assert list((out / "runs").glob("*/last.pt"))


def test_experiment_cli_errors(tmp_path, capsys):
    from training.cli import main
    rc = main(["experiment", "noise", "--data", str(tmp_path / "none"), "--out", str(tmp_path / "o")])
    assert rc == 2 and "--tiny" in capsys.readouterr().out


def test_predict_mirror_is_equivariant(tiny_bundle):
    """Test-time mirroring: the averaged prediction of a trial's mirror image is the mirror image of
    the trial's averaged prediction (exactly), and differs from the one-sided prediction."""
    from symgait.trials.augment import mirror_map
    bundle, _, d = tiny_bundle
    seq = d["test"][0]
    mir = mirror_map(bundle.model)
    act = bundle.model.actuated_indices
    plain = bundle.predict(seq, mirror=False)
    both = bundle.predict(seq, mirror=True)
    image = bundle.predict(mir.sequence(seq), mirror=True)
    np.testing.assert_allclose(mir.wrenches(image["w"]), both["w"], atol=1e-9 * np.abs(both["w"]).max())
    np.testing.assert_allclose(mir.actuated(image["JT"], act), both["JT"], atol=1e-9 * np.abs(both["JT"]).max())
    assert not np.allclose(plain["w"], both["w"])
    # the one-sided prediction of the image, mirrored back, is the other half of the mean
    back = bundle.predict(mir.sequence(seq), mirror=False)
    np.testing.assert_allclose(0.5 * (plain["w"] + mir.wrenches(back["w"])), both["w"], rtol=1e-12, atol=1e-12)
    # the config's default applies when no argument is given
    bundle.cfg.predict.mirror = True
    try:
        np.testing.assert_array_equal(bundle.predict(seq)["w"], both["w"])
    finally:
        bundle.cfg.predict.mirror = False
