// One job's state and the only moves between its statuses. A move that does
// not apply to the job's current status returns false and changes nothing,
// so a late answer or a double click can never revive a cancelled job.
//
// Views read jobs as plain objects (name, input, options, meta, outputs...),
// so a job stays one; the DOM of its row lives in rows.js, not here.

import { now, friendlyError } from '../util.js';
import { inFormTerms } from '../field-errors.js';
import { STATUS, PENDING, IN_FLIGHT, PATH_TEXT, canRetry } from './states.js';

let seq = 0;
// Unique across tabs and reloads: ids key the job history in IndexedDB.
const newId = () => `${now().toString(36)}-${(++seq).toString(36)}-${Math.random().toString(36).slice(2, 7)}`;

const nameFromUrl = (url) => decodeURIComponent(url.split(/[?#]/)[0].split('/').pop() || url);

// item: {file} | {url}
export function createJob(item, { view, op }) {
  return {
    id: newId(), view, op, createdAt: now(),
    name: item.file?.name || (item.url ? nameFromUrl(item.url) : 'image'),
    url: item.url ?? null, input: item.file ?? null, inputBytes: item.file?.size ?? null,
    options: null, status: item.file ? STATUS.QUEUED : STATUS.FETCHING, outputs: [], meta: null, error: null,
  };
}

// options: an object, or a function of the job giving {options, cacheOptions?, fieldMap?} or the options.
// cacheOptions exist for views whose result depends on more than the engine options (a server path);
// fieldMap says the engine's fields in the form's words (ui/field-errors.js).
export function applyOptions(job, options) {
  const o = typeof options === 'function' ? options(job) : options;
  if (o && o.options && ('cacheOptions' in o || 'fieldMap' in o)) {
    job.options = o.options;
    if (o.cacheOptions !== undefined) job.cacheOptions = o.cacheOptions;
    if (o.fieldMap) job.fieldMap = o.fieldMap;
  } else job.options = o;
}

// Ready for a worker: waiting, and its cache key is known (the cache was asked first).
export const isReady = (job) => job.status === STATUS.QUEUED && Boolean(job.cacheKey);

export const isCancelled = (job) => job.status === STATUS.CANCELLED;
export const isRunning = (job) => job.status === STATUS.RUNNING;
export const isDone = (job) => job.status === STATUS.DONE;

// Returns the signal that cancelling the download aborts.
export function startFetching(job) {
  job.abort = new AbortController();
  job.status = STATUS.FETCHING;
  return job.abort.signal;
}

// Only a job not yet started moves to waiting: one already running stays so (run twice, it would show
// "Waiting" while it ran and drop its first result).
export function enqueue(job) {
  if (![STATUS.FETCHING, STATUS.QUEUED].includes(job.status)) return false;
  job.status = STATUS.QUEUED;
  return true;
}

// Returns the signal that cancelling the run aborts (the client then ends that worker).
export function startRunning(job) {
  job.status = STATUS.RUNNING;
  job.progress = null;
  job.abort = new AbortController();
  job.startedAt = performance.now();
  return job.abort.signal;
}

// r: what a runner returns, {outputs, meta, path, pathNote?, pathDetail?}: a short note and its long reason
export function finish(job, r) {
  if (job.status !== STATUS.RUNNING) return false;
  Object.assign(job, { outputs: r.outputs, meta: r.meta, path: r.path, pathNote: r.pathNote ?? '',
    pathDetail: r.pathDetail ?? '',
    status: STATUS.DONE, error: null, ms: performance.now() - job.startedAt });
  return true;
}

// hit: a cache entry. The note keeps how the cached result was first made.
export function serveCached(job, hit) {
  Object.assign(job, { outputs: hit.outputs, meta: hit.meta, status: STATUS.DONE, path: 'cache',
    pathNote: hit.path ? PATH_TEXT[hit.path] : '', ms: 0, error: null });
}

export function fail(job, e) {
  if (job.status === STATUS.CANCELLED) return false;
  job.status = e?.code === 'cancelled' ? STATUS.CANCELLED : STATUS.FAILED;
  const said = inFormTerms(e, job.fieldMap); // `players[6].name` -> "Roster line 7: the name ..."
  job.error = said
    ? { code: e.code, message: said.message, field: said.field, engineField: e.field }
    : { code: e?.code ?? 'internal_error', message: friendlyError(e), field: e?.field };
  return true;
}

export function cancel(job) {
  if (!PENDING.includes(job.status)) return false;
  const inFlight = IN_FLIGHT.includes(job.status);
  job.status = STATUS.CANCELLED;
  job.error = { code: 'cancelled', message: 'Cancelled.' };
  if (inFlight) job.abort?.abort();
  return true;
}

// A job whose input is already here goes straight back to waiting; a URL is fetched again.
export function resetForRetry(job) {
  if (!canRetry(job)) return false;
  job.error = null;
  job.outputs = [];
  job.status = job.input ? STATUS.QUEUED : STATUS.FETCHING;
  return true;
}

// A job from a previous visit. Whatever was still pending died with that page.
export function revive(record) {
  const job = { ...record, outputs: [], meta: null, restored: true };
  if (PENDING.includes(job.status)) {
    job.status = STATUS.INTERRUPTED;
    job.error = { code: 'interrupted', message: 'The page was reloaded before this finished. Retry to run it again.' };
  }
  return job;
}

// A revived finished job gets its outputs back from the result store, or is told they are gone.
export function reattach(job, hit) {
  if (hit) {
    job.outputs = hit.outputs;
    job.meta = hit.meta;
    return;
  }
  job.status = STATUS.INTERRUPTED;
  job.error = { code: 'expired', message: 'The saved result is gone (storage was cleared). Retry to make it again.' };
}
