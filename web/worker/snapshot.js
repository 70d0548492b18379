// Interpreter snapshots: later visits skip CPython's start-up.
//
// Starting the interpreter (Pyodide's bootstrap and its stdlib imports) takes
// ~1 s on a 2-core laptop even with the shipped bytecode; restoring a memory
// image of a freshly started one takes ~0.3-0.5 s. The image is taken on this
// device right after start-up, before any package is loaded and before any
// user file is seen: it holds no user data, and its hash seed is this
// device's own.
//
// Stored in Cache Storage under a key made of the runtime files' sha256s, so
// a new runtime never restores an old image, and checked against its own
// sha256 before use. Everything here is best effort: any failure means an
// ordinary start, never a broken worker.

const CACHE = 'pixelpress.interpreter-snapshot'; // not 'pixelpress-': the service worker prunes those
const RUNTIME_FILES = ['pyodide.mjs', 'pyodide.asm.js', 'pyodide.asm.wasm', 'python_stdlib.zip'];

async function sha256Hex(bytes) {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

// The key for this runtime, or null when snapshots cannot be used here.
export function snapshotKey(manifest) {
  if (!globalThis.caches || !globalThis.crypto?.subtle) return null; // insecure context
  const hashes = RUNTIME_FILES.map((f) => manifest?.files?.[`pyodide/${f}`]?.sha256);
  if (hashes.some((h) => !h)) return null;
  return hashes.map((h) => h.slice(0, 16)).join('-');
}

// Relative to this module, not to self.location: a worker started through a
// blob: wrapper (another origin, see client/start-worker.js) has a blob: location.
const entryUrl = (key) => new URL(`./interpreter-snapshot/${key}`, import.meta.url).href;

// {bytes, intact} or null, both promises: the caller restores while the
// bytes are still being read, and `intact` resolves to whether they match the
// sha256 recorded when they were stored (WebCrypto hashes off this thread).
// The caller must discard the interpreter when `intact` is false.
export async function readSnapshot(key) {
  try {
    const hit = await (await caches.open(CACHE)).match(entryUrl(key));
    if (!hit) return null;
    const expected = hit.headers.get('x-sha256');
    const bytes = hit.arrayBuffer().then((buf) => new Uint8Array(buf));
    const intact = bytes.then(sha256Hex).then((got) => got === expected, () => false);
    return { bytes, intact };
  } catch {
    return null; // unreadable cache: start normally
  }
}

// Stores `bytes` for `key` unless another worker already did, and removes
// images of earlier runtimes. A full quota just means no snapshot.
export async function writeSnapshot(key, bytes) {
  try {
    const cache = await caches.open(CACHE);
    const url = entryUrl(key);
    if (await cache.match(url)) return false;
    const sha = await sha256Hex(bytes);
    await cache.put(url, new Response(bytes, { headers: { 'content-type': 'application/octet-stream', 'x-sha256': sha } }));
    for (const request of await cache.keys()) if (request.url !== url) await cache.delete(request);
    return true;
  } catch {
    return false;
  }
}

export async function dropSnapshot(key) {
  try {
    await (await caches.open(CACHE)).delete(entryUrl(key));
  } catch {
    // nothing to drop
  }
}
