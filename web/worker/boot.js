// Boot in named phases, run in order and each timed: the ready message's
// timings are keyed by phase name (plus the total, and the steps measured
// within the phases, such as `restore` or `start`), and a failure in any
// phase is the worker's one fatal message. Each phase and step is also a
// User Timing measure named `pixelpress:<name>`, which devtools shows and
// bench/page_load.py reads to say where a start's time went.

import { engineOf } from './engine.js';
import { BOOT_FILES, RUNTIME_URL, startInterpreter } from './interpreter.js';
import { readManifest, runtimeBytes } from './manifest.js';
import { packageLoader } from './packages.js';
import { countPhase, countResponsesUnder } from './progress-fetch.js';
import { fatal, ready } from './protocol.js';
import { dropSnapshot } from './snapshot.js';

const ENGINE_PACKAGES = ['pixelpress', 'pillow'];

const PHASES = {
  // The manifest, then the interpreter, restored or started.
  async boot(state) {
    const t = performance.now();
    state.manifest = await readManifest();
    performance.measure('pixelpress:manifest', { start: t });
    countPhase('runtime', runtimeBytes(state.manifest, BOOT_FILES));
    const { py, interpreter, restoredFrom } = await startInterpreter(state.manifest);
    Object.assign(state, { py, interpreter, restoredFrom });
  },
  // The engine's wheel and Pillow, which every operation needs.
  async packages(state) {
    state.loadPackages = packageLoader(state.py, state.manifest);
    await state.loadPackages(ENGINE_PACKAGES);
  },
  // The engine's modules, and the versions they report.
  async imports(state) {
    state.engine = engineOf(state.py);
    state.versions = state.engine.versions();
  },
};

// Resolves with {engine, loadPackages} once 'ready' is posted; rejects once 'fatal' is.
export async function boot() {
  countResponsesUnder(RUNTIME_URL);
  const state = { restoredFrom: null };
  try {
    const timings = {};
    const t0 = performance.now();
    for (const [name, phase] of Object.entries(PHASES)) {
      const t = performance.now();
      await phase(state);
      timings[name] = performance.measure(`pixelpress:${name}`, { start: t }).duration;
    }
    timings.total = performance.now() - t0;
    // The steps inside the phases, so that a page (or bench/browsers_start.py) sees where a start went.
    for (const m of performance.getEntriesByType('measure')) {
      const name = m.name.replace('pixelpress:', '');
      if (m.name.startsWith('pixelpress:') && !(name in timings)) timings[name] = m.duration;
    }
    postMessage(ready({ versions: state.versions, interpreter: state.interpreter, timings }));
    // Jobs already wait on the boot, so this costs a waiting job nothing it would not pay anyway.
    const t = performance.now();
    state.engine.warmUp();
    performance.measure('pixelpress:warm-up', { start: t });
    return { engine: state.engine, loadPackages: state.loadPackages };
  } catch (e) {
    // A restored interpreter that cannot finish booting must not be restored again.
    if (state.restoredFrom) await dropSnapshot(state.restoredFrom);
    postMessage(fatal({ code: 'runtime_unavailable', message: `The engine could not start: ${e?.message ?? e}` }));
    throw e;
  }
}
