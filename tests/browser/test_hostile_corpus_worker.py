"""The hostile corpus through the real worker pool (issue 11), compared file by file with native.

Every corpus file (tests/hostile_corpus.py) goes through convert in the
page's worker pool; a subset goes through every other op. Each must get a
typed answer (no internal_error, no dead worker, no timeout), and the same
answer as the native engine: the same code, and on success pictures of the
same sizes (or ZIPs with the same members). The few files where the browser
build honestly differs are listed in WORKER_DIFFERS, each with its reason.
"""

from __future__ import annotations

import base64

import hostile_corpus as corpus
import pytest
from browser_harness import engine_test_module

E = engine_test_module("test_hostile_corpus")

OP_SUBSET = 12
BATCH_BYTES = 24_000_000

# The documented differences: (why, rule on name, native outcome, worker outcome).
WORKER_DIFFERS = [
    ("Pyodide's libtiff has no JPEG or LZMA codec (Deflate the engine inflates itself, except in YCbCr or "
     "reversed bit order): the worker refuses such a TIFF before decoding, in words that say it is not "
     "damaged. Natively libtiff decodes it, or, for a fuzzed one, finds it damaged.",
     lambda name, n, w: name.lower().endswith((".tif", ".tiff")) and n["code"] in ("ok", "corrupt_image")
     and w["code"] == "unsupported_format" and "cannot decode in the browser" in w["message"]),
]

RUN_BATCH = """async ([jobs, timeoutMs]) => {
  const b64 = (buf) => {
    let s = '';
    for (let i = 0; i < buf.length; i += 0x8000) s += String.fromCharCode(...buf.subarray(i, i + 0x8000));
    return btoa(s);
  };
  const one = async ([name, op, data, options]) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    try {
      const r = await window.pixelpress.run(op, bytes, options, { timeoutMs });
      const outputs = [];
      for (const o of r.outputs) outputs.push(b64(new Uint8Array(await o.blob.arrayBuffer())));
      return [name, { ok: true, outputs }];
    } catch (e) {
      return [name, { ok: false, error: { code: e.code, message: e.message } }];
    }
  };
  return Promise.all(jobs.map(one));
}"""


def run_in_worker(page, jobs: list[tuple[str, str, bytes, dict]]) -> dict[str, dict]:
    """{name: outcome} through the page's pool, in batches the pool runs concurrently."""
    results, batch, size = {}, [], 0

    def flush():
        answers = page.evaluate(RUN_BATCH, [batch, corpus.HANG_SECONDS * 1000])
        for name, answer in answers:
            if answer["ok"]:
                answer["outputs"] = [base64.b64decode(o) for o in answer["outputs"]]
            results[name] = corpus.outcome(answer)

    for name, op, data, options in jobs:
        batch.append([name, op, base64.b64encode(data).decode(), options])
        size += len(data)
        if size > BATCH_BYTES or len(batch) >= 60:
            flush()
            batch, size = [], 0
    if batch:
        flush()
    return results


def expected_difference(name: str, native: dict, worker: dict) -> bool:
    base = name.split(":", 1)[-1]
    return any(rule(base, native, worker) for _why, rule in WORKER_DIFFERS)


def mismatches(native: dict[str, dict], worker: dict[str, dict]) -> list[str]:
    out = []
    for name, n in native.items():
        w = worker[name]
        same = n["code"] == w["code"] and n.get("made") == w.get("made")
        if not same and not expected_difference(name, n, w):
            out.append(f"{name}: native {n} / worker {w}")
    return out


@pytest.fixture(scope="module")
def convert_outcomes(engine_page):
    jobs = [(name, "convert", data, corpus.target(i)) for i, (name, data) in enumerate(corpus.corpus())]
    return run_in_worker(engine_page, jobs)


def test_convert_in_the_worker_gives_every_file_a_typed_answer(convert_outcomes):
    assert len(convert_outcomes) == len(corpus.corpus())
    assert E.failures(convert_outcomes) == []


def test_convert_in_the_worker_agrees_with_native(convert_outcomes):
    assert mismatches(corpus.native_outcomes(), convert_outcomes) == []


def test_every_documented_difference_still_happens(convert_outcomes):
    """A difference that no longer occurs must leave the list, so the list stays true."""
    native = corpus.native_outcomes()
    for why, rule in WORKER_DIFFERS:
        assert any(rule(k, native[k], convert_outcomes[k]) for k in native), f"no file differs any more: {why}"


def test_every_op_in_the_worker_agrees_with_native(engine_page):
    jobs = corpus.op_jobs(OP_SUBSET)
    worker = run_in_worker(engine_page, jobs)
    assert E.failures(worker) == []
    assert mismatches(corpus.run_native(jobs), worker) == []
