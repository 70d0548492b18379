// Interpreter snapshots: later visits skip CPython's start-up.
//
// Starting the interpreter (Pyodide's bootstrap and its stdlib imports) takes
// ~1 s on a 2-core laptop even with the shipped bytecode; restoring a memory
// image of a freshly started one takes ~0.3-0.5 s. The image is taken on this
// device right after start-up, before any package is loaded and before any
// user file is seen: it holds no user data, and its hash seed is this
// device's own.
//
// Stored in the origin private file system (OPFS) as `<key>.<sha256>`: the
// key is made of the storage format and the runtime files' sha256s, so a new
// runtime or format never restores an old image, and the image is checked
// against its own sha256 before use. Everything here is best effort: any
// failure means an ordinary start, never a broken worker.
//
// Nearly half of the image is wasm memory the interpreter never touched:
// its all-zero pages are stored as one bit each (`pack`). The stored image is
// read with a synchronous access handle: ~30 ms for its 11 MB, where Cache
// Storage (which held it until now) took 130-230 ms, on a worker thread busy
// compiling the runtime at the same time.

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
  if (!globalThis.navigator?.storage?.getDirectory || !globalThis.crypto?.subtle) return null; // insecure context
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

// The stored image's file name for `key`, or null.
async function storedName(dir, key) {
  for await (const name of dir.keys()) if (name.startsWith(`${key}.`)) return name;
  return null;
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

// {bytes, intact} or null, both promises: the caller restores while the
// bytes are still being checked, and `intact` resolves to whether the stored
// bytes match the sha256 recorded when they were stored (WebCrypto hashes off
// this thread). `bytes` is the unpacked image, and rejects when the stored
// bytes are no packed image at all. The caller must discard the interpreter
// when `intact` is false.
export async function readSnapshot(key) {
  try {
    const dir = await snapshotDir();
    const name = await storedName(dir, key);
    if (!name) return null;
    const stored = readAll(await dir.getFileHandle(name));
    const expected = name.slice(key.length + 1);
    const intact = stored.then(sha256Hex).then((got) => got === expected, () => false);
    return { bytes: stored.then(unpack), intact };
  } catch {
    return null; // no OPFS here (an insecure context, some private modes): start normally
  }
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

// Stores the image `image` for `key` unless another worker already did, and
// removes images of earlier runtimes. A full quota just means no snapshot.
export async function writeSnapshot(key, image) {
  try {
    const dir = await snapshotDir();
    if (await storedName(dir, key)) return false;
    const bytes = pack(image);
    const name = `${key}.${await sha256Hex(bytes)}`;
    await writeFile(dir, name, bytes);
    const others = [];
    for await (const other of dir.keys()) if (other !== name) others.push(other);
    for (const other of others) await dir.removeEntry(other).catch(() => {});
    await globalThis.caches?.delete(OLD_CACHE).catch(() => {});
    return true;
  } catch {
    return false;
  }
}

export async function dropSnapshot(key) {
  try {
    const dir = await snapshotDir();
    for (let name = await storedName(dir, key); name; name = await storedName(dir, key)) await dir.removeEntry(name);
  } catch {
    // nothing to drop
  }
}
