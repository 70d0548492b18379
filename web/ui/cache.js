// Result cache: same engine + same input bytes + same operation + same options
// = same result, served instantly. Key = operation, engine version, SHA-256 of
// the bytes (SubtleCrypto) and a stable JSON of the options. A small
// in-memory map sits in front of IndexedDB.

import { PixelpressError } from '../client/errors.js';
import { stableStringify, now } from './util.js';
import { store } from './store.js';

const memory = new Map(); // key -> {outputs, meta, path, createdAt}
const MEMORY_MAX = 64;
const hashes = new WeakMap(); // Blob -> Promise<hex>

export async function sha256Hex(input) {
  const buf = input instanceof Blob ? await input.arrayBuffer() : input;
  const digest = await crypto.subtle.digest('SHA-256', buf);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export function hashBlob(blob) {
  if (!hashes.has(blob)) hashes.set(blob, sha256Hex(blob));
  return hashes.get(blob);
}

// The engine version in the key is the sha256 of the site's Pyodide lock,
// which names by hash every wheel the worker installs (pixelpress, Pillow,
// NumPy, OpenCV): a deploy that changes any of them changes every key, so an
// older engine's results are never served again. (asset-manifest.json's
// `version` is only the engine wheel's, and the service worker serves the
// manifest fresh while the lock comes from the same cache as the wheels, so
// during an update the lock names the engine that actually runs.)
const LOCK_URL = new URL('../pyodide/pyodide-lock.json', import.meta.url);
let engine = null;

export function engineVersion() {
  engine ??= fetch(LOCK_URL)
    .then((r) => {
      if (!r.ok) throw new PixelpressError('fetch_failed', `the engine's lock answered HTTP ${r.status}`);
      return r.arrayBuffer();
    })
    .then(async (buf) => (await sha256Hex(buf)).slice(0, 16))
    // Without the lock the engine cannot start either; until it can, a key no
    // other visit makes keeps every other visit's results out.
    .catch(() => `unknown-${crypto.randomUUID()}`);
  return engine;
}
engineVersion(); // started now (the lock is ~2 kB) so the first file's key does not wait for it

export function cacheKey(hash, op, options, version) {
  return `${op}@${version}:${hash}:${stableStringify(options)}`;
}

export async function resultKey(hash, op, options) {
  return cacheKey(hash, op, options, await engineVersion());
}

export async function lookup(key) {
  const hit = memory.get(key);
  if (hit) return hit;
  try {
    const entry = await store.getResult(key);
    if (entry) remember(key, entry);
    return entry;
  } catch {
    return undefined;
  }
}

function remember(key, entry) {
  memory.set(key, entry);
  if (memory.size > MEMORY_MAX) memory.delete(memory.keys().next().value);
}

// Keep a result; resolves even when storage is full (the error is returned so
// the caller can show it on the row), the memory copy always works.
export async function save(key, { outputs, meta, path }) {
  const entry = { key, outputs, meta, path, createdAt: now() };
  remember(key, entry);
  try {
    await store.putResult(entry);
    return null;
  } catch (e) {
    return e;
  }
}

export function forgetMemory() {
  memory.clear();
}
