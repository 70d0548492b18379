// The one error class the client and the studio throw: `code` is the
// contract, `message` is for people. Codes are the engine's (passed through
// from the worker) or the page's own, listed once in codes.js. Extra fields
// some codes carry: `field` (the option or form field at fault), `source`
// (the URL being fetched), and from remote.js `status`, `fallback` (true:
// the caller should quietly process on this device instead) and `retryAfter`.

export { CODES } from './codes.js';

/**
 * A code of the client's own (codes.js), of the engine (py/pixelpress/errors.py) or passed through from a
 * server; always a string.
 * @typedef {import('./codes.js').ClientCode | import('./operations.js').EngineErrorCode | (string & {})} ErrorCode
 */

export class PixelpressError extends Error {
  // Declared for readers and for the generated TypeScript declarations; each is set only by the codes that carry it.
  /** @type {string | undefined} the option or form field at fault */
  field;
  /** @type {string | undefined} the URL being fetched */
  source;
  /** @type {number | undefined} the HTTP status a server answered */
  status;
  /** @type {boolean | undefined} from a server: true when the caller should process on this device instead */
  fallback;
  /** @type {number | undefined} seconds, from a server's Retry-After */
  retryAfter;
  /** @type {PixelpressError | undefined} runWithFallback, when the device failed too: why the server was not used */
  serverReason;

  /**
   * @param {ErrorCode} code
   * @param {string} message
   * @param {{field?: string, source?: string, status?: number, fallback?: boolean, retryAfter?: number,
   *   cause?: unknown}} [extra]
   */
  constructor(code, message, extra = {}) {
    super(message);
    this.name = 'PixelpressError';
    /** @type {ErrorCode} */
    this.code = code;
    Object.assign(this, extra);
  }

  toJSON() {
    const out = { code: this.code, message: this.message };
    if (this.field !== undefined) out.field = this.field;
    return out;
  }
}

/** @type {(e: unknown) => PixelpressError} */
export const asError = (e) =>
  e instanceof PixelpressError ? e : new PixelpressError('internal_error', String(e?.message ?? e));
