"""`python -m pixelpress`: the command line (pixelpress.cli)."""

import sys

from .cli import main

sys.exit(main())
