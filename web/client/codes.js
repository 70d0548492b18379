// Every error code the JS side raises itself (client, workers, studio), each
// with when it happens, for people. Engine codes (py/pixelpress/errors.py)
// and the optional server's (py/pixelpress_server/errors.py) pass through
// unchanged and are not repeated here, except where the page raises an engine
// code itself: that entry says `engine: true` and must keep the engine's
// meaning, so a caller switching on a code never has to ask who raised it.
// `input_fault: true`: the same input fails the same way every time (the
// studio offers no Retry), as the engine's codes say in client/engine-facts.js.
//
// docs/errors.md's client table is generated from this list
// (build_scripts/doc_tables.py), and tests/test_js_error_codes.py fails
// when a code literal anywhere in web/ is in neither list. No imports: the
// build reads this module under Node.

export const CODES = Object.freeze({
  // The engine client and its worker pool (pixelpress.js, engine-handle.js).
  timeout: {
    when: 'a job ran past its time budget (`timeoutMs`, 180 s by default) and its worker was ended; '
      + 'or the optional server, or the app\'s own server in `runWithFallback` (`serverTimeoutMs`, 20 s by default), '
      + 'did not answer within its deadline (`fallback` is true)',
  },
  cancelled: { when: "the caller's AbortSignal fired (the queue's Cancel), or the client was shut down" },
  worker_crashed: { when: 'the engine worker died under a job; the pool starts a fresh one, so the next job works' },
  runtime_unavailable: {
    when: 'the Pyodide runtime could not start, or the packages an operation needs could not be loaded '
      + '(missing, or a wheel that fails its sha256 in the lock file)',
  },
  worker_unavailable: {
    when: 'a worker could not be started: the browser refused it (a CSP without `worker-src blob:` for another '
      + 'origin) or its module did not load (a wrong `baseUrl`, or another origin without `Access-Control-Allow-Origin`)',
  },
  recycled: {
    when: "a worker's wasm heap was above 1.5 GB after a job (`RECYCLE_HEAP_BYTES`, option `recycleHeapBytes`): "
      + 'its answer is kept and only the worker is replaced, so no caller sees this code',
  },
  model_unavailable: {
    when: 'the background-removal network could not load or run in the browser; the matte falls back to the '
      + 'classical one and says so in `meta.matte.fallback_reason`, so no caller sees this code',
  },
  invalid_input: {
    input_fault: true,
    when: '`run()` was given something other than a File, Blob, ArrayBuffer, typed array or URL',
  },
  bad_request: {
    when: 'a worker got a message it cannot handle: an unknown type, or a run without an operation name '
      + 'and image bytes (a bug in the page)',
  },
  internal_error: {
    engine: true,
    when: 'a failure that is not a `PixelpressError` (wrapped by `asError`), or a fault of the interpreter itself',
  },

  // Images by URL (fetch-image.js).
  invalid_url: {
    input_fault: true,
    when: 'a URL that does not parse, or whose scheme is not http(s), blob: or data:; '
      + 'or a client `baseUrl` that does not parse or is not http(s) (thrown by the constructor)',
  },
  fetch_failed: {
    when: 'the browser could not fetch a URL: unreachable, refused by CORS, an HTTP error, or the download broke off',
  },
  fetch_timeout: { when: "a URL's server did not deliver the image within 20 s (`fetchOptions.timeoutMs`)" },
  too_large: {
    engine: true,
    when: "before the engine sees the bytes: a URL's image over 50 MB (`fetchOptions.maxBytes`), or a "
      + 'picture over 50 MP, which the page refuses to decode for a preview',
  },

  // The optional server (remote.js) and the app's own server in runWithFallback (fallback.js); with
  // `fallback` true the page processes on the device instead, and runWithFallback records it as `reason`.
  network_error: { when: 'the optional server, or the app\'s own server call, could not be reached (`fallback` is true)' },
  bad_response: {
    when: 'something answered for the optional server that is not it: not JSON, no PNG, no URL; or the app\'s '
      + 'server call resolved with something that is not an image (`fallback` is true)',
  },
  'http_<status>': {
    when: 'the optional server or the app\'s server call answered an HTTP error without a JSON error body, '
      + 'e.g. `http_502` (`fallback` unless 400 or 415, and 422 for the app\'s server)',
  },
  server_failed: {
    when: 'the app\'s own server call in `runWithFallback` threw something that is neither a network error nor a '
      + '`PixelpressError` (`fallback` is true; `cause` holds it)',
  },

  // The studio's forms (views/).
  invalid_option: {
    engine: true,
    when: 'before anything is queued: a form value the engine would refuse; `field` names the form field',
  },

  // The studio's queue and its storage (ui/queue/, store.js).
  interrupted: { when: 'the page was reloaded while the job waited or ran; Retry runs it again' },
  expired: { when: 'a finished job from an earlier visit whose saved result is gone (storage was cleared)' },
  storage_full: { when: 'browser storage is full: the result is shown and can be downloaded, but is not kept' },
  storage_error: { when: 'any other failure to save a job or result in IndexedDB' },
  storage_unavailable: {
    when: 'IndexedDB cannot be opened (some private modes): nothing is kept after a reload; said once at start-up',
  },
});

/** A code the JS side raises itself. @typedef {keyof typeof CODES} ClientCode */
