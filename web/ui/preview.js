// Live preview: a ~1 MP proxy of the chosen image is made once, then every
// option change re-renders the proxy. Changes are debounced, only one
// preview job is in flight at a time (running jobs are never killed: that
// would cost a worker), and results of stale generations are dropped.

import { PixelpressError } from '../client/errors.js';
import { fmtBytes, fmtMs, friendlyError } from './util.js';
import { readHeader, safeToDecode, MAX_PIXELS } from './image-header.js';
import { framingChanged } from './compare-slider.js';

export const PROXY_PIXELS = 1_000_000;

export async function makeProxy(client, blob, maxPixels = PROXY_PIXELS) {
  const size = await readHeader(blob).catch(() => null);
  if (size?.width && size.width * size.height > MAX_PIXELS) {
    const mp = (size.width * size.height / 1e6).toFixed(0);
    throw new PixelpressError('too_large', `The image is ${size.width}×${size.height} (${mp} megapixels), `
      + `over the ${MAX_PIXELS / 1e6} megapixel limit.`);
  }
  // A header that does not say its size is not decoded here: the engine, which refuses what it cannot
  // size, makes the proxy, as it does for formats the browser cannot decode (TIFF, HEIC, odd BMPs).
  const made = size?.width ? await browserProxy(blob, maxPixels).catch(() => null) : null;
  if (made) return made;
  const side = Math.round(Math.sqrt(maxPixels));
  const r = await client.run('convert', blob, { format: 'png', max_width: side, max_height: side, compress_level: 1 });
  const m = r.meta;
  return { blob: r.blob, scale: m.width / m.input_width, width: m.input_width, height: m.input_height };
}

async function browserProxy(blob, maxPixels) {
  const bmp = await createImageBitmap(blob);
  const { width, height } = bmp;
  const scale = Math.min(1, Math.sqrt(maxPixels / (width * height)));
  const w = Math.max(1, Math.round(width * scale));
  const hgt = Math.max(1, Math.round(height * scale));
  const canvas = new OffscreenCanvas(w, hgt);
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bmp, 0, 0, w, hgt);
  bmp.close();
  const opaque = blob.type === 'image/jpeg';
  const out = await canvas.convertToBlob(opaque ? { type: 'image/jpeg', quality: 0.95 } : { type: 'image/png' });
  return { blob: out, scale, width, height };
}

// `prestep` ({key(options) -> string|null, run(client, blob, options) -> Promise<{blob, meta, ms}>,
// options(options) -> options}) names a costly first stage whose result does not
// depend on every option (e.g. a cut-out under margin and shadow sliders): it runs
// once per source and key, and later renders start from its result.
// `onPrestep(result | null, {options, proxy, failed?})` hears of each render's first stage for the shown source
// (null: this render has none), e.g. to show the cut-out that a touch-up brush paints on.
// `previewOptions(options, scale, proxy)`: the proxy ({blob, scale, width, height, source}) says which photo it is.
// `explain(error)` says an engine error in the form's words, or gives nothing.
export function createPreview({ client, view, compare, op, previewOptions = (o) => o, describe, delay = 90,
  proxyPixels = PROXY_PIXELS, gate = () => Promise.resolve(), prestep = null, onPrestep = () => {},
  explain = () => null }) {
  const say = (e) => explain(e) ?? friendlyError(e);
  let proxy = null;
  const prepared = new Map(); // prestep key -> Promise<Blob>, for the current source
  let proxyPromise = null;
  let generation = 0;
  let inFlight = false;
  let pending = null; // {options, gen, t0}
  let timer = null;
  let sourceToken = 0;

  async function pump() {
    if (inFlight || !pending || !proxy) return;
    const job = pending;
    pending = null;
    inFlight = true;
    compare.setBusy(true);
    try {
      const shown = proxy;
      let opts = previewOptions(job.options, proxy.scale, proxy);
      let input = proxy.blob;
      const t = performance.now();
      const key = prestep?.key(opts) ?? null;
      const current = () => job.token === sourceToken;
      if (key !== null) {
        if (!prepared.has(key)) {
          const made = prestep.run(client, proxy.blob, opts);
          made.catch(() => prepared.delete(key)); // a failed stage is tried again next time
          prepared.set(key, made);
        }
        const first = await prepared.get(key).catch((e) => {
          if (current()) onPrestep(null, { options: opts, proxy: shown, failed: say(e) });
          throw e;
        });
        if (current()) onPrestep(first, { options: opts, proxy: shown });
        input = first.blob;
        opts = prestep.options(opts);
      } else if (current()) onPrestep(null, { options: opts, proxy: shown });
      const r = await client.run(op, input, opts, { timeoutMs: 60_000 });
      if (job.gen === generation && current()) {
        compare.setAfter(r.outputs.find((o) => o.blob.type.startsWith('image/'))?.blob ?? r.blob,
          { reframed: framingChanged(r.meta) });
        const ms = performance.now() - job.t0;
        const extra = describe ? describe(r, proxy, job.options) : `${fmtBytes(r.blob.size)} at preview size`;
        compare.setStatus(`Preview · ${extra} · rendered in ${fmtMs(performance.now() - t)}`);
        document.dispatchEvent(new CustomEvent('pixelpress:preview', { detail: { view, ms, engineMs: r.ms } }));
      }
    } catch (e) {
      if (job.gen === generation) compare.setStatus(`No preview: ${say(e)}`, 'error');
    } finally {
      inFlight = false;
      if (!pending) compare.setBusy(false);
      pump();
    }
  }

  return {
    setSource(blob) {
      const token = ++sourceToken;
      proxy = null;
      prepared.clear();
      compare.setStatus('Preparing preview…');
      proxyPromise = (async () => {
        // The original is shown (an <img>, which the browser decodes) while its proxy is made, unless its
        // header claims more pixels than the cap or does not say: then the proxy only, or why there is none.
        const safe = await safeToDecode(blob).catch(() => false);
        if (token === sourceToken) compare.setBefore(safe ? blob : null);
        return makeProxy(client, blob, proxyPixels);
      })().then((p) => {
        if (token !== sourceToken) return null;
        proxy = { ...p, source: blob };
        compare.setBefore(p.blob);
        return p;
      }, (e) => {
        if (token === sourceToken) compare.setStatus(`No preview: ${friendlyError(e)}`, 'error');
        return null;
      });
      return proxyPromise;
    },
    // Ask for a render; `immediate` skips the debounce (first render).
    request(options, { immediate = false } = {}) {
      const gen = ++generation;
      const t0 = performance.now();
      clearTimeout(timer);
      const go = async () => {
        if (!proxy && proxyPromise) await proxyPromise;
        // Never compete with the engine's start-up or with the batch the user started.
        await client.ready().catch(() => {});
        await gate();
        if (gen !== generation) return;
        pending = { options, gen, t0, token: sourceToken };
        pump();
      };
      if (immediate) go(); else timer = setTimeout(go, delay);
    },
    get hasSource() { return Boolean(proxyPromise); },
    clear() { sourceToken++; proxy = null; proxyPromise = null; prepared.clear(); compare.hide(); },
  };
}
