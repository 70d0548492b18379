// The engine worker: one Pyodide interpreter running the pixelpress engine.
//
// This module only dispatches requests; the messages are in protocol.js, the
// start-up in boot.js and every call into Python in engine.js. It knows
// nothing of the UI. Engine failures come back as typed errors; the
// interpreter itself survives every bad input.

// A worker has no <link rel=modulepreload>: a module is fetched only once the
// one importing it has arrived, so each level of imports costs a round trip
// (through the service worker on later visits). Naming the deeper modules here
// fetches the whole graph at once; and the runtime's 1 MB script, which
// loadPyodide would only start importing after the manifest and the stored
// snapshot, loads while the rest of the graph does (it sets
// globalThis._createPyodideModule, which loadPyodide then uses).
import '../pyodide/pyodide.asm.js';
import '../pyodide/pyodide.mjs';
import './codecs.js';
import './manifest.js';
import './operations.js';
import './packages.js';
import './progress-fetch.js';
import './snapshot.js';
import { boot } from './boot.js';
import { needsModel, packagesFor } from './engine.js';
import { infer, inferAnswered } from './infer.js';
import { heapBytes } from './interpreter.js';
import { REQUEST, answer, failure, malformedRun, opProgress } from './protocol.js';

const booting = boot();

function fail(id, error) {
  postMessage(failure(id, error, heapBytes()));
}

async function run({ engine, loadPackages }, { id, op, options, data }) {
  const started = performance.now();
  const packages = packagesFor(op);
  try {
    await loadPackages(packages);
  } catch (e) {
    return fail(id, { code: 'runtime_unavailable', message: `Could not load ${packages.join(', ')}: ${e.message}` });
  }
  performance.measure(`pixelpress:packages-for-${op}`, { start: started });
  const onProgress = (fields) => postMessage(opProgress(id, fields));
  let res;
  const called = performance.now();
  try {
    res = await engine.call({ op, input: new Uint8Array(data), options, onProgress, infer });
  } catch (e) {
    // Only a fault of the interpreter itself reaches here; report it and let the pool replace us.
    return fail(id, { code: 'internal_error', message: String(e?.message ?? e) });
  }
  performance.measure(`pixelpress:call-${op}`, { start: called });
  const got = engine.answerOf(res);
  if (!got.ok) return fail(id, got.error);
  const { outputs, meta, transfer } = got;
  return postMessage(answer(id, { outputs, meta, ms: performance.now() - started, heapBytes: heapBytes() }), transfer);
}

async function preload({ loadPackages }, { id, op }) {
  try {
    await loadPackages(packagesFor(op));
    postMessage(answer(id, { meta: { model: needsModel(op) } }));
  } catch (e) {
    fail(id, { code: 'runtime_unavailable', message: String(e?.message ?? e) });
  }
}

const stats = ({ engine }, { id }) => postMessage(answer(id, { meta: engine.stats() }));

const HANDLERS = { [REQUEST.run]: run, [REQUEST.preload]: preload, [REQUEST.stats]: stats };

async function handle(msg) {
  let worker;
  try {
    worker = await booting;
  } catch {
    return fail(msg.id, { code: 'runtime_unavailable', message: 'The engine runtime failed to start.' });
  }
  const handler = Object.hasOwn(HANDLERS, msg.type) ? HANDLERS[msg.type] : null;
  if (!handler) return fail(msg.id, { code: 'bad_request', message: `Unknown message type ${msg.type}` });
  const malformed = msg.type === REQUEST.run && malformedRun(msg);
  if (malformed) return fail(msg.id, malformed);
  return handler(worker, msg);
}

// One request at a time: Python is single-threaded, and order keeps memory
// bounded. Whatever a request throws is answered and the chain stays healthy:
// a rejected link would leave every later request unanswered.
let queue = Promise.resolve();
self.onmessage = ({ data: msg }) => {
  // The answer to the running job's own request cannot wait behind that job.
  if (msg?.type === REQUEST.inferResult) return inferAnswered(msg);
  queue = queue.then(() => handle(msg)).catch((e) => {
    fail(msg?.id, { code: 'internal_error', message: `The worker could not handle this request: ${e?.message ?? e}` });
  });
};
