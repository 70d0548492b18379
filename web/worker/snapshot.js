// Interpreter snapshots: later visits skip CPython's start-up.
//
// Starting the interpreter (Pyodide's bootstrap and its stdlib imports) takes
// ~1 s on a 2-core laptop even with the shipped bytecode; restoring a memory
// image of a freshly started one takes ~0.3-0.5 s. The image is taken on this
// device right after start-up, before any package is loaded and before any
// user file is seen: it holds no user data, and its hash seed is this
// device's own.
//
// Stored in the origin private file system (OPFS) as `<key>.<sha256>`, or
// in IndexedDB where there is no OPFS (WebKitGTK, private windows): the
// key is made of the storage format and the runtime files' sha256s, so a new
// runtime or format never restores an old image, and the image is checked
// against its own sha256 before use. Everything here is best effort: any
// failure means an ordinary start, never a broken worker.
//
// Nearly half of the image is wasm memory the interpreter never touched:
// its all-zero pages are stored as one bit each (`pack`). The stored image is
// read with a synchronous access handle: ~30 ms for its 11 MB, where Cache
// Storage took 130-230 ms, on a worker thread busy compiling the runtime at
// the same time.

const DIR = 'pixelpress-interpreter-snapshot';
const OLD_CACHE = 'pixelpress.interpreter-snapshot'; // where earlier versions kept it: emptied on the next write
const RUNTIME_FILES = ['pyodide.mjs', 'pyodide.asm.js', 'pyodide.asm.wasm', 'python_stdlib.zip'];
const FORMAT = 'z1'; // in the key: images stored another way are never read as this one
const PAGE = 65536;
const MAGIC = 0x7a70_7031;
const HEADER = 16;

async function sha256Hex(bytes) {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

// The key for this runtime, or null when snapshots cannot be used here.
export function snapshotKey(manifest) {
  if (!globalThis.crypto?.subtle) return null; // insecure context
  if (!globalThis.navigator?.storage?.getDirectory && !globalThis.indexedDB) return null;
  const hashes = RUNTIME_FILES.map((f) => manifest?.files?.[`pyodide/${f}`]?.sha256);
  if (hashes.some((h) => !h)) return null;
  return [FORMAT, ...hashes.map((h) => h.slice(0, 16))].join('-');
}

// [magic, image length, page count, 0], a byte per page (1: stored), then the stored pages in order.
export function pack(image) {
  const pages = Math.ceil(image.length / PAGE);
  const words = new Uint32Array(image.buffer, image.byteOffset, image.length >> 2); // the image is 16-byte aligned
  const used = new Uint8Array(pages);
  let bytes = 0;
  for (let p = 0; p < pages; p++) {
    const end = Math.min((p + 1) * PAGE, image.length);
    for (let w = (p * PAGE) >> 2; w < end >> 2; w++) {
      if (words[w]) { used[p] = 1; bytes += end - p * PAGE; break; }
    }
  }
  const table = Math.ceil(pages / 4) * 4;
  const out = new Uint8Array(HEADER + table + bytes);
  new Uint32Array(out.buffer, 0, 4).set([MAGIC, image.length, pages, 0]);
  out.set(used, HEADER);
  let at = HEADER + table;
  for (let p = 0; p < pages; p++) {
    if (!used[p]) continue;
    const page = image.subarray(p * PAGE, Math.min((p + 1) * PAGE, image.length));
    out.set(page, at);
    at += page.length;
  }
  return out;
}

export function unpack(stored) {
  const [magic, length, pages] = new Uint32Array(stored.buffer, stored.byteOffset, 4);
  const table = Math.ceil(pages / 4) * 4;
  if (magic !== MAGIC || pages !== Math.ceil(length / PAGE) || stored.length < HEADER + table) {
    throw new Error('not a packed interpreter snapshot');
  }
  const image = new Uint8Array(length);
  let at = HEADER + table;
  for (let p = 0; p < pages; p++) {
    if (!stored[HEADER + p]) continue;
    const size = Math.min(PAGE, length - p * PAGE);
    if (at + size > stored.length) throw new Error('the packed interpreter snapshot is cut short');
    image.set(stored.subarray(at, at + size), p * PAGE);
    at += size;
  }
  if (at !== stored.length) throw new Error('the packed interpreter snapshot has trailing bytes');
  return image;
}

async function snapshotDir() {
  return (await navigator.storage.getDirectory()).getDirectoryHandle(DIR, { create: true });
}

// Several workers may restore at once: read-only handles can be shared where
// the browser knows them (Chromium 121+); elsewhere a locked file is read as a File.
async function readAll(handle) {
  if (handle.createSyncAccessHandle) {
    try {
      const access = await handle.createSyncAccessHandle({ mode: 'read-only' });
      try {
        const bytes = new Uint8Array(access.getSize());
        if (access.read(bytes, { at: 0 }) === bytes.length) return bytes;
      } finally {
        access.close();
      }
    } catch {
      // locked by another worker, or no sync handles here
    }
  }
  return new Uint8Array(await (await handle.getFile()).arrayBuffer());
}

async function writeFile(dir, name, bytes) {
  const handle = await dir.getFileHandle(name, { create: true });
  if (handle.createWritable) {
    const out = await handle.createWritable();
    await out.write(bytes);
    await out.close();
    return;
  }
  const access = await handle.createSyncAccessHandle(); // Safari writes only this way
  try {
    access.truncate(0);
    access.write(bytes, { at: 0 });
    access.flush();
  } finally {
    access.close();
  }
}

// The two places an image is kept, behind one shape: {names(), read(name), write(name, bytes), remove(name)}.
async function opfsStore() {
  const dir = await snapshotDir();
  return {
    opfs: true,
    async names() {
      const out = [];
      for await (const name of dir.keys()) out.push(name);
      return out;
    },
    read: async (name) => readAll(await dir.getFileHandle(name)),
    write: (name, bytes) => writeFile(dir, name, bytes),
    remove: (name) => dir.removeEntry(name),
  };
}

// IndexedDB, where there is no OPFS. (Cache Storage would not do: WebKitGTK
// forgets its entries at the next page load in sessions without a disk.)
const IDB = 'pixelpress-interpreter-snapshot';
const IMAGES = 'images';

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function idbStore() {
  const open = indexedDB.open(IDB, 1);
  open.onupgradeneeded = () => open.result.createObjectStore(IMAGES);
  const db = await request(open);
  const images = (mode) => db.transaction(IMAGES, mode).objectStore(IMAGES);
  // A write is done once its transaction is: a put's success may still be rolled back.
  const written = (mode, act) => new Promise((resolve, reject) => {
    const tx = db.transaction(IMAGES, mode);
    act(tx.objectStore(IMAGES));
    tx.oncomplete = () => resolve();
    tx.onerror = tx.onabort = () => reject(tx.error);
  });
  return {
    opfs: false,
    names: async () => (await request(images('readonly').getAllKeys())).map(String),
    async read(name) {
      const bytes = await request(images('readonly').get(name));
      if (!(bytes instanceof Uint8Array)) throw new Error('the stored snapshot is gone');
      return bytes;
    },
    write: (name, bytes) => written('readwrite', (store) => store.put(bytes, name)),
    remove: (name) => written('readwrite', (store) => store.delete(name)),
  };
}

// OPFS where the browser has it; else IndexedDB: WebKitGTK leaves the
// Storage API off, and private windows and automation sessions refuse
// getDirectory(). Starting afresh instead costs WebKit 2-5 s on every visit
// (bench/browsers_start.py). null when neither can be used.
let opened = null;
function openStore() {
  opened ??= opfsStore().catch(() => (globalThis.indexedDB ? idbStore() : null)).catch(() => null);
  return opened;
}

// The stored image's name for `key`, or null.
async function storedName(store, key) {
  return (await store.names()).find((name) => name.startsWith(`${key}.`)) ?? null;
}

// {bytes, intact} or null, both promises: the caller restores while the
// bytes are still being checked, and `intact` resolves to whether the stored
// bytes match the sha256 recorded when they were stored (WebCrypto hashes off
// this thread). `bytes` is the unpacked image, and rejects when the stored
// bytes are no packed image at all. The caller must discard the interpreter
// when `intact` is false.
export async function readSnapshot(key) {
  try {
    const store = await openStore();
    const name = store && await storedName(store, key);
    if (!name) return null;
    const stored = store.read(name);
    const expected = name.slice(key.length + 1);
    const intact = stored.then(sha256Hex).then((got) => got === expected, () => false);
    return { bytes: stored.then(unpack), intact };
  } catch {
    return null; // unreadable storage: start normally
  }
}

// Stores the image `image` for `key` unless another worker already did, and
// removes images of earlier runtimes. A full quota just means no snapshot.
export async function writeSnapshot(key, image) {
  try {
    const store = await openStore();
    if (!store || await storedName(store, key)) return false;
    const bytes = pack(image);
    const name = `${key}.${await sha256Hex(bytes)}`;
    await store.write(name, bytes);
    for (const other of await store.names()) if (other !== name) await store.remove(other).catch(() => {});
    // Kept in OPFS now: an earlier version's copy in Cache Storage goes.
    if (store.opfs) await globalThis.caches?.delete(OLD_CACHE).catch(() => {});
    return true;
  } catch {
    return false;
  }
}

export async function dropSnapshot(key) {
  try {
    const store = await openStore();
    for (let name = await storedName(store, key); name; name = await storedName(store, key)) await store.remove(name);
  } catch {
    // nothing to drop
  }
}
