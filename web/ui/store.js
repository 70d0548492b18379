// IndexedDB persistence: job history and results survive a reload; anything
// older than 24 h is purged at start-up and every 30 min. Blobs are stored as
// they are. A full quota is reported (code storage_full), never swallowed.

import { PixelpressError } from '../client/errors.js';
import { now } from './util.js';

export const MAX_AGE_MS = 24 * 3600 * 1000;
export const PURGE_EVERY_MS = 30 * 60 * 1000;
const DB_NAME = 'pixelpress';
const DB_VERSION = 1;

function isQuota(e) {
  return e?.name === 'QuotaExceededError' || e?.code === 22 || /quota/i.test(e?.message ?? '');
}

function wrap(e) {
  if (e instanceof PixelpressError) return e;
  if (isQuota(e)) {
    return new PixelpressError('storage_full',
      'Browser storage is full, so this result is not saved for later. Download it now, or clear old history to make room.');
  }
  return new PixelpressError('storage_error', `Could not save to browser storage: ${e?.message ?? e}`);
}

const req = (r) => new Promise((resolve, reject) => {
  r.onsuccess = () => resolve(r.result);
  r.onerror = () => reject(r.error);
});

export class Store {
  constructor() {
    this.db = null;
    this.available = true;
  }

  async open() {
    if (this.db) return this.db;
    try {
      if (!globalThis.indexedDB) throw new PixelpressError('storage_unavailable', 'IndexedDB is not available');
      const r = indexedDB.open(DB_NAME, DB_VERSION);
      r.onupgradeneeded = () => {
        const db = r.result;
        if (!db.objectStoreNames.contains('jobs')) {
          const jobs = db.createObjectStore('jobs', { keyPath: 'id' });
          jobs.createIndex('createdAt', 'createdAt');
        }
        if (!db.objectStoreNames.contains('results')) {
          const res = db.createObjectStore('results', { keyPath: 'key' });
          res.createIndex('createdAt', 'createdAt');
        }
      };
      this.db = await req(r);
    } catch (e) {
      this.available = false;
      throw new PixelpressError('storage_unavailable',
        `Results cannot be kept after a reload in this browser (${e?.message ?? e}). Everything else works.`);
    }
    return this.db;
  }

  async tx(stores, mode, fn) {
    const db = await this.open();
    return new Promise((resolve, reject) => {
      let out;
      let t;
      try {
        t = db.transaction(stores, mode);
        out = fn(t);
      } catch (e) {
        reject(wrap(e));
        return;
      }
      t.oncomplete = () => resolve(out);
      t.onabort = () => reject(wrap(t.error));
      t.onerror = (ev) => { ev.preventDefault?.(); };
    });
  }

  putJob(job) {
    return this.tx(['jobs'], 'readwrite', (t) => { t.objectStore('jobs').put(job); });
  }

  deleteJob(id) {
    return this.tx(['jobs'], 'readwrite', (t) => { t.objectStore('jobs').delete(id); });
  }

  putResult(entry) {
    return this.tx(['results'], 'readwrite', (t) => { t.objectStore('results').put(entry); });
  }

  async getResult(key) {
    const db = await this.open();
    const entry = await req(db.transaction('results').objectStore('results').get(key));
    if (entry && now() - entry.createdAt > MAX_AGE_MS) return undefined;
    return entry;
  }

  async allJobs() {
    const db = await this.open();
    const jobs = await req(db.transaction('jobs').objectStore('jobs').getAll());
    return jobs.filter((j) => now() - j.createdAt <= MAX_AGE_MS).sort((a, b) => a.createdAt - b.createdAt);
  }

  // Delete everything created more than 24 h ago (by the injectable clock).
  async purge() {
    const cutoff = now() - MAX_AGE_MS;
    let removed = 0;
    await this.tx(['jobs', 'results'], 'readwrite', (t) => {
      for (const name of ['jobs', 'results']) {
        const cursorReq = t.objectStore(name).index('createdAt').openCursor(IDBKeyRange.upperBound(cutoff, true));
        cursorReq.onsuccess = () => {
          const c = cursorReq.result;
          if (!c) return;
          c.delete();
          removed++;
          c.continue();
        };
      }
    });
    return removed;
  }

  async clear() {
    await this.tx(['jobs', 'results'], 'readwrite', (t) => {
      t.objectStore('jobs').clear();
      t.objectStore('results').clear();
    });
  }

  // Bytes of what Clear history deletes: each saved result's outputs and each job's input and thumbnail.
  // The site's whole usage (estimate) also counts the engine's own files, which are no result of anyone's.
  async usage() {
    const db = await this.open();
    const t = db.transaction(['jobs', 'results']);
    const [jobs, results] = await Promise.all([req(t.objectStore('jobs').getAll()), req(t.objectStore('results').getAll())]);
    const size = (b) => (b instanceof Blob ? b.size : 0);
    return jobs.reduce((n, j) => n + size(j.input) + size(j.thumb), 0)
      + results.reduce((n, r) => n + (r.outputs ?? []).reduce((m, o) => m + size(o.blob), 0), 0);
  }

  async estimate() {
    try {
      return await navigator.storage?.estimate?.();
    } catch {
      return null;
    }
  }
}

export const store = new Store();
