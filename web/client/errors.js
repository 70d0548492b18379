// Typed errors shared by the client: `code` is the contract, `message` is for people.

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
