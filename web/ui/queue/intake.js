// Turns what the user gave into what the queue works on: the bytes of a URL
// (fetched by the browser itself) and the row's thumbnail.

import { fetchImage } from '../../client/pixelpress.js';
import { safeToDecode } from '../image-header.js';

export async function fetchInput(job, signal) {
  const { bytes, name, type } = await fetchImage(job.url, { signal });
  job.input = new Blob([bytes], { type: type.split(';')[0] || '' });
  job.name = name || job.name;
  job.inputBytes = bytes.byteLength;
}

const THUMB_WIDTH = 96;

// The row's thumbnail; null when neither the browser nor the engine can (or must) decode the input.
export async function thumbnail(blob, client) {
  // A 60 MP bomb would stall the page here long before the engine refuses it.
  if (!(await safeToDecode(blob).catch(() => false))) return null;
  try {
    const bmp = await createImageBitmap(blob, { resizeWidth: THUMB_WIDTH, resizeQuality: 'medium' });
    const c = new OffscreenCanvas(bmp.width, bmp.height);
    c.getContext('2d').drawImage(bmp, 0, 0);
    bmp.close();
    return await c.convertToBlob({ type: 'image/webp', quality: 0.8 });
  } catch {
    // Formats the browser does not decode (TIFF): the engine makes it, as it does the preview.
    if (!client) return null;
    try {
      return (await client.run('convert', blob, { format: 'png', max_width: THUMB_WIDTH, compress_level: 1 })).blob;
    } catch {
      return null;
    }
  }
}
