"""Model files are validated before any derivation: every broken file gives a ModelError naming the
file, the line and the fix (one small broken YAML per case, written by the test)."""
from __future__ import annotations

import re

import pytest

import symgait
from symgait import ModelError
from symgait.io import DataFormatError
from symgait.model.parse import load_spec

# line numbers below refer to this text (1-based)
GOOD = """\
name: tiny
subject: {height: 1.78, mass: 70}
parameters:
  leg_length: 0.5*height
  leg_mass: 0.1*mass
bodies:
  - name: trunk
    parent: ground
    joint: {type: planar, coordinates: [tx, ty, rz]}
    mass: 30
    com: [0, 0.2, 0]
    inertia: [1, 0.5, 1]
  - name: thigh
    parent: trunk
    joint:
      type: hinge
      coordinates: [hip]
      axes: [z]
      offset: [0, -0.1, 0]
    mass: leg_mass
    com: [0, -0.5*leg_length, 0]
    inertia: [0.1, 0.02, 0.1]
  - name: shank
    parent: thigh
    joint: {type: hinge, coordinates: [knee]}
    mass: leg_mass
    inertia: [0.1, 0.02, 0.1]
contacts:
  - {name: foot, body: shank}
points:
  - {name: knee_c, body: shank, position: [0, 0, 0]}
"""


def _edit(edits: dict) -> str:
    lines = GOOD.splitlines()
    for n, text in edits.items():
        lines[n - 1] = text
    return "\n".join(lines) + "\n"


CASES = {
    # id: ({line: new text}, line named in the error, words of the problem and of the fix)
    "cycle": ({8: "    parent: shank"}, 8, ["cycle", "trunk -> shank -> thigh -> trunk", "must be a tree"]),
    "duplicate body": ({23: "  - name: thigh"}, 23, ["body name 'thigh' is used twice", "first on line 13",
                                                      "rename one"]),
    "duplicate coordinate": ({25: "    joint: {type: hinge, coordinates: [hip]}"}, 25,
                             ["coordinate 'hip' is used twice", "first on line 17", "own name"]),
    "duplicate coordinate in one joint": ({9: "    joint: {type: planar, coordinates: [tx, tx, rz]}"}, 9,
                                          ["coordinate 'tx' is used twice", "own name"]),
    "joint named like a coordinate": ({17: "      coordinates: [shank_fixed]",
                                       25: "    joint: {type: fixed}"}, 23,
                                      ["fixed joint 'shank_fixed'", "rename the coordinate"]),
    "missing parent": ({24: "    parent: thig"}, 24, ["parent 'thig'", "did you mean 'thigh'",
                                                     "use parent: ground"]),
    "two roots": ({14: "    parent: ground"}, 6, ["exactly one body", "['trunk', 'thigh']"]),
    "zero axis": ({18: "      axes: [[0, 0, 0]]"}, 18, ["not all zero"]),
    "non-finite axis": ({18: "      axes: [[.nan, 0, 1]]"}, 18, ["three finite numbers"]),
    "named axis typo": ({18: "      axes: [w]"}, 18, ["x, y, z, -x, -y, -z"]),
    "zero mass": ({10: "    mass: 0"}, 10, ["mass 0 kg", "must be > 0"]),
    "negative mass expression": ({20: "    mass: -leg_mass"}, 20, ["mass -7 kg", "must be > 0"]),
    "mass NaN": ({10: "    mass: .nan"}, 10, ["not finite", "finite number"]),
    "inertia not positive definite": ({12: "    inertia: [1, 0.5, -1]"}, 12,
                                      ["not positive definite", "must be > 0"]),
    "inertia products": ({12: "    inertia: [1, 1, 1, 2, 0, 0]"}, 12, ["not positive definite"]),
    "inertia triangle": ({22: "    inertia: [0.1, 0.02, 0.2]"}, 22, ["triangle inequality", "no rigid body"]),
    "inertia length": ({27: "    inertia: [0.1, 0.02]"}, 27, ["[Ixx, Iyy, Izz]"]),
    "inertia_as_given not a bool": ({22: "    inertia: [0.1, 0.02, 0.1]\n    inertia_as_given: yes please"},
                                    23, ["'inertia_as_given' must be true or false"]),
    "inertia_as_given still positive definite": ({22: "    inertia: [0.1, -0.02, 0.1]\n    inertia_as_given: true"},
                                                 22, ["not positive definite"]),
    "contact on missing body": ({29: "  - {name: foot, body: shnk}"}, 29,
                                ["contact 'foot' is on body 'shnk'", "did you mean 'shank'",
                                 "use one of the model's bodies"]),
    "point on missing body": ({31: "  - {name: knee_c, body: tigh, position: [0, 0, 0]}"}, 31,
                              ["point 'knee_c' is on body 'tigh'", "did you mean 'thigh'"]),
    "duplicate point name": ({31: "  - {name: foot, body: shank, position: [0, 0, 0]}"}, 31,
                             ["'foot' is used twice", "first on line 29", "rename one"]),
    "unknown body key": ({10: "    mas: 30"}, 10, ["unknown key 'mas'", "did you mean 'mass'"]),
    "unknown joint key": ({18: "      axis: [z]"}, 18, ["unknown key 'axis'", "did you mean 'axes'"]),
    "unknown top key": ({28: "contact:"}, 28, ["unknown key 'contact'", "did you mean 'contacts'"]),
    "unknown point key": ({31: "  - {name: knee_c, body: shank, positon: [0, 0, 0]}"}, 31,
                          ["unknown key 'positon'", "did you mean 'position'"]),
    "duplicate key": ({11: "    mass: 31"}, 11, ["'mass' is given twice", "first on line 10", "keep one"]),
    "unknown joint type": ({16: "      type: hinj"}, 16, ["unknown joint type 'hinj'", "did you mean 'hinge'"]),
    "unknown parameter": ({20: "    mass: leg_mas"}, 20, ["'leg_mas'", "did you mean 'leg_mass'",
                                                          "declare them under 'parameters:'"]),
    "parameter not finite": ({5: "  leg_mass: 1/(mass-70)"}, 5, ["'leg_mass' is not a finite real number",
                                                                 "fix its expression"]),
    "expression infinite": ({11: "    com: [0, 1/0, 0]"}, 11, ["not finite", "fix it"]),
    "length not positive": ({4: "  leg_length: -0.5*height"}, 4, ["'leg_length' = -0.89 m", "must be > 0"]),
    "orientation not finite": ({19: "      orientation: [0, .inf, 0]"}, 19, ["three numbers (degrees)"]),
    "gravity": ({1: "gravity: [0, -9.81]"}, 1, ["three finite numbers", "[0, -9.80665, 0]"]),
    "invalid YAML": ({12: "    inertia: [1, 0.5, 1"}, None, ["not valid YAML", "indentation"]),
    "wrong coordinate count": ({17: "      coordinates: [hip, hip2]"}, 17, ["needs 1 coordinate names"]),
    "custom joint without motions": ({16: "      type: custom"}, 15, ["needs 'motions'", "motions: [revolute"]),
}


@pytest.mark.parametrize("edits, line, words", CASES.values(), ids=list(CASES))
def test_broken_model_file(tmp_path, edits, line, words):
    path = tmp_path / "broken.yaml"
    path.write_text(_edit(edits))
    with pytest.raises(ModelError) as e:
        symgait.load_model(path)
    msg = str(e.value)
    assert msg.startswith(f"{path}, line "), msg
    if line is not None:
        assert msg.startswith(f"{path}, line {line}:"), msg
    for w in words:
        assert w in msg, f"{w!r} not in {msg!r}"


def test_inertia_as_given(tmp_path):
    """A body that says ``inertia_as_given`` keeps an inertia against the triangle inequality (as
    OpenSim models may hold): loaded, and p checked for everything else."""
    path = tmp_path / "given.yaml"
    path.write_text(_edit({22: "    inertia: [0.1, 0.02, 0.2]\n    inertia_as_given: true"}))
    m = symgait.load_model(path)
    assert m.inertia_as_given == ["thigh"]
    p = m.parameters()
    m.check_parameters(p)                                       # the thigh's inertia is accepted
    with pytest.raises(symgait.InputError, match="'thigh' has mass"):
        m.check_parameters(p * [1, 0])                             # a zero mass is still refused
    bad = tmp_path / "other.yaml"                                 # the exemption is per body
    bad.write_text(_edit({12: "    inertia: [1, 0.1, 2]", 22: "    inertia: [0.1, 0.02, 0.2]\n"
                          "    inertia_as_given: true"}))
    with pytest.raises(ModelError, match="'trunk' has principal moments"):
        symgait.load_model(bad)


def test_good_file_loads(tmp_path):
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    m = symgait.load_model(path)
    assert m.coordinates == ["tx", "ty", "rz", "hip", "knee"] and m.contacts == ["foot"]
    assert m.parameters()[1] == pytest.approx(7.0)


@pytest.mark.parametrize("name", ["planar", "gait3d", "fullbody"])
def test_builtin_models_pass(name):
    spec = load_spec(name)
    assert spec.bodies and spec.coordinates


def test_model_file_not_a_mapping(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ModelError, match=re.escape(f"{path}, line 1: expected a mapping with 'bodies'")):
        load_spec(path)


# --- OpenSim models ------------------------------------------------------------------------------
OSIM = """<?xml version="1.0" encoding="UTF-8" ?>
<OpenSimDocument Version="40000">
  <Model name="m">
    <Ground name="ground"/>
    <BodySet><objects>
      <Body name="a"><mass>{mass_a}</mass><mass_center>0 0 0</mass_center><inertia>1 1 1 0 0 0</inertia></Body>
      <Body name="b"><mass>1</mass><mass_center>0 0 0</mass_center><inertia>1 1 1 0 0 0</inertia></Body>
    </objects></BodySet>
    <JointSet><objects>
      <PinJoint name="j0">
        <socket_parent_frame>ground_offset</socket_parent_frame><socket_child_frame>a_offset</socket_child_frame>
        <coordinates><Coordinate name="q0"/></coordinates>
        <frames>
          <PhysicalOffsetFrame name="ground_offset"><socket_parent>/ground</socket_parent></PhysicalOffsetFrame>
          <PhysicalOffsetFrame name="a_offset"><socket_parent>/bodyset/a</socket_parent></PhysicalOffsetFrame>
        </frames>
      </PinJoint>
      <PinJoint name="j1">
        <socket_parent_frame>p_offset</socket_parent_frame><socket_child_frame>c_offset</socket_child_frame>
        <coordinates><Coordinate name="q1"/></coordinates>
        <frames>
          <PhysicalOffsetFrame name="p_offset"><socket_parent>/bodyset/{parent_b}</socket_parent>
            <translation>{offset}</translation></PhysicalOffsetFrame>
          <PhysicalOffsetFrame name="c_offset"><socket_parent>/bodyset/b</socket_parent></PhysicalOffsetFrame>
        </frames>
      </PinJoint>
    </objects></JointSet>
  </Model>
</OpenSimDocument>
"""


@pytest.mark.parametrize("fill, words", [
    (dict(mass_a="-2"), ["Body[a]/mass", "negative mass"]),
    (dict(mass_a="nan"), ["Body[a]/mass", "NaN or infinity"]),
    (dict(offset="0 inf 0"), ["translation", "NaN or infinity"]),
    (dict(offset="0 0"), ["translation", "2 values, expected 3"]),
    (dict(parent_b="nowhere"), ["nowhere"]),
])
def test_broken_osim(tmp_path, fill, words):
    from symgait.io import read_osim
    path = tmp_path / "broken.osim"
    path.write_text(OSIM.format(**{**dict(mass_a="1", offset="0 1 0", parent_b="a"), **fill}))
    with pytest.raises(DataFormatError) as e:
        read_osim(path)
    msg = str(e.value)
    assert msg.startswith(str(path)), msg
    for w in words:
        assert w in msg, msg


def test_good_osim_reads(tmp_path):
    from symgait.io import read_osim
    path = tmp_path / "good.osim"
    path.write_text(OSIM.format(mass_a="1", offset="0 1 0", parent_b="a"))
    m = read_osim(path)
    assert [j.parent_body for j in m.joints] == ["ground", "a"]


def test_osim_loop_refused_by_conversion(tmp_path):
    from symgait.model.from_osim import osim_to_yaml
    path = tmp_path / "loop.osim"
    # j1 makes a the child of b while j0 makes it the child of ground: a loop a -> b -> a
    text = OSIM.format(mass_a="1", offset="0 1 0", parent_b="a").replace(
        "<socket_parent>/bodyset/b</socket_parent></PhysicalOffsetFrame>\n        </frames>\n      </PinJoint>\n",
        "<socket_parent>/bodyset/b</socket_parent></PhysicalOffsetFrame>\n        </frames>\n      </PinJoint>\n"
        "      <PinJoint name=\"j2\">\n        <socket_parent_frame>q_offset</socket_parent_frame>"
        "<socket_child_frame>d_offset</socket_child_frame>\n        <coordinates><Coordinate name=\"q2\"/>"
        "</coordinates>\n        <frames>\n          <PhysicalOffsetFrame name=\"q_offset\"><socket_parent>"
        "/bodyset/b</socket_parent></PhysicalOffsetFrame>\n          <PhysicalOffsetFrame name=\"d_offset\">"
        "<socket_parent>/bodyset/a</socket_parent></PhysicalOffsetFrame>\n        </frames>\n      </PinJoint>\n")
    path.write_text(text)
    with pytest.raises(ModelError, match=re.escape(str(path)) + r".*body 'a' is the child of several joints"):
        osim_to_yaml(path)
