// The one error class the client and the studio throw: `code` is the
// contract, `message` is for people. Codes are the engine's (passed through
// from the worker) or the page's own, listed once in codes.js. Extra fields
// some codes carry: `field` (the option or form field at fault), `source`
// (the URL being fetched), and from remote.js `status`, `fallback` (true:
// the caller should quietly process on this device instead) and `retryAfter`.

export { CODES } from './codes.js';

export class PixelpressError extends Error {
  constructor(code, message, extra = {}) {
    super(message);
    this.name = 'PixelpressError';
    this.code = code;
    Object.assign(this, extra);
  }

  toJSON() {
    const out = { code: this.code, message: this.message };
    if (this.field !== undefined) out.field = this.field;
    return out;
  }
}

export const asError = (e) =>
  e instanceof PixelpressError ? e : new PixelpressError('internal_error', String(e?.message ?? e));
