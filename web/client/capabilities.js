// What this browser can do with pixelpress, here: which image formats it can
// read and write, and which of the platform features that decide speed and
// memory it has. Works in a window and in a worker; every probe is cheap
// (no engine is started) and the answer is kept per `baseUrl` for the page's life.
//
//   import { capabilities } from 'pixelpress';
//   const caps = await capabilities();             // or: await px.capabilities()
//   caps.write.includes('avif');                   // can a job ask for AVIF output here?
//   caps.formats.avif;                             // {read, write, readWith, writeWith, why}
//   caps.summary;                                  // "reads AVIF · writes AVIF · SIMD · no threads"
//
// The formats are the engine's own (py/pixelpress/formats/, each `readable` or `writable`), written at
// build into engine-facts.js. JPEG, PNG, WebP, GIF, BMP and TIFF are read, and JPEG, PNG and
// WebP written, by the engine's Pillow in every browser. AVIF is not in Pyodide's Pillow: the worker
// reads it with the browser's ImageDecoder, else with libavif compiled to wasm, and writes it with the
// AVIF encoder compiled to wasm (vendor/avif/, web/worker/codecs.js), so for AVIF this module asks the
// browser the same questions. HEIC is read, never written: by the worker, with the browser's own decoder
// where a probe HEIC decodes right (Safari), else with libheif compiled to wasm (vendor/heif/).

import FACTS from './engine-facts.js';

const FORMATS = {
  read: Object.fromEntries(FACTS.formats.filter((f) => f.readable).map((f) => [f.name, f.mime])),
  write: Object.fromEntries(FACTS.formats.filter((f) => f.writable).map((f) => [f.name, f.mime])),
};

/**
 * An image format by its short name, as options and `meta.format` spell it.
 * @typedef {'jpeg' | 'png' | 'webp' | 'avif' | 'heic' | 'gif' | 'bmp' | 'tiff'} ImageFormat
 */

/**
 * One format here. `readWith`/`writeWith` say which codec would do it: `pillow` (the engine's own),
 * `ImageDecoder` (WebCodecs), `wasm` (a decoder or encoder shipped in vendor/); null when it cannot.
 * `why` says what is missing when it cannot.
 * @typedef {object} FormatSupport
 * @property {boolean} read
 * @property {boolean} write
 * @property {'pillow' | 'ImageDecoder' | 'wasm' | null} readWith
 * @property {'pillow' | 'wasm' | null} writeWith
 * @property {string} [why]
 */

/**
 * @typedef {object} Capabilities
 * @property {ImageFormat[]} read formats an input may be in
 * @property {ImageFormat[]} write formats an output may be asked in
 * @property {Record<string, FormatSupport>} formats each format of either list, with how and why
 * @property {boolean} threads `SharedArrayBuffer` usable (`crossOriginIsolated`): wasm threads possible
 * @property {boolean} simd WebAssembly SIMD (128-bit) compiles here
 * @property {boolean} jspi WebAssembly JS Promise Integration (`WebAssembly.Suspending`)
 * @property {boolean} imageDecoder WebCodecs `ImageDecoder`
 * @property {boolean} webgpu `navigator.gpu` gives an adapter
 * @property {{deviceMemoryGB: number | null, low: boolean, engineWorkers: number}} memory what the browser says
 *   of the device's memory (`navigator.deviceMemory`, rounded by the browser), whether pixelpress treats it
 *   as a small device (4 GB or less, or iOS), and how many engine workers a client starts here at most
 * @property {string} summary a short line for people, e.g. "reads AVIF · writes AVIF · SIMD · no threads"
 */

// The smallest module using a SIMD instruction (i8x16.splat of 0, then i16x8.add... as wasm-feature-detect does).
const SIMD_MODULE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0,
  65, 0, 253, 15, 253, 98, 11]);

// Where the wasm AVIF codecs live, inside baseUrl (the worker's web/worker/codecs.js loads the encoder from there).
const AVIF_ENCODER = 'vendor/avif/avif_enc.wasm';
const AVIF_DECODER = 'vendor/avif/avif_dec.wasm';

// The formats whose codecs are the browser's or a wasm module's, so differ from one browser to another.
const PROBED = ['avif'];

const DEFAULT_BASE_URL = (() => {
  try {
    return new URL('../', import.meta.url).href;
  } catch {
    return null;
  }
})();

const nav = () => globalThis.navigator ?? {};

/**
 * Whether pixelpress treats this device as one with little memory: `navigator.deviceMemory` 4 (GB) or less,
 * or an iPhone or iPad (Safari reports no deviceMemory, and iOS ends a tab's processes well before a desktop).
 * @returns {boolean}
 */
export function lowMemoryDevice() {
  const { deviceMemory, userAgent = '', maxTouchPoints = 0 } = nav();
  if (typeof deviceMemory === 'number' && deviceMemory > 0 && deviceMemory <= 4) return true;
  if (/\b(iPhone|iPad|iPod)\b/.test(userAgent)) return true;
  return /\bMacintosh\b/.test(userAgent) && maxTouchPoints > 1; // iPadOS asks for the desktop site
}

/**
 * How many engine workers a client starts here at most by default: the cores, 1 to 4; at most 2 on a device
 * with little memory (each worker's heap holds a decoded photo or more).
 * @returns {number}
 */
export function defaultPoolSize() {
  const cores = Math.max(1, Math.min(nav().hardwareConcurrency || 2, 4));
  return lowMemoryDevice() ? Math.min(cores, 2) : cores;
}

const once = new Map(); // baseUrl -> Promise<Capabilities>

/**
 * What this browser can do with pixelpress, probed once per `baseUrl` (later calls answer at once).
 * Fetches the AVIF encoder's wasm from `baseUrl` (3.5 MB, which the worker would fetch for AVIF output
 * anyway, so it stays in the HTTP cache) to check that it compiles here, and the AVIF decoder's (1.2 MB)
 * where the browser's ImageDecoder has no AVIF; nothing else is downloaded.
 * @param {{baseUrl?: string | URL}} [options] the folder holding vendor/ (default: the folder above client/)
 * @returns {Promise<Capabilities>}
 */
export function capabilities({ baseUrl } = {}) {
  const base = baseUrl ? new URL(String(baseUrl), globalThis.location?.href).href : DEFAULT_BASE_URL;
  let answer = once.get(base);
  if (!answer) {
    const probing = probe(base);
    // A network failure (offline before the encoder was cached) is not the browser's answer: ask again next time.
    probing.then(({ transient }) => { if (transient) once.delete(base); }, () => once.delete(base));
    answer = probing.then(({ caps }) => caps);
    once.set(base, answer);
  }
  // A copy each time: one caller changing its answer changes no one else's.
  return answer.then((caps) => structuredClone(caps));
}

async function probe(base) {
  const [simd, webgpu, avifRead, avifWrite] = await Promise.all([
    Promise.resolve(wasmValidates(SIMD_MODULE)),
    hasWebGpu(),
    canReadAvif(base),
    canWriteAvif(base),
  ]);
  const formats = {};
  for (const format of new Set([...Object.keys(FORMATS.read), ...Object.keys(FORMATS.write)])) {
    const read = format in FORMATS.read;
    const write = format in FORMATS.write;
    formats[format] = { read, write, readWith: read ? 'pillow' : null, writeWith: write ? 'pillow' : null };
  }
  if (formats.heic) {
    // Read in the worker by the browser's own decoder where a probe HEIC decodes right (Safari), else by
    // libheif compiled to wasm (vendor/heif/, 2 MB, fetched by the worker with the first HEIC; not here).
    const wasm = typeof WebAssembly === 'object';
    formats.heic = { read: wasm, write: false, readWith: wasm ? 'wasm' : null, writeWith: null,
      ...(wasm ? {} : { why: 'This browser has no WebAssembly.' }) };
  }
  if (formats.avif) {
    const why = [avifRead.why, avifWrite.why].filter(Boolean).join(' ');
    formats.avif = { read: Boolean(avifRead.with), write: Boolean(avifWrite.with), readWith: avifRead.with,
      writeWith: avifWrite.with, ...(why ? { why } : {}) };
  }
  const threads = typeof SharedArrayBuffer === 'function' && globalThis.crossOriginIsolated === true;
  const caps = {
    read: Object.keys(formats).filter((f) => formats[f].read),
    write: Object.keys(formats).filter((f) => formats[f].write),
    formats,
    threads,
    simd,
    jspi: typeof globalThis.WebAssembly?.Suspending === 'function',
    imageDecoder: typeof globalThis.ImageDecoder === 'function',
    webgpu,
    memory: { deviceMemoryGB: typeof nav().deviceMemory === 'number' ? nav().deviceMemory : null,
      low: lowMemoryDevice(), engineWorkers: defaultPoolSize() },
  };
  return { caps: { ...caps, summary: summarize(caps) }, transient: Boolean(avifRead.transient || avifWrite.transient) };
}

// "reads AVIF · writes AVIF · SIMD · no threads": what changes from one browser to another.
function summarize(caps) {
  const parts = [];
  for (const format of PROBED) {
    const s = caps.formats[format];
    if (!s) continue;
    const name = format.toUpperCase();
    parts.push(`${s.read ? 'reads' : 'cannot read'} ${name}`, `${s.write ? 'writes' : 'cannot write'} ${name}`);
  }
  parts.push(caps.simd ? 'SIMD' : 'no SIMD', caps.threads ? 'threads' : 'no threads');
  if (caps.webgpu) parts.push('WebGPU');
  const n = caps.memory.engineWorkers;
  if (caps.memory.low) parts.push(`low memory: ${n} engine ${n === 1 ? 'worker' : 'workers'}`);
  return parts.join(' · ');
}

function wasmValidates(bytes) {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

async function hasWebGpu() {
  const gpu = nav().gpu;
  if (!gpu?.requestAdapter) return false;
  try {
    // An adapter request can hang on a broken driver; a second is plenty for a yes.
    const adapter = await Promise.race([gpu.requestAdapter(), new Promise((r) => { setTimeout(() => r(null), 1000); })]);
    return Boolean(adapter);
  } catch {
    return false;
  }
}

// The worker's order (codecs.js decodeAvif): the browser's ImageDecoder, else libavif in wasm. A browser
// whose <img> shows AVIF (createImageBitmap) but has neither does not count: the engine cannot use that.
async function canReadAvif(base) {
  if (typeof globalThis.ImageDecoder === 'function') {
    try {
      if (await ImageDecoder.isTypeSupported('image/avif')) return { with: 'ImageDecoder' };
    } catch { /* the wasm decoder is asked below */ }
  }
  if (!base) return { with: null, why: 'Without a baseUrl the AVIF decoder cannot be found.' };
  const got = await wasmAt(new URL(AVIF_DECODER, base).href);
  if (got.ok) return { with: 'wasm' };
  return { with: null, why: got.why, transient: got.transient };
}

async function canWriteAvif(base) {
  if (!base) return { with: null, why: 'Without a baseUrl the AVIF encoder cannot be found.' };
  const got = await wasmAt(new URL(AVIF_ENCODER, base).href);
  if (got.ok) return { with: 'wasm' };
  return { with: null, why: got.why, transient: got.transient };
}

// Does the wasm module at `url` compile here? {ok} or {ok: false, why, transient}.
async function wasmAt(url) {
  if (typeof WebAssembly !== 'object') return { ok: false, why: 'This browser has no WebAssembly.' };
  let bytes;
  try {
    const res = await fetch(url);
    if (!res.ok) return { ok: false, why: `The AVIF codec is not in this copy of pixelpress (HTTP ${res.status}).` };
    bytes = await res.arrayBuffer();
  } catch (e) {
    return { ok: false, transient: true, why: `The AVIF codec could not be downloaded (${e?.message ?? e}).` };
  }
  return wasmValidates(bytes) ? { ok: true }
    : { ok: false, why: 'This browser cannot compile the AVIF codec (WebAssembly features it lacks).' };
}
