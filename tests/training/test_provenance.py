"""A trained model records whom it saw; evaluation never reports those subjects as new people."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from training.checkpoint import load, save
from training.config import load_config
from training.evaluate import SeenSubjectsError, evaluate, evaluate_and_report
from training.provenance import file_seen, record, seen_role, subjects
from training.trainer import train


def _cfg():
    return load_config("tiny", ["train.steps=3", "train.log_every=3", "variant=baseline"])


@pytest.fixture()
def people(seqs):
    """Three synthetic trials of three subjects: A and B train, C is new."""
    a, b, c = (dataclasses.replace(s, subject=f"subject-{n}") for s, n in zip(seqs, "ABC"))
    return a, b, c


def test_checkpoint_records_trained_and_validated_subjects(people, tmp_path):
    a, b, c = people
    bundle = train(_cfg(), [a], val_sequences=[b], out_dir=tmp_path, log=None)
    assert subjects(bundle.seen) == {"trained": ["subject-A"], "validated": ["subject-B"]}
    back = load(save(tmp_path / "x.pt", bundle))
    assert subjects(back.seen) == subjects(bundle.seen)
    assert seen_role(back.seen, a) == "trained" and seen_role(back.seen, b) == "validated"
    assert seen_role(back.seen, c) is None
    # another trial of a seen subject is seen; the same motion under another name too
    other = dataclasses.replace(c, subject="subject-A", name="another-trial")
    assert seen_role(back.seen, other) == "trained"
    renamed = dataclasses.replace(a, subject="someone-else", name="renamed")
    assert seen_role(back.seen, renamed) == "trained"


def test_evaluate_leaves_seen_subjects_out_or_scores_them_apart(people, tmp_path):
    a, b, c = people
    bundle = train(_cfg(), [a, b], out_dir=tmp_path / "run", log=None)
    logs = []
    res = evaluate_and_report(bundle, [a, c], tmp_path / "eval", log=logs.append)
    assert res["unseen_sequences"] == [c.name] and list(res["per_sequence"]) == [c.name]
    assert any("left out 1 sequence" in m and a.name in m for m in logs)
    alone = evaluate(bundle, [c])["pooled"]
    assert res["pooled"]["ef"] == pytest.approx(alone["ef"], rel=1e-12)   # pooled over the new subject only
    assert "seen" not in res and "(seen)" not in (tmp_path / "eval" / "metrics.md").read_text()

    res2 = evaluate_and_report(bundle, [a, c], tmp_path / "eval2", log=lambda *m: None, allow_seen=True)
    assert res2["pooled"]["ef"] == pytest.approx(alone["ef"], rel=1e-12)  # seen never pooled with unseen
    assert list(res2["seen"]["per_sequence"]) == [a.name]
    md = (tmp_path / "eval2" / "metrics.md").read_text()
    assert f"{a.name} (seen)" in md and "pooled (seen: in-sample)" in md and "test" not in md.lower()

    with pytest.raises(SeenSubjectsError, match="--allow-seen"):
        evaluate_and_report(bundle, [a, b], tmp_path / "eval3", log=lambda *m: None)


def test_file_seen_by_bytes(seqs, tmp_path):
    f, g = tmp_path / "trial.trc", tmp_path / "other.trc"
    f.write_text("the trial's bytes")
    g.write_text("other bytes")
    s = dataclasses.replace(seqs[0], source=str(f), subject="S1")
    seen = record([s])
    copy = tmp_path / "copy.trc"
    copy.write_bytes(f.read_bytes())
    hit = file_seen(seen, copy)
    assert hit is not None and hit["subject"] == "S1" and hit["role"] == "trained"
    assert file_seen(seen, g) is None and file_seen(None, f) is None


def test_motion_identity_is_the_arrays(seqs):
    s = seqs[0]
    moved = dataclasses.replace(s, q=np.array(s.q) + 1e-9, name="x", subject="y")
    assert seen_role(record([s]), moved) is None
