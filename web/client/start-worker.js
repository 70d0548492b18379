// Start one of pixelpress's module workers from wherever the files live.
//
// A page may construct a Worker only from a URL of its own origin: for a
// cross-origin URL Chromium throws a SecurityError at once, and the spec has
// the script fetch fail instead. So a worker of another origin is started
// through a same-origin blob: module whose only line imports the real worker
// module. The imported module keeps its own `import.meta.url`, so everything
// it fetches relative to it (the runtime, the manifest, the model) still
// comes from the pixelpress origin, which must then send
// `Access-Control-Allow-Origin` on those files (docs/embedding.md). The page's
// CSP governs a blob: worker: `worker-src blob:` and the pixelpress origin
// (the wrapper's static imports are fetched as worker scripts), plus
// `script-src` (the runtime's own import()) and `connect-src` for that origin.
//
// The import is static, not `import()`: a static import is part of the
// wrapper's module graph, so the worker's message handlers exist before any
// message is delivered; with a dynamic import, a message posted while it was
// still loading would reach no handler and be lost.

import { PixelpressError } from './errors.js';

const wrappers = new Map(); // worker URL -> blob: URL of its wrapper, made once per page

function wrapperFor(url) {
  let blobUrl = wrappers.get(url);
  if (!blobUrl) {
    const source = `import ${JSON.stringify(url)};\n`;
    blobUrl = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
    wrappers.set(url, blobUrl);
  }
  return blobUrl;
}

const sameOrigin = (url) => !globalThis.location || new URL(url).origin === globalThis.location.origin;

/**
 * Construct the module worker at `url` (directly when same-origin, else through a blob: wrapper).
 * Throws `worker_unavailable` when the browser refuses both (a CSP without `worker-src blob:`, say).
 * @param {string} url absolute URL of the worker module
 * @param {string} name the worker's name, for devtools
 * @returns {{worker: Worker, crossOrigin: boolean}}
 * @internal
 */
export function startWorker(url, name) {
  const crossOrigin = !sameOrigin(url);
  try {
    const worker = new Worker(crossOrigin ? wrapperFor(url) : url, { type: 'module', name });
    return { worker, crossOrigin };
  } catch (e) {
    throw new PixelpressError('worker_unavailable', `The browser refused to start the worker ${url}: ${e?.message ?? e}`
      + (crossOrigin ? ' (another origin: the page\'s CSP must allow worker-src blob:).' : ''), { source: url });
  }
}

/**
 * The error for a worker that failed before saying anything: its module did not load.
 * @param {string} url
 * @param {boolean} crossOrigin
 * @param {string} [detail]
 * @internal
 */
export function notLoaded(url, crossOrigin, detail) {
  // The worker's module graph includes the runtime's script (pyodide/pyodide.asm.js): a folder missing it fails here.
  const complete = 'that its folder is a whole copy of pixelpress, pyodide/ included';
  const why = crossOrigin
    ? `check baseUrl, ${complete}, that its files are served with Access-Control-Allow-Origin, and that the page's `
      + 'CSP allows that origin in worker-src, script-src and connect-src'
    : `check baseUrl, ${complete}, and that its files are served as JavaScript`;
  return new PixelpressError('worker_unavailable',
    `The worker ${url} could not be loaded${detail ? ` (${detail})` : ''}: ${why}.`, { source: url });
}
