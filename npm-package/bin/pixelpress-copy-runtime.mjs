#!/usr/bin/env node
// pixelpress-copy-runtime DEST [--versioned]
//
// Copies what a page needs to run pixelpress (the client, the workers, the
// Pyodide runtime and wheels, onnxruntime-web, the model: every file
// asset-manifest.json lists, and the manifest) from this package into DEST,
// checking each file against the manifest's sha256 on the way. Serve DEST
// as static files and point the client at it:
//
//   new PixelpressClient({ baseUrl: 'https://static.example.com/pixelpress/' })
//
// --versioned copies into DEST/<version>/ instead: a folder whose content
// never changes, so it can be served with `Cache-Control: immutable`
// (docs/deploy.md). Nothing is fetched; the package already holds every byte.

import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function usage(message) {
  if (message) console.error(`pixelpress-copy-runtime: ${message}`);
  console.error('usage: pixelpress-copy-runtime DEST [--versioned]');
  process.exit(2);
}

const args = process.argv.slice(2);
const versioned = args.includes('--versioned');
const rest = args.filter((a) => a !== '--versioned');
if (rest.some((a) => a.startsWith('-'))) usage(`unknown option ${rest.find((a) => a.startsWith('-'))}`);
if (rest.length !== 1) usage(rest.length ? 'give one destination folder' : '');

const manifestText = await readFile(join(HERE, 'asset-manifest.json'), 'utf8');
const manifest = JSON.parse(manifestText);
const dest = resolve(versioned ? join(rest[0], manifest.version) : rest[0]);

let bytes = 0;
const files = Object.entries(manifest.files);
for (const [path, { sha256 }] of files) {
  const src = join(HERE, path);
  const got = createHash('sha256').update(await readFile(src)).digest('hex');
  if (got !== sha256) {
    console.error(`pixelpress-copy-runtime: ${path} does not match its sha256 in asset-manifest.json; reinstall the package`);
    process.exit(1);
  }
  await mkdir(dirname(join(dest, path)), { recursive: true });
  await copyFile(src, join(dest, path));
  bytes += manifest.files[path].bytes;
}
await copyFile(join(HERE, 'asset-manifest.json'), join(dest, 'asset-manifest.json'));
console.log(`copied ${files.length + 1} files (${(bytes / 1e6).toFixed(1)} MB, version ${manifest.version}) to ${dest}`);
console.log("serve that folder and pass its URL: new PixelpressClient({ baseUrl: 'https://<host>/<path>/' })");
