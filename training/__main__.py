"""``python -m training``: the training side's command line (:mod:`training.cli`)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
