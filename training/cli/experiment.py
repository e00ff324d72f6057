"""``python -m training experiment NAME --data DIR --out DIR``: the experiments of Zell et al. (2020) and
the subject-wise protocols (:mod:`training.experiments`, :mod:`training.protocol`)."""
from __future__ import annotations

from pathlib import Path

from ..config import builtin_configs

# the experiments by name: training.experiments.EXPERIMENTS and SUBJECT_WISE (a test holds them equal)
NAMES = ("noise", "reduced", "transfer", "kfold", "unseen-lab", "reduced-subjects", "lab-torques")

def add_cli(subparsers):
    p = subparsers.add_parser("experiment", help="the experiments of Zell et al. (2020): noise, reduced, transfer",
                              description=__doc__)
    p.add_argument("name", choices=NAMES)
    p.add_argument("--data", default=None, help="data folder (default ../shared/data or $SYMGAIT_DATA)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--config", default=None, help="config YAML or built-in name: " + ", ".join(builtin_configs()) +
                   " (default: defaults; 'tiny' with --tiny)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="config override, repeatable (e.g. --set train.steps=300)")
    p.add_argument("--tiny", action="store_true", help="synthetic data, a few steps (smoke test)")
    p.add_argument("--folds", type=int, default=None, help="kfold: number of subject folds (default 5)")
    p.add_argument("--variants", default=None, help="kfold, unseen-lab: comma-separated variants "
                   "(default baseline,fnet,cfinet,pcnet; the no-learning baselines zmp and meancurve are "
                   "always scored, and naming only them trains nothing)")
    p.add_argument("--jobs", type=int, default=None, help="kfold, unseen-lab: training processes (default 2)")
    p.add_argument("--members", type=int, default=None, help="kfold, unseen-lab: seeds trained per variant and "
                   "split; with 2 or more, the mean of their predictions is scored as a further row (default 1)")
    p.add_argument("--kfold", default=None, metavar="RUN_DIR",
                   help="lab-torques: the --out folder of `experiment kfold` on the same dataset, whose "
                        "runs/<variant>_fold<i>/best.pt predict the trials they never saw")
    p.set_defaults(fn=_run)
    return p


def _run(a) -> int:
    from symgait.paths import default_data_dir

    from ..config import ConfigError
    from ..experiments import run_experiment  # torch: only when the command runs
    data_dir = a.data
    if not a.tiny:
        data_dir = Path(data_dir) if data_dir else default_data_dir()
        if not data_dir.is_dir():
            print(f"error: data folder {data_dir} not found (pass --data DIR, or --tiny for the "
                  "synthetic smoke test)")
            return 2
    try:
        kw = {}
        if a.name in ("kfold", "unseen-lab", "reduced-subjects"):
            if a.folds is not None and a.name == "kfold":
                kw["folds"] = a.folds
            if a.variants:
                kw["variants"] = tuple(v.strip() for v in a.variants.split(",") if v.strip())
            if a.jobs is not None:
                kw["jobs"] = a.jobs
            if a.members is not None:
                if a.name == "reduced-subjects":
                    print("error: --members is an option of kfold and unseen-lab")
                    return 2
                if a.members < 1:
                    print(f"error: --members must be 1 or more, got {a.members}")
                    return 2
                kw["members"] = a.members
        elif a.name == "lab-torques":
            if a.folds is not None or a.variants or a.jobs is not None or a.members is not None:
                print("error: --folds, --variants, --jobs and --members are options of kfold and unseen-lab, "
                      "not lab-torques")
                return 2
            if a.kfold is None or not Path(a.kfold).is_dir():
                print(f"error: lab-torques needs --kfold RUN_DIR, an existing folder written by `python -m training "
                      f"experiment kfold` (got {a.kfold})")
                return 2
            kw["kfold"] = Path(a.kfold)
        elif a.folds is not None or a.variants or a.jobs is not None or a.members is not None:
            print(f"error: --folds, --variants, --jobs and --members are options of kfold and unseen-lab, not {a.name}")
            return 2
        if a.kfold is not None and a.name != "lab-torques":
            print(f"error: --kfold is an option of lab-torques, not {a.name}")
            return 2
        run_experiment(a.name, a.out, data_dir=data_dir, config=a.config, overrides=a.overrides,
                       tiny=a.tiny, **kw)
    except Exception as e:
        if isinstance(e, ConfigError):
            print(f"error: {e}")
            return 2
        raise
    return 0
