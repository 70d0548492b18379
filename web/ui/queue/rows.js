// The queue's rows: one <li> per job with thumbnail, status, progress, sizes,
// path badge, messages and its buttons. Rows only show a job; every button
// calls back into the queue, which owns what the job does.

import { h, fmtBytes, fmtMs } from '../util.js';
import { STATUS, PENDING, FINISHED, PROBLEM, PATH_TEXT, canRetry } from './states.js';

const STATUS_TEXT = {
  [STATUS.FETCHING]: 'Downloading…', [STATUS.QUEUED]: 'Waiting', [STATUS.RUNNING]: 'Processing…',
  [STATUS.DONE]: 'Done', [STATUS.FAILED]: 'Failed', [STATUS.CANCELLED]: 'Cancelled',
  [STATUS.INTERRUPTED]: 'Interrupted by a reload',
};
// Shown instead of a thumbnail the browser could not make.
const THUMB_PLACEHOLDER = { [STATUS.FAILED]: '!', [STATUS.DONE]: '✓' };

// "2.1 MB", and once done "2.1 MB → 640 kB in 3 files".
function sizesText(job) {
  if (!job.inputBytes) return '';
  if (job.status !== STATUS.DONE) return fmtBytes(job.inputBytes);
  const after = job.outputs.reduce((s, o) => s + o.blob.size, 0);
  const files = job.outputs.length > 1 ? ` in ${job.outputs.length} files` : '';
  return `${fmtBytes(job.inputBytes)} → ${fmtBytes(after)}${files}`;
}

// The engine's one progress shape: `done` steps finished, `step` the one now running, `part` what runs within
// it ("remove background: network"). "Processing 2 of 6 · remove background: network".
function stepText({ done, total, step, part }) {
  const words = (s) => String(s).replaceAll('_', ' ');
  const what = [step && words(step), part && words(part)].filter(Boolean).join(': ');
  const count = total ? ` ${Math.min(done + 1, total)} of ${total}` : '';
  return `Processing${count}${what ? ` · ${what}` : ''}`;
}

export class Rows {
  // actions: {download, cancel, retry, remove, preview?}, each (job) => void.
  // summarize(job) -> a line for a done row; renderExtra(job, el) fills a done row's extra box once.
  constructor({ listEl, summarize, renderExtra, actions }) {
    this.listEl = listEl;
    this.summarize = summarize;
    this.renderExtra = renderExtra;
    this.actions = actions;
    this.parts = new WeakMap(); // job -> {li, el, extraDone}
  }

  add(job) {
    const thumb = h('div.thumb', { 'aria-hidden': 'true' });
    const name = h('strong.job-name', {});
    const sizes = h('span.job-sizes', {});
    const badge = h('span.badge.path', {});
    const bar = h('progress.job-progress', { max: 1 });
    const msg = h('p.job-msg', {});
    const why = h('details.job-why', { hidden: true }, h('summary', {}, 'Why'), h('p', {}));
    const actions = h('div.job-actions', {});
    const extra = h('div.job-extra', {});
    const status = h('span.job-status', {});
    const body = h('div.job-body', {},
      h('div.job-title', {}, name, badge), h('div.job-line', {}, status, sizes), bar, msg, why, extra);
    const li = h('li.job', { dataset: job.restored ? { id: job.id, restored: 'true' } : { id: job.id } }, thumb, body, actions);
    this.parts.set(job, { li, el: { thumb, name, sizes, badge, bar, msg, why, actions, extra, status }, extraDone: false });
    this.listEl.prepend(li); // newest first
    this.update(job);
  }

  remove(job) {
    this.parts.get(job)?.li.remove();
    this.parts.delete(job);
  }

  update(job) {
    const part = this.parts.get(job);
    if (!part) return;
    const { li, el } = part;
    const done = job.status === STATUS.DONE;
    li.dataset.status = job.status;
    if (job.error?.code) li.dataset.code = job.error.code; else delete li.dataset.code;
    el.name.textContent = job.name;
    el.name.title = job.url ?? job.name;
    if (job.thumb && !el.thumb.firstChild) {
      const img = h('img', { alt: '' });
      img.src = URL.createObjectURL(job.thumb);
      el.thumb.append(img);
    } else if (!job.thumb && !el.thumb.firstChild && THUMB_PLACEHOLDER[job.status]) {
      el.thumb.append(h('span.thumb-ph', {}, THUMB_PLACEHOLDER[job.status]));
    }
    const p = job.progress;
    el.status.textContent = job.status === STATUS.RUNNING && (p?.total || p?.part) ? stepText(p) : STATUS_TEXT[job.status];
    if (done) el.status.textContent = job.ms ? `Done in ${fmtMs(job.ms)}` : 'Done';
    // Determinate when the engine reports steps; indeterminate while running otherwise.
    if (job.status === STATUS.RUNNING && !p?.total) el.bar.removeAttribute('value');
    else el.bar.value = done ? 1 : p?.total ? p.done / p.total : 0;
    el.bar.hidden = !PENDING.includes(job.status);
    el.bar.setAttribute('aria-label', `Progress of ${job.name}`);
    el.sizes.textContent = sizesText(job);
    el.badge.hidden = !done;
    el.badge.textContent = job.path === 'cache'
      ? `From cache${job.pathNote ? ` · ${job.pathNote.toLowerCase()}` : ''}`
      : (PATH_TEXT[job.path] ?? '');
    el.badge.dataset.path = job.path ?? '';
    if (job.path === 'server' || job.pathNote) el.badge.title = job.pathNote || '';
    el.msg.textContent = this.messages(job).join(' · ');
    el.msg.className = `job-msg${PROBLEM.includes(job.status) ? ' error' : ''}${job.storageNote ? ' warn' : ''}`;
    el.msg.setAttribute('role', job.status === STATUS.FAILED ? 'alert' : 'status');
    el.why.hidden = !(done && job.pathDetail);
    el.why.lastChild.textContent = job.pathDetail ?? '';
    this.renderActions(job, el.actions);
    if (this.renderExtra && done && !part.extraDone) {
      part.extraDone = true;
      this.renderExtra(job, el.extra);
    }
    if (!done) { el.extra.textContent = ''; part.extraDone = false; }
  }

  messages(job) {
    const lines = [];
    if (job.status === STATUS.DONE) {
      const s = this.summarize?.(job);
      if (s) lines.push(s);
      if (job.pathNote && job.path !== 'cache') lines.push(job.pathNote);
      for (const w of job.meta?.warnings ?? []) lines.push(`⚠ ${w}`);
    }
    // "Cancelled." would only repeat the status line.
    if (job.error && job.status !== STATUS.CANCELLED) lines.push(job.error.message);
    if (job.storageNote) lines.push(job.storageNote);
    return lines;
  }

  renderActions(job, box) {
    // Rebuilt only when the buttons would change, so focus stays on a button across progress updates.
    const key = `${job.status}|${job.outputs?.length}`;
    if (box.dataset.key === key) return;
    box.dataset.key = key;
    box.textContent = '';
    const a = this.actions;
    const btn = (label, cls, fn, aria) => box.append(
      h(`button.${cls}`, { type: 'button', onclick: () => fn(job), 'aria-label': `${aria ?? label} ${job.name}` }, label));
    if (job.status === STATUS.DONE) {
      btn(job.outputs.length > 1 ? 'Download .zip' : 'Download', 'primary.small', a.download, 'Download');
      if (a.preview) btn('Preview', 'ghost.small', a.preview, 'Preview');
    }
    if (PENDING.includes(job.status)) btn('Cancel', 'ghost.small', a.cancel);
    if (canRetry(job)) btn('Retry', 'secondary.small', a.retry);
    if (FINISHED.includes(job.status)) btn('Remove', 'ghost.small', a.remove);
  }
}
