// The asset manifest as the worker uses it: file sizes for determinate
// progress and, through snapshot.js, the runtime's hashes. Without it
// progress stays indeterminate and no snapshot is used; everything else works.

import { realFetch } from './progress-fetch.js';

const MANIFEST_URL = new URL('../asset-manifest.json', import.meta.url).href;

export async function readManifest() {
  try {
    return await (await realFetch(MANIFEST_URL)).json();
  } catch {
    return null;
  }
}

// Bytes of these runtime files (names inside pyodide/), 0 when unknown.
export function runtimeBytes(manifest, files) {
  if (!manifest) return 0;
  return files.reduce((sum, f) => sum + (manifest.files[`pyodide/${f}`]?.bytes ?? 0), 0);
}

// The wheel files of these packages, for runtimeBytes.
export const packageFiles = (manifest, names) => names.map((n) => manifest?.packages?.[n]).filter(Boolean);
