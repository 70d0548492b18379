// The model worker: onnxruntime-web running the salient-object network.
//
// One per page, started by the client the first time an operation needs the
// network (an onnxruntime-web instance holds ~230 MB, too much to have one
// per engine worker). Engine workers reach it through the page.
//
// How it runs, decided once per worker (`plan`, recorded in every answer as `backend`):
//   - WebGPU when the browser offers a hardware adapter: the WebGPU build of the runtime
//     (ort.webgpu.min.mjs + its jsep wasm, 22 MB instead of 11 MB) is fetched then
//     and only then. Any failure (no adapter, the build, the session, a run, a map
//     that is not finite) falls back to the wasm execution provider of the runtime
//     already loaded, quietly: the reason goes into `backend.fallback_reason`.
//   - otherwise wasm, on several threads when the page is cross-origin isolated
//     (COOP/COEP, docs/deploy.md), else on one.
//
// Protocol:
//   in : {type: 'configure', id, executionProvider?: 'auto'|'webgpu'|'wasm', threads?}  (before the first load;
//                                                                              for benches and tests)
//        {type: 'infer', id, tensor: ArrayBuffer (float32), dims}   (tensor transferred)
//        {type: 'warm', id}                                          (load runtime + model now)
//   out: {type: 'progress', phase: 'model', loaded, total}           bytes of the runtime and model
//        {type: 'result', id, ok: true, data: ArrayBuffer (float32 first output), dims, ms, backend}
//        {type: 'result', id, ok: false, error: {code, message}}
//   backend: {runtime: 'onnxruntime-web', version, execution_provider: 'webgpu'|'wasm', threads,
//             cross_origin_isolated, fallback_reason: string|null}
// Every file is checked against asset-manifest.json's sha256 before use.

import { withoutCeilPools } from './onnx-pool.js';

const MANIFEST_URL = new URL('../asset-manifest.json', import.meta.url);
const BUILDS = { // the runtime's JS glue, by what it can run; the wasm is named in the manifest
  wasm: { api: '../vendor/ort/ort.wasm.min.mjs', glue: 'ort-wasm-simd-threaded.mjs', runtime: (m) => m.model?.runtime },
  webgpu: { api: '../vendor/ort/ort.webgpu.min.mjs', glue: 'ort-wasm-simd-threaded.jsep.mjs',
    runtime: (m) => m.model_webgpu?.runtime },
};
const MAX_THREADS = 4; // U²-Net-p at 320x320 gains little past 4, and the engine workers need cores too

let wanted = { executionProvider: 'auto', threads: null };
let ort = null;
let session = null;
let backend = null;
let modelBytes = null;

// The engine worker that asks waits for the answer, so its core is free: half the cores, at least 2
// (where there are 2), at most MAX_THREADS. One without isolation: wasm threads need SharedArrayBuffer.
function threadCount() {
  if (!self.crossOriginIsolated) return 1;
  const cores = navigator.hardwareConcurrency || 1;
  return wanted.threads ?? Math.min(cores, MAX_THREADS, Math.max(2, Math.ceil(cores / 2)));
}

async function sha256Hex(buf) {
  const d = await crypto.subtle.digest('SHA-256', buf);
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

// The files stream in with byte-level progress, against the manifest's sizes.
async function fetchAll(manifest, paths) {
  const entries = paths.map((path) => path && manifest.files[path]);
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
  return Promise.all(paths.map(fetchOne));
}

// A WebGPU adapter, or why there is none to use (null when the browser has no WebGPU at all: no fallback then).
async function gpuAdapter() {
  if (wanted.executionProvider === 'wasm') return { why: null };
  if (!navigator.gpu) return { why: wanted.executionProvider === 'webgpu' ? 'this browser has no WebGPU' : null };
  try {
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) return { why: 'WebGPU offers no adapter here' };
    // A software adapter (SwiftShader where the GPU is blocked) is slower than wasm: used only when asked for.
    if ((adapter.info ?? adapter).isFallbackAdapter && wanted.executionProvider !== 'webgpu') {
      return { why: 'WebGPU offers only a software adapter, slower than wasm' };
    }
    return { adapter };
  } catch (e) {
    return { why: `WebGPU adapter: ${e?.message ?? e}` };
  }
}

async function loadBuild(manifest, kind, threads) {
  const build = BUILDS[kind];
  const [wasm, model] = await fetchAll(manifest, [build.runtime(manifest), manifest.model?.model]);
  const api = await import(build.api);
  // No proxy worker: this worker is the proxy. Threads only when isolated (ORT would warn and use 1).
  api.env.wasm.numThreads = threads;
  api.env.wasm.proxy = false;
  api.env.wasm.wasmBinary = wasm;
  api.env.wasm.wasmPaths = { mjs: new URL(`../vendor/ort/${build.glue}`, import.meta.url).href };
  return { api, model };
}

// WebGPU gets the same graph with its ceil-mode pools rewritten (onnx-pool.js): it refuses them as they are.
const createSession = (ep) => ort.InferenceSession.create(ep === 'webgpu' ? withoutCeilPools(modelBytes).bytes
  : modelBytes, { executionProviders: [ep], graphOptimizationLevel: 'all' });

// Used by every later request once WebGPU failed in any way.
async function fallBack(why) {
  await session?.release?.().catch(() => {});
  session = await createSession('wasm');
  backend = { ...backend, execution_provider: 'wasm', fallback_reason: why };
}

let loading = null;
function load() {
  loading ??= (async () => {
    const manifest = await (await fetch(MANIFEST_URL)).json();
    const threads = threadCount();
    const { adapter, why } = await gpuAdapter();
    let kind = adapter && BUILDS.webgpu.runtime(manifest) ? 'webgpu' : 'wasm';
    let reason = adapter && kind === 'wasm' ? 'this site does not ship the WebGPU runtime' : why;
    let loaded;
    if (kind === 'webgpu') {
      try {
        loaded = await loadBuild(manifest, 'webgpu', threads);
        loaded.api.env.webgpu.adapter = adapter;
      } catch (e) {
        kind = 'wasm';
        reason = `WebGPU runtime: ${e?.message ?? e}`;
      }
    }
    loaded ??= await loadBuild(manifest, 'wasm', threads);
    ort = loaded.api;
    modelBytes = loaded.model;
    backend = { runtime: 'onnxruntime-web', version: ort.env.versions?.web ?? null, execution_provider: kind,
      threads, cross_origin_isolated: !!self.crossOriginIsolated, fallback_reason: reason ?? null };
    if (kind === 'webgpu') {
      try {
        session = await createSession('webgpu');
      } catch (e) {
        await fallBack(`WebGPU session: ${e?.message ?? e}`);
      }
    } else {
      session = await createSession('wasm');
    }
  })();
  loading.catch(() => { loading = null; }); // a failed load may be tried again by the next job
  return loading;
}

async function run(tensor, dims) {
  const input = new ort.Tensor('float32', tensor, dims);
  const out = await session.run({ [session.inputNames[0]]: input }, [session.outputNames[0]]);
  const map = out[session.outputNames[0]];
  const data = new Float32Array(await map.getData()); // a copy this worker may transfer
  for (const t of Object.values(out)) t.dispose?.();
  return { data, dims: map.dims };
}

async function infer({ tensor, dims }) {
  await load();
  const input = new Float32Array(tensor);
  if (backend.execution_provider === 'webgpu') {
    try {
      const out = await run(input, dims);
      if (out.data.every(Number.isFinite)) return out;
      await fallBack('WebGPU run gave a map that is not finite');
    } catch (e) {
      await fallBack(`WebGPU run: ${e?.message ?? e}`);
    }
  }
  return run(input, dims);
}

self.onmessage = async ({ data: msg }) => {
  const started = performance.now();
  try {
    if (msg.type === 'configure') {
      if (loading) throw new Error('configure comes before the runtime loads');
      wanted = { executionProvider: msg.executionProvider ?? 'auto', threads: msg.threads ?? null };
      postMessage({ type: 'result', id: msg.id, ok: true });
    } else if (msg.type === 'warm') {
      await load();
      postMessage({ type: 'result', id: msg.id, ok: true, backend });
    } else if (msg.type === 'infer') {
      const { data, dims } = await infer(msg);
      postMessage({ type: 'result', id: msg.id, ok: true, data: data.buffer, dims, ms: performance.now() - started,
        backend }, [data.buffer]);
    } else {
      const error = { code: 'bad_request', message: `Unknown message type ${msg.type}` };
      postMessage({ type: 'result', id: msg.id, ok: false, error });
    }
  } catch (e) {
    const error = { code: 'model_unavailable', message: String(e?.message ?? e) };
    postMessage({ type: 'result', id: msg.id, ok: false, error });
  }
};
