"""``python -m symgait.cli``: the ``symgait`` command."""
import sys

from . import main

sys.exit(main())
