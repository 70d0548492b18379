// Pyodide packages, each loaded once per worker, with its download counted
// against the manifest's sizes. Which packages an op needs is its spec's
// answer (the generated operations.js, read in engine.js), not this module's.

import { packageFiles, runtimeBytes } from './manifest.js';
import { countPhase } from './progress-fetch.js';

// Returns load(names): resolves once all of them are importable.
export function packageLoader(pyodide, manifest) {
  const loaded = new Set();
  return async function load(names) {
    const missing = names.filter((n) => !loaded.has(n));
    if (!missing.length) return;
    countPhase('packages', runtimeBytes(manifest, packageFiles(manifest, missing)));
    await pyodide.loadPackage(missing, { messageCallback: () => {}, errorCallback: (m) => console.warn(m) });
    // Dependencies that loadPackage pulled in are not recorded: asking for one
    // later costs a lookup, since Pyodide skips what it already has.
    for (const n of missing) loaded.add(n);
  };
}
