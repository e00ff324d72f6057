"""``symgait info MODEL``: DOF, coordinates, parameters, operation counts per kernel."""
from __future__ import annotations


def add_cli(sub) -> None:
    i = sub.add_parser("info", help="DOF, coordinates, parameters, operation counts")
    i.add_argument("model")
    i.add_argument("--generated", help="directory of the generated code (default: the model's, see README)")
    i.set_defaults(fn=_cmd_info)

def _cmd_info(a):
    from ..errors import StaleKernelsError
    from ..model import load_model
    from ..runtime.loader import read_manifest
    m = load_model(a.model)
    print(f"model        {m.name}  ({m.spec.path})")
    print(f"DOF          {m.nv}  (actuated {m.n_actuated})")
    print(f"bodies       {len(m.bodies)}: {', '.join(m.bodies)}")
    print(f"coordinates  {', '.join(m.coordinates)}")
    if m.quaternion_joints:  # q has nq entries, v nv
        print(f"velocities   {', '.join(m.velocities)}")
        print(f"quaternions  {', '.join(f'{j[0]} ({j[1]})' for j in m.quaternion_joints)}: nq {m.nq}, nv {m.nv}")
    print(f"contacts     {', '.join(m.contacts) or '-'}")
    print(f"points       {len(m.points)}: {', '.join(m.points)}")
    p = m.parameters()
    print(f"parameters   {m.n_parameters} (defaults for height {m.spec.subject.get('height')} m, "
          f"mass {m.spec.subject.get('mass')} kg)")
    for name, v in zip(m.parameter_names, p):
        print(f"  {name:28s} {v:.6g}")
    try:
        gdir, man = read_manifest(m, a.generated)
    except StaleKernelsError as e:
        print(f"generated    {e}")
        return 0
    print(f"generated    {gdir}")
    from ..runtime import threads
    print(f"threads      Numba threading layer {threads.select()} (available: {', '.join(threads.available())}); "
          f"batches below {threads.PARALLEL_MIN_OPS} operations run serially")
    print("operations per sample:")
    for k, v in man["operations"].items():
        print(f"  {k:32s} {v}")
    return 0
