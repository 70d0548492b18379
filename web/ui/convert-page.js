// The minimal convert page: files or URLs in, converted files out.

import { PixelpressClient } from '../client/pixelpress.js';
import { zipSync } from '../vendor/fflate.js';

const $ = (id) => document.getElementById(id);
const EXT = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp' };
const results = [];

const client = new PixelpressClient({
  onLoading: ({ phase, loaded, total }) => {
    $('engine-progress').max = total || 1;
    $('engine-progress').value = Math.min(loaded, total || 1);
    $('engine-text').textContent = `Loading ${phase}: ${(loaded / 1e6).toFixed(1)} of ${(total / 1e6).toFixed(1)} MB`;
  },
});
window.pixelpress = client; // for the console, tests and benchmarks

client.ready().then(({ timings }) => {
  $('engine-progress').hidden = true;
  $('engine-text').textContent = `Engine ready in ${(timings.total / 1000).toFixed(1)} s. Processed on this device.`;
  $('convert').disabled = false;
}, (e) => { $('engine-text').textContent = e.message; });

const fmtBytes = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} MB` : `${Math.max(1, Math.round(n / 1e3))} kB`);

function readOptions() {
  const f = $('options');
  const opts = {
    format: f.format.value,
    quality: Number(f.quality.value),
    progressive: f.progressive.checked,
    lossless: f.lossless.checked,
    compress_level: Number(f.compress_level.value),
    background: f.background.value,
    keep_metadata: f.keep_metadata.checked,
  };
  for (const k of ['max_width', 'max_height']) if (f[k].value) opts[k] = Number(f[k].value);
  return opts;
}

function outputName(source, mime) {
  const base = String(source ?? 'image').split('/').pop().replace(/\.[^.]+$/, '') || 'image';
  return `${base}.${EXT[mime] ?? 'bin'}`;
}

function row(entry, inputBytes) {
  const li = document.createElement('li');
  if (entry.ok) {
    const url = URL.createObjectURL(entry.blob);
    const name = outputName(entry.source, entry.blob.type);
    const { meta } = entry;
    li.innerHTML = `<img alt=""><div><strong></strong><br><span class="ok"></span></div><a download>Download</a>`;
    li.querySelector('img').src = url;
    li.querySelector('strong').textContent = name;
    li.querySelector('.ok').textContent = `${meta.width}×${meta.height} ${meta.format.toUpperCase()} · ${fmtBytes(inputBytes ?? meta.input_bytes)} → ${fmtBytes(meta.bytes)}`
      + (meta.warnings.length ? ` · ${meta.warnings.join(' ')}` : '');
    li.querySelector('a').href = url;
    li.querySelector('a').download = name;
    results.push({ name, blob: entry.blob });
  } else {
    li.innerHTML = `<span aria-hidden="true">✕</span><div><strong></strong><br><span class="error"></span></div><span></span>`;
    li.querySelector('strong').textContent = entry.source ?? 'image';
    li.querySelector('.error').textContent = entry.error.message;
    li.dataset.code = entry.error.code;
  }
  $('results').append(li);
}

async function convert(inputs) {
  if (!inputs.length) return;
  $('convert').disabled = true;
  try {
    await client.runBatch(inputs, 'convert', readOptions(), { onItem: (e) => row(e, inputs[e.index]?.size) });
  } finally {
    $('convert').disabled = false;
    $('download-all').disabled = results.length === 0;
  }
}

const pending = [];
$('files').addEventListener('change', (e) => { pending.push(...e.target.files); });
$('quality').addEventListener('input', (e) => { $('quality-out').value = e.target.value; });
$('drop').addEventListener('dragover', (e) => { e.preventDefault(); $('drop').classList.add('over'); });
$('drop').addEventListener('dragleave', () => $('drop').classList.remove('over'));
$('drop').addEventListener('drop', (e) => {
  e.preventDefault();
  $('drop').classList.remove('over');
  convert([...e.dataTransfer.files]);
});
$('options').addEventListener('submit', (e) => {
  e.preventDefault();
  const urls = $('urls').value.split(/\s+/).filter(Boolean);
  convert([...pending.splice(0), ...urls]);
  $('files').value = '';
});
$('download-all').addEventListener('click', async () => {
  const entries = {};
  for (const { name, blob } of results) {
    let unique = name;
    for (let i = 2; unique in entries; i++) unique = name.replace(/(\.\w+)$/, `-${i}$1`);
    entries[unique] = new Uint8Array(await blob.arrayBuffer());
  }
  const zip = new Blob([zipSync(entries, { level: 0 })], { type: 'application/zip' });
  const a = Object.assign(document.createElement('a'), { href: URL.createObjectURL(zip), download: 'pixelpress.zip' });
  a.click();
});
