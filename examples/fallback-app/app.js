// The page: paint on our server, and on this device when the server fails.
//
// `pixelpress` comes from the import map in index.html; the client finds its
// workers and runtime next to itself, even on another origin. `prefetch:
// false` keeps the ~27 MB runtime off the wire until the server has failed.

import { PixelpressClient } from 'pixelpress';

const $ = (sel) => document.querySelector(sel);
const params = new URLSearchParams(location.search);
const serverTimeoutMs = Number(params.get('serverTimeoutMs') || 8000);

const px = new PixelpressClient({
  prefetch: false,
  onLoading: ({ phase, loaded, total }) => {
    if (total) say('working', `The server failed: painting on this device… (loading ${phase}, `
      + `${(loaded / 1e6).toFixed(1)} of ${(total / 1e6).toFixed(1)} MB)`);
  },
});
window.paintbox = { px, results: [] }; // for the tests and the console

function say(state, text) {
  $('#status').dataset.state = state;
  $('#status').textContent = text;
}

// Our own server's oil paint: a Response the helper judges (5xx, timeout, ...).
const paintOnServer = ({ input, options, signal }) => fetch(`/api/oil-paint?brush_size=${options.brush_size}`,
  { method: 'POST', body: input, headers: { 'Content-Type': input.type || 'application/octet-stream' }, signal });

function describe(reason) {
  if (!reason) return 'our server painted it';
  const status = reason.status ? ` (HTTP ${reason.status})` : '';
  return `our server failed: ${reason.code}${status}, ${reason.message}`;
}

$('#brush').addEventListener('input', () => { $('#brush-out').value = $('#brush').value; });

$('#paint-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const file = $('#photo').files[0];
  if (!file) return;
  const options = { brush_size: Number($('#brush').value), intensity: 5, format: 'jpeg', quality: 88 };
  $('#paint').disabled = true;
  say('working', 'Painting on our server…');
  const started = performance.now();
  try {
    const r = await px.runWithFallback(paintOnServer, 'oil_paint', file, options, {
      serverTimeoutMs,
      onFallback: (reason) => say('working', `${describe(reason)}. Painting on this device…`),
    });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    $('#result').src = URL.createObjectURL(r.blob);
    $('#figure').hidden = false;
    const where = r.path === 'device' ? 'Painted on this device' : 'Painted on our server';
    $('#caption').textContent = `${where} in ${seconds} s; ${describe(r.reason)}.`;
    const li = document.createElement('li');
    const badge = Object.assign(document.createElement('span'), { className: `path ${r.path}`, textContent: r.path });
    li.append(badge, ` ${describe(r.reason)}`);
    $('#log').append(li);
    window.paintbox.results.push({ path: r.path, blob: r.blob, meta: r.meta,
      reason: r.reason && { code: r.reason.code, status: r.reason.status ?? null, message: r.reason.message } });
    say('done', `${where}.`);
  } catch (e) {
    window.paintbox.results.push({ error: { code: e.code, message: e.message } });
    say('failed', `Could not paint it: ${e.message}`);
  } finally {
    $('#paint').disabled = false;
  }
});
