// runWithFallback: an app's own image server first, this device when it fails.
//
//   const r = await px.runWithFallback(
//     ({ signal }) => fetch('/api/oil-paint', { method: 'POST', body: file, signal }),
//     'oil_paint', file, { brush_size: 6 }, { serverTimeoutMs: 10_000 });
//   r.path    // 'server' or 'device'
//   r.reason  // null, or the PixelpressError that sent the job to the device
//
// The server call is the app's: any function that resolves with a Response, a
// Blob (or ArrayBuffer) of the finished image, or throws. It gets an
// AbortSignal that fires on the caller's cancel and on the timeout.
//
// Falls back on: a network error (fetch's TypeError), a timeout
// (`serverTimeoutMs`, reading the body included), any 5xx, a 4xx other than
// the three below, a 2xx whose body is not an image, and anything else the
// call throws. Does not fall back on 400, 415 or 422: the server looked at
// the input and said it is bad, and the device would say the same; the
// server's error is thrown as it came (`fallback: false`). A PixelpressError
// the call throws itself (remote.js's, say) decides by its own `fallback`.
// `shouldFallBack(reason)` overrides all of this. Cancelling never falls back.
// If the device fails too, its error is thrown with `serverReason` set.

import { PixelpressError } from './errors.js';
import { sniffFormat, SNIFF_BYTES } from './sniff.js';

/**
 * @template {import('./operations.js').OpName} [K=import('./operations.js').OpName]
 * @typedef {(request: {op: K, input: import('./pixelpress.js').Input,
 *   options: import('./operations.js').OperationOptions[K], signal: AbortSignal,
 *   onProgress?: (progress: any) => void}) => Promise<Response | Blob | ArrayBuffer>} ServerCall
 */

/**
 * @typedef {object} FallbackOptions
 * @property {AbortSignal} [signal] cancels the server call and the device job alike (`cancelled`)
 * @property {(progress: any) => void} [onProgress] handed to the server call and to the device job
 * @property {number} [serverTimeoutMs] how long the server may take, body included (default 20 000)
 * @property {number} [timeoutMs] the device job's budget (default: the client's)
 * @property {(reason: PixelpressError) => boolean} [shouldFallBack] decide instead of the rules above
 * @property {(reason: PixelpressError) => void} [onFallback] called as the job moves to the device
 */

/**
 * @typedef {object} FallbackResult
 * @property {'server' | 'device'} path who produced the image
 * @property {PixelpressError | null} reason why the server's answer was not used (null on the server path)
 * @property {Blob} blob the image
 * @property {Record<string, any> | null} meta the engine's meta on the device path; null from the server
 * @property {import('./pixelpress.js').Output[]} outputs
 * @property {number | null} ms time in the worker on the device path
 */

export const DEFAULT_SERVER_TIMEOUT_MS = 20_000;

// The server judged the input itself: the device would refuse it too.
const FINAL_STATUSES = [400, 415, 422];

// An image by its type or, for servers that send application/octet-stream, by its first bytes (one of the
// formats the engine reads, by its own magic bytes); an error page (text/html, JSON) with a 200 is not one.
async function looksLikeImage(blob) {
  if (blob.type.startsWith('image/')) return true;
  return sniffFormat(new Uint8Array(await blob.slice(0, SNIFF_BYTES).arrayBuffer())) !== null;
}

const textOr = (value, otherwise) => (typeof value === 'string' && value ? value : otherwise);

async function fromResponse(res) {
  if (!res.ok) {
    let code = `http_${res.status}`;
    let message = `the server answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
    try {
      const body = await res.json();
      const err = body?.error;
      if (err && typeof err === 'object') {
        code = textOr(err.code, code);
        message = textOr(err.message, message);
      } else if (typeof err === 'string') {
        message = `${message}: ${err}`;
      }
    } catch {
      // not a JSON error body: keep http_<status>
    }
    throw new PixelpressError(code, message, { status: res.status, fallback: !FINAL_STATUSES.includes(res.status) });
  }
  return res.blob();
}

function classify(e) {
  if (e instanceof PixelpressError) return e;
  if (e instanceof TypeError) {
    return new PixelpressError('network_error', `the server could not be reached: ${e.message}`,
      { fallback: true, cause: e });
  }
  return new PixelpressError('server_failed', `the server call failed: ${e?.message ?? e}`, { fallback: true, cause: e });
}

// The server's attempt: resolves with a Blob or rejects with a classified PixelpressError.
async function askServer(serverCall, request, { signal, serverTimeoutMs }) {
  const controller = new AbortController();
  const cancelled = () => new PixelpressError('cancelled', 'Cancelled.');
  const timedOut = new PixelpressError('timeout',
    `the server did not answer within ${Math.round(serverTimeoutMs / 100) / 10} s`, { fallback: true });
  const onAbort = () => controller.abort(cancelled());
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => controller.abort(timedOut), serverTimeoutMs);
  // Raced, so a call that ignores its signal still ends on time.
  const stopped = new Promise((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
  });
  stopped.catch(() => {});
  try {
    const answer = await Promise.race([serverCall({ ...request, signal: controller.signal }), stopped]);
    let blob;
    if (typeof Response !== 'undefined' && answer instanceof Response) blob = await Promise.race([fromResponse(answer), stopped]);
    else if (answer instanceof Blob) blob = answer;
    else if (answer instanceof ArrayBuffer || ArrayBuffer.isView(answer)) blob = new Blob([answer]);
    else throw new PixelpressError('bad_response', 'the server call resolved with neither a Response nor a Blob',
      { fallback: true });
    if (!blob.size || !(await looksLikeImage(blob))) {
      throw new PixelpressError('bad_response', `the server sent ${blob.type || 'something'} that is not an image`,
        { fallback: true });
    }
    return blob;
  } catch (e) {
    // Whatever the call threw after an abort (an AbortError, say), the abort's reason is the story.
    throw controller.signal.aborted ? controller.signal.reason : classify(e);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Run `op` through the app's own server, and on this device when the server fails.
 * @template {import('./operations.js').OpName} K
 * @param {import('./pixelpress.js').PixelpressClient} client
 * @param {ServerCall<K>} serverCall
 * @param {K} op
 * @param {import('./pixelpress.js').Input} input
 * @param {import('./operations.js').OperationOptions[K]} [options]
 * @param {FallbackOptions} [fallbackOptions]
 * @returns {Promise<FallbackResult>}
 */
export async function runWithFallback(client, serverCall, op, input, options = {}, {
  signal, onProgress, serverTimeoutMs = DEFAULT_SERVER_TIMEOUT_MS, timeoutMs, shouldFallBack, onFallback } = {}) {
  if (signal?.aborted) throw new PixelpressError('cancelled', 'Cancelled.');
  let reason;
  try {
    const blob = await askServer(serverCall, { op, input, options, onProgress }, { signal, serverTimeoutMs });
    return { path: 'server', reason: null, blob, meta: null, outputs: [{ name: 'server', blob, meta: {} }], ms: null };
  } catch (e) {
    reason = e;
  }
  if (reason.code === 'cancelled') throw reason;
  const fallBack = shouldFallBack ? shouldFallBack(reason) : reason.fallback !== false;
  if (!fallBack) throw reason;
  onFallback?.(reason);
  try {
    const result = await client.run(op, input, options, { signal, onProgress, timeoutMs });
    return { path: 'device', reason, blob: result.blob, meta: result.meta, outputs: result.outputs, ms: result.ms };
  } catch (e) {
    if (e && typeof e === 'object') e.serverReason = reason;
    throw e;
  }
}
