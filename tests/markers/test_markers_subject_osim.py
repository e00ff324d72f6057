"""The subject's scaled OpenSim model found beside a trial (symgait.markers.fit.subject_osim)
and used by the dataset build for the marker fit."""
from pathlib import Path

import numpy as np
import pytest

from symgait.markers.fit import fit_trial_markers, subject_osim
from symgait.markers.sources import load_source

pytestmark = pytest.mark.xdist_group("gait3d")

_OSIM = """<?xml version="1.0" encoding="UTF-8"?>
<OpenSimDocument Version="30000"><Model name="m"><MarkerSet><objects>
{}
</objects></MarkerSet></Model></OpenSimDocument>"""


def _osim(path: Path, n: int):
    path.parent.mkdir(parents=True, exist_ok=True)
    markers = "\n".join(f'<Marker name="M{i}"><body>pelvis</body><location>0 0 {i}</location>'
                        f'<fixed>false</fixed></Marker>' for i in range(n))
    path.write_text(_OSIM.format(markers))


def test_subject_osim_nearest_single_model_with_markers(tmp_path):
    root = tmp_path / "data"
    trial = root / "s1" / "expData" / "run.trc"
    trial.parent.mkdir(parents=True)
    trial.write_text("")
    assert subject_osim(trial, root) is None
    _osim(root / "s1" / "model" / "s1_scaled.osim", 6)
    assert subject_osim(trial, root) == (root / "s1" / "model" / "s1_scaled.osim").resolve()
    # a model without a MarkerSet (too few markers) is not a candidate
    _osim(root / "s1" / "expData" / "generic.osim", 2)
    assert subject_osim(trial, root) == (root / "s1" / "model" / "s1_scaled.osim").resolve()
    # two models at the nearest level: which is the subject's is not known
    _osim(root / "s1" / "model" / "other.osim", 6)
    assert subject_osim(trial, root) is None
    # never above the data folder: a trial directly under root does not see root's parent
    top = root / "t.trc"
    top.write_text("")
    _osim(tmp_path / "m" / "x.osim", 6)
    assert subject_osim(top, root) is None


def test_discover_uses_the_subjects_model(data):
    from symgait.datasets.discover import discover
    by = {t["name"]: t for t in discover(data())}
    assert by["subject02_Run_5"]["markerset"].endswith("subject02_adjusted_scaled.osim")
    assert by["2014001_C4_05"]["markerset"].endswith("2014001_scaledModelAdjusted.osim")
    assert by["08_01"]["markerset"] is None          # CMU: no model stored with the trial


def test_hamner_run5_slice_with_the_subjects_markerset(data, kern):
    """Hamner subject02's 5 m/s run, 40 frames: the MarkerSet of the subject's scaled model fits
    the measured markers to well under the 40 mm threshold."""
    m, k = kern("gait3d")
    trc = data("hamner2013_running/subject02/expData/Run_5.trc")
    osim = subject_osim(trc, data())
    src = load_source(trc)
    src.positions, src.time = src.positions[100:140], src.time[100:140]
    ik, rep = fit_trial_markers(m, src, height=1.83, mass=65.9, osim=osim, kern=k)
    assert "subject02_adjusted_scaled.osim" in rep.choice
    assert ik.q.shape[0] == 40 and np.isfinite(ik.q).all()
    assert rep.ik_rms_mm < 25.0
