import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The tests import the engine from the source tree and the sample helpers beside them.
for p in (ROOT / "py", ROOT / "tests"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))
