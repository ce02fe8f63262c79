"""``python -m localcloud`` (with ``scripts/`` on ``sys.path``)."""

import sys

from .cli import main

sys.exit(main())
