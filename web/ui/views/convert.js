// Convert (batch): format, quality and size for many images at once.

import { fmtBytes, baseName, EXT } from '../util.js';
import { fieldFor } from './schema-fields.js';

const opt = (name, ui) => fieldFor('convert', name, ui);

const FORMAT_LABEL = { jpeg: 'JPEG', png: 'PNG', webp: 'WebP', avif: 'AVIF' };

export default {
  id: 'convert',
  title: 'Convert',
  nav: 'Convert',
  op: 'convert',
  lead: 'Change format, quality and size of many images at once, on this device.',
  dropLabel: 'Drop images to convert',
  action: (n) => (n ? `Convert ${n} ${n === 1 ? 'image' : 'images'}` : 'Convert'),
  preview: true,
  fields: [
    // Deliberate studio defaults: WebP (the smallest files for the web, which is what most people convert
    // for) and progressive JPEG (shows early on slow connections). The engine's own are JPEG and baseline.
    opt('format', { label: 'Format', type: 'select', studioDefault: 'webp',
      options: [['webp', 'WebP · small files, fast'], ['avif', 'AVIF · smallest files, slower'],
        ['jpeg', 'JPEG · works everywhere'], ['png', 'PNG · lossless, transparency']],
      help: 'WebP for the web, AVIF for the smallest files (current browsers), JPEG for anywhere, PNG for exact pixels.',
      // Formats this browser cannot write here are marked and cannot be picked (the client's capability report).
      choiceUnavailable: (format, caps) => (caps.formats[format]?.write === false
        ? `This browser cannot write ${FORMAT_LABEL[format] ?? format} here. ${caps.formats[format].why ?? ''}`.trim() : null) }),
    opt('quality', { label: 'Quality', type: 'range',
      help: 'Lower is smaller; 75–85 looks the same as the original for most photos, in every format.',
      when: (v) => v.format !== 'png' && !(v.format === 'webp' && v.lossless) }),
    opt('max_kb', { label: 'Target size (kB)', type: 'number', placeholder: 'No limit',
      help: 'At most this size: the quality is lowered only as far as needed.',
      when: (v) => v.format !== 'png' && !(v.format === 'webp' && v.lossless) }),
    opt('lossless', { label: 'Lossless WebP', type: 'checkbox',
      help: 'Exact pixels, bigger files; good for screenshots and graphics.', when: (v) => v.format === 'webp' }),
    opt('avif_speed', { label: 'AVIF speed', type: 'range',
      help: 'Higher is faster; lower makes slightly smaller files but can take many seconds per photo.',
      when: (v) => v.format === 'avif' }),
    opt('progressive', { label: 'Progressive JPEG', type: 'checkbox', studioDefault: true,
      help: 'Shows a rough version first while it loads on slow connections.', when: (v) => v.format === 'jpeg' }),
    opt('compress_level', { label: 'PNG compression', type: 'range',
      help: 'Same pixels at every level; 9 is smallest but slowest.', when: (v) => v.format === 'png' }),
    opt('max_width', { label: 'Max width (px)', type: 'number', placeholder: 'Original',
      help: 'Shrink to fit this width; smaller pictures are never enlarged.' }),
    opt('max_height', { label: 'Max height (px)', type: 'number', placeholder: 'Original',
      help: 'Shrink to fit this height; keeps the proportions.' }),
    opt('background', { label: 'Background', type: 'color',
      help: 'Fills transparent areas (JPEG has no transparency).', when: (v) => v.format === 'jpeg' }),
    opt('keep_metadata', { label: 'Keep metadata', type: 'checkbox',
      help: 'Keeps camera data and location. Off by default for privacy.' }),
    opt('colour_profile', { label: 'Colours', type: 'select',
      options: [['srgb', 'sRGB · same colours everywhere'], ['keep', 'Keep the photo’s profile']],
      help: 'Phone and camera photos in Display P3 or Adobe RGB are converted so no browser shows them washed out.' }),
  ],
  toOptions(v) {
    const o = { format: v.format, quality: v.quality, progressive: Boolean(v.progressive), lossless: Boolean(v.lossless),
      compress_level: v.compress_level, background: v.background, keep_metadata: Boolean(v.keep_metadata),
      colour_profile: v.colour_profile };
    if (v.format === 'avif') o.avif_speed = v.avif_speed;
    for (const k of ['max_width', 'max_height']) if (v[k] !== null && v[k] !== '' && v[k] !== undefined) o[k] = v[k];
    const lossy = v.format !== 'png' && !(v.format === 'webp' && v.lossless);
    if (lossy && v.max_kb !== null && v.max_kb !== '' && v.max_kb !== undefined) o.max_kb = v.max_kb;
    return o;
  },
  describePreview(r, proxy) {
    const m = r.meta;
    const format = `${FORMAT_LABEL[m.format] ?? m.format}${m.quality ? ` q${m.quality}` : ''}`;
    return `${format} · ${fmtBytes(m.bytes)} at ${m.width}×${m.height}${proxy.scale < 1 ? ' (preview size)' : ''}`;
  },
  fileName: (job, out) => `${baseName(job.name)}.${EXT[out.blob.type] ?? 'bin'}`,
  summarize(job) {
    const m = job.meta;
    if (!m) return '';
    const pct = job.inputBytes ? Math.round((1 - m.bytes / job.inputBytes) * 100) : null;
    const change = pct === null ? '' : ` · ${pct >= 0 ? `${pct}% smaller` : `${-pct}% larger`}`;
    const target = m.target_kb === undefined ? ''
      : ` · ${m.target_met ? `under ${m.target_kb} kB at quality ${m.quality}` : `${m.target_kb} kB not reached`}`;
    const colour = m.colour === 'converted' ? ` · ${m.input_profile} → sRGB` : '';
    return `${m.width}×${m.height} ${FORMAT_LABEL[m.format] ?? m.format}${change}${target}${colour}`;
  },
};
