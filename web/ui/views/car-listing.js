// Car listing: cut the car out, crop with even margins, add a shadow, and
// make the grid and detail variants a listing site needs.
// Background removal uses the optional server (API4.ai) when its health says
// API4.ai is configured, and this device's neural matte otherwise; every row
// says which path produced it.

import { baseName, fmtBytes } from '../util.js';
import { fieldFor } from './schema-fields.js';
import { cutoutOnServer } from '../server-status.js';
import { hintsFor } from '../touchup-strokes.js';

const opt = (name, ui) => fieldFor('car_listing', name, ui);

async function runListing(job, { signal, onProgress }, ctx) {
  const opts = { ...job.options };
  const mode = opts.provider; // 'auto' | 'local' | 'classical' | 'skip' (auto is resolved here)
  let fallbackReason = '';
  // An embedded-default server answers not_configured: asking it would only cost each photo a round trip.
  // A touched-up photo is cut out here: its strokes were painted on this device's cut-out.
  const remoteReady = cutoutOnServer(ctx.server) && !opts.hints;
  if (mode === 'auto' && remoteReady && ctx.remote?.removeBackgroundRemote) {
    try {
      const cut = await ctx.remote.removeBackgroundRemote(job.input, { base: ctx.server.base });
      const r = await ctx.client.run('car_listing', cut.blob, { ...opts, provider: 'remote' }, { signal, onProgress });
      const pathNote = `Background removed by ${cut.provider} on the server; cropped and finished on this device`;
      return { outputs: r.outputs, meta: r.meta, path: 'server', pathNote };
    } catch (e) {
      // Only remote.js sets `fallback`: an engine error from the run above is the row's to show.
      if (e?.fallback !== true) throw e;
      fallbackReason = `server background removal unavailable (${e.message})`;
    }
  }
  const provider = mode === 'auto' ? 'local' : mode;
  const r = await ctx.client.run('car_listing', job.input,
    { ...opts, provider, ...(fallbackReason ? { fallback_reason: fallbackReason } : {}) }, { signal, onProgress });
  // One short line in the row; the reason behind a disclosure (a wall of text at 360 px otherwise).
  return { outputs: r.outputs, meta: r.meta, path: 'device',
    pathNote: fallbackReason ? 'Cut out on this device: the server’s cut-out failed' : '', pathDetail: fallbackReason };
}

export default {
  id: 'car-listing',
  title: 'Car listing',
  nav: 'Car listing',
  op: 'car_listing',
  preload: true,
  preloadNote: 'Loading the cut-out tools (OpenCV and the cut-out model)…',
  lead: 'Cut the car out of each photo, crop it with even margins, add a floor shadow, '
    + 'and get the grid and detail images a listing needs.',
  dropLabel: 'Drop car photos',
  action: (n) => (n ? `Process ${n} ${n === 1 ? 'photo' : 'photos'}` : 'Process photos'),
  preview: true,
  proxyPixels: 480_000,
  queueTitle: 'Listing images',
  zipName: 'car-listing.zip',
  fields: [
    // Deliberate studio default: 'auto' is the page's own choice (the server's cut-out when it has one, else
    // this device's), resolved to an engine provider in runListing; the engine itself never sees 'auto'.
    { name: 'provider', label: 'Background removal', type: 'select', default: 'auto',
      options: [['auto', 'Automatic'], ['local', 'On this device'], ['classical', 'On this device, plain backdrop only'],
        ['skip', 'Keep the background']],
      help: 'Automatic uses the server’s cut-out service when it has one, else this device’s model.' },
    // (its words follow the server's health: onServer)
    opt('padding', { label: 'Margin', type: 'range', unit: ' px',
      help: 'Empty space kept around the car on every side.' }),
    opt('shadow', { label: 'Floor shadow', type: 'checkbox', help: 'Grounds the car with a soft shadow.' }),
    opt('shadow_style', { label: 'Shadow style', type: 'select',
      options: [['floor', 'Floor shadow'], ['drop', 'Drop shadow']],
      help: 'Floor: contact shadow under the car. Drop: offset, suits products.', when: (v) => v.shadow }),
    opt('shadow_opacity', { label: 'Shadow strength', type: 'range', unit: '%',
      help: 'How dark the shadow is.', when: (v) => v.shadow }),
    opt('shadow_blur', { label: 'Shadow softness', type: 'range', unit: ' px',
      help: 'Blur of the shadow edge.', when: (v) => v.shadow }),
    opt('upscale', { label: 'Enlarge small photos', type: 'checkbox',
      help: 'Lets small pictures grow to fill the grid and detail sizes.' }),
  ],
  // Say what Automatic will do, from what the server's health reports, not from whether a server answered.
  onServer(controls, ctx) {
    const auto = controls.provider?.control.querySelector('option[value=auto]');
    if (!auto) return;
    const remote = cutoutOnServer(ctx.server);
    auto.textContent = remote ? 'Automatic (server cut-out)' : 'Automatic (this device)';
    controls.provider.wrap.querySelector('.help').textContent = remote
      ? 'The server cuts the car out; if it fails, this device does.'
      : ctx.server.available ? 'This server has no cut-out service, so this device’s model cuts the car out.'
        : 'This device’s model cuts the car out; the photo is not uploaded.';
  },
  // A photo's touch-up strokes (touchup-strokes.js) go with that photo's job only, at full size.
  toOptions: (v, job) => {
    const hints = job && v.provider !== 'skip' ? hintsFor(job.input) : [];
    return { provider: v.provider, padding: v.padding, shadow: Boolean(v.shadow), shadow_style: v.shadow_style,
      shadow_opacity: v.shadow_opacity, shadow_blur: v.shadow_blur, upscale: Boolean(v.upscale),
      ...(hints.length ? { hints } : {}), ...(job ? { filename: String(job.name).slice(0, 255) } : {}) };
  },
  // Previews never upload: the matte is made here, with the shown photo's strokes scaled to the proxy.
  previewOptions: (o, scale, proxy) => {
    const hints = o.provider === 'skip' ? [] : hintsFor(proxy?.source, { scale,
      width: Math.round(proxy.width * scale), height: Math.round(proxy.height * scale) });
    return { ...o, provider: o.provider === 'auto' ? 'local' : o.provider, ...(hints.length ? { hints } : {}),
      padding: Math.round(o.padding * scale), shadow_blur: Math.round(o.shadow_blur * scale) };
  },
  // The cut-out does not depend on margin or shadow: the preview makes it once
  // per photo and set of strokes, and each slider change only crops, shadows and fits.
  previewPrestep: {
    key: (o) => (o.provider === 'local' || o.provider === 'classical'
      ? `${o.provider}${o.hints ? JSON.stringify(o.hints) : ''}` : null),
    run: (client, blob, o) => client.run('remove_background', blob,
      { provider: o.provider, ...(o.hints ? { hints: o.hints } : {}) }, { timeoutMs: 60_000 }),
    // The strokes are in its cut-out now.
    options: (o) => ({ ...Object.fromEntries(Object.entries(o).filter(([k]) => k !== 'hints')), provider: 'remote' }),
  },
  touchup: true,
  describePreview: (r) => `cut out by ${r.meta.provider === 'skip' ? 'nobody (background kept)' : 'this device'}`,
  runner: runListing,
  fileName: (job, out) => `${baseName(job.name)}-${out.name === 'main' ? out.meta.name : out.name}.png`, // as the CLI
  summarize(job) {
    const m = job.meta;
    if (!m) return '';
    const v = job.outputs.map((o) => `${o.name === 'main' ? 'processed' : o.name} ${o.meta.width}×${o.meta.height}`).join(', ');
    const cut = { remote: 'server', skip: 'none' }[m.provider]
      ?? (m.matte?.method === 'classical' ? 'this device (classical matte)' : 'this device');
    return `${v}${m.provider ? ` · cut-out: ${cut}` : ''}`;
  },
  renderExtra(job, el) {
    const strip = document.createElement('div');
    strip.className = 'outputs-strip';
    for (const o of job.outputs) {
      const fig = document.createElement('figure');
      const img = document.createElement('img');
      img.alt = `${o.name === 'main' ? 'processed' : o.name} image of ${job.name}`;
      img.src = URL.createObjectURL(o.blob);
      img.loading = 'lazy';
      const cap = document.createElement('figcaption');
      const label = o.name === 'main' ? 'processed' : o.name;
      cap.textContent = `${label} · ${o.meta.width}×${o.meta.height} · ${fmtBytes(o.blob.size)}`;
      fig.append(img, cap);
      strip.append(fig);
    }
    el.append(strip);
  },
};
