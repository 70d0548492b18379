"""Compiled bytecode for the wheels and the standard library we ship.

Runs inside the pinned Pyodide (build_scripts/bytecode.mjs starts it under
Node), so the bytecode is made by exactly the interpreter the browser runs;
a native CPython of another version would write .pyc files the browser
ignores. In the browser every import otherwise compiles its source again on
every visit: ~1 s of the interpreter's own start-up, ~160 ms for the engine
and Pillow on the first file.

Wheels (`add_bytecode`): each `pkg/mod.py` gains
`pkg/__pycache__/mod.cpython-313.pyc` in unchecked-hash mode: the importer
trusts it without reading the source, whose mtime is the unpack time and
would invalidate a timestamp-based .pyc. The sources stay, for tracebacks and
for packages that read their own files (OpenCV's loader executes its config
.py files as text). RECORD is rewritten with the new files' hashes; zip
timestamps are fixed so the same input gives the same wheel.

The stdlib zip (`compile_stdlib`): each module becomes a sourceless `mod.pyc`
in zipimport's layout, 4.2 MB. Keeping the sources too would make it 6.6 MB,
for tracebacks' source lines only.
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


def _pyc(source: bytes, filename: str) -> bytes | None:
    """Unchecked-hash .pyc of `source`, or None when it does not compile (kept as source only)."""
    try:
        code = compile(source, filename, "exec", dont_inherit=True)
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


def _entries(src: str):
    """(name, bytes) of every file in the zip at `src`, in order."""
    with zipfile.ZipFile(src) as zin:
        for info in zin.infolist():
            if not info.is_dir():
                yield info.filename, zin.read(info)


def add_bytecode(src: str, dst: str) -> dict:
    """Write `dst`: the wheel at `src` plus bytecode. Returns counts for the build log."""
    files: list[tuple[str, bytes]] = []
    record_name = None
    compiled = skipped = 0
    for name, data in _entries(src):
        if name.endswith(".dist-info/RECORD"):
            record_name = name
            continue
        files.append((name, data))
        if name.endswith(".py") and ".dist-info/" not in name:
            pyc = _pyc(data, f"{SITE}/{name}")
            if pyc is None:
                skipped += 1
            else:
                files.append((_cached_name(name), pyc))
                compiled += 1
    if record_name is None:
        raise ValueError(f"{src} has no RECORD: not a wheel")
    record = "\n".join([_record_line(n, d) for n, d in files] + [f"{record_name},,", ""])
    files.append((record_name, record.encode()))
    _write_zip(dst, files)
    return {"compiled": compiled, "source_only": skipped}


def compile_stdlib(src: str, dst: str) -> dict:
    """Write `dst`: the stdlib zip at `src` with every module that compiles as bytecode only."""
    archive = next(p for p in sys.path if p.endswith(".zip"))  # where the browser mounts it
    files: list[tuple[str, bytes]] = []
    compiled = skipped = 0
    for name, data in _entries(src):
        pyc = _pyc(data, f"{archive}/{name}") if name.endswith(".py") else None
        if pyc is None:
            files.append((name, data))
            skipped += name.endswith(".py")
        else:
            files.append((name[:-3] + ".pyc", pyc))
            compiled += 1
    _write_zip(dst, files)
    return {"compiled": compiled, "source_only": skipped}


def _write_zip(dst: str, files: list[tuple[str, bytes]]) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
        for name, data in files:
            info = zipfile.ZipInfo(name, EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zout.writestr(info, data)
    with open(dst, "wb") as fh:
        fh.write(buf.getvalue())
