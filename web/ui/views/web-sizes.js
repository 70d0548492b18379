// Web sizes: responsive WebP + JPEG at standard widths, plus the <picture>
// snippet that serves them.

import { h, slug, baseName, fmtBytes, announce } from '../util.js';
import { engineOption, fieldFor, invalid } from './schema-fields.js';

const opt = (name, ui) => fieldFor('web_sizes', name, ui);

// "320, 640 960" (or the engine's default list) to the engine's `widths`, checked by its item and list rules.
export function parseWidths(value) {
  const rule = engineOption('web_sizes', 'widths');
  const words = Array.isArray(value) ? value.map(String) : String(value ?? '').split(/[\s,;]+/).filter(Boolean);
  const bad = words.find((w) => !/^\d+$/.test(w) || Number(w) < rule.item.min || Number(w) > rule.item.max);
  if (bad !== undefined) {
    throw invalid('widths', `Widths are whole numbers of pixels from ${rule.item.min} to ${rule.item.max}; "${bad}" is not.`);
  }
  const widths = [...new Set(words.map(Number))].sort((a, b) => a - b);
  if (widths.length < rule.min_items) throw invalid('widths', 'Enter at least one width.');
  if (widths.length > rule.max_items) throw invalid('widths', `At most ${rule.max_items} widths; this is ${widths.length}.`);
  return widths;
}

// The engine writes the snippet with one alt text; each image gets its own here, after the fact.
const escapeAttr = (s) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
export const withAlt = (html, alt) => html.replace(/ alt="[^"]*"/, ` alt="${escapeAttr(alt)}"`);

const htmlName = (job) => `${job.options?.base_name ?? slug(baseName(job.name), 'image')}.html`;

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

export default {
  id: 'web-sizes',
  title: 'Web sizes',
  nav: 'Web sizes',
  op: 'web_sizes',
  lead: 'Make every width a responsive web page needs, in AVIF, WebP and JPEG, with the <picture> HTML to paste.',
  dropLabel: 'Drop images for the web',
  action: (n) => (n ? `Make web sizes for ${n} ${n === 1 ? 'image' : 'images'}` : 'Make web sizes'),
  queueTitle: 'Web-ready images',
  zipName: 'web-sizes.zip',
  fields: [
    opt('widths', { label: 'Widths (px)', type: 'text', placeholder: '320, 640, 960, 1280, 1920',
      help: 'Larger than the image are skipped; its own width is added when it is not over the largest.' }),
    opt('url_prefix', { label: 'URL prefix', type: 'text', placeholder: '/img/',
      help: 'Where the files will live on your site, used in the HTML.' }),
    opt('sizes', { label: 'Sizes attribute', type: 'text',
      help: 'How wide the image shows on the page, e.g. "(min-width: 60em) 50vw, 100vw".' }),
    opt('avif', { label: 'AVIF files', type: 'checkbox',
      help: 'The smallest files, offered first; browsers without AVIF take the WebP. About a second more per photo.',
      // Off and not sent where this browser cannot write AVIF (the client's capability report).
      unavailable: (caps) => (caps.formats.avif?.write === false
        ? `This browser cannot write AVIF here, so WebP and JPEG are made. ${caps.formats.avif.why ?? ''}`.trim() : null) }),
    opt('avif_quality', { label: 'AVIF quality', type: 'range', help: 'AVIF’s own scale: 60 is about as faithful as WebP at 80.',
      when: (v) => v.avif }),
    opt('webp_quality', { label: 'WebP quality', type: 'range', help: 'WebP is served to modern browsers.' }),
    opt('jpeg_quality', { label: 'JPEG quality', type: 'range', help: 'JPEG is the fallback for old browsers.' }),
  ],
  toOptions(v, job) {
    // Alt text is per image (in each result's row), so the engine writes it empty.
    const o = { widths: parseWidths(v.widths), url_prefix: v.url_prefix, sizes: v.sizes || '100vw',
      avif: Boolean(v.avif), avif_quality: v.avif_quality, webp_quality: v.webp_quality, jpeg_quality: v.jpeg_quality };
    if (job) o.base_name = slug(baseName(job.name), 'image');
    return o;
  },
  fileName: (job, out) => (out.name === 'main' ? out.meta.name ?? job.meta?.name ?? 'image.webp' : out.name),
  // The <picture> HTML beside the images, with the alt text typed in the row, named as the command line
  // names it (<base_name>.html): one per image, so a ZIP of several never holds picture-2.html.
  extraFiles(job) {
    if (!job.meta?.picture_html) return [];
    const html = `${withAlt(job.meta.picture_html, job.alt ?? '')}\n`;
    return [{ name: htmlName(job), blob: new Blob([html], { type: 'text/html' }) }];
  },
  summarize: (job) => (job.meta
    ? `${plural(job.meta.widths.length, 'width', 'widths')}: ${job.meta.widths.join(', ')} px · `
      + `${job.meta.files.some((f) => f.mime === 'image/avif') ? 'AVIF + ' : ''}WebP + JPEG` : ''),
  renderExtra(job, el) {
    if (!job.meta?.picture_html) return;
    let html = withAlt(job.meta.picture_html, job.alt ?? '');
    const files = (job.meta.files ?? []).map((f) => `${f.name} ${f.width}×${f.height} ${fmtBytes(f.bytes)}`);
    const code = h('pre.snippet', { tabindex: '0', 'aria-label': `HTML for ${job.name}` }, h('code', {}, html));
    const copy = h('button.secondary.small', { type: 'button', onclick: async () => {
      try {
        await navigator.clipboard.writeText(html);
        announce('HTML copied.');
      } catch {
        announce('Select the HTML and copy it with Ctrl+C.');
      }
    } }, 'Copy HTML');
    const altId = `alt-${job.id}`;
    const alt = h('input', { id: altId, type: 'text', value: job.alt ?? '', placeholder: 'Describe this image',
      maxlength: engineOption('web_sizes', 'alt').max_len });
    alt.addEventListener('input', () => {
      job.alt = alt.value;
      html = withAlt(job.meta.picture_html, alt.value);
      code.firstChild.textContent = html;
    });
    el.append(h('div.field.alt', {}, h('label', { for: altId }, 'Alt text for this image'), alt,
      h('p.help', {}, 'Read aloud by screen readers; say what this image shows. Empty for a decorative image.')),
    h('details.files', {}, h('summary', {}, plural(files.length, 'file', 'files')),
      h('ul', {}, ...files.map((f) => h('li', {}, f)))),
    h('div.snippet-head', {}, h('span', {}, `<picture> HTML · in the .zip as ${htmlName(job)}`), copy), code);
  },
};
