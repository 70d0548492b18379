"""How many threads this process may use natively.

One photo alone may use every core (the network's onnxruntime, PNG writers
side by side). The command line's -j processes each get a share, which
`catalogue.parallel` sets in OMP_NUM_THREADS, the variable numerical
libraries already read for it. In the browser there are no threads: 1.
"""

from __future__ import annotations

import os
import sys


def threads() -> int:
    if sys.platform == "emscripten":
        return 1
    share = os.environ.get("OMP_NUM_THREADS", "")
    return int(share) if share.isdigit() and int(share) > 0 else max(1, os.cpu_count() or 1)
