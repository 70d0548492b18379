// The network runs in the page's model worker (one serves every engine
// worker): Python awaits infer(), the page answers with 'infer-result'.

import { inferRequest } from './protocol.js';

const inferring = new Map();
let nextInfer = 1;

// Called from Python (bridge.JsSegmenter) with proxies of the tensor's bytes and its shape.
export function infer(tensorBytes, dims) {
  const inferId = nextInfer++;
  // Both arguments are Pyodide's to release once the returned promise settles.
  const bytes = tensorBytes.toJs();
  const tensor = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const shape = dims.toJs();
  return new Promise((resolve, reject) => {
    inferring.set(inferId, { resolve, reject });
    postMessage(inferRequest({ inferId, tensor, dims: shape }), [tensor]);
  });
}

// Python (bridge.JsSegmenter) reads the map and how the model worker ran it: backend as JSON text,
// so no proxy of a JS object outlives the call.
export function inferAnswered({ inferId, ok, data, backend, error }) {
  const pending = inferring.get(inferId);
  if (!pending) return;
  inferring.delete(inferId);
  if (ok) pending.resolve({ map: new Float32Array(data), backend: backend ? JSON.stringify(backend) : null });
  else pending.reject(new Error(error?.message ?? 'the network failed'));
}
