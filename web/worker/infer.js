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

export function inferAnswered({ inferId, ok, data, error }) {
  const pending = inferring.get(inferId);
  if (!pending) return;
  inferring.delete(inferId);
  if (ok) pending.resolve(new Float32Array(data));
  else pending.reject(new Error(error?.message ?? 'the network failed'));
}
