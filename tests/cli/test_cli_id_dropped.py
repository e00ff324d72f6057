"""``symgait id`` on a trial with a bad marker: the marker left out is printed and recorded in the
JSON summary (``dropped_markers``) and its notes."""
import json

from symgait.cli import main

G = "opensim/gait2354_subject01_walk1/"


def _run(argv):
    assert main(["id"] + argv) == 0   # the command line's own entry point


def _offset_trc(text: str, label: str, dmm) -> str:
    """The TRC text with ``label`` moved by ``dmm`` (mm) in every row."""
    lines = text.split("\n")
    names = [s for s in lines[3].rstrip("\r").split("\t")[2:] if s]
    c = 2 + 3 * names.index(label)
    for i in range(5, len(lines)):
        f = lines[i].split("\t")
        if len(f) > c + 2 and f[0].strip().isdigit():
            for k in range(3):
                f[c + k] = f"{float(f[c + k]) + dmm[k]:.5f}"
            lines[i] = "\t".join(f)
    return "\n".join(lines)


def test_id_names_the_dropped_marker(data, kern, tmp_path, capsys):
    trc = tmp_path / "walk_bad.trc"
    trc.write_text(_offset_trc(data(G + "subject01_walk1.trc").read_text(), "R.Shank.Front",
                               (200.0, 0.0, -150.0)))
    out = tmp_path / "bad.csv"
    _run(["--model", "gait3d", str(trc), "--forces", str(data(G + "subject01_walk1_grf.mot")),
          "--mass", "72.6", "--height", "1.803", "--out", str(out), "--plot", "none"])
    printed = capsys.readouterr().out
    assert "dropped marker R.Shank.Front" in printed and "all frames" in printed
    js = json.loads((tmp_path / "bad.json").read_text())
    assert len(js["dropped_markers"]) == 1 and js["dropped_markers"][0].startswith("R.Shank.Front: ")
    assert js["dropped_markers"][0].endswith("all frames")
    assert any(n.startswith("dropped marker R.Shank.Front") for n in js["notes"])
    assert js["ik_rms_mm"] < 15
