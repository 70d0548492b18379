// The Pyodide interpreter: from this device's snapshot when there is a good
// one (~0.3-0.5 s), else started afresh (~1 s) and snapshotted for next time.
// snapshot.js stores the images; this module decides when to trust one.

import { loadPyodide } from '../pyodide/pyodide.mjs';
import { runtimeBytes } from './manifest.js';
import { countPhase } from './progress-fetch.js';
import { dropSnapshot, readSnapshot, snapshotKey, writeSnapshot } from './snapshot.js';

export const RUNTIME_URL = new URL('../pyodide/', import.meta.url).href;
export const BOOT_FILES = ['pyodide.asm.wasm', 'pyodide.asm.js', 'python_stdlib.zip', 'pyodide-lock.json'];

// Stdlib modules every first file imports, mostly from Pyodide's own package
// loader: imported before the snapshot, they come back initialised instead of
// being loaded and executed again on each visit. All are pure Python or built
// into the runtime (a module from a loaded package would not survive a
// restore). Derived by listing sys.modules before and after the boot and one
// convert.
const SNAPSHOT_IMPORTS = ['__future__', 'dataclasses', 'decimal', 'email', 'encodings.cp437', 'fractions',
  'importlib.metadata', 'numbers', 'tarfile'];

// Pyodide never settles on some invalid images; a restore takes well under 1 s.
const RESTORE_BUDGET_MS = 10_000;

let current = null;

// The wasm heap only grows: its size is the high-water mark of every job this worker ran.
export function heapBytes() {
  return current?._module?.HEAP8?.length ?? null;
}

// Through the JS API rather than Python source: the engine is not installed yet at either point.
function importAll(py, names) {
  for (const name of names) {
    try {
      py.pyimport(name).destroy();
    } catch (e) {
      // Not in this runtime: the image is a little less complete. Anything else means no image.
      if (e?.type !== 'ImportError' && e?.type !== 'ModuleNotFoundError') throw e;
    }
  }
}

function reseedRandom(py) {
  const sys = py.pyimport('sys');
  const modules = sys.modules;
  const random = modules.get('random');
  try {
    random?.seed();
  } finally {
    random?.destroy();
    modules.destroy();
    sys.destroy();
  }
}

async function restore(options, found) {
  let timer;
  const budget = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('restoring took over 10 s')), RESTORE_BUDGET_MS);
  });
  const py = await Promise.race([loadPyodide({ ...options, _loadSnapshot: found.bytes }), budget])
    .finally(() => clearTimeout(timer));
  if (!(await found.intact)) throw new Error('the stored snapshot does not match its sha256');
  // The image froze the state of any module seeded at start-up.
  reseedRandom(py);
  return py;
}

function snapshot(py, key) {
  const t = performance.now();
  try {
    importAll(py, SNAPSHOT_IMPORTS);
    // Taken before any package or user file: the image holds only the bare interpreter.
    writeSnapshot(key, py.makeMemorySnapshot());
  } catch (e) {
    console.warn('no interpreter snapshot this time:', e); // the engine works without one
  }
  performance.measure('pixelpress:snapshot', { start: t });
}

// {py, interpreter: 'restored'|'started', restoredFrom: snapshot key or null}
export async function startInterpreter(manifest) {
  const options = { indexURL: RUNTIME_URL, lockFileURL: `${RUNTIME_URL}pyodide-lock.json`,
    stdout: () => {}, stderr: (s) => console.warn(s) };
  const key = snapshotKey(manifest);
  const asked = performance.now();
  const found = key && await readSnapshot(key);
  if (found) {
    found.bytes.then(() => performance.measure('pixelpress:snapshot-read', { start: asked }), () => {});
    try {
      const t = performance.now();
      current = await restore(options, found);
      performance.measure('pixelpress:restore', { start: t });
      return { py: current, interpreter: 'restored', restoredFrom: key };
    } catch (e) {
      console.warn('interpreter snapshot rejected, starting afresh:', e);
      await dropSnapshot(key);
      countPhase('runtime', runtimeBytes(manifest, BOOT_FILES));
    }
  }
  const t = performance.now();
  const py = await loadPyodide({ ...options, _makeSnapshot: Boolean(key) });
  performance.measure('pixelpress:start', { start: t });
  if (key) snapshot(py, key);
  current = py;
  return { py, interpreter: 'started', restoredFrom: null };
}
