// The studio: boots the engine client at once (the runtime downloads while
// the user is still choosing files), builds the five views, routes between
// them by URL hash, restores history from IndexedDB, probes the optional
// server, and registers the service worker once the engine is up.

import { client, onLoading } from './boot.js';
import { h, $, $$, fmtBytes, fmtMs, announce, debounce, now } from './util.js';
import { store, PURGE_EVERY_MS, MAX_AGE_MS } from './store.js';
import { forgetMemory } from './cache.js';
import { createView } from './views/base.js';
import convert from './views/convert.js';
import oilPaint from './views/oil-paint.js';
import carListing from './views/car-listing.js';
import teamAssets from './views/team-assets.js';
import webSizes from './views/web-sizes.js';
import { serverBadge, privacyClaims, uploadsOnServer, cutoutOnServer } from './server-status.js';

const PHASES = { runtime: 'Downloading the image engine', packages: 'Loading image tools', model: 'Loading the cut-out model' };
const bar = $('#engine-progress');
const text = $('#engine-text');
const engineBox = $('#engine-status');
let engineReady = false;

function showLoading({ phase, loaded, total }) {
  engineBox.dataset.state = 'loading';
  bar.hidden = false;
  if (total) { bar.max = total; bar.value = Math.min(loaded, total); } else bar.removeAttribute('value');
  const label = PHASES[phase] ?? `Loading ${phase}`;
  text.textContent = total ? `${label} · ${fmtBytes(loaded)} of ${fmtBytes(total)}` : `${label}…`;
  if (engineReady && (phase === 'packages' || phase === 'model') && total && loaded >= total) setTimeout(markReady, 400);
}

function markReady() {
  engineBox.dataset.state = 'ready';
  bar.hidden = true;
  text.textContent = 'Engine ready';
}

onLoading(showLoading);

text.textContent = 'Starting the image engine…';
// What this browser can do (formats, SIMD, threads...): the footer's line, and the forms mark what it cannot
// write. Asked once the engine is up, so the AVIF encoder it fetches never competes with the runtime's download.
const capsLine = $('#browser-caps');
const JUDGED = { jspi: 'JSPI', imageDecoder: 'ImageDecoder', webgpu: 'WebGPU' };
function showCapabilities() {
  client.capabilities().then((caps) => {
    capsLine.textContent = `This browser: ${caps.summary}`;
    capsLine.title = [`Reads ${caps.read.join(', ').toUpperCase()}; writes ${caps.write.join(', ').toUpperCase()}.`,
      ...Object.entries(JUDGED).map(([k, name]) => `${name}: ${caps[k] ? 'yes' : 'no'}.`),
      caps.memory.deviceMemoryGB ? `About ${caps.memory.deviceMemoryGB} GB of memory reported.` : ''].join(' ').trim();
    capsLine.hidden = false;
    for (const v of views) v.capabilitiesChanged(caps);
    document.documentElement.dataset.capabilities = 'ready';
  }, (e) => console.warn('capabilities not probed:', e));
}

client.ready().finally(showCapabilities).catch(() => {});

client.ready().then(({ timings }) => {
  engineReady = true;
  markReady();
  text.textContent = `Engine ready in ${fmtMs(timings.total)}`;
  refreshStorageNote(); // the engine stored its start-up snapshot meanwhile
  // Caching the runtime for offline use hashes ~28 MB: do it once the first
  // work is out of the way, not while the user waits for their first file.
  setTimeout(registerServiceWorker, 2500);
}, (e) => {
  engineBox.dataset.state = 'error';
  bar.hidden = true;
  text.textContent = `The image engine could not start: ${e.message} Reload the page to try again.`;
});

// ---- optional server -------------------------------------------------------
const params = new URLSearchParams(location.search);
const server = { available: false, base: params.get('server') ?? localStorage.getItem('pixelpress.server') ?? '', health: null };
const badge = $('#server-badge');
let remote = null;

async function probe() {
  try { remote = await import('../client/remote.js'); } catch { remote = null; }
  const res = remote ? await remote.probeServer(server.base) : { available: false };
  server.available = res.available;
  server.health = res.health ?? null;
  ctx.remote = remote;
  const b = serverBadge(server);
  Object.assign(badge, { textContent: b.text, title: b.title });
  badge.dataset.path = b.path;
  showClaims();
  for (const v of views) v.serverChanged();
}

// The tagline and the footer promise only what this deployment keeps: "nothing is uploaded" where no server
// takes anything, else what goes to it and when.
function showClaims(known = true) {
  const c = privacyClaims(server, { known });
  const tagline = $('#tagline');
  const note = $('#privacy-note');
  tagline.textContent = c.tagline;
  tagline.dataset.state = c.state;
  note.textContent = c.note;
  note.dataset.state = c.state;
  note.hidden = !c.note;
}

// ---- views -----------------------------------------------------------------
const ctx = { client, server, remote: null,
  onPreloaded: () => { if (engineReady) markReady(); },
  onQueueChange: () => refreshStorageNote() };
const specs = [convert, oilPaint, carListing, teamAssets, webSizes];
const views = specs.map((s) => createView(s, ctx));
const main = $('#views');
const nav = $('#nav');
for (const v of views) {
  main.append(v.el);
  nav.append(h('a', { href: `#${v.spec.id}`, id: `nav-${v.spec.id}`, dataset: { view: v.spec.id } }, v.spec.nav));
}
let active = null;

function route() {
  const id = location.hash.slice(1) || 'convert';
  const view = views.find((v) => v.spec.id === id) ?? views[0];
  if (view === active) return;
  const first = active === null;
  active = view;
  for (const v of views) v.el.hidden = v !== view;
  for (const a of $$('a', nav)) {
    if (a.dataset.view === view.spec.id) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  document.title = `${view.spec.title} · pixelpress`;
  view.onShow();
  if (!first) view.title.focus({ preventScroll: false });
}
window.addEventListener('hashchange', route);
route();

document.addEventListener('paste', (e) => active?.paste(e));

// ---- persistence -----------------------------------------------------------
const storageNote = $('#storage-note');

async function purge() {
  try {
    const removed = await store.purge();
    if (removed) {
      forgetMemory();
      const cutoff = now() - MAX_AGE_MS;
      for (const v of views) v.queue.dropExpired(cutoff);
    }
    return removed;
  } catch (e) {
    storageNote.textContent = e.message;
    return 0;
  }
}

// Results apart from the engine's own files: a fresh profile already holds the engine's start-up snapshot
// (and, once offline-ready, its copy of the runtime), which no "Clear history" removes and no result made.
async function showStorage() {
  const [est, ours] = await Promise.all([store.estimate(), store.usage().catch(() => null)]);
  if (ours === null || /full|cannot/i.test(storageNote.textContent)) return;
  const engine = Math.max(0, (est?.usage ?? 0) - ours);
  const parts = ['Results are kept on this device for 24 hours', `stored now: ${ours ? fmtBytes(ours) : 'none'}`];
  if (engine) parts.push(`engine cache: ${fmtBytes(engine)}`);
  storageNote.textContent = `${parts.join(' · ')}.`;
  storageNote.title = 'Stored now: your results and their originals, which Clear history deletes. Engine cache: '
    + 'the image engine’s own files, kept so it starts fast and works offline.';
  Object.assign(storageNote.dataset, { results: String(ours), engine: String(engine) });
}

const refreshStorageNote = debounce(() => { if (store.available) showStorage(); }, 1500);

async function restore() {
  try {
    await purge();
    const jobs = await store.allJobs();
    for (const v of views) await v.queue.restore(jobs.filter((j) => j.view === v.spec.id));
    storageNote.textContent = 'Results are kept on this device for 24 hours.';
    await showStorage();
  } catch (e) {
    storageNote.textContent = e.message;
  }
  document.documentElement.dataset.restored = 'true';
}
const restored = restore();
setInterval(purge, PURGE_EVERY_MS);

$('#clear-history').addEventListener('click', async () => {
  if (!confirm('Delete all saved results and history from this device?')) return;
  for (const v of views) v.queue.removeAll();
  forgetMemory();
  try { await store.clear(); announce('History cleared.'); } catch (e) { announce(e.message, { tone: 'error' }); }
  refreshStorageNote();
});

// ---- offline: service worker -------------------------------------------------
function registerServiceWorker() {
  if (!('serviceWorker' in navigator) || params.has('nosw')) return;
  navigator.serviceWorker.addEventListener('message', (e) => { if (e.data?.type === 'offline-ready') showOfflineReady(); });
  navigator.serviceWorker.register('sw.js').catch((e) => console.warn('service worker not registered:', e));
  offlineReady().then((ready) => { if (ready) showOfflineReady(); });
}

// Ready when this build's cache holds its manifest, which the service worker stores last, after every file.
async function offlineReady() {
  try {
    const { version } = await (await fetch('asset-manifest.json', { cache: 'no-store' })).json();
    const cache = await caches.open(`pixelpress-${version}`);
    return Boolean(await cache.match(new URL('asset-manifest.json', document.baseURI).href));
  } catch {
    return false;
  }
}

function showOfflineReady() {
  const el = $('#offline-state');
  if (!el || el.dataset.state === 'ready') return;
  el.dataset.state = 'ready';
  el.textContent = 'Ready to use offline: everything this studio needs is stored on this device.';
  refreshStorageNote(); // the offline copy now counts in the engine cache
}
window.addEventListener('online', () => announce('Back online.'));
window.addEventListener('offline', () => announce(uploadsOnServer(server) || cutoutOnServer(server)
  ? 'You are offline. Processing keeps working on this device; the server is out of reach until you are back.'
  : 'You are offline. Everything keeps working on this device.'));

probe();

// Test and bench hooks (the page's client stays window.pixelpress).
window.pixelpressStudio = { views, store, purge, restored, server, ctx };
