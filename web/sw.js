// pixelpress service worker: after the first visit the whole studio (app
// shell, Pyodide runtime, wheels) works with the network off.
//
// The cache is versioned by asset-manifest.json's `version` and every file
// is checked against the manifest's sha256 before it is stored. On each
// navigation the manifest is re-read in the background; files whose hash
// changed are fetched again (verified), so the UI updates even when the
// engine version does not. Relative URLs only: works under any sub-path.

const PREFIX = 'pixelpress-';
const MANIFEST = 'asset-manifest.json';
const scope = new URL(self.registration.scope);
const abs = (path) => new URL(path, scope).href;

async function sha256Hex(buf) {
  const d = await crypto.subtle.digest('SHA-256', buf);
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function fetchVerified(path, expected) {
  const res = await fetch(abs(path), { cache: 'no-cache' });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  const buf = await res.arrayBuffer();
  const got = await sha256Hex(buf);
  if (got !== expected) throw new Error(`${path}: sha256 ${got} does not match the manifest`);
  return new Response(buf, { status: 200, statusText: 'OK', headers: res.headers });
}

let syncing = null;
// Bring the cache in line with the server's manifest (no-op when unchanged).
function sync() {
  if (!syncing) syncing = doSync().finally(() => { syncing = null; });
  return syncing;
}

async function doSync() {
  const res = await fetch(abs(MANIFEST), { cache: 'no-store' });
  if (!res.ok) throw new Error(`manifest: HTTP ${res.status}`);
  const text = await res.text();
  const manifest = JSON.parse(text);
  const name = PREFIX + manifest.version;
  const cache = await caches.open(name);
  // Files already verified in any pixelpress cache are reused, not refetched.
  const previous = await findManifest();
  // Files the manifest marks on demand (the network's WebGPU build) are fetched when used, never stored.
  const onDemand = new Set(manifest.on_demand ?? []);
  const entries = Object.entries(manifest.files).filter(([path]) => !onDemand.has(path));
  let next = 0;
  const worker = async () => {
    while (next < entries.length) {
      const [path, { sha256 }] = entries[next++];
      const url = abs(path);
      if (previous?.files?.[path]?.sha256 === sha256) {
        const hit = await caches.match(url);
        if (hit) { if (!(await cache.match(url))) await cache.put(url, hit); continue; }
      }
      await cache.put(url, await fetchVerified(path, sha256));
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  await cache.put(abs(MANIFEST), new Response(text, { headers: { 'Content-Type': 'application/json' } }));
  for (const key of await caches.keys()) if (key.startsWith(PREFIX) && key !== name) await caches.delete(key);
  current = name;
  // Every file is verified and stored: the pages can say the studio works offline now.
  const ready = { type: 'offline-ready', version: manifest.version };
  for (const c of await self.clients.matchAll({ type: 'window', includeUncontrolled: true })) c.postMessage(ready);
  return manifest;
}

let current = null;
async function findManifest() {
  const hit = await caches.match(abs(MANIFEST));
  try { return hit ? await hit.json() : null; } catch { return null; }
}

self.addEventListener('install', (event) => {
  event.waitUntil(sync().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('message', (event) => {
  if (event.data === 'sync') event.waitUntil(sync().catch(() => {}));
});

async function fromCache(request) {
  const url = new URL(request.url);
  url.search = '';
  url.hash = '';
  let key = url.href;
  if (request.mode === 'navigate' || key === scope.href) key = abs('index.html');
  return current ? (await (await caches.open(current)).match(key)) ?? caches.match(key) : caches.match(key);
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET' || !request.url.startsWith(scope.href)) return;
  const path = request.url.slice(scope.href.length).split(/[?#]/)[0];
  if (path === MANIFEST) {
    // Fresh when online (the loading bar wants real sizes), cached when not.
    event.respondWith(fetch(request).catch(async () => (await fromCache(request)) ?? Response.error()));
    return;
  }
  if (request.mode === 'navigate') {
    // Serve the shell from the cache at once; check for updates in the background.
    event.waitUntil(sync().catch(() => {}));
    event.respondWith((async () => (await fromCache(request)) ?? fetch(request))());
    return;
  }
  event.respondWith((async () => (await fromCache(request)) ?? fetch(request))());
});
