// Fetch an image by URL in the browser, with a timeout and a byte cap that
// holds even when the server sends no (or a lying) Content-Length.

import { PixelpressError } from './errors.js';
import FACTS from './engine-facts.js';

// The byte cap is the engine's own file-size cap: a bigger file would only be refused by it.
export const DEFAULT_FETCH = { timeoutMs: 20000, maxBytes: FACTS.max_bytes };

/**
 * @param {string} url
 * @param {{timeoutMs?: number, maxBytes?: number, signal?: AbortSignal}} [options]
 * @returns {Promise<{bytes: Uint8Array, name: string, type: string}>}
 */
export async function fetchImage(url, { timeoutMs = DEFAULT_FETCH.timeoutMs, maxBytes = DEFAULT_FETCH.maxBytes, signal } = {}) {
  let parsed;
  try {
    parsed = new URL(url, self.location?.href);
  } catch {
    throw new PixelpressError('invalid_url', `"${url}" is not a valid URL.`, { source: url });
  }
  if (!['http:', 'https:', 'blob:', 'data:'].includes(parsed.protocol)) {
    throw new PixelpressError('invalid_url', `Only http(s) URLs can be fetched, not ${parsed.protocol}`, { source: url });
  }
  const controller = new AbortController();
  const timedOut = () => new PixelpressError('fetch_timeout',
    `The server did not deliver ${parsed.host || 'the image'} within ${Math.round(timeoutMs / 1000)} s.`, { source: url });
  const timer = setTimeout(() => controller.abort(timedOut()), timeoutMs);
  const onAbort = () => controller.abort(new PixelpressError('cancelled', 'Cancelled.', { source: url }));
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let response;
    try {
      response = await fetch(parsed.href, { signal: controller.signal, credentials: 'omit', redirect: 'follow' });
    } catch {
      if (controller.signal.aborted) throw controller.signal.reason;
      // A cross-origin server without CORS headers and an unreachable host look
      // the same to a page; say both.
      throw new PixelpressError('fetch_failed',
        `Could not fetch ${parsed.host}: the site is unreachable or does not allow other sites to load its images (CORS).`,
        { source: url });
    }
    if (!response.ok) {
      throw new PixelpressError('fetch_failed', `${parsed.host} answered ${response.status} ${response.statusText}.`,
        { source: url, status: response.status });
    }
    const declared = Number(response.headers.get('content-length') || 0);
    if (declared > maxBytes) {
      throw new PixelpressError('too_large',
        `The image is ${(declared / 1e6).toFixed(1)} MB; the limit is ${maxBytes / 1e6} MB.`, { source: url });
    }
    const reader = response.body.getReader();
    const chunks = [];
    let size = 0;
    for (;;) {
      let part;
      try {
        part = await reader.read();
      } catch {
        if (controller.signal.aborted) throw controller.signal.reason;
        throw new PixelpressError('fetch_failed', `The download from ${parsed.host} broke off.`, { source: url });
      }
      if (part.done) break;
      size += part.value.byteLength;
      if (size > maxBytes) {
        reader.cancel();
        throw new PixelpressError('too_large', `The image is larger than the ${maxBytes / 1e6} MB limit.`, { source: url });
      }
      chunks.push(part.value);
    }
    const bytes = new Uint8Array(size);
    let offset = 0;
    for (const c of chunks) { bytes.set(c, offset); offset += c.byteLength; }
    const name = decodeURIComponent(parsed.pathname.split('/').pop() || 'image');
    return { bytes, name, type: response.headers.get('content-type') || '' };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}
