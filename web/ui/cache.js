// Result cache: same input bytes + same operation + same options = same result,
// served instantly. Key = SHA-256 of the bytes (SubtleCrypto) + a stable JSON
// of the options. A small in-memory map sits in front of IndexedDB.

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

export function cacheKey(hash, op, options) {
  return `${op}:${hash}:${stableStringify(options)}`;
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
