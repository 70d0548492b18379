// Drives web/client/remote.js in Node against live servers; prints one JSON line per case.
// Usage: node remote_check.mjs <remote.js> <configured base> <embedded base> <dead base> <image file>
import {readFile} from 'node:fs/promises';
import {pathToFileURL} from 'node:url';

const [modulePath, configured, embedded, dead, imagePath] = process.argv.slice(2);
const {probeServer, removeBackgroundRemote, uploadResult} = await import(pathToFileURL(modulePath).href);
const image = new Blob([await readFile(imagePath)], {type: 'image/jpeg'});
const out = {};

async function outcome(promise) {
  try {
    const value = await promise;
    return {ok: true, value};
  } catch (err) {
    return {ok: false, code: err.code, fallback: err.fallback, status: err.status, retryAfter: err.retryAfter};
  }
}

out.probeConfigured = await probeServer(configured);
out.probeDead = await probeServer(dead, {timeoutMs: 1000});
const removed = await outcome(removeBackgroundRemote(image, {base: configured}));
if (removed.ok) {
  const bytes = new Uint8Array(await removed.value.blob.arrayBuffer());
  removed.value = {provider: removed.value.provider, type: removed.value.blob.type, size: bytes.length,
                   magic: Array.from(bytes.slice(0, 8))};
}
out.remove = removed;
out.removeEmbedded = await outcome(removeBackgroundRemote(image, {base: embedded}));
out.removeDead = await outcome(removeBackgroundRemote(image, {base: dead, timeoutMs: 1000}));
out.removeNotImage = await outcome(removeBackgroundRemote(new Blob(['hello']), {base: configured}));
out.upload = await outcome(uploadResult(image, 'remote/check.jpg', {base: embedded}));
if (out.upload.ok) {
  const res = await fetch(out.upload.value.url);
  out.uploadReadBack = {status: res.status, size: (await res.arrayBuffer()).byteLength};
}
out.uploadBadPath = await outcome(uploadResult(image, '../x.jpg', {base: embedded}));
process.stdout.write(JSON.stringify(out) + '\n');
