// One engine worker seen from the page: boot state, one job at a time,
// and a clean death (terminate) that fails its job instead of hanging it.

import { PixelpressError } from './errors.js';
import { notLoaded, startWorker } from './start-worker.js';

/** @internal */
export class EngineHandle {
  /** @param {{workerUrl: string, onProgress?: Function, onOpProgress?: Function, onExit?: Function,
   *   onInfer?: Function, recycleHeapBytes?: number}} opts */
  constructor({ workerUrl, onProgress, onOpProgress, onExit, onInfer, recycleHeapBytes = Infinity }) {
    this.busy = false;
    this.dead = false;
    this.job = null;
    this.recycleHeapBytes = recycleHeapBytes;
    this.heapBytes = null; // the worker's wasm heap after its last job
    this.onOpProgress = onOpProgress;
    this.onExit = onExit;
    this.heard = false; // any message at all: the worker's module loaded
    this.warming = new Map(); // op -> Promise of the worker's preload answer (see warm)
    this.controls = new Map(); // id of a preload sent by warm() -> its resolve
    this.nextControlId = -1; // negative: the pool's job ids are positive
    this.infers = 0; // network requests of the running job still unanswered
    this.ready = new Promise((resolve, reject) => {
      this.readyResolve = resolve;
      this.readyReject = reject;
    });
    this.ready.catch(() => {}); // observed through the pool, not here
    let crossOrigin = false;
    try {
      ({ worker: this.worker, crossOrigin } = startWorker(workerUrl, 'pixelpress-engine'));
    } catch (e) {
      this.worker = null;
      queueMicrotask(() => this.kill(e)); // after the pool has taken this handle in
      return;
    }
    this.worker.onmessage = ({ data: msg }) => {
      this.heard = true;
      if (msg.type === 'progress') onProgress?.(msg);
      else if (msg.type === 'ready') { this.info = msg; this.readyResolve(msg); }
      else if (msg.type === 'fatal') this.kill(new PixelpressError(msg.error.code, msg.error.message));
      else if (msg.type === 'op-progress') this.progress(msg);
      else if (msg.type === 'infer') this.relayInfer(onInfer, msg);
      else if (msg.type === 'result' && this.controls.has(msg.id)) this.controls.get(msg.id)(msg);
      else if (msg.type === 'result' && this.job && msg.id === this.job.id) this.settle(msg);
    };
    this.worker.onerror = (ev) => {
      ev.preventDefault?.();
      // Before its first message the worker never ran: its module (or one it imports) did not load.
      this.kill(this.heard
        ? new PixelpressError('worker_crashed', `The engine worker stopped: ${ev.message || 'unknown error'}`)
        : notLoaded(workerUrl, crossOrigin, ev.message));
    };
  }

  // Send one job; resolves with the worker's result message, rejects on death or timeout.
  run({ id, op, options, data, timeoutMs, onProgress }) {
    if (this.dead) return Promise.reject(new PixelpressError('worker_crashed', 'The engine worker is gone.'));
    this.busy = true;
    return new Promise((resolve, reject) => {
      this.job = { id, resolve, reject, onProgress };
      if (timeoutMs) {
        this.job.timer = setTimeout(() => this.kill(new PixelpressError('timeout',
          `The operation took longer than ${Math.round(timeoutMs / 1000)} s and was stopped.`)), timeoutMs);
      }
      this.worker.postMessage({ type: 'run', id, op, options, data }, [data]);
    });
  }

  // Load `op`'s packages (OpenCV, say) now, before its first job; once per op. The worker answers requests in
  // order, so a job sent meanwhile waits behind the loading as it would have loaded them itself, and the handle
  // stays free to take it. Resolves with the worker's answer ({meta: {model}}), or null when it could not load.
  warm(op) {
    if (this.dead) return Promise.resolve(null);
    let answer = this.warming.get(op);
    if (!answer) {
      const id = this.nextControlId--;
      answer = new Promise((resolve) => {
        this.controls.set(id, (msg) => { this.controls.delete(id); resolve(msg.ok ? msg : null); });
      });
      this.worker.postMessage({ type: 'preload', id, op });
      this.warming.set(op, answer);
    }
    return answer;
  }

  // A job's progress as the engine reports it ({done, total, step}), each event for the job it names only.
  // While the page runs the network for it (relayInfer), `part: 'network'` says so within the step.
  progress(msg) {
    const { job } = this;
    if (!job || (msg.id !== undefined && msg.id !== job.id)) return;
    job.last = msg;
    job.onProgress?.(this.infers && !msg.part ? { ...msg, part: 'network' } : msg);
  }

  // The engine worker asks the page to run the network (ModelHost); the answer goes back to it.
  async relayInfer(onInfer, { inferId, tensor, dims }) {
    const { job } = this;
    if (job) {
      this.infers++;
      this.progress(job.last ?? { id: job.id }); // an op without steps (remove_background) still says it
    }
    let reply;
    try {
      if (!onInfer) throw new PixelpressError('model_unavailable', 'this client has no model host');
      const { data, dims: outDims, backend } = await onInfer({ tensor, dims });
      reply = { type: 'infer-result', inferId, ok: true, data, dims: outDims, backend };
    } catch (e) {
      const error = { code: e.code ?? 'model_unavailable', message: String(e?.message ?? e) };
      reply = { type: 'infer-result', inferId, ok: false, error };
    }
    if (job && job === this.job) {
      this.infers--;
      this.progress(job.last);
    }
    if (!this.dead) this.worker.postMessage(reply, reply.data ? [reply.data] : []);
  }

  settle(msg) {
    const { job } = this;
    clearTimeout(job.timer);
    this.job = null;
    this.busy = false;
    this.infers = 0;
    if (msg.heapBytes != null) this.heapBytes = msg.heapBytes;
    job.resolve(msg);
    // A wasm heap never shrinks, so a worker that once needed a lot keeps it
    // for good. The answer's buffers were transferred to the page already, so
    // ending the worker now loses nothing, and doing it here, before anyone
    // sees the worker idle, keeps the next job off it.
    if (this.heapBytes > this.recycleHeapBytes) {
      const mb = Math.round(this.heapBytes / 1e6);
      this.kill(new PixelpressError('recycled', `The worker's heap reached ${mb} MB; replaced by a fresh one.`));
    }
  }

  // Terminating is the only way to stop Python mid-run; the pool replaces us.
  kill(reason) {
    if (this.dead) return;
    this.dead = true;
    this.worker?.terminate();
    this.readyReject(reason);
    for (const resolve of this.controls.values()) resolve({ ok: false });
    if (this.job) {
      clearTimeout(this.job.timer);
      this.job.reject(reason);
      this.job = null;
    }
    this.onExit?.(this, reason);
  }
}
