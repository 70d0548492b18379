// The engine worker: one Pyodide interpreter running the pixelpress engine.
//
// Protocol (all messages are plain objects):
//   in : {type: 'run', id, op, options, data: ArrayBuffer}   (data transferred)
//        {type: 'preload', id, op}                           (load an op's packages ahead of time)
//        {type: 'stats', id}                                  (heap figures for leak benchmarks, bytecode use)
//        {type: 'infer-result', inferId, ok, data?, dims?, error?}  (the page's answer to an 'infer')
//   out: {type: 'progress', phase, loaded, total}             runtime loading, in bytes
//        {type: 'ready', timings, versions, interpreter: 'restored'|'started'}
//        {type: 'fatal', error: {code, message}}              the runtime could not start
//        {type: 'op-progress', id, done, total, file}
//        {type: 'infer', inferId, tensor: ArrayBuffer, dims}     the network's input; the page runs it
//                                                             (one model worker serves every engine worker)
//        {type: 'result', id, ok: true, outputs: [{name, mime, data, meta}], meta, ms, heapBytes}
//        {type: 'result', id, ok: false, error: {code, message, field?}, heapBytes}
//        (heapBytes: the wasm heap after the job, which the pool uses to recycle a worker)
// It knows nothing of the UI. Engine failures come back as typed errors; the
// interpreter itself survives every bad input.

import { loadPyodide } from '../pyodide/pyodide.mjs';
import { dropSnapshot, readSnapshot, snapshotKey, writeSnapshot } from './snapshot.js';

const RUNTIME_URL = new URL('../pyodide/', import.meta.url).href;
const MANIFEST_URL = new URL('../asset-manifest.json', import.meta.url).href;
const BOOT_FILES = ['pyodide.asm.wasm', 'pyodide.asm.js', 'python_stdlib.zip', 'pyodide-lock.json'];

let pyodide = null;
let bridge = null;
let registry = null;
const loaded = new Set();
let manifest = null;

// Byte-level loading progress: Pyodide fetches its files itself, so every
// response under the runtime URL is counted as it streams in. The counting
// reads a clone and the original response goes to Pyodide untouched: a
// constructed Response has no URL, which would stop Chromium from reusing its
// compiled-wasm cache for pyodide.asm.wasm on the next visit.
let progress = { phase: 'runtime', loaded: 0, total: 0 };
const realFetch = self.fetch.bind(self);
async function countBytes(body) {
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      progress.loaded += value.byteLength;
      postMessage({ type: 'progress', ...progress });
    }
  } catch {
    // the original stream reports its own errors to Pyodide
  }
}
self.fetch = async (input, init) => {
  const response = await realFetch(input, init);
  const url = input instanceof Request ? input.url : String(input);
  if (url.startsWith(RUNTIME_URL) && response.body) countBytes(response.clone().body);
  return response;
};

function expectedBytes(files) {
  if (!manifest) return 0;
  return files.reduce((sum, f) => sum + (manifest.files[`pyodide/${f}`]?.bytes ?? 0), 0);
}

function packageFiles(names) {
  return names.filter((n) => !loaded.has(n)).map((n) => manifest?.packages?.[n]).filter(Boolean);
}

async function loadPackages(names) {
  const missing = names.filter((n) => !loaded.has(n));
  if (!missing.length) return;
  progress = { phase: 'packages', loaded: 0, total: expectedBytes(packageFiles(missing)) };
  await pyodide.loadPackage(missing, { messageCallback: () => {}, errorCallback: (m) => console.warn(m) });
  // loadPackage pulls dependencies too; ask Python what is now importable.
  for (const n of missing) loaded.add(n);
}

// Stdlib modules every first file imports, mostly from Pyodide's own package
// loader: imported before the snapshot, they come back initialised instead of
// being loaded and executed again on each visit. All are pure Python or built
// into the runtime (a module from a loaded package would not survive a
// restore). Derived by listing sys.modules before and after the boot and one
// convert.
const SNAPSHOT_IMPORTS = ['__future__', 'dataclasses', 'decimal', 'email', 'encodings.cp437', 'fractions',
  'importlib.metadata', 'numbers', 'tarfile'];

// The interpreter from this device's snapshot when there is a good one
// (~0.3-0.5 s), else started afresh (~1 s) and snapshotted for next time.
let restoredFrom = null;
async function startInterpreter() {
  const options = { indexURL: RUNTIME_URL, lockFileURL: `${RUNTIME_URL}pyodide-lock.json`, stdout: () => {}, stderr: (s) => console.warn(s) };
  const key = snapshotKey(manifest);
  const found = key && await readSnapshot(key);
  if (found) {
    try {
      // Pyodide never settles on some invalid images; a restore takes well under 1 s.
      let timer;
      const budget = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('restoring took over 10 s')), 10_000);
      });
      const py = await Promise.race([loadPyodide({ ...options, _loadSnapshot: found.bytes }), budget])
        .finally(() => clearTimeout(timer));
      if (!(await found.intact)) throw new Error('the stored snapshot does not match its sha256');
      // The image froze the state of any module seeded at start-up.
      py.runPython('import sys\nif "random" in sys.modules: sys.modules["random"].seed()');
      restoredFrom = key;
      return { py, interpreter: 'restored' };
    } catch (e) {
      console.warn('interpreter snapshot rejected, starting afresh:', e);
      await dropSnapshot(key);
      progress = { phase: 'runtime', loaded: 0, total: expectedBytes(BOOT_FILES) };
    }
  }
  const py = await loadPyodide({ ...options, _makeSnapshot: Boolean(key) });
  if (key) {
    try {
      py.runPython(`import importlib\nfor name in ${JSON.stringify(SNAPSHOT_IMPORTS)}:
    try: importlib.import_module(name)
    except ImportError: pass`);
      // Taken before any package or user file: the image holds only the bare interpreter.
      writeSnapshot(key, py.makeMemorySnapshot());
    } catch (e) {
      console.warn('no interpreter snapshot this time:', e); // the engine works without one
    }
  }
  return { py, interpreter: 'started' };
}

async function boot() {
  const t0 = performance.now();
  try {
    manifest = await (await realFetch(MANIFEST_URL)).json();
  } catch {
    manifest = null; // progress stays indeterminate and no snapshot is used; everything else works
  }
  progress = { phase: 'runtime', loaded: 0, total: expectedBytes(BOOT_FILES) };
  const { py, interpreter } = await startInterpreter();
  pyodide = py;
  const t1 = performance.now();
  await loadPackages(['pixelpress', 'pillow']);
  const t2 = performance.now();
  bridge = pyodide.pyimport('pixelpress.bridge');
  registry = pyodide.pyimport('pixelpress.registry');
  const versions = JSON.parse(pyodide.runPython(
    'import json, PIL, pixelpress, sys; json.dumps({"pixelpress": pixelpress.__version__, "pillow": PIL.__version__, "python": sys.version.split()[0]})'));
  const t3 = performance.now();
  versions.pyodide = pyodide.version;
  postMessage({ type: 'ready', versions, interpreter, timings: { boot: t1 - t0, packages: t2 - t1, imports: t3 - t2, total: t3 - t0 } });
  // Jobs already wait on `booting`, so this costs a waiting job nothing it would not pay anyway.
  bridge.warm_up();
}

// Which imported engine and Pillow modules have bytecode this interpreter
// accepts, and which stdlib modules came from source (build_scripts/bytecode.py).
// Either was compiled from source at import, which the build step exists to avoid.
const BYTECODE_REPORT = `
import importlib.util, json, sys
def _usable(path):
    try:
        with open(importlib.util.cache_from_source(path), "rb") as f:
            head = f.read(8)
    except OSError:
        return False
    return head[:4] == importlib.util.MAGIC_NUMBER and head[4:8] == b"\\x01\\x00\\x00\\x00"
_mods = [(n, str(getattr(m, "__file__", None))) for n, m in list(sys.modules.items())]
_files = [f for n, f in _mods if n.split(".")[0] in ("PIL", "pixelpress") and f.endswith(".py")]
_zip = next(p for p in sys.path if p.endswith(".zip"))
_stdlib = [(n, f) for n, f in _mods if f.startswith(_zip + "/")]
json.dumps({"modules": len(_files), "without": sorted(f for f in _files if not _usable(f)),
            "stdlib_modules": len(_stdlib), "stdlib_from_source": sorted(n for n, f in _stdlib if f.endswith(".py"))})
`;

// The network runs in the page's model worker: Python awaits this, the page answers with 'infer-result'.
const inferring = new Map();
let nextInfer = 1;
function infer(tensorBytes, dims) {
  const inferId = nextInfer++;
  // Both arguments are Pyodide's to release once the returned promise settles.
  const bytes = tensorBytes.toJs();
  const tensor = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const shape = dims.toJs();
  return new Promise((resolve, reject) => {
    inferring.set(inferId, { resolve, reject });
    postMessage({ type: 'infer', inferId, tensor, dims: shape }, [tensor]);
  });
}
function inferAnswered({ inferId, ok, data, error }) {
  const pending = inferring.get(inferId);
  if (!pending) return;
  inferring.delete(inferId);
  if (ok) pending.resolve(new Float32Array(data));
  else pending.reject(new Error(error?.message ?? 'the network failed'));
}

function packagesFor(op) {
  const proxy = registry.packages_for(op);
  try { return proxy.toJs(); } finally { proxy.destroy(); }
}

function needsModel(op) {
  try { return registry.needs_model(op); } catch { return false; } // unknown ops: the bridge phrases the error
}

// The wasm heap only grows: its size is the high-water mark of every job this worker ran.
function heapBytes() {
  return pyodide?._module?.HEAP8?.length ?? null;
}

function errorResult(id, error) {
  postMessage({ type: 'result', id, ok: false, error, heapBytes: heapBytes() });
}

async function run({ id, op, options, data }) {
  const started = performance.now();
  let packages;
  try {
    packages = packagesFor(op);
  } catch (e) {
    // UnknownOperation is a typed engine error: let the bridge phrase it.
    packages = [];
  }
  try {
    await loadPackages(packages);
  } catch (e) {
    return errorResult(id, { code: 'runtime_unavailable', message: `Could not load ${packages.join(', ')}: ${e.message}` });
  }
  const input = new Uint8Array(data);
  const onProgress = (p) => {
    const js = p.toJs({ dict_converter: Object.fromEntries });
    p.destroy?.();
    postMessage({ type: 'op-progress', id, ...js });
  };
  let res;
  try {
    res = needsModel(op)
      ? await bridge.run_async(op, input, JSON.stringify(options ?? {}), onProgress, infer)
      : bridge.run(op, input, JSON.stringify(options ?? {}), onProgress);
  } catch (e) {
    // Only a fault of the interpreter itself reaches here (the bridge catches
    // every Python exception); report it and let the pool replace us.
    return errorResult(id, { code: 'internal_error', message: String(e?.message ?? e) });
  }
  try {
    if (!res.get('ok')) {
      const err = res.get('error');
      const error = err.toJs({ dict_converter: Object.fromEntries });
      err.destroy();
      return errorResult(id, error);
    }
    const outputs = [];
    const transfer = [];
    const list = res.get('outputs');
    for (const item of list) {
      const [name, mime, blob, metaJson] = [item.get(0), item.get(1), item.get(2), item.get(3)];
      const bytes = blob.toJs();
      blob.destroy();
      item.destroy();
      outputs.push({ name, mime, data: bytes.buffer, meta: JSON.parse(metaJson) });
      transfer.push(bytes.buffer);
    }
    list.destroy();
    const meta = JSON.parse(res.get('meta'));
    postMessage({ type: 'result', id, ok: true, outputs, meta, ms: performance.now() - started, heapBytes: heapBytes() }, transfer);
  } finally {
    res.destroy();
  }
}

const booting = boot().catch(async (e) => {
  // A restored interpreter that cannot finish booting must not be restored again.
  if (restoredFrom) await dropSnapshot(restoredFrom);
  postMessage({ type: 'fatal', error: { code: 'runtime_unavailable', message: `The engine could not start: ${e?.message ?? e}` } });
  throw e;
});

async function handle(msg) {
  try {
    await booting;
  } catch {
    return errorResult(msg.id, { code: 'runtime_unavailable', message: 'The engine runtime failed to start.' });
  }
  if (msg.type === 'run') {
    if (!(msg.data instanceof ArrayBuffer) || typeof msg.op !== 'string') {
      return errorResult(msg.id, { code: 'bad_request', message: 'A run request needs an operation name and an ArrayBuffer of image bytes.' });
    }
    return run(msg);
  }
  if (msg.type === 'preload') {
    try {
      await loadPackages(packagesFor(msg.op));
      postMessage({ type: 'result', id: msg.id, ok: true, outputs: [], meta: { model: needsModel(msg.op) } });
    } catch (e) {
      errorResult(msg.id, { code: 'runtime_unavailable', message: String(e?.message ?? e) });
    }
    return undefined;
  }
  if (msg.type === 'stats') {
    const objects = pyodide.runPython('import gc; gc.collect(); len(gc.get_objects())');
    const bytecode = JSON.parse(pyodide.runPython(BYTECODE_REPORT));
    const meta = { wasm_heap_bytes: pyodide._module.HEAP8.length, python_objects: objects, bytecode };
    return postMessage({ type: 'result', id: msg.id, ok: true, outputs: [], meta });
  }
  return errorResult(msg.id, { code: 'bad_request', message: `Unknown message type ${msg.type}` });
}

// One request at a time: Python is single-threaded, and order keeps memory
// bounded. Whatever a request throws is answered and the chain stays healthy:
// a rejected link would leave every later request unanswered.
let queue = Promise.resolve();
self.onmessage = ({ data: msg }) => {
  // The answer to the running job's own request cannot wait behind that job.
  if (msg?.type === 'infer-result') return inferAnswered(msg);
  queue = queue.then(() => handle(msg)).catch((e) => {
    errorResult(msg?.id, { code: 'internal_error', message: `The worker could not handle this request: ${e?.message ?? e}` });
  });
};
