// Starts the engine before anything else on the page: this module's graph is
// only the client, so the worker (and the ~13 MB runtime download) begins
// while the rest of the UI modules are still loading. app.js picks up the
// client and the latest loading progress from here.

import { PixelpressClient } from '../client/pixelpress.js';

let listener = null;
let last = null;

export const client = new PixelpressClient({
  onLoading: (p) => { last = p; listener?.(p); },
});
window.pixelpress = client; // tests, benches and the console use it

export function onLoading(fn) {
  listener = fn;
  if (last) fn(last);
}
