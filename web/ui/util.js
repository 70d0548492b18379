// Small DOM and formatting helpers shared by every view.

import FACTS from '../client/engine-facts.js';

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

// h('button.primary', {type: 'button', onclick}, 'Text', child) -> element
export function h(tag, attrs = {}, ...children) {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name || 'div');
  if (classes.length) el.className = classes.join(' ');
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'text') el.textContent = v;
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export const fmtBytes = (n) => {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 1 : 2)} MB`;
  return `${Math.max(1, Math.round(n / 1e3))} kB`;
};

export const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

export const fmtMs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);

// A file's extension by its MIME type: each engine format's canonical one (client/engine-facts.js), and the
// other files a job can give.
export const EXT = Object.freeze({
  ...Object.fromEntries(FACTS.formats.map((f) => [f.mime, f.extensions[0].slice(1)])),
  'application/zip': 'zip', 'image/x-icon': 'ico', 'text/html': 'html',
});

export function baseName(name) {
  return String(name ?? 'image').split(/[\\/]/).pop().replace(/\.[^.]+$/, '') || 'image';
}

// A name in the engine's file-name alphabet (client/engine-facts.js), without dots (one would read as an
// extension); starts and ends with a letter or digit, as the engine's file-name options require.
const NOT_IN_NAME = new RegExp(`(?:[^${FACTS.file_name.chars}]|\\.)+`, 'g');
export function slug(s, fallback = 'file') {
  return String(s ?? '').toLowerCase().normalize('NFKD').replace(NOT_IN_NAME, '-').slice(0, FACTS.file_name.max_length)
    .replace(/^[-_]+|[-_]+$/g, '') || fallback;
}

// The injectable clock: window.__pixelpressNow (number or function) wins, then
// ?now=<epoch ms> (which then advances with real time), then Date.now().
const started = Date.now();
const nowParam = Number(new URLSearchParams(globalThis.location?.search ?? '').get('now')) || null;
export function now() {
  const o = globalThis.__pixelpressNow;
  if (typeof o === 'function') return o();
  if (typeof o === 'number') return o;
  if (nowParam) return nowParam + (Date.now() - started);
  return Date.now();
}

export function debounce(fn, ms) {
  let t;
  const d = (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
  d.flush = (...args) => { clearTimeout(t); fn(...args); };
  return d;
}

export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function uniqueName(name, taken) {
  let unique = name;
  for (let i = 2; taken.has(unique); i++) unique = name.replace(/(\.[\w]+)?$/, (ext) => `-${i}${ext}`);
  taken.add(unique);
  return unique;
}

// Zip a list of {name, blob} with fflate (stored: images are already compressed).
export async function zipFiles(files) {
  const { zipSync } = await import('../vendor/fflate.js');
  const entries = {};
  const taken = new Set();
  for (const { name, blob } of files) {
    entries[uniqueName(name, taken)] = [new Uint8Array(await blob.arrayBuffer()), { level: 0 }];
  }
  return new Blob([zipSync(entries)], { type: 'application/zip' });
}

// Stable JSON (sorted keys) so equal options give equal cache keys.
export function stableStringify(v) {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().filter((k) => v[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableStringify(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

let toastTimer;
export function announce(text, { tone = 'info', sticky = false } = {}) {
  const el = document.getElementById('toast');
  if (!el) return;
  el.textContent = text;
  el.dataset.tone = tone;
  el.dataset.sticky = String(sticky);
  el.hidden = false;
  clearTimeout(toastTimer);
  if (!sticky) toastTimer = setTimeout(() => { el.hidden = true; }, 6000);
}

// Work started or finished: a passing message (not a sticky one, such as storage being full) gets out of
// the way of the results it would float over.
export function dismissToast() {
  const el = document.getElementById('toast');
  if (!el || el.hidden || el.dataset.sticky === 'true') return;
  clearTimeout(toastTimer);
  el.hidden = true;
}

// Plain-words messages for client/fetch/storage error codes.
export function friendlyError(e) {
  const code = e?.code ?? 'internal_error';
  const msg = e?.message ?? String(e);
  switch (code) {
    case 'fetch_failed': return `Could not download the image. ${msg} Save it to your device and drop it here instead.`;
    case 'fetch_timeout': return `${msg} Try again, or save the image and drop it here.`;
    case 'invalid_url': return msg;
    case 'too_large': return msg;
    case 'cancelled': return 'Cancelled.';
    case 'unknown_operation': return `This tool is not available in this version of the engine (${msg})`;
    default: return msg;
  }
}
