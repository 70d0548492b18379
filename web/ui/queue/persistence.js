// What outlives the page: the job history (store.js) and the results
// (cache.js). The queue never sees a storage exception: writes resolve with
// the PixelpressError the row should show, or null.

import { store } from '../store.js';
import { hashBlob, resultKey, lookup, save } from '../cache.js';

// How long a finished job waits for its write before it shows as done: long
// enough that a reload right after "Done" keeps it, short enough that slow
// storage never holds a result back.
const SAVE_WAIT_MS = 1500;
export const withinSaveWait = (promise) => Promise.race([promise, new Promise((res) => setTimeout(res, SAVE_WAIT_MS))]);

// Only what a later visit needs: no rows, abort controllers or output blobs (those live in the result cache).
function record(job) {
  return {
    id: job.id, view: job.view, op: job.op, name: job.name, url: job.url, createdAt: job.createdAt,
    input: job.input, inputBytes: job.inputBytes, thumb: job.thumb ?? null, options: job.options,
    cacheOptions: job.cacheOptions ?? null, fieldMap: job.fieldMap ?? null, cacheKey: job.cacheKey ?? null,
    hash: job.hash ?? null,
    status: job.status, error: job.error, path: job.path ?? null, pathNote: job.pathNote ?? '',
    pathDetail: job.pathDetail ?? '', ms: job.ms ?? null,
  };
}

// A browser without IndexedDB (storage_unavailable) is said once at start-up, not on every row.
const SHOWN_ON_ROW = ['storage_full', 'storage_error'];

export async function saveJob(job) {
  try {
    await store.putJob(record(job));
    return null;
  } catch (e) {
    return SHOWN_ON_ROW.includes(e.code) ? e : null;
  }
}

export function forgetJob(job) {
  store.deleteJob(job.id).catch(() => {});
}

// Sets job.hash; {key, hit}: the job's cache key and what the cache holds under it. The key is not set on the
// job here: a waiting job with a key is ready to run, and this one is not until the queue has heard the answer.
export async function findResult(job) {
  job.hash = await hashBlob(job.input);
  const key = await resultKey(job.hash, job.op, job.cacheOptions ?? job.options);
  return { key, hit: await lookup(key) };
}

// A revived job keeps the key it was saved under: its history shows what that visit made.
export const savedResult = (job) => (job.cacheKey ? lookup(job.cacheKey) : Promise.resolve(null));

export function saveResult(job) {
  return save(job.cacheKey, { outputs: job.outputs, meta: job.meta, path: job.path });
}
