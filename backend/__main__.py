"""`python -m backend ...` is the `reclaimlab` command (backend/cli.py)."""
import sys

from backend.cli import main

sys.exit(main())
