"""Fast later starts: the interpreter snapshot and the shipped bytecode, in Chromium.

The first worker on a device starts CPython and stores a memory snapshot of
it; later workers restore it. A restored interpreter must give exactly the
results of a started one, also for operations that load numpy and OpenCV
after the restore, and a damaged snapshot must be replaced, never trusted.
"""

import base64

import pytest
import samples

SNAPSHOT_DIR = "pixelpress-interpreter-snapshot"  # in the origin private file system
OLD_CACHE = "pixelpress.interpreter-snapshot"  # where earlier versions kept it, in Cache Storage
PHOTO_PNG = samples.photo_bytes("coffee.png", "PNG")

# A fresh client of one worker on this page: which way its interpreter came up,
# and the PNG bytes of each requested operation.
START_JS = """async ([b64, jobs]) => {
  const { PixelpressClient } = await import(new URL('client/pixelpress.js', location.href).href);
  const client = new PixelpressClient({ size: 1 });
  try {
    const ready = await client.ready();
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const outputs = [];
    for (const [op, options] of jobs) {
      const r = await client.run(op, bytes, options);
      const buf = new Uint8Array(await r.blob.arrayBuffer());
      let s = '';
      for (let i = 0; i < buf.length; i += 0x8000) s += String.fromCharCode(...buf.subarray(i, i + 0x8000));
      outputs.push(btoa(s));
    }
    const stats = await client.stats();
    return { interpreter: ready.interpreter, outputs, bytecode: stats.bytecode };
  } finally {
    client.terminate();
  }
}"""

SNAPSHOT_FILES_JS = f"""
const snapshotDir = async () => (await navigator.storage.getDirectory()).getDirectoryHandle('{SNAPSHOT_DIR}', {{ create: true }});
const snapshotFiles = async (dir) => {{ const names = []; for await (const n of dir.keys()) names.push(n); return names; }};
"""

# The stored file, with the header of its packed layout (web/worker/snapshot.js): [magic, image length, pages].
STORED_JS = f"""async () => {{
  {SNAPSHOT_FILES_JS}
  const dir = await snapshotDir();
  const names = await snapshotFiles(dir);
  if (names.length !== 1) return null;
  const buf = await (await (await dir.getFileHandle(names[0])).getFile()).arrayBuffer();
  if (buf.byteLength < 16) return null;  // still being written
  const [magic, image, pages] = new Uint32Array(buf, 0, 3);
  return {{ name: names[0], bytes: buf.byteLength, sha: names[0].split('.').pop(), magic, image, pages }};
}}"""
PACKED_MAGIC = 0x7A707031

# Rewrite the stored snapshot: `how` is 'flip' (same length, bytes changed, old
# sha kept) or 'junk' (a short non-snapshot under a name whose sha does match).
# The worker that wrote it has just been terminated, and Chromium may hold its
# write lock a moment longer: a locked file is tried again for up to 5 s.
DAMAGE_JS = f"""async (how) => {{
  {SNAPSHOT_FILES_JS}
  const unlocked = async (change) => {{
    for (let i = 0; ; i++) {{
      try {{ return await change(); }} catch (e) {{
        if (e.name !== 'NoModificationAllowedError' || i >= 50) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }}
    }}
  }};
  const dir = await snapshotDir();
  const [name] = await snapshotFiles(dir);
  let bytes = new Uint8Array(await (await (await dir.getFileHandle(name)).getFile()).arrayBuffer());
  let newName = name;
  if (how === 'flip') {{
    for (let i = bytes.length >> 1; i < (bytes.length >> 1) + 4096; i++) bytes[i] ^= 0x5a;
  }} else {{
    bytes = new TextEncoder().encode('not an interpreter snapshot'.repeat(100));
    const d = await crypto.subtle.digest('SHA-256', bytes);
    newName = name.split('.')[0] + '.' + [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
    await unlocked(() => dir.removeEntry(name));
  }}
  await unlocked(async () => {{
    const out = await (await dir.getFileHandle(newName, {{ create: true }})).createWritable();
    await out.write(bytes);
    await out.close();
  }});
}}"""


@pytest.fixture()
def origin_page(browser, site_url):
    """A page of the site's origin with nothing running: no client, no service worker."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(site_url + "asset-manifest.json")
    yield page
    context.close()


def start(page, jobs):
    res = page.evaluate(START_JS, [base64.b64encode(PHOTO_PNG).decode(), jobs])
    res["outputs"] = [base64.b64decode(o) for o in res["outputs"]]
    return res


def stored_snapshot(page, timeout_s=30):
    for _ in range(timeout_s * 10):
        entry = page.evaluate(STORED_JS)
        if entry:
            return entry
        page.wait_for_timeout(100)
    raise AssertionError("no interpreter snapshot was stored")


def same_pixels(a: bytes, b: bytes) -> bool:
    return samples.decode(a).tobytes() == samples.decode(b).tobytes()


def test_a_restored_interpreter_gives_the_started_ones_results(origin_page):
    jobs = [["convert", {"format": "png", "max_width": 400}], ["oil_paint", {"format": "png", "max_width": 400}]]
    first = start(origin_page, jobs)
    assert first["interpreter"] == "started"
    entry = stored_snapshot(origin_page)
    assert entry["image"] > 10_000_000 and len(entry["sha"]) == 64

    second = start(origin_page, jobs)
    assert second["interpreter"] == "restored"
    for a, b in zip(first["outputs"], second["outputs"], strict=True):
        assert samples.decode(a).size == (400, 267)
        assert same_pixels(a, b)
    # numpy and OpenCV loaded after the restore and did real work
    assert not same_pixels(second["outputs"][0], second["outputs"][1])


def test_the_snapshot_is_stored_without_its_untouched_memory(origin_page):
    """A restore reads and hashes the whole stored image: its all-zero pages are not stored."""
    start(origin_page, [["convert", {"format": "png", "max_width": 400}]])
    entry = stored_snapshot(origin_page)
    assert entry["magic"] == PACKED_MAGIC
    assert entry["pages"] == -(-entry["image"] // 65536)
    assert entry["bytes"] < 0.8 * entry["image"]
    assert entry["name"].startswith("z1-")  # the format is in the key: older images are never read
    assert start(origin_page, [["convert", {"format": "png", "max_width": 400}]])["interpreter"] == "restored"


@pytest.mark.parametrize("damage", ["flip", "junk"])
def test_a_damaged_snapshot_is_replaced_not_trusted(origin_page, damage):
    jobs = [["convert", {"format": "png", "max_width": 400}]]
    good = start(origin_page, jobs)
    original = stored_snapshot(origin_page)
    origin_page.evaluate(DAMAGE_JS, damage)

    recovered = start(origin_page, jobs)
    assert recovered["interpreter"] == "started"
    assert same_pixels(recovered["outputs"][0], good["outputs"][0])
    assert stored_snapshot(origin_page)["bytes"] == original["bytes"]  # a whole new one, not the junk
    # and it is good: a damaged one would be rejected again
    assert start(origin_page, jobs)["interpreter"] == "restored"


def test_stdlib_engine_and_pillow_import_from_shipped_bytecode(origin_page):
    res = start(origin_page, [["convert", {"format": "webp"}]])
    report = res["bytecode"]
    assert report["modules"] > 30  # the engine, Pillow and its plugins
    assert report["without"] == []
    assert report["stdlib_modules"] > 100
    assert report["stdlib_from_source"] == []


def test_an_image_stored_by_an_earlier_version_is_removed(origin_page):
    """Earlier versions kept the image (21 MB) in Cache Storage; the first new image frees that space."""
    origin_page.evaluate(f"""async () => {{
      const cache = await caches.open('{OLD_CACHE}');
      await cache.put(new URL('worker/interpreter-snapshot/z1-old', location.href).href, new Response(new Uint8Array(4096)));
    }}""")
    assert start(origin_page, [["convert", {"format": "png", "max_width": 400}]])["interpreter"] == "started"
    stored_snapshot(origin_page)
    for _ in range(50):
        if not origin_page.evaluate(f"() => caches.has('{OLD_CACHE}')"):
            break
        origin_page.wait_for_timeout(100)
    assert not origin_page.evaluate(f"() => caches.has('{OLD_CACHE}')")


# A worker that cannot see the origin private file system (as in WebKitGTK, whose Storage API is off, and in private
# windows): the engine worker started from a blob module that first takes getDirectory away. Returns which way its
# interpreter came up and whether a conversion then worked.
NO_OPFS_START_JS = """async (b64) => {
  const workerUrl = new URL('worker/engine-worker.js', location.href).href;
  const source = `delete StorageManager.prototype.getDirectory; await import(${JSON.stringify(workerUrl)});`;
  const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })), { type: 'module' });
  const next = (type) => new Promise((resolve, reject) => {
    worker.onmessage = ({ data }) => {
      if (data.type === type) resolve(data);
      if (data.type === 'fatal') reject(new Error(data.error.message));
    };
    worker.onerror = (e) => reject(new Error(e.message));
  });
  try {
    const ready = await next('ready');
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const answered = next('result');
    worker.postMessage({ type: 'run', id: 1, op: 'convert', options: { format: 'png', max_width: 400 }, data: bytes.buffer },
      [bytes.buffer]);
    const result = await answered;
    return { interpreter: ready.interpreter, ok: result.ok, mime: result.outputs?.[0]?.mime };
  } finally {
    worker.terminate();
  }
}"""

# The names of the images kept in IndexedDB, and whether OPFS holds any.
KEPT_JS = f"""async () => {{
  const db = await new Promise((resolve, reject) => {{
    const open = indexedDB.open('{SNAPSHOT_DIR}');
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  }});
  try {{
    if (!db.objectStoreNames.contains('images')) return {{ idb: [] }};
    const keys = await new Promise((resolve) => {{
      const req = db.transaction('images').objectStore('images').getAllKeys();
      req.onsuccess = () => resolve(req.result);
    }});
    let opfs = [];
    try {{
      const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('{SNAPSHOT_DIR}');
      for await (const n of dir.keys()) opfs.push(n);
    }} catch {{}}
    return {{ idb: keys, opfs }};
  }} finally {{
    db.close();
  }}
}}"""


def test_without_opfs_the_snapshot_is_kept_in_indexeddb(origin_page):
    """WebKitGTK has no OPFS: later workers there restore the image from IndexedDB instead of starting afresh."""
    photo = base64.b64encode(PHOTO_PNG).decode()
    first = origin_page.evaluate(NO_OPFS_START_JS, photo)
    assert first == {"interpreter": "started", "ok": True, "mime": "image/png"}
    for _ in range(300):
        kept = origin_page.evaluate(KEPT_JS)
        if kept["idb"]:
            break
        origin_page.wait_for_timeout(100)
    assert len(kept["idb"]) == 1 and kept["idb"][0].startswith("z1-") and kept["opfs"] == []

    assert origin_page.evaluate(NO_OPFS_START_JS, photo) == {"interpreter": "restored", "ok": True, "mime": "image/png"}
