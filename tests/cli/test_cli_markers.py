"""The --osim option of `symgait id` and `python -m training predict` (argument checks; the
MarkerSet path itself is tested in test_data_markers.py)."""
import pytest


def test_id_refuses_osim_with_markerset(tmp_path, capsys):
    from symgait.cli import main
    trc = tmp_path / "x.trc"
    trc.write_text("x")
    rc = main(["id", str(trc), "--osim", str(tmp_path / "m.osim"), "--markerset", "hamner", "--mass", "70",
               "--height", "1.8", "--out", str(tmp_path / "o.csv")])
    assert rc != 0 and "--osim or --markerset" in capsys.readouterr().err


def test_predict_osim_not_found(tmp_path):
    pytest.importorskip("torch")
    from training.predict import PredictError, process_motion
    trc = tmp_path / "x.trc"
    trc.write_text("x")
    with pytest.raises(PredictError, match="OpenSim model .* not found"):
        process_motion("planar", trc, mass=70, height=1.8, osim=tmp_path / "missing.osim")
