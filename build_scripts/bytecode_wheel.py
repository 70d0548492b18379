"""Add compiled bytecode to a wheel, beside its sources.

Runs inside the pinned Pyodide (build_scripts/bytecode.mjs starts it under
Node), so the bytecode is made by exactly the interpreter the browser runs;
a native CPython of another version would write .pyc files the browser
ignores. In the browser every import otherwise compiles its source again
on every visit: ~160 ms for the engine and Pillow on the first file.

Each `pkg/mod.py` gains `pkg/__pycache__/mod.cpython-313.pyc` in
unchecked-hash mode: the importer trusts it without reading the source, whose
mtime is the unpack time and would invalidate a timestamp-based .pyc. The
sources stay, for tracebacks and for packages that read their own files
(OpenCV's loader executes its config .py files as text). RECORD is
rewritten with the new files' hashes; zip timestamps are fixed so the same
input gives the same wheel.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import marshal
import sys
import zipfile

SITE = f"/lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages"
EPOCH = (1980, 1, 1, 0, 0, 0)


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _pyc(source: bytes, name: str) -> bytes | None:
    """Unchecked-hash .pyc of `source`, or None when it does not compile (kept as source only)."""
    try:
        code = compile(source, f"{SITE}/{name}", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return None
    flags = 0b01  # hash-based, check_source off (PEP 552)
    return (importlib.util.MAGIC_NUMBER + flags.to_bytes(4, "little")
            + importlib.util.source_hash(source) + marshal.dumps(code))


def _cached_name(name: str) -> str:
    head, _, tail = name.rpartition("/")
    stem = tail[:-3]
    tag = sys.implementation.cache_tag
    return f"{head}/__pycache__/{stem}.{tag}.pyc" if head else f"__pycache__/{stem}.{tag}.pyc"


def add_bytecode(src: str, dst: str) -> dict:
    """Write `dst`: the wheel at `src` plus bytecode. Returns counts for the build log."""
    files: list[tuple[str, bytes]] = []
    record_name = None
    compiled = skipped = 0
    with zipfile.ZipFile(src) as zin:
        for info in zin.infolist():
            if info.is_dir():
                continue
            data = zin.read(info)
            if info.filename.endswith(".dist-info/RECORD"):
                record_name = info.filename
                continue
            files.append((info.filename, data))
            if info.filename.endswith(".py") and ".dist-info/" not in info.filename:
                pyc = _pyc(data, info.filename)
                if pyc is None:
                    skipped += 1
                else:
                    files.append((_cached_name(info.filename), pyc))
                    compiled += 1
    if record_name is None:
        raise ValueError(f"{src} has no RECORD: not a wheel")
    record = "\n".join([_record_line(n, d) for n, d in files] + [f"{record_name},,", ""])
    files.append((record_name, record.encode()))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
        for name, data in files:
            info = zipfile.ZipInfo(name, EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zout.writestr(info, data)
    with open(dst, "wb") as fh:
        fh.write(buf.getvalue())
    return {"compiled": compiled, "source_only": skipped}
