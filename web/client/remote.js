// Talking to the optional pixelpress server (py/pixelpress_server) from the page.
//
// No dependencies beyond ./errors.js; runs in the page, in workers and in
// Node. Every call has a deadline, and failures are PixelpressError with
// `.code`, `.status` and `.fallback`, which says whether the caller should
// quietly switch to local processing. Only the server's own judgement that the
// image is unusable (400, 415) is final.

import {PixelpressError} from './errors.js';

const PROVIDER_HEADER = 'X-Pixelpress-Provider';

// `path` is relative ('api/health'). With no base it stays relative, so a page
// finds its server under its own base path (/tools/pixelpress/api/health for a
// studio at /tools/pixelpress/), not at the site root.
function joinUrl(base, path) {
  return base ? `${String(base).replace(/\/+$/, '')}/${path}` : path;
}

function remoteError(code, message, {status = 0, fallback = true, retryAfter, cause} = {}) {
  const extra = {status, fallback};
  if (retryAfter !== undefined) extra.retryAfter = retryAfter;
  if (cause !== undefined) extra.cause = cause;
  return new PixelpressError(code, message, extra);
}

// fetch with a deadline that also covers reading the body (`read`).
async function fetchWithin(url, init, timeoutMs, read) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const res = await fetch(url, {...init, signal: controller.signal});
    return {res, body: await read(res)};
  } catch (cause) {
    if (controller.signal.aborted) {
      throw remoteError('timeout', `the server did not answer within ${timeoutMs} ms`);
    }
    if (cause instanceof SyntaxError) {
      // Something answered, but not this server (a static host's HTML page, say).
      throw remoteError('bad_response', 'the server sent an answer that is not JSON');
    }
    throw remoteError('network_error', 'the server could not be reached', {cause});
  } finally {
    clearTimeout(timer);
  }
}

async function errorFrom(res) {
  let code = `http_${res.status}`;
  let message = `the server answered HTTP ${res.status}`;
  try {
    const body = await res.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || message;
    }
  } catch {
    // Not our JSON error shape (a proxy page, say): keep the generic code.
  }
  const retryAfter = res.headers.get('Retry-After');
  return remoteError(code, message, {
    status: res.status,
    fallback: !(res.status === 400 || res.status === 415),
    retryAfter: retryAfter === null ? undefined : Number(retryAfter),
  });
}

function authHeaders(apiKey) {
  return apiKey ? {Authorization: `Bearer ${apiKey}`} : {};
}

/**
 * Is a pixelpress server answering at `${base}/api/health` (no base: `api/health` relative to the page)? Never throws.
 * @param {string} [base] the server's URL; default: relative to the page
 * @param {{timeoutMs?: number}} [options]
 * @returns {Promise<{available: boolean, health?: object}>}
 */
export async function probeServer(base = '', {timeoutMs = 2000} = {}) {
  try {
    const {res, body} = await fetchWithin(
      joinUrl(base, 'api/health'),
      {method: 'GET', cache: 'no-store', headers: {Accept: 'application/json'}},
      timeoutMs,
      async (r) => (r.ok ? r.json() : null),
    );
    if (res.ok && body && body.status === 'ok') return {available: true, health: body};
  } catch {
    // A static host answers 404 or HTML here; either way there is no server.
  }
  return {available: false};
}

/**
 * Background removal on the server (API4.ai). Resolves with a PNG blob with alpha.
 * Throws a PixelpressError with `.code`, `.status` and `.fallback` (true: use the local path).
 * @param {Blob} blob
 * @param {{base?: string, timeoutMs?: number, apiKey?: string}} [options]
 * @returns {Promise<{blob: Blob, provider: string}>}
 */
export async function removeBackgroundRemote(blob, {base = '', timeoutMs = 30000, apiKey} = {}) {
  const form = new FormData();
  form.append('image', blob, 'image');
  const {res, body} = await fetchWithin(
    joinUrl(base, 'api/v1/remove-background'),
    {method: 'POST', body: form, headers: authHeaders(apiKey)},
    timeoutMs,
    async (r) => (r.ok ? r.blob() : errorFrom(r)),
  );
  if (!res.ok) throw body;
  if (!(body.type || '').startsWith('image/png')) {
    throw remoteError('bad_response', `the server sent ${body.type || 'no type'} instead of a PNG`, {status: res.status});
  }
  return {blob: body, provider: res.headers.get(PROVIDER_HEADER) || 'api4ai'};
}

/**
 * Store a result (Supabase Storage, or the server's local folder) at object `path`.
 * Resolves with the URL to load it from; throws a PixelpressError with `.code` and `.status`.
 * @param {Blob} blob
 * @param {string} path
 * @param {{base?: string, apiKey?: string, timeoutMs?: number}} [options]
 * @returns {Promise<{url: string}>}
 */
export async function uploadResult(blob, path, {base = '', apiKey, timeoutMs = 60000} = {}) {
  const form = new FormData();
  form.append('file', blob, String(path).split('/').pop() || 'file');
  form.append('path', path);
  const {res, body} = await fetchWithin(
    joinUrl(base, 'api/v1/uploads'),
    {method: 'POST', body: form, headers: authHeaders(apiKey)},
    timeoutMs,
    async (r) => (r.ok ? r.json() : errorFrom(r)),
  );
  if (!res.ok) throw body;
  if (!body || typeof body.url !== 'string') {
    throw remoteError('bad_response', 'the server sent no URL', {status: res.status});
  }
  // The server answers absolute URLs; resolve anyway so a relative one still works from a page.
  const here = globalThis.location ? globalThis.location.href : undefined;
  try {
    return {url: new URL(body.url, base ? new URL(base, here).href : here).href};
  } catch {
    return {url: body.url};
  }
}
