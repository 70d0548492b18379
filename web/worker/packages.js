// Pyodide packages, each loaded once per worker, with its download counted
// against the manifest's sizes. Which packages an op needs is its spec's
// answer (the generated operations.js, read in engine.js), not this module's.

import { packageFiles, runtimeBytes } from './manifest.js';
import { countPhase } from './progress-fetch.js';

// PEP 503 names: the lock's keys and Pyodide's loadedPackages spell some packages differently.
const canonical = (name) => name.toLowerCase().replace(/[-_.]+/g, '-');

// Returns load(names): resolves once all of them are importable; rejects naming those that did not load.
export function packageLoader(pyodide, manifest) {
  const loaded = new Set();
  return async function load(names) {
    const missing = names.filter((n) => !loaded.has(n));
    if (!missing.length) return;
    countPhase('packages', runtimeBytes(manifest, packageFiles(manifest, missing)));
    // loadPackage resolves even when a wheel fails (one that does not match its sha256 in the lock, a 404):
    // it only tells errorCallback. A package it did not load is an error here, not a ModuleNotFoundError later.
    const errors = [];
    await pyodide.loadPackage(missing, { messageCallback: () => {}, errorCallback: (m) => { errors.push(m); console.warn(m); } });
    const present = new Set(Object.keys(pyodide.loadedPackages).map(canonical)); // keyed 'Pillow', asked as 'pillow'
    const absent = missing.filter((n) => !present.has(canonical(n)));
    if (absent.length) throw new Error(`${absent.join(', ')} did not load: ${errors.join(' ') || 'unknown reason'}`);
    // Dependencies that loadPackage pulled in are not recorded: asking for one
    // later costs a lookup, since Pyodide skips what it already has.
    for (const n of missing) loaded.add(n);
  };
}
