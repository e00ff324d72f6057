"""The lab-torques experiment's choices that need no data: which fold model predicts a trial (the
one whose checkpoint records neither its subject nor its data), and the command line's refusals."""
from types import SimpleNamespace

import numpy as np
import pytest

from symgait.errors import InputError
from training.cli import main
from training.lab_torques import pick_model
from training.provenance import record


def _seq(name, subject, q):
    return SimpleNamespace(name=name, subject=subject, source=f"/nonexistent/{name}.trc", q=q)


def test_pick_model_by_provenance():
    rng = np.random.default_rng(0)
    a, b, c = (_seq(n, f"lab:{n}", rng.normal(size=(5, 3))) for n in "abc")
    models = [("fold0", SimpleNamespace(seen=record([a], [b]))),
              ("fold1", SimpleNamespace(seen=record([b, c], [])))]
    assert pick_model(models, c)[0] == "fold0"          # fold1 trained on c's subject
    assert pick_model(models, a)[0] == "fold1"
    # another trial of b's subject: both folds saw that subject
    with pytest.raises(InputError, match="0 of the 2 fold models"):
        pick_model(models, _seq("b2", "lab:b", rng.normal(size=(5, 3))))
    # a subject neither saw: two candidates, not a k-fold over subjects
    with pytest.raises(InputError, match="2 of the 2"):
        pick_model(models, _seq("d", "lab:d", rng.normal(size=(5, 3))))
    # the same motion under another subject id is still seen (by its motion's hash)
    assert pick_model(models, _seq("c_copy", "lab:other", c.q))[0] == "fold0"


def test_cli_refuses_without_kfold(tmp_path, capsys):
    assert main(["experiment", "lab-torques", "--data", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "lab-torques needs --kfold RUN_DIR" in capsys.readouterr().out
    assert main(["experiment", "noise", "--data", str(tmp_path), "--out", str(tmp_path / "o"),
                 "--kfold", str(tmp_path)]) == 2
    assert "--kfold is an option of lab-torques" in capsys.readouterr().out
