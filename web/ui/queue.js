// The batch queue of one view: each input is a row with thumbnail, status,
// progress, sizes and its own error. Jobs run at most `concurrency` at a time
// (so "queued" and "running" are true states); queued jobs cancel for free,
// running ones stop by terminating their worker (the pool replaces it).

import { fetchImage } from '../client/pixelpress.js';
import { h, fmtBytes, fmtMs, download, zipFiles, friendlyError, now, announce, baseName, EXT, safeToDecode } from './util.js';
import { hashBlob, cacheKey, lookup, save } from './cache.js';
import { store } from './store.js';

const STATUS_TEXT = {
  fetching: 'Downloading…', queued: 'Waiting', running: 'Processing…', done: 'Done', failed: 'Failed',
  cancelled: 'Cancelled', interrupted: 'Interrupted by a reload',
};
const PATH_TEXT = { device: 'Processed on this device', server: 'Processed on the server', cache: 'From cache' };

let seq = 0;
const newId = () => `${now().toString(36)}-${(++seq).toString(36)}-${Math.random().toString(36).slice(2, 7)}`;

async function thumbnail(blob) {
  try {
    if (!(await safeToDecode(blob))) return null;
    const bmp = await createImageBitmap(blob, { resizeWidth: 96, resizeQuality: 'medium' });
    const c = new OffscreenCanvas(bmp.width, bmp.height);
    c.getContext('2d').drawImage(bmp, 0, 0);
    bmp.close();
    return await c.convertToBlob({ type: 'image/webp', quality: 0.8 });
  } catch {
    return null;
  }
}

export class Queue {
  constructor({ view, op, client, listEl, concurrency, runner, fileName, summarize, onChange, onSelect, renderExtra }) {
    this.view = view;
    this.op = op;
    this.client = client;
    this.listEl = listEl;
    this.concurrency = concurrency ?? client.size ?? 2;
    this.runner = runner ?? ((job, ctx) => this.defaultRun(job, ctx));
    this.fileName = fileName ?? ((job, out) => `${baseName(job.name)}${out.name && out.name !== 'main' ? `-${out.name}` : ''}.${EXT[out.blob.type] ?? 'bin'}`);
    this.summarize = summarize;
    this.onChange = onChange ?? (() => {});
    this.onSelect = onSelect;
    this.renderExtra = renderExtra;
    this.jobs = [];
    this.active = 0;
  }

  async defaultRun(job, { signal, onProgress }) {
    const r = await this.client.run(this.op, job.input, job.options, { signal, onProgress });
    return { outputs: r.outputs, meta: r.meta, path: 'device', ms: r.ms };
  }

  // items: [{file} | {url}]; options: engine options for this batch.
  add(items, options) {
    const added = [];
    for (const item of items) {
      const job = {
        id: newId(), view: this.view, op: this.op, createdAt: now(),
        name: item.file?.name || (item.url ? decodeURIComponent(item.url.split(/[?#]/)[0].split('/').pop() || item.url) : 'image'),
        url: item.url ?? null, input: item.file ?? null, inputBytes: item.file?.size ?? null,
        options: null, status: item.url ? 'fetching' : 'queued', outputs: [], meta: null, error: null,
      };
      this.applyOptions(job, options);
      this.jobs.push(job);
      this.renderRow(job);
      added.push(job);
      this.prepare(job);
    }
    this.onChange();
    return added;
  }

  // options: an object, or a function of the job giving {options, cacheOptions?} or options.
  applyOptions(job, options) {
    const o = typeof options === 'function' ? options(job) : options;
    if (o && o.options && 'cacheOptions' in o) { job.options = o.options; job.cacheOptions = o.cacheOptions; } else job.options = o;
  }

  async prepare(job) {
    try {
      if (!job.input && job.url) {
        job.abort = new AbortController();
        job.status = 'fetching';
        this.update(job);
        const { bytes, name, type } = await fetchImage(job.url, { signal: job.abort.signal });
        job.input = new Blob([bytes], { type: type.split(';')[0] || '' });
        job.name = name || job.name;
        job.inputBytes = bytes.byteLength;
      }
      if (job.status === 'cancelled') return;
      job.thumb = job.thumb ?? await thumbnail(job.input);
      job.hash = await hashBlob(job.input);
      job.cacheKey = cacheKey(job.hash, this.op, job.cacheOptions ?? job.options);
      const hit = await lookup(job.cacheKey);
      if (job.status === 'cancelled') return;
      if (hit) {
        Object.assign(job, { outputs: hit.outputs, meta: hit.meta, status: 'done', path: 'cache',
          pathNote: hit.path ? PATH_TEXT[hit.path] : '', ms: 0, error: null });
        await Promise.race([this.persist(job), new Promise((res) => setTimeout(res, 1500))]);
        this.update(job);
        this.onChange();
        return;
      }
      job.status = 'queued';
      this.update(job);
      this.persist(job);
      this.pump();
    } catch (e) {
      this.fail(job, e);
    }
  }

  pump() {
    while (this.active < this.concurrency) {
      const job = this.jobs.find((j) => j.status === 'queued' && j.cacheKey);
      if (!job) return;
      this.start(job);
    }
  }

  async start(job) {
    this.active++;
    job.status = 'running';
    job.progress = null;
    job.abort = new AbortController();
    job.startedAt = performance.now();
    this.update(job);
    this.onChange();
    try {
      const r = await this.runner(job, {
        signal: job.abort.signal,
        onProgress: (p) => { job.progress = p; this.update(job); },
      });
      if (job.status !== 'running') return;
      Object.assign(job, { outputs: r.outputs, meta: r.meta, path: r.path, pathNote: r.pathNote ?? '',
        status: 'done', error: null, ms: performance.now() - job.startedAt });
      // Saved before it shows as done, so a reload right after "Done" keeps it
      // (bounded: slow storage never holds the result back for long).
      const saved = (async () => {
        const err = await save(job.cacheKey, { outputs: r.outputs, meta: r.meta, path: r.path });
        if (err) this.storageProblem(job, err);
        await this.persist(job);
      })();
      await Promise.race([saved, new Promise((res) => setTimeout(res, 1500))]);
      this.update(job);
    } catch (e) {
      if (job.status === 'running') this.fail(job, e);
    } finally {
      this.active--;
      this.onChange();
      this.pump();
    }
  }

  fail(job, e) {
    if (job.status === 'cancelled') return;
    job.status = e?.code === 'cancelled' ? 'cancelled' : 'failed';
    job.error = { code: e?.code ?? 'internal_error', message: friendlyError(e), field: e?.field };
    this.update(job);
    this.persist(job);
    this.onChange();
  }

  cancel(job) {
    if (!['queued', 'running', 'fetching'].includes(job.status)) return;
    const wasRunning = job.status === 'running' || job.status === 'fetching';
    job.status = 'cancelled';
    job.error = { code: 'cancelled', message: 'Cancelled.' };
    if (wasRunning) job.abort?.abort();
    this.update(job);
    this.persist(job);
    this.onChange();
  }

  cancelAll() {
    // Queued first, so freed slots do not start them.
    for (const j of this.jobs.filter((x) => x.status === 'queued')) this.cancel(j);
    for (const j of this.jobs.filter((x) => x.status === 'running' || x.status === 'fetching')) this.cancel(j);
  }

  retry(job) {
    if (!['failed', 'cancelled', 'interrupted'].includes(job.status)) return;
    job.error = null;
    job.outputs = [];
    job.status = job.input ? 'queued' : 'fetching';
    this.update(job);
    if (job.cacheKey && job.input) { this.persist(job); this.pump(); } else this.prepare(job);
    this.onChange();
  }

  retryFailed() {
    for (const j of this.jobs.filter((x) => ['failed', 'cancelled', 'interrupted'].includes(x.status))) this.retry(j);
  }

  remove(job) {
    this.cancel(job);
    this.jobs = this.jobs.filter((j) => j !== job);
    job.row?.remove();
    store.deleteJob(job.id).catch(() => {});
    this.onChange();
  }

  clearFinished() {
    for (const j of this.jobs.filter((x) => !['queued', 'running', 'fetching'].includes(x.status))) this.remove(j);
  }

  files(job) {
    return job.outputs.map((o) => ({ name: this.fileName(job, o), blob: o.blob }));
  }

  async downloadJob(job) {
    const files = this.files(job);
    if (files.length === 1) download(files[0].blob, files[0].name);
    else download(await zipFiles(files), `${baseName(job.name)}.zip`);
  }

  async downloadAll(zipName = `pixelpress-${this.view}.zip`) {
    const files = this.jobs.filter((j) => j.status === 'done').flatMap((j) => this.files(j));
    if (!files.length) return;
    download(await zipFiles(files), zipName);
  }

  // Resolves when no job of this queue is waiting or running (previews yield to real work).
  whenIdle() {
    const busy = () => this.jobs.some((j) => ['queued', 'running', 'fetching'].includes(j.status));
    if (!busy()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => { if (busy()) setTimeout(check, 100); else resolve(); };
      check();
    });
  }

  counts() {
    const c = { total: this.jobs.length, done: 0, failed: 0, queued: 0, running: 0, cancelled: 0, fetching: 0, interrupted: 0 };
    for (const j of this.jobs) c[j.status]++;
    c.pending = c.queued + c.running + c.fetching;
    c.retryable = c.failed + c.cancelled + c.interrupted;
    return c;
  }

  storageProblem(job, err) {
    job.storageNote = err.message;
    this.update(job);
    announce(err.message, { tone: 'error', sticky: err.code === 'storage_full' });
  }

  async persist(job) {
    const record = {
      id: job.id, view: job.view, op: job.op, name: job.name, url: job.url, createdAt: job.createdAt,
      input: job.input, inputBytes: job.inputBytes, thumb: job.thumb ?? null, options: job.options,
      cacheOptions: job.cacheOptions ?? null, cacheKey: job.cacheKey ?? null, hash: job.hash ?? null,
      status: job.status, error: job.error, path: job.path ?? null, pathNote: job.pathNote ?? '', ms: job.ms ?? null,
    };
    try {
      await store.putJob(record);
    } catch (e) {
      if (e.code === 'storage_full' || e.code === 'storage_error') this.storageProblem(job, e);
    }
  }

  // Rows from a previous visit: finished jobs get their outputs back from the result store.
  async restore(records) {
    for (const rec of records) {
      const job = { ...rec, outputs: [], meta: null };
      if (['queued', 'running', 'fetching'].includes(job.status)) {
        job.status = 'interrupted';
        job.error = { code: 'interrupted', message: 'The page was reloaded before this finished. Retry to run it again.' };
      }
      if (job.status === 'done') {
        const hit = job.cacheKey ? await lookup(job.cacheKey) : null;
        if (hit) { job.outputs = hit.outputs; job.meta = hit.meta; } else {
          job.status = 'interrupted';
          job.error = { code: 'expired', message: 'The saved result is gone (storage was cleared). Retry to make it again.' };
        }
      }
      job.restored = true;
      this.jobs.push(job);
      this.renderRow(job);
    }
    this.onChange();
  }

  renderRow(job) {
    const thumb = h('div.thumb', { 'aria-hidden': 'true' });
    const name = h('strong.job-name', {});
    const sizes = h('span.job-sizes', {});
    const badge = h('span.badge.path', {});
    const bar = h('progress.job-progress', { max: 1 });
    const msg = h('p.job-msg', {});
    const actions = h('div.job-actions', {});
    const extra = h('div.job-extra', {});
    const li = h('li.job', { dataset: job.restored ? { id: job.id, restored: 'true' } : { id: job.id } }, thumb,
      h('div.job-body', {}, h('div.job-title', {}, name, badge), h('div.job-line', {}, h('span.job-status', {}), sizes), bar, msg, extra),
      actions);
    job.row = li;
    job.el = { thumb, name, sizes, badge, bar, msg, actions, extra, status: li.querySelector('.job-status') };
    this.listEl.prepend(li);
    this.update(job);
  }

  update(job) {
    const el = job.el;
    if (!el) return;
    job.row.dataset.status = job.status;
    if (job.error?.code) job.row.dataset.code = job.error.code; else delete job.row.dataset.code;
    el.name.textContent = job.name;
    el.name.title = job.url ?? job.name;
    if (job.thumb && !el.thumb.firstChild) {
      const img = h('img', { alt: '' });
      img.src = URL.createObjectURL(job.thumb);
      el.thumb.append(img);
    } else if (!job.thumb && !el.thumb.firstChild && ['failed', 'done'].includes(job.status)) {
      el.thumb.append(h('span.thumb-ph', {}, job.status === 'failed' ? '!' : '✓'));
    }
    const p = job.progress;
    el.status.textContent = job.status === 'running' && p?.total
      ? `Processing ${p.done} of ${p.total}${p.file ? ` · ${p.file}` : ''}`
      : STATUS_TEXT[job.status];
    if (job.status === 'done') el.status.textContent = job.ms ? `Done in ${fmtMs(job.ms)}` : 'Done';
    // Progress: determinate when the engine reports steps; indeterminate while running otherwise.
    if (job.status === 'running' && !p?.total) el.bar.removeAttribute('value');
    else el.bar.value = job.status === 'done' ? 1 : p?.total ? p.done / p.total : 0;
    el.bar.hidden = !['running', 'queued', 'fetching'].includes(job.status);
    el.bar.setAttribute('aria-label', `Progress of ${job.name}`);
    const after = job.outputs?.reduce((s, o) => s + o.blob.size, 0);
    el.sizes.textContent = job.inputBytes
      ? `${fmtBytes(job.inputBytes)}${job.status === 'done' ? ` → ${fmtBytes(after)}${job.outputs.length > 1 ? ` in ${job.outputs.length} files` : ''}` : ''}`
      : '';
    el.badge.hidden = job.status !== 'done';
    el.badge.textContent = job.path === 'cache' ? `From cache${job.pathNote ? ` · ${job.pathNote.toLowerCase()}` : ''}` : (PATH_TEXT[job.path] ?? '');
    el.badge.dataset.path = job.path ?? '';
    if (job.path === 'server' || job.pathNote) el.badge.title = job.pathNote || '';
    const lines = [];
    if (job.status === 'done') {
      const s = this.summarize?.(job);
      if (s) lines.push(s);
      if (job.pathNote && job.path !== 'cache') lines.push(job.pathNote);
      for (const w of job.meta?.warnings ?? []) lines.push(`⚠ ${w}`);
    }
    if (job.error && job.status !== 'cancelled') lines.push(job.error.message);
    if (job.storageNote) lines.push(job.storageNote);
    el.msg.textContent = lines.join(' · ');
    el.msg.className = `job-msg${job.status === 'failed' || job.status === 'interrupted' ? ' error' : ''}${job.storageNote ? ' warn' : ''}`;
    el.msg.setAttribute('role', job.status === 'failed' ? 'alert' : 'status');
    this.renderActions(job);
    if (this.renderExtra && job.status === 'done' && !job.extraDone) {
      job.extraDone = true;
      this.renderExtra(job, el.extra);
    }
    if (job.status !== 'done') { el.extra.textContent = ''; job.extraDone = false; }
  }

  renderActions(job) {
    const a = job.el.actions;
    const key = `${job.status}|${job.outputs?.length}`;
    if (a.dataset.key === key) return;
    a.dataset.key = key;
    a.textContent = '';
    const btn = (label, cls, fn, aria) => a.append(h(`button.${cls}`, { type: 'button', onclick: fn, 'aria-label': `${aria ?? label} ${job.name}` }, label));
    if (job.status === 'done') {
      btn(job.outputs.length > 1 ? 'Download .zip' : 'Download', 'primary.small', () => this.downloadJob(job), 'Download');
      if (this.onSelect) btn('Preview', 'ghost.small', () => this.onSelect(job), 'Preview');
    }
    if (['queued', 'running', 'fetching'].includes(job.status)) btn('Cancel', 'ghost.small', () => this.cancel(job));
    if (['failed', 'cancelled', 'interrupted'].includes(job.status)) btn('Retry', 'secondary.small', () => this.retry(job));
    if (!['queued', 'running', 'fetching'].includes(job.status)) btn('Remove', 'ghost.small', () => this.remove(job));
  }
}
