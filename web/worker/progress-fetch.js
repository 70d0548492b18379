// Byte-level loading progress: Pyodide fetches its files itself, so every
// response under the runtime URL is counted as it streams in. The counting
// reads a clone and the original response goes to Pyodide untouched: a
// constructed Response has no URL, which would stop Chromium from reusing its
// compiled-wasm cache for pyodide.asm.wasm on the next visit.

import { loadProgress } from './protocol.js';

// Bytes the worker fetches for itself (the manifest) are not the runtime's download.
export const realFetch = self.fetch.bind(self);

// One counter at a time; a phase change resets it, and bytes still streaming count towards the new one.
let counter = { phase: 'runtime', loaded: 0, total: 0 };

export function countPhase(phase, total) {
  counter = { phase, loaded: 0, total };
}

async function countBytes(body) {
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      counter.loaded += value.byteLength;
      postMessage(loadProgress(counter));
    }
  } catch {
    // the original stream reports its own errors to Pyodide
  }
}

export function countResponsesUnder(prefix) {
  self.fetch = async (input, init) => {
    const response = await realFetch(input, init);
    const url = input instanceof Request ? input.url : String(input);
    if (url.startsWith(prefix) && response.body) countBytes(response.clone().body);
    return response;
  };
}
