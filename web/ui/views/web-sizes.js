// Web sizes: responsive WebP + JPEG at standard widths, plus the <picture>
// snippet that serves them.

import { h, slug, baseName, fmtBytes, announce } from '../util.js';
import { fieldFor } from './schema-fields.js';

const opt = (name, ui) => fieldFor('web_sizes', name, ui);

export default {
  id: 'web-sizes',
  title: 'Web sizes',
  nav: 'Web sizes',
  op: 'web_sizes',
  lead: 'Make every width a responsive web page needs, in WebP and JPEG, with the <picture> HTML to paste.',
  dropLabel: 'Drop images for the web',
  action: (n) => (n ? `Make web sizes for ${n} ${n === 1 ? 'image' : 'images'}` : 'Make web sizes'),
  queueTitle: 'Web-ready images',
  zipName: 'web-sizes.zip',
  fields: [
    opt('alt', { label: 'Alt text', type: 'text', placeholder: 'Describe the image',
      help: 'Read aloud by screen readers; describe what the image shows.' }),
    opt('url_prefix', { label: 'URL prefix', type: 'text', placeholder: '/img/',
      help: 'Where the files will live on your site, used in the HTML.' }),
    opt('sizes', { label: 'Sizes attribute', type: 'text',
      help: 'How wide the image shows on the page, e.g. "(min-width: 60em) 50vw, 100vw".' }),
    opt('webp_quality', { label: 'WebP quality', type: 'range', help: 'WebP is served to modern browsers.' }),
    opt('jpeg_quality', { label: 'JPEG quality', type: 'range', help: 'JPEG is the fallback for old browsers.' }),
  ],
  toOptions(v, job) {
    const o = { alt: v.alt, url_prefix: v.url_prefix, sizes: v.sizes || '100vw', webp_quality: v.webp_quality,
      jpeg_quality: v.jpeg_quality };
    if (job) o.base_name = slug(baseName(job.name), 'image');
    return o;
  },
  fileName: (job, out) => (out.name === 'main' ? out.meta.name ?? job.meta?.name ?? 'image.webp' : out.name),
  summarize: (job) => (job.meta ? `${job.meta.widths.length} widths: ${job.meta.widths.join(', ')} px · WebP + JPEG` : ''),
  renderExtra(job, el) {
    const html = job.meta?.picture_html;
    if (!html) return;
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
    el.append(h('details.files', {}, h('summary', {}, `${files.length} files`), h('ul', {}, ...files.map((f) => h('li', {}, f)))),
      h('div.snippet-head', {}, h('span', {}, '<picture> HTML'), copy), code);
  },
};
