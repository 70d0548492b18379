// The batch queue of one view: each input is a row with thumbnail, status,
// progress, sizes and its own error. The views and app.js use only this
// class; it wires together the parts in queue/ (statuses and groups in
// states.js, a job's moves in jobs.js, then intake, scheduler, persistence,
// rows and downloads), so each can change without the others.

import { announce } from './util.js';
import { STATUS, PENDING, IN_FLIGHT, FINISHED, inGroup, countStatuses, canRetry } from './queue/states.js';
import * as jobs from './queue/jobs.js';
import { fetchInput, thumbnail } from './queue/intake.js';
import { Scheduler } from './queue/scheduler.js';
import { withinSaveWait, saveJob, forgetJob, findResult, savedResult, saveResult } from './queue/persistence.js';
import { Rows } from './queue/rows.js';
import { Downloads } from './queue/downloads.js';

const IDLE_POLL_MS = 100;

export class Queue {
  #jobs = [];

  constructor({ view, op, client, listEl, concurrency, runner, fileName, extraFiles, summarize, onChange, onSelect,
    renderExtra, onFailed }) {
    this.view = view;
    this.op = op;
    this.client = client;
    this.runner = runner ?? ((job, ctx) => this.defaultRun(job, ctx));
    this.onChange = onChange ?? (() => {});
    this.onFailed = onFailed ?? (() => {}); // (job): a job of this visit failed, job.error says why
    this.downloads = new Downloads({ fileName, extraFiles });
    this.rows = new Rows({ listEl, summarize, renderExtra, actions: {
      download: (job) => this.downloadJob(job), preview: onSelect,
      cancel: (job) => this.cancel(job), retry: (job) => this.retry(job), remove: (job) => this.remove(job),
    } });
    this.scheduler = new Scheduler({ concurrency: concurrency ?? client.size ?? 2,
      next: () => this.#jobs.find(jobs.isReady), run: (job) => this.execute(job) });
  }

  // A copy: the list changes only through the methods below.
  get jobs() {
    return [...this.#jobs];
  }

  async defaultRun(job, { signal, onProgress }) {
    const r = await this.client.run(this.op, job.input, job.options, { signal, onProgress });
    return { outputs: r.outputs, meta: r.meta, path: 'device', ms: r.ms };
  }

  // items: [{file} | {url}]; options: engine options for this batch (see jobs.applyOptions).
  add(items, options) {
    const added = [];
    // Every worker this batch can use starts now, not when a job finds none free (its failure is each job's).
    const pending = this.#jobs.filter(inGroup(PENDING)).length + items.length;
    this.client.warm({ jobs: pending, op: this.op }).catch(() => {});
    for (const item of items) {
      const job = jobs.createJob(item, { view: this.view, op: this.op });
      jobs.applyOptions(job, options);
      this.#jobs.push(job);
      this.rows.add(job);
      added.push(job);
      this.prepare(job);
    }
    this.onChange();
    return added;
  }

  // Input bytes, thumbnail and cache key; then served from the cache or queued.
  async prepare(job) {
    try {
      if (!job.input && job.url) {
        const signal = jobs.startFetching(job);
        this.rows.update(job);
        await fetchInput(job, signal);
      }
      if (jobs.isCancelled(job)) return;
      job.thumb = job.thumb ?? await thumbnail(job.input, this.client);
      const { key, hit } = await findResult(job);
      if (jobs.isCancelled(job)) return;
      // Key and status change together, with no await between: a key on a waiting job makes it ready to run.
      job.cacheKey = key;
      if (hit) {
        jobs.serveCached(job, hit);
        await withinSaveWait(this.persist(job));
        this.rows.update(job);
        this.onChange();
        return;
      }
      jobs.enqueue(job);
      this.rows.update(job);
      this.persist(job);
      this.scheduler.pump();
    } catch (e) {
      this.fail(job, e);
    }
  }

  // Called by the scheduler; settles when the job has ended either way.
  async execute(job) {
    const signal = jobs.startRunning(job);
    this.rows.update(job);
    this.onChange();
    try {
      const r = await this.runner(job, { signal, onProgress: (p) => { job.progress = p; this.rows.update(job); } });
      if (!jobs.finish(job, r)) return; // cancelled while it ran
      // Saved before it shows as done, so a reload right after "Done" keeps it.
      await withinSaveWait((async () => {
        const err = await saveResult(job);
        if (err) this.storageProblem(job, err);
        await this.persist(job);
      })());
      this.rows.update(job);
    } catch (e) {
      if (jobs.isRunning(job)) this.fail(job, e);
    } finally {
      this.onChange();
    }
  }

  fail(job, e) {
    if (!jobs.fail(job, e)) return;
    this.changed(job);
    if (job.status === STATUS.FAILED) this.onFailed(job);
  }

  cancel(job) {
    if (!jobs.cancel(job)) return;
    this.changed(job);
  }

  cancelAll() {
    // Waiting ones first, so the slots freed by the running ones do not start them.
    for (const j of this.#jobs.filter((x) => x.status === STATUS.QUEUED)) this.cancel(j);
    for (const j of this.#jobs.filter(inGroup(IN_FLIGHT))) this.cancel(j);
  }

  retry(job) {
    if (!jobs.resetForRetry(job)) return;
    this.rows.update(job);
    // Known input and key: straight back to waiting. Otherwise fetch and look up again.
    if (job.cacheKey && job.input) { this.persist(job); this.scheduler.pump(); } else this.prepare(job);
    this.onChange();
  }

  retryFailed() {
    for (const j of this.#jobs.filter(canRetry)) this.retry(j);
  }

  remove(job) {
    this.cancel(job);
    this.#drop(job);
    forgetJob(job);
    this.onChange();
  }

  clearFinished() {
    for (const j of this.#jobs.filter(inGroup(FINISHED))) this.remove(j);
  }

  // Everything, running or not (clearing the history).
  removeAll() {
    this.cancelAll();
    for (const j of [...this.#jobs]) this.remove(j);
  }

  // Rows whose stored job and result the purge already deleted: only the page forgets them.
  dropExpired(cutoff) {
    for (const j of this.#jobs.filter((x) => x.createdAt < cutoff && FINISHED.includes(x.status))) this.#drop(j);
    this.onChange();
  }

  files(job) {
    return this.downloads.files(job);
  }

  downloadJob(job) {
    return this.downloads.job(job);
  }

  downloadAll(zipName = `pixelpress-${this.view}.zip`) {
    return this.downloads.all(this.#jobs, zipName);
  }

  // Resolves when no job of this queue is waiting or running (previews yield to real work).
  whenIdle() {
    const busy = () => this.#jobs.some(inGroup(PENDING));
    if (!busy()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => { if (busy()) setTimeout(check, IDLE_POLL_MS); else resolve(); };
      check();
    });
  }

  counts() {
    return countStatuses(this.#jobs);
  }

  // Rows from a previous visit: finished jobs get their outputs back from the result store.
  async restore(records) {
    for (const rec of records) {
      const job = jobs.revive(rec);
      if (jobs.isDone(job)) jobs.reattach(job, await savedResult(job));
      this.#jobs.push(job);
      this.rows.add(job);
    }
    this.onChange();
  }

  // A status change the row, the store and the view all hear of.
  changed(job) {
    this.rows.update(job);
    this.persist(job);
    this.onChange();
  }

  storageProblem(job, err) {
    job.storageNote = err.message;
    this.rows.update(job);
    announce(err.message, { tone: 'error', sticky: err.code === 'storage_full' });
  }

  async persist(job) {
    const err = await saveJob(job);
    if (err) this.storageProblem(job, err);
  }

  #drop(job) {
    this.#jobs = this.#jobs.filter((j) => j !== job);
    this.rows.remove(job);
  }
}
