// One view = one job: heading, input, options (each explained in one line),
// a main action, an optional live before/after preview, and its batch queue.
// Views are plain specs (see convert.js); this module turns a spec into UI.

import { PixelpressError } from '../../client/errors.js';
import { fetchImage } from '../../client/pixelpress.js';
import { h, fmtBytes, dismissToast } from '../util.js';
import { createInput } from '../input.js';
import { createCompare, framingChanged } from '../compare-slider.js';
import { createPreview } from '../preview.js';
import { Queue } from '../queue.js';
import { checkFields } from './schema-fields.js';
import { uploadsOnServer } from '../server-status.js';
import { fieldMapOf, inFormTerms } from '../field-errors.js';
import FACTS from '../../client/engine-facts.js';
import { createTouchup } from '../touchup.js';
import { copyStrokes } from '../touchup-strokes.js';

let fieldSeq = 0;

function fieldControl(f, value, onInput) {
  const id = `f-${f.name}-${++fieldSeq}`;
  const helpId = `${id}-help`;
  const problemId = `${id}-problem`;
  const noteId = `${id}-unavailable`;
  const common = { id, name: f.name, 'aria-describedby': `${problemId} ${noteId} ${helpId}` };
  let control;
  let out = null;
  if (f.type === 'select') {
    const choices = f.options.map(([v, label]) => h('option', { value: v, selected: String(value) === String(v) }, label));
    control = h('select', common, ...choices);
  } else if (f.type === 'range') {
    out = h('output.range-value', { for: id }, `${value}${f.unit ?? ''}`);
    control = h('input', { ...common, type: 'range', min: f.min, max: f.max, step: f.step ?? 1, value });
    control.addEventListener('input', () => { out.textContent = `${control.value}${f.unit ?? ''}`; });
  } else if (f.type === 'checkbox') {
    control = h('input', { ...common, type: 'checkbox', checked: Boolean(value) });
  } else if (f.type === 'textarea') {
    control = h('textarea', { ...common, rows: f.rows ?? 4, placeholder: f.placeholder ?? '', spellcheck: false }, value ?? '');
  } else {
    // A list option typed as text (web sizes' widths) shows its engine default as "320, 640, ...".
    const shown = Array.isArray(value) ? value.join(', ') : value ?? '';
    control = h('input', { ...common, type: f.type ?? 'text', value: shown, placeholder: f.placeholder ?? '',
      min: f.min, max: f.max, maxlength: f.maxlength, inputmode: f.type === 'number' ? 'numeric' : undefined,
      required: f.required });
  }
  control.addEventListener(f.type === 'select' || f.type === 'checkbox' || f.type === 'color' ? 'change' : 'input', onInput);
  if (f.type === 'color') control.addEventListener('input', onInput);
  const help = h('p.help', { id: helpId }, f.help);
  // What the form refused here, right under the control: the summary above the button may be out of view.
  const problem = h('p.field-error', { id: problemId });
  // What this browser cannot do with this field (capabilitiesChanged), said where the field is.
  const unavailable = h('p.field-unavailable', { id: noteId });
  const dataset = { field: f.name };
  const wrap = f.type === 'checkbox'
    ? h('div.field.check', { dataset }, h('label', { for: id }, control, h('span', {}, f.label)), problem, unavailable, help)
    : h('div.field', { dataset }, h('div.field-top', {}, h('label', { for: id }, f.label), out), control, problem,
      unavailable, help);
  return { wrap, control, out, problem, unavailable };
}

export function readField(f, control) {
  if (f.type === 'checkbox') return control.checked;
  if (f.type === 'range' || (f.type === 'number')) return control.value === '' ? null : Number(control.value);
  return control.value;
}

export function createView(spec, ctx) {
  const { client } = ctx;
  const saved = (() => {
    try { return JSON.parse(localStorage.getItem(`pixelpress.options.${spec.id}`) || '{}'); } catch { return {}; }
  })();
  const values = Object.fromEntries(spec.fields.map((f) => [f.name, saved[f.name] ?? f.default]));
  const controls = {};
  const staged = [];
  const labels = Object.fromEntries(spec.fields.map((f) => [f.name, f.label]));

  const title = h('h2', { id: `${spec.id}-title`, tabindex: '-1' }, spec.title);
  const note = h('p.view-note', { role: 'status', 'aria-live': 'polite' });
  const head = h('div.view-head', {}, h('div', {}, title, h('p.lead', {}, spec.lead)), note);

  const input = createInput({ multiple: spec.multiple !== false, label: spec.dropLabel, hint: spec.dropHint,
    onInput: (items) => stage(items) });
  const stagedList = h('ul.staged', { 'aria-label': 'Ready to process' });
  // What was just added and what to press, said in place under the files (a toast would float over the
  // results once they come); cleared when the batch starts.
  const stagedNote = h('p.staged-note', { role: 'status', 'aria-live': 'polite' });
  let notedCount = 0; // how many files the note speaks of
  const compare = spec.preview
    ? createCompare({ label: `Move the divider between original and ${spec.title.toLowerCase()} result` })
    : null;
  const fieldMapNow = () => ({ ...fieldMapOf(spec.fields), ...spec.fieldTerms?.(values, labels) });
  const preview = spec.preview ? createPreview({ client, view: spec.id, compare, op: spec.previewOp ?? spec.op,
    previewOptions: spec.previewOptions, describe: spec.describePreview, proxyPixels: spec.proxyPixels,
    gate: () => queue.whenIdle(), prestep: spec.previewPrestep, onPrestep: (r, info) => touchupHeard(r, info),
    explain: (e) => inFormTerms(e, fieldMapNow())?.message }) : null;
  // A brush over the preview's cut-out (spec.touchup): its strokes go with the shown photo (touchup-strokes.js).
  let shownName = ''; // the name of the photo the preview shows
  let touchupProxy = null;
  const touchup = spec.touchup && preview ? createTouchup({
    onChange: () => {
      if (touchupProxy) touchup.expect(touchupSignature(touchupProxy));
      requestPreview(true);
    },
    onApply: () => processShown(),
    waiting: () => queue.counts().pending > 0,
  }) : null;
  const touchupSignature = (proxy) => {
    try {
      return JSON.stringify(spec.previewOptions(spec.toOptions(values, null), proxy.scale, proxy).hints ?? []);
    } catch { return ''; }
  };
  function touchupHeard(r, { options, proxy, failed }) {
    if (!touchup) return;
    touchupProxy = proxy;
    if (failed) { touchup.failed(failed); return; }
    if (!r) { touchup.unavailable(); return; }
    touchup.setPhoto(proxy.source, { width: proxy.width, height: proxy.height }, proxy.blob);
    touchup.setCutout(r, JSON.stringify(options.hints ?? []));
  }
  function showSource(blob, name) {
    shownName = name;
    touchup?.setPhoto(null);
    return preview.setSource(blob);
  }

  const form = h('form.options', { 'aria-label': `${spec.title} options`, novalidate: true });
  const fieldsBox = h('div.fields');
  const formError = h('p.form-error', { role: 'alert' });
  const action = h('button.primary.big', { type: 'submit', disabled: true }, spec.action(0));
  form.append(fieldsBox, formError, action);
  for (const f of spec.fields) {
    const { wrap, control, problem, unavailable } = fieldControl(f, values[f.name], () => {
      showProblem(f.name, '');
      values[f.name] = readField(f, control);
      try { localStorage.setItem(`pixelpress.options.${spec.id}`, JSON.stringify(values)); } catch { /* private mode */ }
      refreshFields();
      requestPreview();
    });
    controls[f.name] = { f, control, wrap, problem, unavailable };
    fieldsBox.append(wrap);
  }

  function showProblem(name, message) {
    const c = controls[name];
    if (!c) return;
    c.problem.textContent = message;
    if (message) c.control.setAttribute('aria-invalid', 'true'); else c.control.removeAttribute('aria-invalid');
  }

  function clearProblems() {
    formError.textContent = '';
    for (const name of Object.keys(controls)) showProblem(name, '');
  }
  if (spec.fieldGroups) spec.fieldGroups(fieldsBox, controls);

  // What this browser cannot do (the client's capability report), shown before a job starts: a field the
  // spec says is `unavailable(caps)` is disabled, off and not sent, with the reason beside it; a choice of a
  // select that is `choiceUnavailable(value, caps)` is disabled and marked, and moved off if it was chosen.
  // The saved choice is left alone: this browser may be another one's copy of the settings.
  function capabilitiesChanged(caps) {
    for (const { f, control, wrap, unavailable } of Object.values(controls)) {
      const why = f.unavailable?.(caps) ?? null;
      if (f.unavailable) {
        control.disabled = Boolean(why);
        wrap.dataset.unavailable = why ? 'true' : 'false';
        unavailable.textContent = why ?? '';
        if (why && f.type === 'checkbox') {
          control.checked = false;
          values[f.name] = false;
        }
      }
      if (f.choiceUnavailable && f.type === 'select') {
        const notes = [];
        let moved = false;
        for (const option of control.options) {
          const reason = f.choiceUnavailable(option.value, caps);
          const label = f.options.find(([v]) => v === option.value)?.[1] ?? option.value;
          option.disabled = Boolean(reason);
          option.textContent = reason ? `${label.split(' · ')[0]} · not in this browser` : label;
          option.title = reason ?? '';
          if (reason && !notes.includes(reason)) notes.push(reason);
          if (reason && option.value === values[f.name]) moved = true;
        }
        if (moved) {
          const fallback = [...control.options].find((o) => !o.disabled && o.value === String(f.default))
            ?? [...control.options].find((o) => !o.disabled);
          if (fallback) {
            control.value = fallback.value;
            values[f.name] = fallback.value;
            notes.push(`${fallback.textContent.split(' · ')[0]} is chosen instead.`);
          }
        }
        unavailable.textContent = notes.join(' ');
      }
    }
    refreshFields();
    requestPreview();
  }

  function refreshFields() {
    for (const { f, wrap } of Object.values(controls)) wrap.hidden = f.when ? !f.when(values) : false;
  }
  refreshFields();

  const list = h('ol.jobs', { 'aria-label': `${spec.title} results` });
  const counts = h('p.queue-counts', { role: 'status', 'aria-live': 'polite' });
  const btnCancel = h('button.ghost.small', { type: 'button', onclick: () => queue.cancelAll() }, 'Cancel all');
  const btnRetry = h('button.secondary.small', { type: 'button', onclick: () => queue.retryFailed() }, 'Retry failed');
  const zipName = spec.zipName ?? `pixelpress-${spec.id}.zip`;
  const btnZip = h('button.primary.small', { type: 'button', onclick: () => queue.downloadAll(zipName) }, 'Download all (.zip)');
  const btnClear = h('button.ghost.small', { type: 'button', onclick: () => queue.clearFinished() }, 'Clear finished');
  // Where focus goes once a batch starts: the results, not <body> (the button it left is disabled).
  const queueHeading = h('h3', { tabindex: '-1' }, spec.queueTitle ?? 'Results');
  const queueBox = h('section.queue', { 'aria-label': `${spec.title} queue`, hidden: true },
    h('div.queue-head', {}, queueHeading, counts,
      h('div.queue-actions', {}, btnCancel, btnRetry, btnClear, btnZip)), list);

  const queue = new Queue({
    view: spec.id, op: spec.op, client, listEl: list,
    runner: spec.runner ? (job, c) => spec.runner(job, c, ctx) : undefined,
    fileName: spec.fileName, extraFiles: spec.extraFiles, summarize: spec.summarize,
    onSelect: preview ? (job) => selectJob(job) : undefined,
    renderExtra: (job, el) => {
      spec.renderExtra?.(job, el, ctx);
      // A doubtful cut-out (the engine's warning says so) offers the brush that fixes it.
      if (touchup && job.meta?.matte_confidence < FACTS.matte.low_confidence && job.input) {
        el.prepend(h('div.row-touchup', {}, h('button.secondary.small', { type: 'button',
          'aria-label': `Touch up the cut-out of ${job.name}`, onclick: () => touchUpJob(job) }, 'Touch up the cut-out')));
      }
      if (uploadsOnServer(ctx.server) && ctx.remote?.uploadResult) addUpload(job, el);
    },
    onChange: () => { refreshQueue(); ctx.onQueueChange?.(); },
    // The engine refused what a field said: point at the field too, as the form's own check does.
    onFailed: (job) => { if (job.error?.engineField) showProblem(job.error.field, job.error.message); },
  });

  function refreshQueue() {
    const c = queue.counts();
    queueBox.hidden = c.total === 0;
    const parts = [];
    if (c.done) parts.push(`${c.done} done`);
    if (c.running) parts.push(`${c.running} processing`);
    if (c.queued + c.fetching) parts.push(`${c.queued + c.fetching} waiting`);
    if (c.failed) parts.push(`${c.failed} failed`);
    if (c.cancelled) parts.push(`${c.cancelled} cancelled`);
    if (c.interrupted) parts.push(`${c.interrupted} interrupted`);
    counts.textContent = parts.join(' · ');
    btnCancel.hidden = c.pending === 0;
    btnRetry.hidden = c.retryable === 0;
    btnZip.hidden = c.done === 0;
    btnClear.hidden = c.total === c.pending;
  }

  // Each upload gets a folder of its own (view/day/time), so the same file name uploaded twice
  // never meets "an object already exists"; a folder taken in the same second gets -2, -3.
  async function uploadAll(files) {
    const now = new Date().toISOString();
    const stem = `${spec.id}/${now.slice(0, 10)}/${now.slice(11, 19).replaceAll(':', '')}`;
    for (let n = 1; n <= 20; n++) {
      const folder = n === 1 ? stem : `${stem}-${n}`;
      const links = [];
      try {
        for (const f of files) {
          const { url } = await ctx.remote.uploadResult(f.blob, `${folder}/${f.name}`, { base: ctx.server.base });
          links.push(h('a', { href: url, target: '_blank', rel: 'noopener' }, f.name));
        }
        return { folder, links };
      } catch (e) {
        if (e?.status !== 409 || links.length) throw e; // a clash on the first file: that folder is taken
      }
    }
    throw new PixelpressError('internal_error', 'No free upload folder was found.');
  }

  function addUpload(job, el) {
    const out = h('span.upload-out');
    const b = h('button.ghost.small', { type: 'button', onclick: async () => {
      b.disabled = true;
      out.textContent = 'Uploading…';
      try {
        // The server stores images only: a view's own extras (web sizes' HTML) stay in the download.
        const { folder, links } = await uploadAll(queue.files(job).filter((f) => f.blob.type.startsWith('image/')));
        out.textContent = `Uploaded to ${folder}/: `;
        links.forEach((l, i) => out.append(i ? ', ' : '', l));
      } catch (e) {
        out.textContent = `Upload failed: ${e.message}`;
        b.disabled = false;
      }
    } }, 'Upload to server');
    el.append(h('div.upload', {}, b, out));
  }

  function renderStaged() {
    stagedList.textContent = '';
    staged.forEach((item, i) => {
      const label = item.file ? `${item.file.name || 'image'} · ${fmtBytes(item.file.size)}` : item.url;
      stagedList.append(h('li', {}, h('span', {}, label),
        h('button.chip-x', { type: 'button', 'aria-label': `Remove ${item.file?.name ?? item.url}`, onclick: () => {
          staged.splice(i, 1);
          renderStaged();
          if (!staged.some((x) => x.file)) { preview?.clear(); touchup?.unavailable(); }
          else if (i === 0) sourceFromStaged();
        } }, '×')));
    });
    stagedList.hidden = staged.length === 0;
    // A chip removed: the note keeps up with what the button now says (nothing left, nothing to say).
    if (stagedNote.textContent && staged.length !== notedCount) {
      stagedNote.textContent = staged.length ? `Press “${spec.action(staged.length)}” to start.` : '';
      notedCount = staged.length;
    }
    action.disabled = staged.length === 0;
    action.textContent = spec.action(staged.length);
  }

  function sourceFromStaged() {
    if (!preview) return;
    const first = staged.find((s) => s.file);
    if (first) { showSource(first.file, first.file.name); requestPreview(true); }
  }

  // A URL is fetched as soon as it is staged, so it gets a preview and a thumbnail like a file;
  // if the fetch fails it stays a URL, and its row says why when the batch runs.
  async function fetchStaged(item) {
    try {
      const { bytes, name, type } = await fetchImage(item.url);
      const i = staged.indexOf(item);
      if (i < 0) return; // removed while it downloaded
      staged[i] = { file: new File([bytes], name || 'image', { type: type.split(';')[0] || '' }), url: item.url };
      renderStaged();
      if (preview && staged.findIndex((s) => s.file) === i) sourceFromStaged();
    } catch {
      // kept as a URL
    }
  }

  function stage(items) {
    clearProblems();
    if (spec.multiple === false) staged.splice(0);
    const wasEmpty = !staged.some((s) => s.file);
    staged.push(...items);
    // The workers a batch of this many will run on start while the user looks at the preview.
    client.warm({ jobs: staged.length, op: spec.op }).catch(() => {});
    for (const item of items) if (item.url && !item.file) fetchStaged(item);
    renderStaged();
    if (preview && (wasEmpty || spec.multiple === false)) sourceFromStaged();
    if (spec.autoStart) start();
    else {
      const files = `${items.length} ${items.length === 1 ? 'file' : 'files'}`;
      stagedNote.textContent = `${files} added. Press “${spec.action(staged.length)}” to start.`;
      notedCount = staged.length;
    }
  }

  function requestPreview(immediate = false) {
    if (!preview?.hasSource) return;
    let opts;
    try { opts = spec.toOptions(values, null); } catch { return; }
    preview.request(opts, { immediate });
  }

  async function selectJob(job) {
    if (!job.input) return;
    await showSource(job.input, job.name);
    const img = job.outputs.find((o) => o.blob.type.startsWith('image/'));
    if (img) {
      compare.setAfter(img.blob, { reframed: framingChanged(job.meta) });
      compare.setStatus(`Full-size result · ${fmtBytes(img.blob.size)}`);
    }
    compare.el.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }

  async function touchUpJob(job) {
    await selectJob(job);
    touchup.openPanel();
  }

  // The photo under the brush, processed at full size on its own (its strokes go with it, see spec.toOptions).
  function processShown() {
    const photo = touchup.photo;
    if (!photo) return;
    let item = staged.find((s) => s.file === photo);
    if (!item) {
      const file = photo instanceof File ? photo : new File([photo], shownName || 'image', { type: photo.type });
      copyStrokes(photo, file);
      item = { file };
    }
    start(item);
  }

  // `only`: one item (staged or not) instead of everything staged.
  function start(only = null) {
    clearProblems();
    if (!only && !staged.length) return;
    let build;
    try {
      checkFields(spec.fields, values); // what the engine would refuse, refused here, in the form's words
      spec.toOptions(values, null); // and the view's own rules, once, before anything is queued
      // Taken now, with the values the options are made from: the engine's answer comes back later.
      const fieldMap = fieldMapNow();
      build = (job) => {
        const o = spec.toOptions(values, job);
        return { options: o, cacheOptions: spec.cacheOptions?.(values, job, o, ctx), fieldMap };
      };
    } catch (e) {
      formError.textContent = e.message;
      if (e.field) showProblem(e.field, e.message);
      controls[e.field]?.control.focus();
      return;
    }
    const items = only ? [only] : staged.splice(0);
    if (only && staged.includes(only)) staged.splice(staged.indexOf(only), 1);
    if (!staged.length) stagedNote.textContent = '';
    dismissToast();
    renderStaged();
    queue.add(items, build);
    queueBox.hidden = false;
    queueHeading.focus();
  }

  form.addEventListener('submit', (e) => { e.preventDefault(); start(); });

  const mainCol = h('div.col-main', {}, input.el, stagedList, stagedNote, touchup?.el, compare?.el, touchup?.offer);
  const el = h(`section.view${spec.preview ? '' : '.no-preview'}`,
    { id: `view-${spec.id}`, 'aria-labelledby': `${spec.id}-title`, hidden: true },
    head, h('div.view-grid', {}, mainCol, h('aside.col-side', {}, form)), queueBox);
  renderStaged();
  refreshQueue();

  return {
    spec, el, queue, input, title, note,
    paste: input.paste,
    // The server's health arrived or changed: a view may reword what depends on it.
    serverChanged: () => spec.onServer?.(controls, ctx),
    capabilitiesChanged,
    onShow() {
      if (spec.preload) {
        note.textContent = spec.preloadNote ?? 'Preparing the image tools for this view…';
        const t = performance.now();
        client.preload(spec.op).then(() => {
          ctx.onPreloaded?.();
          note.textContent = performance.now() - t > 50 ? 'Ready.' : '';
          setTimeout(() => { if (note.textContent === 'Ready.') note.textContent = ''; }, 2500);
        });
      }
    },
    stageItems: stage,
  };
}
