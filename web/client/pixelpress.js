// pixelpress client: import this from any page to run engine operations in
// a pool of Web Workers. Importing it starts nothing and registers nothing
// (no service worker): a client starts its first worker when constructed, or
// with `prefetch: false` on its first job.
//
//   import { PixelpressClient } from './client/pixelpress.js';
//   const px = new PixelpressClient({ onLoading: (p) => ... });
//   const { blob, meta, outputs } = await px.run('convert', file, { format: 'webp' });
//   const results = await px.runBatch(filesOrUrls, 'convert', { format: 'jpeg' });
//   const r = await px.runWithFallback(({ signal }) => fetch('/api/paint', { method: 'POST', body: file, signal }),
//     'oil_paint', file, { brush_size: 6 });   // r.path: 'server' | 'device', r.reason
//
// `baseUrl` says where the worker and the runtime live: the folder holding
// worker/, pyodide/, vendor/, models/ and asset-manifest.json (a copy of dist/
// or of the npm package). By default it is the folder above this module. On
// another origin the workers start through a blob: wrapper and the files need
// CORS headers (docs/embedding.md).
//
// Errors are PixelpressError with a stable `code`: the engine's (such as
// `corrupt_image`) or the client's own, listed with when each happens in
// CODES (codes.js), e.g. `timeout`, `cancelled`, `worker_crashed`, `worker_unavailable`.

import { capabilities, defaultPoolSize, lowMemoryDevice } from './capabilities.js';
import { EngineHandle } from './engine-handle.js';
import { CODES, PixelpressError, asError } from './errors.js';
import { runWithFallback } from './fallback.js';
import { fetchImage } from './fetch-image.js';
import { ModelHost } from './model-host.js';

export { CODES, PixelpressError, capabilities, defaultPoolSize, fetchImage, lowMemoryDevice, runWithFallback };

/**
 * @typedef {import('./operations.js').OperationOptions} OperationOptions
 * @typedef {import('./operations.js').OpName} OpName
 * @typedef {import('./fallback.js').FallbackOptions} FallbackOptions
 * @typedef {import('./fallback.js').FallbackResult} FallbackResult
 * @typedef {import('./errors.js').ErrorCode} ErrorCode
 * @typedef {import('./capabilities.js').Capabilities} Capabilities
 * @typedef {import('./capabilities.js').FormatSupport} FormatSupport
 * @typedef {import('./capabilities.js').ImageFormat} ImageFormat
 */

/**
 * The app's own server call for runWithFallback.
 * @template {OpName} [K=OpName]
 * @typedef {import('./fallback.js').ServerCall<K>} ServerCall
 */

/**
 * What `run()` takes: image bytes, or a URL the browser fetches itself.
 * @typedef {Blob | ArrayBuffer | ArrayBufferView | string | {url: string}} Input
 */

/**
 * Loading progress in bytes: `runtime` (Pyodide), `packages` (wheels such as OpenCV), `model` (the network).
 * @typedef {{type?: 'progress', phase: 'runtime' | 'packages' | 'model' | string, loaded: number, total: number}} LoadingProgress
 */

/**
 * An operation's own progress, for the ops that report it: `{done, total, step}` before each step (`done` steps
 * finished of `total`, `step` the one starting); `part: 'network'` while the background-removal network runs for
 * the job (also for ops without steps, alone).
 * @typedef {{type?: 'op-progress', id?: number, done?: number, total?: number, step?: string, part?: string,
 *   [key: string]: unknown}} OpProgress
 */

/**
 * @typedef {object} ClientOptions
 * @property {string | URL} [baseUrl] where worker/, pyodide/, vendor/, models/ and asset-manifest.json live;
 *   default: the folder above this module. Relative URLs resolve against the page.
 * @property {boolean} [prefetch] start the first worker (and the ~13 MB runtime download) now, while the user
 *   picks files (default true); false: on the first job, e.g. when the device is only a fallback.
 * @property {number} [size] most workers in the pool (default: cores, 1 to 4; at most 2 where the device reports
 *   4 GB of memory or less, or is an iPhone or iPad: see `lowMemoryDevice()`)
 * @property {number} [timeoutMs] a job's time budget before its worker is ended (default 180 000)
 * @property {(progress: LoadingProgress) => void} [onLoading] runtime, package and model download progress
 * @property {{timeoutMs?: number, maxBytes?: number}} [fetchOptions] for inputs given as URLs
 * @property {number} [recycleHeapBytes] replace a worker whose wasm heap grew past this (default 1.5e9; 0.6e9 on a
 *   device with little memory)
 * @property {number} [heapBudgetBytes] most wasm heap the engine workers may hold together: a job starts beside
 *   running ones only when the heaps its op and theirs were seen to need fit (default 1e9 on a device with little
 *   memory, Infinity elsewhere)
 * @property {number} [releaseAfterMs] once no job has run for this long, give memory back: end the model worker
 *   and every engine worker but one, and replace that one by a fresh worker if jobs left its heap above
 *   `idleHeapBytes` (default 10 s on a device with little memory, 60 s elsewhere; Infinity: never)
 * @property {number} [idleHeapBytes] see releaseAfterMs (default 400e6: a fresh worker's heap is ~0.1 GB)
 * @property {number} [releaseModelAfterMs] end the model worker (the background-removal network, ~0.3 GB) this long
 *   after each use, not only after a batch: the rest of a car listing then runs without it (default 0 on a device
 *   with little memory, Infinity elsewhere)
 */

/**
 * @typedef {object} RunOptions
 * @property {AbortSignal} [signal] cancels the job (`cancelled`)
 * @property {(progress: OpProgress) => void} [onProgress]
 * @property {number} [timeoutMs] this job's budget instead of the client's
 */

/**
 * @typedef {object} Output
 * @property {string} name
 * @property {Blob} blob
 * @property {Record<string, any>} meta
 */

/**
 * @typedef {object} RunResult
 * @property {Blob | undefined} blob the first output
 * @property {Record<string, any>} meta width, height, format, bytes, timings, warnings, ...
 * @property {Output[]} outputs every named output (ops such as `asset_pack` have several)
 * @property {number} ms time in the worker
 * @property {number | null} heapBytes the worker's wasm heap after the job
 */

/**
 * @typedef {{index: number, source: string | null, ok: true} & RunResult
 *   | {index: number, source: string | null, ok: false, error: PixelpressError, meta: {converted: false}}} BatchEntry
 */

// A worker whose wasm heap is above this after a job is replaced by a fresh
// one (~0.1 GB): wasm memory never shrinks, and a worker left near the 4 GB
// ceiling would fail the next big job. An op may use up to 2 GB for one image
// (WORK_BUDGET_BYTES in py/pixelpress/operation.py), so after the heaviest jobs
// on ordinary photos the worker is recycled; after everyday ones it is kept.
export const RECYCLE_HEAP_BYTES = 1.5e9;

// On a device with little memory (lowMemoryDevice()): a worker is replaced after a job that took its heap past
// LOW_MEMORY_RECYCLE_BYTES, and the workers' heaps share LOW_MEMORY_HEAP_BUDGET (see fits()). A 12 MP car
// listing takes a worker to ~0.9 GB: two at once, plus the model worker, would take a tab past 2 GB.
const LOW_MEMORY_RECYCLE_BYTES = 0.6e9;
const LOW_MEMORY_HEAP_BUDGET = 1e9;

// After a batch (no job for `releaseAfterMs`), the one worker kept is replaced by a fresh one when jobs left
// its heap above this: a fresh worker's is ~0.1 GB, one that ran 12 MP car listings ~0.9 GB.
const IDLE_HEAP_BYTES = 400e6;

/**
 * The folder this client was loaded from: dist/'s root, or the package's. Null when the module's own URL
 * says nothing about it (a bundle inlined as blob: or data:); `baseUrl` must then be given.
 * @type {string | null}
 */
export const DEFAULT_BASE_URL = (() => {
  try {
    const url = new URL('../', import.meta.url);
    return ['http:', 'https:'].includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
})();

// Codes after which starting another worker the same way is pointless: fail what waits.
const WILL_NOT_START = ['runtime_unavailable', 'worker_unavailable'];

/**
 * @param {string | URL | undefined} baseUrl
 * @returns {string} absolute, ending in a slash
 */
function resolveBase(baseUrl) {
  if (baseUrl === undefined || baseUrl === null || baseUrl === '') {
    if (DEFAULT_BASE_URL) return DEFAULT_BASE_URL;
    throw new PixelpressError('invalid_url', `This client was loaded from ${import.meta.url.slice(0, 40)}, which is `
      + 'not where its workers are: pass baseUrl, the http(s) folder holding worker/ and pyodide/.', { field: 'baseUrl' });
  }
  let url;
  try {
    url = new URL(String(baseUrl), globalThis.document?.baseURI ?? globalThis.location?.href);
  } catch {
    throw new PixelpressError('invalid_url', `baseUrl "${baseUrl}" is not a valid URL.`, { field: 'baseUrl' });
  }
  if (!['http:', 'https:'].includes(url.protocol)) {
    throw new PixelpressError('invalid_url', `baseUrl must be an http(s) URL, not ${url.protocol}`, { field: 'baseUrl' });
  }
  url.search = '';
  url.hash = '';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url.href;
}

export class PixelpressClient {
  /** @param {ClientOptions} [options] */
  constructor({ baseUrl, prefetch = true, size = defaultPoolSize(), timeoutMs = 180_000, onLoading, fetchOptions = {},
    recycleHeapBytes = lowMemoryDevice() ? LOW_MEMORY_RECYCLE_BYTES : RECYCLE_HEAP_BYTES,
    heapBudgetBytes = lowMemoryDevice() ? LOW_MEMORY_HEAP_BUDGET : Infinity,
    releaseAfterMs = lowMemoryDevice() ? 10_000 : 60_000, idleHeapBytes = IDLE_HEAP_BYTES,
    releaseModelAfterMs = lowMemoryDevice() ? 0 : Infinity } = {}) {
    /** The folder the workers and the runtime are loaded from (absolute, ends in `/`). */
    this.baseUrl = resolveBase(baseUrl);
    /** The engine worker's module, inside baseUrl. */
    this.workerUrl = new URL('worker/engine-worker.js', this.baseUrl).href;
    /** Most workers in the pool. */
    this.size = size;
    /** @private */
    this.recycleHeapBytes = recycleHeapBytes;
    /** @private */
    this.heapBudgetBytes = heapBudgetBytes;
    /** @private heapKey(job) -> the largest heap a worker reported after such a job */
    this.opHeap = new Map();
    /** @private handle -> heapKey of the job it runs */
    this.running = new Map();
    /** @private */
    this.releaseAfterMs = releaseAfterMs;
    /** @private */
    this.idleHeapBytes = idleHeapBytes;
    /** @private */
    this.releaseTimer = null;
    /** A job's default time budget, ms. */
    this.timeoutMs = timeoutMs;
    /** @private */
    this.onLoading = onLoading;
    /** @private */
    this.fetchOptions = fetchOptions;
    /** @private */
    this.handles = [];
    /** @private */
    this.queue = [];
    /** @private */
    this.nextId = 1;
    /** @private */
    this.firstReady = null;
    // The background-removal network: its own worker, started only when an operation needs it.
    /** @private */
    this.models = new ModelHost({ workerUrl: new URL('worker/model-worker.js', this.baseUrl).href,
      onProgress: (p) => this.onLoading?.(p), onIdle: () => this.whenIdle(), releaseAfterMs: releaseModelAfterMs });
    if (prefetch) this.spawn(); // the first worker starts loading at once, while the user picks files
  }

  /**
   * Resolves when at least one worker can take jobs (starting one if none is); rejects with
   * `worker_unavailable` or `runtime_unavailable` when none can start.
   * @returns {Promise<{versions: Record<string, string>, interpreter: 'restored' | 'started',
   *   timings: Record<string, number>}>}
   */
  ready() {
    if (!this.handles.some((h) => !h.dead)) this.spawn();
    if (!this.firstReady || this.handles.every((h) => h.dead)) {
      this.firstReady = Promise.any(this.handles.filter((h) => !h.dead).map((h) => h.ready))
        .catch((e) => { throw e.errors?.[0] ?? e; });
    }
    return this.firstReady;
  }

  /** @private */
  spawn() {
    const first = this.handles.length === 0;
    const handle = new EngineHandle({
      workerUrl: this.workerUrl,
      onProgress: first ? this.onLoading : undefined,
      onExit: (h, reason) => this.retire(h, reason),
      onInfer: (req) => this.models.infer(req),
      recycleHeapBytes: this.recycleHeapBytes,
    });
    this.handles.push(handle);
    handle.ready.then(() => this.pump(), () => {});
    return handle;
  }

  /** @private */
  retire(handle, reason) {
    this.handles = this.handles.filter((h) => h !== handle);
    // A runtime or worker that cannot start will not start on retry: fail what waits.
    if (WILL_NOT_START.includes(reason?.code) && !this.handles.length) {
      for (const job of this.queue.splice(0)) job.reject(reason);
      return;
    }
    if (this.queue.length || !this.handles.length) this.spawn();
  }

  /**
   * Load the packages an operation needs (e.g. OpenCV), and the network if it uses it, before the user asks:
   * `warm({jobs: 1, op})` awaited on its first worker.
   * @param {OpName} op
   */
  async preload(op) {
    await this.ready();
    return (await this.warm({ jobs: 1, op }))[0] ?? null;
  }

  /**
   * Say that `jobs` jobs of `op` are about to be run, so they start together instead of one after another: start
   * the engine workers they can use at once (at most `size`, and on a device with little memory only as many as
   * `heapBudgetBytes` lets run side by side, by what this op's jobs were seen to need: one until one has run),
   * and load the op's packages (and its network) in each while the files are still being read. Workers already
   * running count; nothing is ended. `runBatch` does this itself.
   * @param {{jobs?: number, op?: OpName}} [plan] jobs: default `size`; op: without it, only the runtime loads
   * @returns {Promise<Array<Record<string, any> | null>>} per warmed worker, once ready: the worker's answer to
   *   loading the op (null where it could not, or without op); rejects only when no worker can start at all
   */
  async warm({ jobs = this.size, op } = {}) {
    const want = Math.max(1, Math.min(Math.floor(Number(jobs)) || 1, this.size, this.sideBySide(op)));
    const live = () => this.handles.filter((h) => !h.dead);
    while (live().length < want) this.spawn();
    this.whenIdle(); // the idle release starts counting again: these workers are wanted now
    const warmed = live().slice(0, want);
    await this.ready();
    const answers = await Promise.all(warmed.map((h) => h.ready.then(() => (op ? h.warm(op) : null), () => null)));
    if (answers.some((msg) => msg?.meta?.model)) await this.models.warm();
    return answers;
  }

  // How many jobs of `op` the heap budget lets run at once, by the most heap such a job was seen to need.
  /** @private */
  sideBySide(op) {
    if (!Number.isFinite(this.heapBudgetBytes)) return Infinity;
    const seen = [...this.opHeap].filter(([key]) => key.startsWith(`${op}:`)).map(([, bytes]) => bytes);
    return seen.length ? Math.floor(this.heapBudgetBytes / Math.max(...seen)) : 1;
  }

  /**
   * What this browser can do here: the formats it can read and write, threads, SIMD, JSPI, ImageDecoder,
   * WebGPU and memory (see capabilities.js). Probed once, without starting an engine.
   * @returns {Promise<Capabilities>}
   */
  capabilities() {
    return capabilities({ baseUrl: this.baseUrl });
  }

  /**
   * Figures of whichever worker answers: {wasm_heap_bytes, python_objects, bytecode: {modules, without}}.
   * @returns {Promise<Record<string, any>>}
   */
  async stats() {
    await this.ready();
    return (await this.enqueue(null, {}, new ArrayBuffer(0), { control: 'stats' })).meta;
  }

  /**
   * Run one operation on this device.
   * @template {OpName} K
   * @param {K} op
   * @param {Input} input
   * @param {OperationOptions[K]} [options]
   * @param {RunOptions} [runOptions]
   * @returns {Promise<RunResult>}
   */
  async run(op, input, options = {}, { signal, onProgress, timeoutMs } = {}) {
    const data = await toArrayBuffer(input, this.fetchOptions, signal);
    const msg = await this.enqueue(op, options, data, { signal, onProgress, timeoutMs });
    if (!msg.ok) throw new PixelpressError(msg.error.code, msg.error.message, { field: msg.error.field });
    const outputs = msg.outputs.map((o) => ({ name: o.name, meta: o.meta, blob: new Blob([o.data], { type: o.mime }) }));
    return { blob: outputs[0]?.blob, meta: msg.meta, outputs, ms: msg.ms, heapBytes: msg.heapBytes };
  }

  /**
   * Each input ends as its own success or typed failure, in input order.
   * @template {OpName} K
   * @param {Input[]} inputs
   * @param {K} op
   * @param {OperationOptions[K]} [options]
   * @param {{signal?: AbortSignal, onItem?: (entry: BatchEntry) => void}} [batchOptions]
   * @returns {Promise<BatchEntry[]>}
   */
  async runBatch(inputs, op, options = {}, { signal, onItem } = {}) {
    this.warm({ jobs: inputs.length, op }).catch(() => {}); // a worker that cannot start fails each input instead
    return Promise.all(inputs.map(async (input, index) => {
      const source = describeSource(input);
      try {
        const result = await this.run(op, input, options, { signal });
        const entry = { index, source, ok: true, ...result };
        onItem?.(entry);
        return entry;
      } catch (e) {
        const error = asError(e);
        const entry = { index, source, ok: false, error, meta: { converted: false } };
        onItem?.(entry);
        return entry;
      }
    }));
  }

  /**
   * The app's own server first; on a network error, a 5xx, a timeout or a thrown error the same job on this
   * device. See fallback.js.
   * @template {OpName} K
   * @param {ServerCall<K>} serverCall
   * @param {K} op
   * @param {Input} input
   * @param {OperationOptions[K]} [options]
   * @param {FallbackOptions} [fallbackOptions]
   * @returns {Promise<FallbackResult>}
   */
  runWithFallback(serverCall, op, input, options = {}, fallbackOptions = {}) {
    return runWithFallback(this, serverCall, op, input, options, fallbackOptions);
  }

  /** @private */
  enqueue(op, options, data, { signal, onProgress, timeoutMs, control = null } = {}) {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new PixelpressError('cancelled', 'Cancelled.'));
      const job = { id: this.nextId++, op, options, data, onProgress, resolve, reject, control,
        timeoutMs: timeoutMs ?? this.timeoutMs };
      signal?.addEventListener('abort', () => this.cancel(job), { once: true });
      this.queue.push(job);
      this.pump();
    });
  }

  /** @private */
  cancel(job) {
    const cancelled = new PixelpressError('cancelled', 'Cancelled.');
    const queued = this.queue.indexOf(job);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      job.reject(cancelled);
      return;
    }
    const running = this.handles.find((h) => h.job?.id === job.id);
    running?.kill(cancelled);
  }

  /** @private */
  pump() {
    while (this.queue.length) {
      const idle = this.handles.find((h) => !h.dead && !h.busy && h.info);
      if (!idle) {
        // Grow the pool only when work waits and nobody is free or booting.
        const booting = this.handles.filter((h) => !h.dead && !h.info).length;
        // Within the heap budget: a worker the waiting job could not start on yet would only hold memory.
        if (this.handles.length < this.size && booting < this.queue.length && this.fits(this.queue[0], null)) this.spawn();
        return;
      }
      if (!this.fits(this.queue[0], idle)) break; // waits for a running job to give its memory back
      const job = this.queue.shift();
      const payload = { id: job.id, op: job.op, options: job.options, data: job.data,
        timeoutMs: job.timeoutMs, onProgress: job.onProgress };
      const sent = job.control ? this.controlOn(idle, job) : idle.run(payload);
      const key = heapKey(job);
      if (!job.control) this.running.set(idle, key);
      sent.then((msg) => {
        if (!job.control && msg?.heapBytes) this.opHeap.set(key, Math.max(this.opHeap.get(key) ?? 0, msg.heapBytes));
        job.resolve(msg);
      }, job.reject).finally(() => {
        this.running.delete(idle);
        this.pump();
      });
    }
    this.whenIdle();
  }

  // Whether `job` may start on `handle` now, within heapBudgetBytes: alone it always may; beside running jobs
  // only when the heaps the other workers hold (or will, by what such jobs were seen to need) and the one it
  // needs fit together. A kind of job not seen yet (op and input size, heapKey) waits to run alone, and is then known.
  /** @private */
  fits(job, handle) {
    if (job.control || !Number.isFinite(this.heapBudgetBytes)) return true;
    const others = this.handles.filter((h) => h !== handle && !h.dead);
    if (!others.some((h) => this.running.has(h))) return true;
    const need = (h, key) => Math.max(h?.heapBytes ?? 0, this.opHeap.get(key) ?? Infinity);
    const held = others.reduce((sum, h) => sum + (this.running.has(h) ? need(h, this.running.get(h)) : h.heapBytes ?? 0), 0);
    return held + need(handle, heapKey(job)) <= this.heapBudgetBytes;
  }

  // Nothing queued or running: give memory back after releaseAfterMs, unless a job comes first.
  /** @private */
  whenIdle() {
    clearTimeout(this.releaseTimer);
    if (this.queue.length || this.handles.some((h) => h.busy) || !Number.isFinite(this.releaseAfterMs)) return;
    this.releaseTimer = setTimeout(() => this.release(), this.releaseAfterMs);
  }

  // The model worker, every engine worker but the one with the smallest heap, and that one too if its heap is
  // over idleHeapBytes (the pool then starts a fresh one): wasm memory is only given back by ending a worker.
  /** @private */
  release() {
    if (this.queue.length || this.handles.some((h) => h.busy)) return;
    this.models.release();
    const ready = this.handles.filter((h) => !h.dead && h.info).sort((a, b) => (a.heapBytes ?? 0) - (b.heapBytes ?? 0));
    const idle = (mb) => new PixelpressError('recycled', `Idle with a ${mb} MB heap: ended to give the memory back.`);
    for (const h of ready.slice(1)) h.kill(idle(Math.round((h.heapBytes ?? 0) / 1e6)));
    const [kept] = ready;
    if (kept?.heapBytes > this.idleHeapBytes) kept.kill(idle(Math.round(kept.heapBytes / 1e6)));
  }

  // Control messages (preload, stats) occupy a worker like a job but carry no image.
  /** @private */
  controlOn(handle, job) {
    handle.busy = true;
    return new Promise((resolve, reject) => {
      handle.job = { id: job.id, resolve, reject };
      handle.worker.postMessage({ type: job.control, id: job.id, op: job.op });
    });
  }

  /** End every worker; waiting and running jobs fail with `cancelled`. */
  terminate() {
    clearTimeout(this.releaseTimer);
    for (const h of this.handles) h.kill(new PixelpressError('cancelled', 'The client was shut down.'));
    this.handles = [];
    this.models.terminate();
  }
}

// Jobs alike in memory: the same op on inputs of the same size to within a factor of two (a 1 MP preview and
// a 12 MP photo differ; JPEGs of one camera do not).
function heapKey(job) {
  return `${job.op}:${Math.ceil(Math.log2((job.data?.byteLength ?? 0) + 1))}`;
}

function describeSource(input) {
  if (typeof input === 'string') return input;
  if (input?.url) return input.url;
  return input?.name ?? null;
}

async function toArrayBuffer(input, fetchOptions, signal) {
  if (typeof input === 'string' || input?.url) {
    const { bytes } = await fetchImage(typeof input === 'string' ? input : input.url, { ...fetchOptions, signal });
    return bytes.buffer;
  }
  if (input instanceof Blob) return input.arrayBuffer();
  // Copy caller-owned buffers: transferring would detach them under the caller's feet.
  if (input instanceof ArrayBuffer) return input.slice(0);
  if (ArrayBuffer.isView(input)) return input.buffer.slice(input.byteOffset, input.byteOffset + input.byteLength);
  throw new PixelpressError('invalid_input', 'Input must be a File, Blob, ArrayBuffer, typed array or URL.');
}
