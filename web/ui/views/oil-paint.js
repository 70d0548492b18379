// Oil paint: turn a photo into a painting, with a live before/after preview.

import { baseName, EXT } from '../util.js';
import { fieldFor } from './schema-fields.js';

const opt = (name, ui) => fieldFor('oil_paint', name, ui);

export default {
  id: 'oil-paint',
  title: 'Oil paint',
  nav: 'Oil paint',
  op: 'oil_paint',
  preload: true,
  preloadNote: 'Loading the painting tools (OpenCV)…',
  lead: 'Turn photos into oil paintings. Drag the sliders and watch the preview; the full-size painting is made when you export.',
  dropLabel: 'Drop a photo to paint',
  action: (n) => (n ? `Paint ${n} ${n === 1 ? 'photo' : 'photos'} at full size` : 'Paint at full size'),
  preview: true,
  fields: [
    opt('intensity', { label: 'Intensity', type: 'range',
      help: 'How much detail is flattened into paint: 1 subtle, 10 poster-like.' }),
    opt('brush_size', { label: 'Brush size', type: 'range', unit: ' px',
      help: 'Radius of each stroke; bigger brushes give bolder, blurrier strokes.' }),
    opt('color_vibrance', { label: 'Colour vibrance', type: 'range', unit: '%',
      help: 'Boosts colour saturation; 0 keeps the original colours.' }),
    opt('format', { label: 'Save as', type: 'select',
      options: [['auto', 'Automatic'], ['jpeg', 'JPEG'], ['png', 'PNG'], ['webp', 'WebP']],
      help: 'Automatic: PNG if the photo has transparency, else JPEG.' }),
    opt('quality', { label: 'Quality', type: 'range',
      help: 'JPEG and WebP quality of the export.', when: (v) => v.format !== 'png' }),
  ],
  toOptions: (v) => ({ intensity: v.intensity, brush_size: v.brush_size, color_vibrance: v.color_vibrance,
    format: v.format, quality: v.quality }),
  // The preview is smaller than the photo: scale the brush so it looks the same.
  previewOptions: (o, scale) => ({ ...o, brush_size: Math.max(1, Math.round(o.brush_size * scale)),
    format: 'jpeg', quality: 85 }),
  // The slider's brush is the export's; the preview paints a smaller copy with a brush scaled to match,
  // so the caption says both, and why they differ.
  describePreview(r, proxy, o) {
    const size = `${r.meta.width}×${r.meta.height}`;
    if (proxy.scale >= 1) return `${size}, full size, brush ${r.meta.brush_size} px`;
    const pct = Math.max(1, Math.round(proxy.scale * 100));
    return `${size}, ${pct}% of full size: brush ${r.meta.brush_size} px here, ${o.brush_size} px in the export`;
  },
  fileName: (job, out) => `${baseName(job.name)}-oil.${EXT[out.blob.type] ?? 'bin'}`,
  summarize(job) {
    const m = job.meta;
    if (!m) return '';
    return `${m.width}×${m.height} ${String(m.format).toUpperCase()} · intensity ${m.intensity}, brush ${m.brush_size} px`;
  },
};
