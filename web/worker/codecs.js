// The browser's own image codecs, offered to the engine (pixelpress.bridge.JsCodecs).
// They only move pixels: the engine decides when their result meets its
// contract (py/pixelpress/codec.py) and does everything else itself. Each
// function is awaited from Python through JSPI; its arguments are proxies of
// Python buffers, read (or, for the decoded pixels, written) in place.

const supported = typeof ImageDecoder === 'function' && typeof OffscreenCanvas === 'function';

// libjpeg-turbo's YCbCr to RGB (jdcolor.c): the decoder native Pillow links, so the
// pixels come out as they do natively, bit for bit where the planes agree.
const ONE_HALF = 1 << 15;
const fix = (x) => Math.trunc(x * 65536 + 0.5);
const CR_R = new Int32Array(256);
const CB_B = new Int32Array(256);
const CR_G = new Int32Array(256);
const CB_G = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  const x = i - 128;
  CR_R[i] = (fix(1.402) * x + ONE_HALF) >> 16;
  CB_B[i] = (fix(1.772) * x + ONE_HALF) >> 16;
  CR_G[i] = -fix(0.71414) * x;
  CB_G[i] = -fix(0.34414) * x + ONE_HALF;
}
const clamp = (v) => (v < 0 ? 0 : v > 255 ? 255 : v);
const rgbx = (y, cb, cr) => (clamp(y + CR_R[cr]) | clamp(y + ((CB_G[cb] + CR_G[cr]) >> 16)) << 8
  | clamp(y + CB_B[cb]) << 16 | 0xff000000) >>> 0;

// One output row's chroma as libjpeg-turbo's h2v2 "fancy" upsampling makes it (jdsample.c):
// a triangle filter, 3/4 the nearer sample and 1/4 the next, across and down.
function upsampleRow(plane, stride, cw, ch, y, colsum, out, width) {
  const r = y >> 1;
  const near = r * stride;
  const far = (y & 1 ? Math.min(r + 1, ch - 1) : Math.max(r - 1, 0)) * stride;
  for (let i = 0; i < cw; i++) colsum[i] = plane[near + i] * 3 + plane[far + i];
  for (let x = 0; x < width; x++) {
    const i = x >> 1;
    if (x & 1) out[x] = i === cw - 1 ? (colsum[i] * 4 + 7) >> 4 : (colsum[i] * 3 + colsum[i + 1] + 7) >> 4;
    else out[x] = i === 0 ? (colsum[0] * 4 + 8) >> 4 : (colsum[i] * 3 + colsum[i - 1] + 8) >> 4;
  }
}

// A planar frame (I420: 4:2:0, I444: 4:4:4) as RGBX into `dest` (a Uint32Array view).
function planarToRgbx(frame, planes, layout, width, height, dest) {
  const [ly, lu, lv] = layout;
  const Y = planes.subarray(ly.offset);
  const U = planes.subarray(lu.offset);
  const V = planes.subarray(lv.offset);
  if (frame.format === 'I444') {
    for (let y = 0; y < height; y++) {
      const o = y * width;
      for (let x = 0; x < width; x++) {
        dest[o + x] = rgbx(Y[y * ly.stride + x], U[y * lu.stride + x], V[y * lv.stride + x]);
      }
    }
    return;
  }
  const cw = (width + 1) >> 1;
  const ch = (height + 1) >> 1;
  const colsum = new Int32Array(cw);
  const cb = new Uint8Array(width);
  const cr = new Uint8Array(width);
  for (let y = 0; y < height; y++) {
    upsampleRow(U, lu.stride, cw, ch, y, colsum, cb, width);
    upsampleRow(V, lv.stride, cw, ch, y, colsum, cr, width);
    const o = y * width;
    const row = y * ly.stride;
    for (let x = 0; x < width; x++) dest[o + x] = rgbx(Y[row + x], cb[x], cr[x]);
  }
}

const PLANAR = new Set(['I420', 'I444']);
const RGB = new Set(['RGBX', 'RGBA', 'BGRX', 'BGRA']);

// A JPEG's pixels as stored (EXIF orientation and ICC profile are the engine's) into `pixels`,
// width x height RGBX. Resolves false when the browser sees another size or gives a frame
// layout this does not convert (the engine then decodes with Pillow).
async function decodeJpeg(data, width, height, pixels) {
  if (!supported) return false;
  const src = data.getBuffer('u8');
  let decoder;
  try {
    // The constructor copies the bytes.
    decoder = new ImageDecoder({ data: src.data, type: 'image/jpeg', colorSpaceConversion: 'none' });
  } finally {
    src.release();
  }
  try {
    const { image } = await decoder.decode();
    try {
      // The visible rectangle: a 4:2:0 frame's coded size is rounded up to even.
      const { width: w, height: h } = image.visibleRect;
      if (w !== width || h !== height || !(PLANAR.has(image.format) || RGB.has(image.format))) return false;
      const planes = PLANAR.has(image.format) ? new Uint8Array(image.allocationSize()) : null;
      const layout = planes ? await image.copyTo(planes) : null;
      // Nothing runs Python while this awaits, so the wasm heap cannot move under the view.
      const dest = pixels.getBuffer('u8');
      try {
        if (!planes) await image.copyTo(dest.data, { format: 'RGBA', colorSpace: 'srgb' });
        else if (dest.data.byteOffset % 4 === 0) {
          const out = new Uint32Array(dest.data.buffer, dest.data.byteOffset, width * height);
          planarToRgbx(image, planes, layout, width, height, out);
        } else {
          const out = new Uint32Array(width * height);
          planarToRgbx(image, planes, layout, width, height, out);
          dest.data.set(new Uint8Array(out.buffer));
        }
      } finally {
        dest.release();
      }
      return true;
    } finally {
      image.close();
    }
  } finally {
    decoder.close();
  }
}

// Opaque pixels as `mime` at `quality` (0-1) through a canvas. `layout` 'RGBX': the 4th
// byte is ignored and made opaque, so the canvas never premultiplies.
async function encode(pixels, width, height, layout, mime, quality) {
  if (!supported) return null;
  const canvas = new OffscreenCanvas(width, height);
  const image = new ImageData(width, height);
  const src = pixels.getBuffer('u8');
  try {
    if (layout !== 'RGBX' || src.data.length !== width * height * 4) return null;
    image.data.set(src.data);
    const out = new Uint32Array(image.data.buffer);
    for (let i = 0; i < out.length; i++) out[i] |= 0xff000000;
  } finally {
    src.release();
  }
  canvas.getContext('2d').putImageData(image, 0, 0);
  const blob = await canvas.convertToBlob({ type: mime, quality });
  // A browser that cannot write `mime` gives PNG instead: the engine then encodes.
  return blob.type === mime ? new Uint8Array(await blob.arrayBuffer()) : null;
}

// A JPEG decoded and encoded as `mime` at `quality` in one go, as a page alone would, for when the
// engine changes no pixel: a bitmap drawn on a canvas. The bitmap decode gives libjpeg-turbo's pixels, as
// decodeJpeg does; the stored profile is ignored ('none'): the engine sends only untagged or sRGB files.
// Resolves null when the browser sees another size or cannot write `mime`: the engine then does the work.
async function transcode(data, width, height, mime, quality) {
  if (!supported) return null;
  const src = data.getBuffer('u8');
  let blob;
  try {
    blob = new Blob([src.data], { type: 'image/jpeg' }); // copies the bytes
  } finally {
    src.release();
  }
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none' });
  const canvas = new OffscreenCanvas(width, height);
  try {
    if (bitmap.width !== width || bitmap.height !== height) return null;
    canvas.getContext('2d').drawImage(bitmap, 0, 0);
  } finally {
    bitmap.close();
  }
  const out = await canvas.convertToBlob({ type: mime, quality });
  return out.type === mime ? new Uint8Array(await out.arrayBuffer()) : null;
}

export const codecs = supported ? { decodeJpeg, encode, transcode } : null;
