// pixelpress client: import this from any page to run engine operations in
// a pool of Web Workers.
//
//   import { PixelpressClient } from './client/pixelpress.js';
//   const px = new PixelpressClient({ onLoading: (p) => ... });
//   const { blob, meta, outputs } = await px.run('convert', file, { format: 'webp' });
//   const results = await px.runBatch(filesOrUrls, 'convert', { format: 'jpeg' });
//
// Errors are PixelpressError with a stable `code`: the engine's (such as
// `corrupt_image`) or the client's own, listed with when each happens in
// CODES (codes.js), e.g. `timeout`, `cancelled`, `worker_crashed`.

import { EngineHandle } from './engine-handle.js';
import { CODES, PixelpressError, asError } from './errors.js';
import { fetchImage } from './fetch-image.js';
import { ModelHost } from './model-host.js';

export { CODES, PixelpressError, fetchImage };

// A worker whose wasm heap is above this after a job is replaced by a fresh
// one (~0.1 GB): wasm memory never shrinks, and a worker left near the 4 GB
// ceiling would fail the next big job. An op may use up to 2 GB for one image
// (WORK_BUDGET_BYTES in py/pixelpress/operation.py), so after the heaviest jobs
// on ordinary photos the worker is recycled; after everyday ones it is kept.
export const RECYCLE_HEAP_BYTES = 1.5e9;

const defaultPoolSize = () => Math.max(1, Math.min(globalThis.navigator?.hardwareConcurrency || 2, 4));

export class PixelpressClient {
  constructor({ size = defaultPoolSize(), timeoutMs = 180_000, onLoading, fetchOptions = {},
    recycleHeapBytes = RECYCLE_HEAP_BYTES } = {}) {
    this.size = size;
    this.recycleHeapBytes = recycleHeapBytes;
    this.timeoutMs = timeoutMs;
    this.onLoading = onLoading;
    this.fetchOptions = fetchOptions;
    this.handles = [];
    this.queue = [];
    this.nextId = 1;
    this.firstReady = null;
    // The background-removal network: its own worker, started only when an operation needs it.
    this.models = new ModelHost({ onProgress: (p) => this.onLoading?.(p) });
    this.spawn(); // the first worker starts loading at once: prefetch while the user picks files
  }

  // Resolves with {versions, timings} when at least one worker can take jobs.
  ready() {
    if (!this.firstReady || this.handles.every((h) => h.dead)) {
      this.firstReady = Promise.any(this.handles.filter((h) => !h.dead).map((h) => h.ready))
        .catch((e) => { throw e.errors?.[0] ?? e; });
    }
    return this.firstReady;
  }

  spawn() {
    const first = this.handles.length === 0;
    const handle = new EngineHandle({
      onProgress: first ? this.onLoading : undefined,
      onExit: (h, reason) => this.retire(h, reason),
      onInfer: (req) => this.models.infer(req),
      recycleHeapBytes: this.recycleHeapBytes,
    });
    this.handles.push(handle);
    handle.ready.then(() => this.pump(), () => {});
    return handle;
  }

  retire(handle, reason) {
    this.handles = this.handles.filter((h) => h !== handle);
    // A runtime that cannot start will not start on retry: fail what waits.
    if (reason?.code === 'runtime_unavailable' && !this.handles.length) {
      for (const job of this.queue.splice(0)) job.reject(reason);
      return;
    }
    if (this.queue.length || !this.handles.length) this.spawn();
  }

  // Load the packages an operation needs (e.g. OpenCV), and the network if it uses it, before the user asks.
  async preload(op) {
    await this.ready();
    const msg = await this.enqueue(op, {}, new ArrayBuffer(0), { control: 'preload' }).catch(() => null);
    if (msg?.meta?.model) await this.models.warm();
    return msg;
  }

  // Figures of whichever worker answers: {wasm_heap_bytes, python_objects, bytecode: {modules, without}}.
  async stats() {
    await this.ready();
    return (await this.enqueue(null, {}, new ArrayBuffer(0), { control: 'stats' })).meta;
  }

  async run(op, input, options = {}, { signal, onProgress, timeoutMs } = {}) {
    const data = await toArrayBuffer(input, this.fetchOptions, signal);
    const msg = await this.enqueue(op, options, data, { signal, onProgress, timeoutMs });
    if (!msg.ok) throw new PixelpressError(msg.error.code, msg.error.message, { field: msg.error.field });
    const outputs = msg.outputs.map((o) => ({ name: o.name, meta: o.meta, blob: new Blob([o.data], { type: o.mime }) }));
    return { blob: outputs[0]?.blob, meta: msg.meta, outputs, ms: msg.ms, heapBytes: msg.heapBytes };
  }

  // Each input ends as its own success or typed failure, in input order.
  async runBatch(inputs, op, options = {}, { signal, onItem } = {}) {
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

  pump() {
    while (this.queue.length) {
      const idle = this.handles.find((h) => !h.dead && !h.busy && h.info);
      if (!idle) {
        // Grow the pool only when work waits and nobody is free or booting.
        const booting = this.handles.filter((h) => !h.dead && !h.info).length;
        if (this.handles.length < this.size && booting < this.queue.length) this.spawn();
        return;
      }
      const job = this.queue.shift();
      const payload = { id: job.id, op: job.op, options: job.options, data: job.data,
        timeoutMs: job.timeoutMs, onProgress: job.onProgress };
      const sent = job.control ? this.controlOn(idle, job) : idle.run(payload);
      sent.then(job.resolve, job.reject).finally(() => this.pump());
    }
  }

  // Control messages (preload, stats) occupy a worker like a job but carry no image.
  controlOn(handle, job) {
    handle.busy = true;
    return new Promise((resolve, reject) => {
      handle.job = { id: job.id, resolve, reject };
      handle.worker.postMessage({ type: job.control, id: job.id, op: job.op });
    });
  }

  terminate() {
    for (const h of this.handles) h.kill(new PixelpressError('cancelled', 'The client was shut down.'));
    this.handles = [];
    this.models.terminate();
  }
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
