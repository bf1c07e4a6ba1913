"""``python -m backend``: the ``reclaimlab`` command."""
import sys

from backend.cli import main

sys.exit(main())
