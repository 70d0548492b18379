// The model worker: onnxruntime-web running the salient-object network.
//
// One per page, started by the client the first time an operation needs the
// network (an onnxruntime-web instance holds ~230 MB, too much to have one
// per engine worker). Engine workers reach it through the page.
//
// Protocol:
//   in : {type: 'infer', id, tensor: ArrayBuffer (float32), dims}   (tensor transferred)
//        {type: 'warm', id}                                          (load runtime + model now)
//   out: {type: 'progress', phase: 'model', loaded, total}           bytes of the runtime and model
//        {type: 'result', id, ok: true, data: ArrayBuffer (float32 first output), dims, ms}
//        {type: 'result', id, ok: false, error: {code, message}}
// The model's bytes are checked against asset-manifest.json's sha256 before use.

import * as ort from '../vendor/ort/ort.wasm.min.mjs';

const ORT_DIR = new URL('../vendor/ort/', import.meta.url);
const MANIFEST_URL = new URL('../asset-manifest.json', import.meta.url);

let session = null;

async function sha256Hex(buf) {
  const d = await crypto.subtle.digest('SHA-256', buf);
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

// Both files stream in with byte-level progress, against the manifest's sizes.
async function fetchAll(manifest) {
  const paths = [manifest.model?.runtime, manifest.model?.model];
  const entries = paths.map((path) => manifest.files[path]);
  if (entries.some((e) => !e)) throw new Error('the asset manifest does not list the model files');
  const progress = { type: 'progress', phase: 'model', loaded: 0, total: entries.reduce((s, e) => s + e.bytes, 0) };
  postMessage(progress);
  const fetchOne = async (path) => {
    const res = await fetch(new URL(`../${path}`, import.meta.url));
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
    const reader = res.body.getReader();
    const chunks = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      progress.loaded += value.byteLength;
      postMessage(progress);
    }
    const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
    if (await sha256Hex(bytes) !== manifest.files[path].sha256) throw new Error(`${path} does not match its sha256`);
    return bytes;
  };
  const [wasm, model] = await Promise.all(paths.map(fetchOne));
  return { wasm, model };
}

let loading = null;
function load() {
  loading ??= (async () => {
    const manifest = await (await fetch(MANIFEST_URL)).json();
    const { wasm, model } = await fetchAll(manifest);
    // One thread and no proxy worker: no COOP/COEP headers needed, and this worker is the proxy.
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    ort.env.wasm.wasmBinary = wasm;
    ort.env.wasm.wasmPaths = { mjs: new URL('ort-wasm-simd-threaded.mjs', ORT_DIR).href };
    session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  })();
  loading.catch(() => { loading = null; }); // a failed load may be tried again by the next job
  return loading;
}

async function infer({ tensor, dims }) {
  await load();
  const input = new ort.Tensor('float32', new Float32Array(tensor), dims);
  const out = await session.run({ [session.inputNames[0]]: input }, [session.outputNames[0]]);
  const map = out[session.outputNames[0]];
  const data = new Float32Array(map.data).buffer; // a copy this worker may transfer
  for (const t of Object.values(out)) t.dispose?.();
  return { data, dims: map.dims };
}

self.onmessage = async ({ data: msg }) => {
  const started = performance.now();
  try {
    if (msg.type === 'warm') {
      await load();
      postMessage({ type: 'result', id: msg.id, ok: true });
    } else if (msg.type === 'infer') {
      const { data, dims } = await infer(msg);
      postMessage({ type: 'result', id: msg.id, ok: true, data, dims, ms: performance.now() - started }, [data]);
    } else {
      const error = { code: 'bad_request', message: `Unknown message type ${msg.type}` };
      postMessage({ type: 'result', id: msg.id, ok: false, error });
    }
  } catch (e) {
    const error = { code: 'model_unavailable', message: String(e?.message ?? e) };
    postMessage({ type: 'result', id: msg.id, ok: false, error });
  }
};
