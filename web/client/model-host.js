// The page's side of the model worker: started on first use, shared by every
// engine worker of a client, and replaced if it dies. Requests from engine
// workers are relayed here (see EngineHandle's `onInfer`). Its one
// onnxruntime session holds ~230 MB of wasm memory that never shrinks, so the
// client ends it with release() once no job has run for a while.

import { PixelpressError } from './errors.js';
import { notLoaded, startWorker } from './start-worker.js';

/** @internal */
export class ModelHost {
  /** @param {{workerUrl: string, onProgress?: Function, onIdle?: Function, releaseAfterMs?: number}} opts */
  constructor({ workerUrl, onProgress, onIdle, releaseAfterMs = Infinity }) {
    this.workerUrl = workerUrl;
    this.onProgress = onProgress;
    this.onIdle = onIdle; // nothing waits on the network any more
    this.releaseAfterMs = releaseAfterMs; // ...and after this long its worker is ended
    this.releaseTimer = null;
    this.worker = null;
    this.pending = new Map();
    this.nextId = 1;
  }

  start() {
    if (this.worker) return this.worker;
    let started;
    try {
      started = startWorker(this.workerUrl, 'pixelpress-model');
    } catch (e) {
      // The matte falls back to the classical one on this code, whatever stopped the network.
      throw new PixelpressError('model_unavailable', e.message);
    }
    const { worker, crossOrigin } = started;
    let heard = false;
    worker.onmessage = ({ data: msg }) => {
      heard = true;
      if (msg.type === 'progress') return this.onProgress?.(msg);
      const job = this.pending.get(msg.id);
      if (!job) return undefined;
      this.pending.delete(msg.id);
      if (msg.ok) job.resolve(msg);
      else job.reject(new PixelpressError(msg.error.code, msg.error.message));
      if (!this.pending.size) {
        if (Number.isFinite(this.releaseAfterMs)) this.releaseTimer = setTimeout(() => this.release(), this.releaseAfterMs);
        this.onIdle?.();
      }
      return undefined;
    };
    worker.onerror = (ev) => {
      ev.preventDefault?.();
      const why = heard ? `The model worker stopped: ${ev.message || 'unknown error'}`
        : notLoaded(this.workerUrl, crossOrigin, ev.message).message;
      this.fail(new PixelpressError('model_unavailable', why));
    };
    this.worker = worker;
    return worker;
  }

  // End the worker if nothing waits on it; the next request starts another (files from the HTTP cache).
  release() {
    clearTimeout(this.releaseTimer);
    if (this.pending.size || !this.worker) return false;
    this.worker.terminate();
    this.worker = null;
    return true;
  }

  fail(reason) {
    this.worker?.terminate();
    this.worker = null;
    for (const job of this.pending.values()) job.reject(reason);
    this.pending.clear();
  }

  request(msg, transfer = []) {
    clearTimeout(this.releaseTimer);
    let worker;
    try {
      worker = this.start();
    } catch (e) {
      return Promise.reject(e);
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...msg, id }, transfer);
    });
  }

  // Load the runtime and the model ahead of the first photo; failures show up on that photo instead.
  warm() {
    return this.request({ type: 'warm' }).catch(() => {});
  }

  // {tensor: ArrayBuffer, dims} -> {data: ArrayBuffer, dims, backend}: backend says how it ran (the
  // execution provider, threads, why it fell back), for the engine's meta.
  infer({ tensor, dims }) {
    return this.request({ type: 'infer', tensor, dims }, [tensor]);
  }

  terminate() {
    this.fail(new PixelpressError('cancelled', 'The client was shut down.'));
  }
}
