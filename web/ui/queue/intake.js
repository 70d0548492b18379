// Turns what the user gave into what the queue works on: the bytes of a URL
// (fetched by the browser itself) and the row's thumbnail.

import { fetchImage } from '../../client/pixelpress.js';
import { safeToDecode } from '../util.js';

export async function fetchInput(job, signal) {
  const { bytes, name, type } = await fetchImage(job.url, { signal });
  job.input = new Blob([bytes], { type: type.split(';')[0] || '' });
  job.name = name || job.name;
  job.inputBytes = bytes.byteLength;
}

// null when the browser cannot (or must not) decode the input: the row shows a placeholder.
export async function thumbnail(blob) {
  try {
    // A 60 MP bomb would stall the page here long before the engine refuses it.
    if (!(await safeToDecode(blob))) return null;
    const bmp = await createImageBitmap(blob, { resizeWidth: 96, resizeQuality: 'medium' });
    const c = new OffscreenCanvas(bmp.width, bmp.height);
    c.getContext('2d').drawImage(bmp, 0, 0);
    bmp.close();
    return await c.convertToBlob({ type: 'image/webp', quality: 0.8 });
  } catch {
    return null;
  }
}
