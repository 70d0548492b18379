// The example app's own server: its page, and an oil-paint endpoint that is
// as broken as the serverless service it stands for. The first request gets
// a 500, every later one hangs (no answer, ever), so the page falls back to
// pixelpress on the device, once for each reason.
//
//   node server.mjs [--port 8080] [--host 127.0.0.1] [--pixelpress URL] [--fail 500,hang]
//
// --pixelpress: where the pixelpress files are served (the folder holding
// client/, worker/, pyodide/). Default /pixelpress/, which this server serves
// from node_modules/pixelpress. Give another origin's URL
// (http://localhost:9000/pixelpress/) to load it from a second host, which
// must then send Access-Control-Allow-Origin (docs/embedding.md).
//
// Every page answer carries a strict Content-Security-Policy, the one
// docs/embedding.md asks embedders for, so running the example checks it.

import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const PIXELPRESS_DIR = join(HERE, 'node_modules', 'pixelpress');
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.json': 'application/json', '.wasm': 'application/wasm', '.whl': 'application/octet-stream',
  '.zip': 'application/octet-stream', '.onnx': 'application/octet-stream', '.png': 'image/png', '.svg': 'image/svg+xml',
};

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

const port = Number(option('port', 8080));
const host = option('host', '127.0.0.1');
const pixelpress = option('pixelpress', '/pixelpress/');
const failures = option('fail', '500,hang').split(',');
let calls = 0;

// The client module, for the page's import map: `import ... from 'pixelpress'`.
const absolute = /^https?:\/\//.test(pixelpress);
const clientUrl = absolute
  ? new URL('client/pixelpress.js', pixelpress).href
  : `${pixelpress.replace(/\/?$/, '/')}client/pixelpress.js`;
const pixelpressOrigin = absolute ? new URL(pixelpress).origin : "'self'";

function csp(nonce) {
  return [
    "default-src 'self'",
    // the import map (nonce), the client, the modules the workers import(), and compiling WebAssembly
    `script-src 'self' 'nonce-${nonce}' ${pixelpressOrigin} 'wasm-unsafe-eval'`,
    // the workers of another origin start from a blob: wrapper, whose static imports (the worker's
    // modules) count as worker scripts too
    `worker-src 'self' blob: ${pixelpressOrigin}`,
    // the runtime, wheels and manifest the workers fetch, and this app's own API
    `connect-src 'self' ${pixelpressOrigin}`,
    "img-src 'self' blob: data:",
    "style-src 'self'",
  ].join('; ');
}

async function page(res) {
  const nonce = randomBytes(16).toString('base64');
  const html = (await readFile(join(HERE, 'index.html'), 'utf8'))
    .replaceAll('{{nonce}}', nonce)
    .replace('{{pixelpress}}', JSON.stringify(clientUrl));
  res.writeHead(200, { 'Content-Type': TYPES['.html'], 'Content-Security-Policy': csp(nonce), 'Cache-Control': 'no-cache' });
  res.end(html);
}

async function file(res, root, rel) {
  const path = normalize(join(root, rel));
  if (!path.startsWith(root + sep)) return notFound(res);
  try {
    if (!(await stat(path)).isFile()) return notFound(res);
  } catch {
    return notFound(res);
  }
  res.writeHead(200, { 'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream', 'Cache-Control': 'no-cache' });
  createReadStream(path).pipe(res);
  return undefined;
}

function notFound(res) {
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('not found');
}

// The broken service: it reads the upload, then fails as configured.
function oilPaint(req, res) {
  const failure = failures[Math.min(calls, failures.length - 1)];
  calls += 1;
  req.resume();
  req.on('end', () => {
    if (failure === 'hang') return; // never answers; the page's timeout gives up on it
    res.writeHead(Number(failure) || 500, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: 'the oil-paint function crashed (out of memory)' }));
  });
}

const server = http.createServer((req, res) => {
  const { pathname } = new URL(req.url, 'http://x/');
  if (req.method === 'POST' && pathname === '/api/oil-paint') return oilPaint(req, res);
  if (req.method === 'GET' && pathname === '/api/calls') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    return res.end(JSON.stringify({ calls }));
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return notFound(res);
  if (pathname === '/' || pathname === '/index.html') return page(res);
  if (pathname === '/app.js' || pathname === '/style.css') return file(res, HERE, pathname.slice(1));
  if (pathname.startsWith('/pixelpress/')) return file(res, resolve(PIXELPRESS_DIR), pathname.slice('/pixelpress/'.length));
  return notFound(res);
});

server.listen(port, host, () => {
  console.log(`fallback-app on http://${host}:${server.address().port}/ (pixelpress from ${pixelpress})`);
});
