// Team assets: one logo and a roster in, a ZIP with everything a team needs out
// (cleaned logo sizes, favicon, shirt mockups, banners, social cards, web sizes).

import { h, slug, fmtBytes } from '../util.js';
import { fieldFor, invalid, parseRoster, rosterLines } from './schema-fields.js';

const opt = (name, ui) => fieldFor('asset_pack', name, ui);

export default {
  id: 'team-assets',
  title: 'Team assets',
  nav: 'Team assets',
  op: 'asset_pack',
  preload: true,
  preloadNote: 'Loading the design tools (OpenCV)…',
  multiple: false,
  lead: 'One logo and a roster in; logo sizes, favicon, shirt mockups, banners, social cards and web images out, in one ZIP.',
  dropLabel: 'Drop your team logo',
  dropHint: 'PNG with transparency works best; a flat background is removed for you.',
  action: () => 'Build the asset pack',
  // Before the long build: the logo as the pack will use it, cleaned, beside the original.
  preview: true,
  previewOp: 'logo_cleanup',
  previewOptions: (o) => ({ background: o.background }),
  describePreview: (r) => `Cleaned logo ${r.meta.width}×${r.meta.height} · colours ${r.meta.colors.join(', ')}`,
  queueTitle: 'Asset packs',
  zipName: 'team-asset-packs.zip',
  fields: [
    opt('team_name', { label: 'Team name', type: 'text', placeholder: 'Riverside Hawks',
      help: 'Printed on banners and social cards.' }),
    opt('sport', { label: 'Sport', type: 'text', placeholder: 'Football',
      help: 'Shown under the name on the cards (optional).' }),
    // The roster is typed as lines and sent as the engine's `players` (parseRoster checks it against them).
    { name: 'roster', label: 'Roster', type: 'textarea', default: '', rows: 5, placeholder: '7 Ana Silva\n10 Sam Lee\n23 Jo Park',
      help: 'One player per line: number then name. Up to 40.' },
    opt('featured_player', { label: 'Number on the shirt back', type: 'number', placeholder: 'First player',
      help: 'Whose name and number the back of the shirt shows.' }),
    opt('shirt_color', { label: 'Shirt colour', type: 'color', help: 'Colour of the T-shirt mockups.' }),
    // Team colours: from the logo by default (the engine's own default); the two pickers, sent as the
    // engine's `colors`, start at a deliberate studio navy and gold.
    { name: 'auto_colors', label: 'Team colours from the logo', type: 'checkbox', default: true,
      help: 'Uses the logo’s main colours; untick to pick your own.' },
    { name: 'color1', label: 'Main colour', type: 'color', default: '#0b2545', help: 'Used for banner backgrounds.',
      when: (v) => !v.auto_colors },
    { name: 'color2', label: 'Accent colour', type: 'color', default: '#ffc72c', help: 'Used for numbers and highlights.',
      when: (v) => !v.auto_colors },
    opt('background', { label: 'Logo background', type: 'select',
      options: [['auto', 'Remove a flat background'], ['keep', 'Keep the logo as it is']],
      help: 'Cleans up logos saved on white or coloured squares.' }),
  ],
  toOptions(v) {
    const o = { team_name: String(v.team_name ?? '').trim(), sport: String(v.sport ?? '').trim(), shirt_color: v.shirt_color,
      background: v.background, players: parseRoster(v.roster, 'asset_pack') };
    if (!v.auto_colors) o.colors = [v.color1, v.color2];
    if (v.featured_player !== null && v.featured_player !== undefined && v.featured_player !== '') {
      if (!o.players.some((p) => p.number === v.featured_player)) {
        throw invalid('featured_player', `Number ${v.featured_player} is not in the roster.`);
      }
      o.featured_player = v.featured_player;
    }
    return o;
  },
  // The engine's list options in the form's words (labels: the form's own); see ui/field-errors.js.
  fieldTerms: (v, labels) => ({
    players: { field: 'roster', label: labels.roster },
    ...Object.fromEntries(rosterLines(v.roster).map(({ line }, i) =>
      [`players[${i}]`, { field: 'roster', label: `Roster line ${line}` }])),
    colors: { field: 'auto_colors', label: 'Team colours' },
    'colors[0]': { field: 'color1', label: labels.color1 },
    'colors[1]': { field: 'color2', label: labels.color2 },
  }),
  fileName: (job) => `${slug(job.options?.team_name, 'team')}-assets.zip`,
  summarize: (job) => (job.meta ? `${job.meta.files} files for ${job.options.team_name}` : ''),
  async renderExtra(job, el) {
    const manifest = job.meta?.manifest;
    const zip = job.outputs[0]?.blob;
    if (!zip) return;
    const gallery = h('div.pack-gallery');
    el.append(gallery);
    const sized = (f) => (f.width ? ` · ${f.width}×${f.height}` : '');
    const files = (manifest?.files ?? []).map((f) => `${f.path}${sized(f)} · ${fmtBytes(f.bytes)}`);
    el.append(h('details.files', {}, h('summary', {}, 'What is inside'), h('ul', {}, ...files.map((f) => h('li', {}, f)))));
    try {
      const { unzipSync } = await import('../../vendor/fflate.js');
      const wanted = ['logo/logo-256.png', 'shirt/tshirt-front.jpg', 'shirt/tshirt-back.jpg', 'social/post-1080x1080.png',
        'banners/roster-1500x500.png'];
      const entries = unzipSync(new Uint8Array(await zip.arrayBuffer()), { filter: (f) => wanted.includes(f.name) });
      for (const name of wanted) {
        if (!entries[name]) continue;
        const blob = new Blob([entries[name]], { type: name.endsWith('.jpg') ? 'image/jpeg' : 'image/png' });
        const img = h('img', { alt: name.split('/').pop(), loading: 'lazy' });
        img.src = URL.createObjectURL(blob);
        gallery.append(h('figure', { class: name.includes('banner') ? 'wide' : '' }, img, h('figcaption', {}, name)));
      }
    } catch { /* the gallery is a nicety; the ZIP is the product */ }
  },
};
