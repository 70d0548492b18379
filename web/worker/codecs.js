// The browser's own image codecs, offered to the engine (pixelpress.bridge.JsCodecs).
// They only move pixels: the engine decides when their result meets its
// contract (py/pixelpress/browser.py) and does everything else itself. Each
// function returns a promise the engine's coroutine awaits on Pyodide's event
// loop (no stack switching); its arguments are proxies of Python buffers, read
// (or, for the decoded pixels, written) in place. Each uses only the APIs it
// needs, so a browser without one (Safari has no ImageDecoder) loses only
// that step, which Pillow then does.

const decodes = typeof ImageDecoder === 'function';
const draws = typeof OffscreenCanvas === 'function' && typeof createImageBitmap === 'function'
  && typeof OffscreenCanvas.prototype.convertToBlob === 'function';

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

// A JPEG's pixels as stored (EXIF orientation and ICC profile are the engine's; it hands the file over
// without its EXIF) into `pixels`, width x height RGBX. Resolves false when the browser sees another size
// or gives a frame layout this does not convert (the engine then decodes with Pillow). Without ImageDecoder
// (Safari, WebKit) a bitmap drawn unconverted is read back; the engine probes first either way that the
// pixels are libjpeg-turbo's (py/pixelpress/browser_probes.py).
async function decodeJpeg(data, width, height, pixels) {
  if (!decodes) return draws && decodeJpegBitmap(data, width, height, pixels);
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
      // Python awaits this very promise and the worker runs one request at a time, so nothing
      // grows the wasm heap while this view is held.
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

// A Python buffer of JPEG bytes as a Blob, which copies them, so the buffer is let go at once.
function jpegBlob(data) {
  const src = data.getBuffer('u8');
  try {
    return new Blob([src.data], { type: 'image/jpeg' });
  } finally {
    src.release();
  }
}

async function decodeJpegBitmap(data, width, height, pixels) {
  const bitmap = await createImageBitmap(jpegBlob(data), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  try {
    if (bitmap.width !== width || bitmap.height !== height) return false;
    const context = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
    context.drawImage(bitmap, 0, 0);
    const image = context.getImageData(0, 0, width, height);
    // Python awaits this very promise: nothing grows the wasm heap while this view is held.
    const dest = pixels.getBuffer('u8');
    try {
      dest.data.set(image.data);
    } finally {
      dest.release();
    }
    return true;
  } finally {
    bitmap.close();
  }
}

// Opaque pixels as `mime` at `quality` (0-1) through a canvas. `layout` 'RGBX': the 4th
// byte is ignored and made opaque, so the canvas never premultiplies.
async function encode(pixels, width, height, layout, mime, quality) {
  if (!draws) return null;
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
// engine changes no pixel, or only their colours to sRGB. The bitmap decode gives libjpeg-turbo's pixels,
// as decodeJpeg does. `colour`:
// - 'untagged': nothing to apply; the bitmap is handed over whole (bitmaprenderer), the fastest path
//   (150 ms for 12 MP, against 190 with 'none' and 220 drawn);
// - 'none': the embedded (sRGB) profile is not applied: pixels as stored, handed over whole;
// - 'srgb': the browser applies the profile, drawing into the canvas's sRGB (a handed-over bitmap keeps
//   its own colour space and is written unconverted). The engine probes first that the browser converts
//   the profile as the engine would.
// Resolves null when the browser sees another size or cannot write `mime`: the engine then does the work.
async function transcode(data, width, height, mime, quality, colour) {
  if (!draws) return null;
  const bitmap = await createImageBitmap(jpegBlob(data), colour === 'none' ? { colorSpaceConversion: 'none' } : {});
  if (bitmap.width !== width || bitmap.height !== height) {
    bitmap.close();
    return null;
  }
  const canvas = new OffscreenCanvas(width, height);
  const handOver = colour !== 'srgb' && canvas.getContext('bitmaprenderer');
  if (handOver) {
    handOver.transferFromImageBitmap(bitmap); // no copy
  } else {
    canvas.getContext('2d').drawImage(bitmap, 0, 0);
    bitmap.close();
  }
  const out = await canvas.convertToBlob({ type: mime, quality });
  return out.type === mime ? new Uint8Array(await out.arrayBuffer()) : null;
}

// ---------------------------------------------------------------------------- wasm codecs
// The codecs compiled to wasm from npm (vendor/avif/, vendor/webp/), shared by one pattern:
// - compiled once per worker, streamed, so the browser may cache the code, on first use;
// - a failed load (offline before the file was cached, no wasm SIMD) is not remembered, so the next
//   picture tries again, and rejects as EncoderUnavailable, which the engine tells apart from the
//   codec failing on a picture (py/pixelpress/provider.py);
// - one instance is kept between pictures while its heap is under KEPT_HEAP: a heap only grows, so
//   a big picture's instance is let go after it, as is one that failed (an abort leaves it unusable).
//   A fresh instance per picture instead left garbage heaps the collector took its time over:
//   Chromium's memory swung by 600 MB over 40 cut-outs, where a kept one held it flat.

const ENCODER_UNAVAILABLE = 'EncoderUnavailable'; // read by name in py/pixelpress/provider.py
const KEPT_HEAP = 256 << 20;

function wasmCodec(dir, name) {
  let code = null;
  let kept = null;
  const compile = () => (code ??= Promise.all([
    import(new URL(`../vendor/${dir}/${name}.js`, import.meta.url).href),
    WebAssembly.compileStreaming(fetch(new URL(`../vendor/${dir}/${name}.wasm`, import.meta.url))),
  ]).catch((e) => {
    code = null;
    const what = name.includes('_dec') ? 'decoder' : 'encoder';
    const error = new Error(`the ${dir.toUpperCase()} ${what} could not be loaded: ${e?.message ?? e}`);
    error.name = ENCODER_UNAVAILABLE;
    throw error;
  }));
  const instantiate = async () => {
    const [glue, wasm] = await compile();
    return new Promise((resolve, reject) => {
      glue.default({ noInitialRun: true, instantiateWasm(imports, receive) {
        WebAssembly.instantiate(wasm, imports).then(receive, reject);
        return {};
      } }).then(resolve, reject);
    });
  };
  // Resolves with what `encode(module, pixels)` returns, `pixels` read in place from Python's buffer.
  return async (pixels, encode) => {
    kept ??= instantiate();
    let keep = false;
    try {
      const module = await kept;
      const src = pixels.getBuffer('u8');
      try {
        const out = encode(module, src.data);
        keep = module.HEAPU8.length <= KEPT_HEAP;
        return out;
      } finally {
        src.release();
      }
    } finally {
      if (!keep) kept = null;
    }
  };
}

// ---------------------------------------------------------------------------- AVIF
// Pyodide's Pillow has no AVIF, so these are the worker's only AVIF codecs: the browser's decoder (or
// libavif + dav1d compiled to wasm where it has none), and libavif + libaom compiled to wasm for encoding
// (npm @jsquash/avif, self-hosted under vendor/avif/).

const avifDecodes = typeof ImageDecoder === 'function'
  ? ImageDecoder.isTypeSupported('image/avif').catch(() => false) : Promise.resolve(false);

// The EXIF orientation of a frame's rotation (clockwise) followed by its horizontal flip:
// what the file's irot and imir say, which the engine applies as it does a JPEG's.
const ORIENTATION = { '0': 1, '90': 6, '180': 3, '270': 8, '0f': 2, '90f': 5, '180f': 4, '270f': 7 };

// Luma weights of the matrices AVIF files use (BT.601 is libavif's default).
const KR_KB = { smpte170m: [0.299, 0.114], bt470bg: [0.299, 0.114], bt709: [0.2126, 0.0722] };

// A planar 8-bit frame as straight RGBA into `out`, as libavif converts it natively (Pillow's decode):
// chroma upsampled bilinearly (9:3:3:1, edges repeated), then the frame's matrix and range.
// Measured at most 1 level from native Pillow on every sample; the browser's own conversion
// (nearest-neighbour chroma) was up to 43 levels off at edges.
function avifPlanarToRgba(frame, planes, layout, width, height, out) {
  const [kr, kb] = KR_KB[frame.colorSpace.matrix];
  const kg = 1 - kr - kb;
  const full = frame.colorSpace.fullRange !== false;
  const [yScale, yOff, cScale] = full ? [1, 0, 1] : [255 / 219, 16, 255 / 224];
  const rv = 2 * (1 - kr) * cScale;
  const bu = 2 * (1 - kb) * cScale;
  const gv = (2 * (1 - kr) * kr / kg) * cScale;
  const gu = (2 * (1 - kb) * kb / kg) * cScale;
  const [ly, lu, lv] = layout;
  const sx = frame.format === 'I444' ? 0 : 1;
  const sy = frame.format === 'I420' ? 1 : 0;
  const cw = (width + sx) >> sx;
  const ch = (height + sy) >> sy;
  const chroma = (plane, l, x, y) => {
    const i = x >> sx;
    const j = y >> sy;
    const at = (jj, ii) => plane[l.offset + jj * l.stride + ii];
    if (!sx && !sy) return at(j, i);
    const i2 = sx ? (x & 1 ? Math.min(i + 1, cw - 1) : Math.max(i - 1, 0)) : i;
    const j2 = sy ? (y & 1 ? Math.min(j + 1, ch - 1) : Math.max(j - 1, 0)) : j;
    if (!sy) return (3 * at(j, i) + at(j, i2) + 2) >> 2;
    return (9 * at(j, i) + 3 * at(j, i2) + 3 * at(j2, i) + at(j2, i2) + 8) >> 4;
  };
  const clamp8 = (v) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const yy = (planes[ly.offset + y * ly.stride + x] - yOff) * yScale;
      const u = chroma(planes, lu, x, y) - 128;
      const v = chroma(planes, lv, x, y) - 128;
      const o = (y * width + x) * 4;
      out[o] = clamp8(yy + rv * v);
      out[o + 1] = clamp8(yy - gv * v - gu * u);
      out[o + 2] = clamp8(yy + bu * u);
      out[o + 3] = 255;
    }
  }
}

const AVIF_PLANAR = new Set(['I420', 'I422', 'I444']);

const avifDecoder = wasmCodec('avif', 'avif_dec');

// The first frame of an AVIF as stored: {width, height, orientation, frames, pixels (straight RGBA)}.
// The browser's decoder where it has one for AVIF, else libavif in wasm (Safari has no ImageDecoder),
// which says nothing of the frame's turn or the frame count: 0 there, read by the engine from the boxes.
// Rejects when the file cannot be decoded (or, as EncoderUnavailable, when no decoder can be loaded).
async function decodeAvif(data) {
  if (await avifDecodes) return decodeAvifWebCodecs(data);
  const decode = () => avifDecoder(data, (module, bytes) => {
    const image = module.decode(bytes, 8);
    if (!image) throw new Error('libavif could not decode the file');
    return { width: image.width, height: image.height, orientation: 0, frames: 0,
      pixels: new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength) };
  });
  try {
    return await decode();
  } catch (e) {
    // A trap was seen once in WebKit on a file that decodes on its own: the trapped instance is let go, and
    // one fresh instance gets the file again; a file that traps that one too is the decoder's verdict.
    if (e instanceof WebAssembly.RuntimeError) return decode();
    throw e;
  }
}

async function decodeAvifWebCodecs(data) {
  const src = data.getBuffer('u8');
  let decoder;
  try {
    decoder = new ImageDecoder({ data: src.data, type: 'image/avif', colorSpaceConversion: 'none',
      premultiplyAlpha: 'none' });
  } finally {
    src.release();
  }
  try {
    await decoder.tracks.ready;
    const frames = decoder.tracks.selectedTrack?.frameCount ?? 1;
    const { image } = await decoder.decode({ frameIndex: 0 });
    try {
      const { width, height } = image.visibleRect;
      const pixels = new Uint8Array(width * height * 4);
      if (AVIF_PLANAR.has(image.format) && KR_KB[image.colorSpace.matrix]) {
        const planes = new Uint8Array(image.allocationSize());
        const layout = await image.copyTo(planes);
        avifPlanarToRgba(image, planes, layout, width, height, pixels);
      } else {
        await image.copyTo(pixels, { format: 'RGBA', colorSpace: 'srgb' });
      }
      const orientation = ORIENTATION[`${image.rotation ?? 0}${image.flip ? 'f' : ''}`] ?? 1;
      return { width, height, orientation, frames, pixels };
    } finally {
      image.close();
    }
  } finally {
    decoder.close();
  }
}

const avifEncoder = wasmCodec('avif', 'avif_enc');

// Straight-alpha RGBA pixels as AVIF, set up as native Pillow's encoder is (py/pixelpress/browser.py):
// libavif's quality and speed, 4:2:0, one tile, alpha at the same quality, libavif's tuning.
async function encodeAvif(pixels, width, height, quality, speed) {
  return avifEncoder(pixels, (module, data) => module.encode(data, width, height, { quality, qualityAlpha: -1,
    speed, subsample: 1, tileRowsLog2: 0, tileColsLog2: 0, chromaDeltaQ: false, sharpness: 0, tune: 0,
    denoiseLevel: 0, enableSharpYUV: false, bitDepth: 8 }));
}

// ---------------------------------------------------------------------------- WebP with libwebp
// What a canvas cannot write as libwebp does: transparency (a canvas premultiplies it) and any effort
// but 3. libwebp compiled to wasm with SIMD (npm @jsquash/webp, self-hosted under vendor/webp/), set up
// as native Pillow's encoder is (WebPConfigInit's defaults, quality, method): its pictures decode to the
// same pixels as native Pillow's at every effort measured. A browser without wasm SIMD fails to
// compile it, and the engine then encodes with Pyodide's libwebp.

const webpEncoder = wasmCodec('webp', 'webp_enc_simd');

// Straight-alpha RGBA pixels as lossy WebP at `quality` (0-100) and `method` (0-6).
async function encodeWebp(pixels, width, height, quality, method) {
  return webpEncoder(pixels, (module, data) => {
    const out = module.encode(data, width, height, { ...WEBP_CONFIG, quality, method });
    if (!out) throw new Error('libwebp could not encode the picture');
    return out;
  });
}

// libwebp's WebPConfigInit defaults, which Pillow's WebP writer keeps for all but quality and method.
const WEBP_CONFIG = { target_size: 0, target_PSNR: 0, sns_strength: 50, filter_strength: 60,
  filter_sharpness: 0, filter_type: 1, partitions: 0, segments: 4, pass: 1, show_compressed: 0,
  preprocessing: 0, autofilter: 0, partition_limit: 0, alpha_compression: 1, alpha_filtering: 1,
  alpha_quality: 100, lossless: 0, exact: 0, image_hint: 0, emulate_jpeg_size: 0, thread_level: 0,
  low_memory: 0, near_lossless: 100, use_delta_palette: 0, use_sharp_yuv: 0 };

// ---------------------------------------------------------------------------- HEIC
// No Pillow in Pyodide reads HEIC (natively pi-heif does), so the worker decodes it: with the browser's
// own decoder where it has one (Safari), once a probe HEIC has come out as libheif decodes it, else with
// libheif + libde265 compiled to wasm (npm libheif-js, LGPL-3.0, self-hosted unchanged as
// vendor/heif/libheif.mjs, its wasm inside it), fetched with the first HEIC a worker opens. Both give the
// primary image upright (its irot/imir applied, as libheif does natively) and its colours as stored: the
// engine reads the EXIF and the ICC profile from the file's boxes itself.

// The libheif instance, kept between pictures while its heap is under KEPT_HEAP, as the other wasm codecs'
// are (a heap only grows: a 48 MP picture's is let go after it, as is one that failed).
let heif = null;
const loadHeif = () => (heif ??= import(new URL('../vendor/heif/libheif.mjs', import.meta.url).href)
  .then((glue) => glue.default())
  .catch((e) => {
    heif = null; // offline before the file was cached: the next HEIC tries again
    const error = new Error(`the HEIC decoder could not be loaded: ${e?.message ?? e}`);
    error.name = ENCODER_UNAVAILABLE;
    throw error;
  }));

async function decodeHeicWasm(bytes) {
  const libheif = await loadHeif();
  let keep = false;
  const decoder = new libheif.HeifDecoder();
  try {
    const images = decoder.decode(bytes);
    try {
      const primary = images.find((image) => image.is_primary()) ?? images[0];
      if (!primary) throw new Error('libheif found no image in the file');
      const width = primary.get_width();
      const height = primary.get_height();
      const pixels = new Uint8ClampedArray(width * height * 4);
      const done = await new Promise((resolve) => { primary.display({ data: pixels, width, height }, resolve); });
      if (!done) throw new Error('libheif could not decode the image');
      keep = libheif.HEAPU8.length <= KEPT_HEAP;
      return { width, height, pixels: new Uint8Array(pixels.buffer), alpha: primary.has_alpha_channel(),
        by: 'libheif' };
    } finally {
      for (const image of images) image.free();
    }
  } finally {
    if (decoder.decoder) libheif.heif_context_free(decoder.decoder);
    if (!keep) heif = null;
  }
}

// A HEIC drawn by the browser, colours as stored (no colour management) and alpha straight.
async function decodeHeicBitmap(bytes) {
  const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/heic' }),
    { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  try {
    const { width, height } = bitmap;
    const context = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
    context.drawImage(bitmap, 0, 0);
    const pixels = new Uint8Array(context.getImageData(0, 0, width, height).data.buffer);
    let alpha = false;
    for (let i = 3; i < pixels.length && !alpha; i += 4) alpha = pixels[i] !== 255;
    return { width, height, pixels, alpha, by: 'browser' };
  } finally {
    bitmap.close();
  }
}

// The probe: a 29x100 HEIC (pi-heif's test image RGB_8__29x100.heif with a Display P3 profile added for its
// primary image, 3.9 kB; tests/test_heic_probe.py checks it) and the mean colour of each band of 10 rows as
// libheif decodes it, colours as stored. A browser decoder whose picture has another size, or whose colours
// are further than HEIC_PROBE_TOLERANCE off in any band (another matrix, range or upsampling; or the profile
// applied despite colorSpaceConversion 'none', which the engine would then apply again: up to 32 levels
// here), is not used: libheif is.
const HEIC_PROBE_TOLERANCE = 3;
let heicProbed = null;
const browserDecodesHeic = () => (heicProbed ??= (async () => {
  if (!draws) return false;
  try {
    const got = await decodeHeicBitmap(Uint8Array.from(atob(HEIC_PROBE), (c) => c.charCodeAt(0)));
    return got.width === 29 && got.height === 100 && heicBands(got).every((band, i) =>
      band.every((v, c) => Math.abs(v - HEIC_PROBE_BANDS[i][c]) <= HEIC_PROBE_TOLERANCE));
  } catch {
    return false; // no HEIC decoder in this browser (all but Safari)
  }
})());

// The mean R, G, B of each band of 10 rows.
function heicBands({ width, height, pixels }) {
  const bands = [];
  for (let y0 = 0; y0 < height; y0 += 10) {
    const sum = [0, 0, 0];
    let n = 0;
    for (let y = y0; y < Math.min(height, y0 + 10); y++) {
      for (let x = 0; x < width; x++, n++) for (let c = 0; c < 3; c++) sum[c] += pixels[(y * width + x) * 4 + c];
    }
    bands.push(sum.map((v) => Math.round(v / n)));
  }
  return bands;
}

// The primary image of a HEIC as {width, height, pixels (straight RGBA), alpha, by: 'browser' | 'libheif'}.
// Rejects when the file cannot be decoded, or, as EncoderUnavailable, when libheif cannot be loaded.
async function decodeHeic(data) {
  const src = data.getBuffer('u8');
  let bytes;
  try {
    bytes = src.data.slice(); // a copy: the decoders outlive this call's hold on Python's buffer
  } finally {
    src.release();
  }
  if (await browserDecodesHeic()) {
    try {
      return await decodeHeicBitmap(bytes);
    } catch { /* a file the browser's decoder refuses: libheif has its say */ }
  }
  return decodeHeicWasm(bytes);
}

export const codecs = { decodeJpeg, encode, transcode, decodeAvif, encodeAvif, encodeWebp, decodeHeic };

// The probe HEIC (see browserDecodesHeic) and the mean colour of each band of 10 rows as libheif decodes it.
const HEIC_PROBE_BANDS = [[12, 128, 243], [38, 128, 217], [63, 128, 192], [89, 127, 166], [115, 127, 140],
  [140, 127, 115], [166, 127, 89], [191, 128, 63], [217, 127, 38], [243, 127, 12]];
const HEIC_PROBE = 'AAAAGGZ0eXBoZWljAAAAAG1pZjFoZWljAAADf21ldGEAAAAAAAAAIWhkbHIAAAAAAAAAAHBpY3QAAAAAAAAAAAAAAAAAAAAADnBpdG0AAAAA'
  + 'AAIAAAAQaWRhdAAAAAAAHQBkAAAAOGlsb2MBAAAAREAAAgABAAAAAAAAA58AAQAAAAAAAAvJAAIAAQAAAAAAAAABAAAAAAAAAAgAAAA4aWlu'
  + 'ZgAAAAAAAgAAABVpbmZlAgAAAQABAABodmMxAAAAABVpbmZlAgAAAAACAABncmlkAAAAAqppcHJwAAACh2lwY28AAAB3aHZjQwEDcAAAAAAA'
  + 'AAAAAP/wAPz9+PgAAA8DIAABABhAAQwB//8DcAAAAwCQAAADAAADAP+6AkAhAAEAK0IBAQNwAAADAJAAAAMAAAMA/6AggafeW6q6a5uBAQMC'
  + 'AAADAAIAAAMAAhAiAAEABkQBwXGLEgAAABRpc3BlAAAAAAAAAEAAAABkAAAAFGlzcGUAAAAAAAAAHQAAAGQAAAAQcGl4aQAAAAADCAgIAAAB'
  + '0GNvbHJwcm9mAAABxGxjbXMEMAAAbW50clJHQiBYWVogAAAAAAAAAAAAAAAAYWNzcAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAPbW'
  + 'AAEAAAAA0y0AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAIZGVzYwAAAOQAAAAwd3RwdAAAARQA'
  + 'AAAUclhZWgAAASgAAAAUZ1hZWgAAATwAAAAUYlhZWgAAAVAAAAAUclRSQwAAAWQAAAAgZ1RSQwAAAYQAAAAgYlRSQwAAAaQAAAAgbWx1YwAA'
  + 'AAAAAAABAAAADGVuVVMAAAAUAAAAHABEAGkAcwBwAGwAYQB5ACAAUAAzWFlaIAAAAAAAAPbWAAEAAAAA0y1YWVogAAAAAAAAg98AAD2/////'
  + 'u1hZWiAAAAAAAABKvwAAsTcAAAq5WFlaIAAAAAAAACg4AAARCwAAyLlwYXJhAAAAAAADAAAAAmZmAADypwAADVkAABPQAAAKW3BhcmEAAAAA'
  + 'AAMAAAACZmYAAPKnAAANWQAAE9AAAApbcGFyYQAAAAAAAwAAAAJmZgAA8qcAAA1ZAAAT0AAAClsAAAAbaXBtYQAAAAAAAAACAAECgQIAAgMD'
  + 'hAUAAAAaaXJlZgAAAAAAAAAOZGltZwACAAEAAQAAC9FtZGF0AAALxSgBrwWzipebt2WZedoYHCTCF+o//+mu0vrNcdXhx88Hhyu6S6bgKT4D'
  + 'WabpQB/B9/LO1rWlGUURUGVHycAAGuwgAABAqH//9hK4AvbUJcX3Rzi6J2bqqg8UYsqg5XLKhmzbFPUvP/+SS///ZeMSWaGRYRUFzRDkvugM'
  + 'AD0AO4e8HQ9C0Gc5x+HYAAAo7VFT5eMXR0o4NJ5o6F1JAAG6TgAAWCU/tYr//36Nr3YZ05mXAs1V9t/mv3//nNOVwh8FN2llSRANoZSO/dAA'
  + 'Yu6bz9QZXinAHQhejXrgaXJAn//BW6p1Nvq66JaaNgeAKQudVJX82bNhEuHy/9gnGwKAB2bZcDWPz8LwCvj//9vhxCECVkJDIQAPGX//Gw2w'
  + 'kiSCBqgdRLIUAehGRESMJSjLWsdCLgBfAD9/t5ZVrWsIxiaGkWf6PB6ziQAABXV///LtwwfAU8dSReenjewvpgv/+XizHojQ/oQDmXKu4AAe'
  + 'ABrJ4XNsJSk1NUkZlgC3AIwpJKCZmkEomjZ+AlKSTAAAM5X//jn0A02D8Vv29jpJv4//8ulu+JditW4+LLvY3Uxpfei9d/ehpEAWC1kAAAMD'
  + 'HZ//TWqmNSQT+qASGPVaXD0HSh1OixF/CAABZBGMHlUZQAAABFf/8dS+N18OO6O4XXq6/9lbjf/PijoiroT///vif/8CPFYkQTghZKL7zzG6'
  + 'rMAaNszlciJShHcrWi1tXybTn4Ncz8Vbpnhz5/+PmqY7TJA4vjIR3tEKV/R2qwXnmWJoe55rzj3aLfyH5QTF1I7delHB8QwZTFD5Ur1R+0QH'
  + '+Bj1d2d6NflHAfKHoD1rWx8kdA7QMShAErjAAAH9D/+7f6SkojqkWqgiAAGDTMX9GUF1yopTAifi8hyDH7P4BCHwAARJ//59UA8/YVHaTqUF'
  + 'f4Qf7Adq/pU2xajGkbGCPaUAD///3+HbyoCwkKsJgAAAFN0CyEasW1uutOQRIB4QQ5RQBw84gLz//iYaR8Iu6Yd7RrU//oM6B9MwvQqYWGAh'
  + 'hpJxhxCpbWAleyb/9RAch9mi/rRzFK2qmylutTPoACMvqgAhojBEYx//woAUMxrh+f/5jnT2HEPBqxu+zdf9MJX3r0XOKvv0YV2k5mgAZmxi'
  + 'V+F/+WY5uifaNlRp+hh+sgAFaK1gD+CFJg3f/8wAAAMAAPj//NPILsb+iIrCIVGP/eTpE6nnSviliu6gAGl0AAKf4zEADse8Tg4XQAXpfoOz'
  + 'FaAAGIAAAldlIASOptoJ8QA3ggdkqAAE2oGZHAAAAwAFE/AAAAMA7jAAZwAhkuAAAAMBvmAAAAMAJmbgAAUkAACoIAGPZPA+lADeCB2scQAA'
  + 'QUAADmAAKgqgC+gANtnc7yGYEQxADhQAAAMAC2oAAAMAJiUAKV2AKOgAAAMAEmgAAAMCVisgbELXR4Yy6ljwAZrbnIBkH//fYVqXrJvW7a2G'
  + 'AAabYpFnGCsq/7aP7GEKDdaPOLzoxAE9Xn/8FPzsrSsss3aH+iVXACKdhLcs/hRqT+krf+ARkv/6rpZjGliL/Tl+QAMHXPf56xOj1tBarLUV'
  + 'hBKO4dycAB7//7JFa//0hyBgARhn/+fdz+lmzABwfRtnyoKQbGgx1pvUAPew/+EcxvNch5yp7izvJkdn/0gIr/6x+5AAAAMAp8VB5e/AAAAD'
  + 'AABvv/6Tst/apfpRg0iWL/7Hvl5u73S/lsj0DP+eQ4s7NVXSU2B/+9i/PQISOLCb80QMSgSA6VuiG7joAAA3Tx8YLIIAAAMAx//9c520ezbw'
  + 'qj/HZXv9bEgqPThFfptKf9QAAAMAADG4wAAAAwAF9cgAAAMAAuVoAAADAIbNlwAAAwAAaQAAAwAAEQAAAwAACNAAAAMAE4SEb/QAAA1RgkAA'
  + 'Ev75AAB1hYAACbwuaAAAN7BAAAO/QAAAdxAAABFYjIAAAAMAEQAAAwAAAwKTAAADAAImAAADAAvFAAADAAADAAADAAADAAADAAADAAADAAAD'
  + 'AALH6W/FAAHvkJgACwgMgAEDjQAAEl+mwAAU7bAABT6gAAI4sAADzkexzxQC3KqCYIAzyYlAANx//kVgnP69gUm1GuwACCNMisOmoFNgx+iQ'
  + 'EEQKrG5wAb4PUADwH/6t4+wHsk1nbhn1tG7YAEN/kEOO9GE6qSxr9AMp//jbiIHrsuqb0sDwABpPGa1VAdDV43PMskPBtgCLi6AAgDdACv//'
  + '5ys21rJLTj4mtDr/6OfQddKe6LPky4Wl+Jjf4NKVYQhSt59/wwo9lApURt0Fw7VDy6LyH22tYvuiAAMwKgADcqaiAAA0X/9VKC3SuWTwQq9A'
  + 'f/5r500ICLU26I9ZxlAI9M0WV7AP+sf/bMwSNhcPsj0mOFn6HcQfI8ApRwpwACGimAAAAwD///y88rKIs6oyGQjG//jgj/f2CXfIiXYuEwAA'
  + 'I183AAAS3MAAACHMW4AAPGh4BAAAXGiIAAJ/hQAAHLCEAADfnaxAABreyAABEsALUe37RAAAS3NAAAGaMB9iERDwAAFkDEAAJ3xgAAZ9EgAA'
  + 'feS6AAFD5gAAbI9AACiaoAAIIOhAACnDgAAKv0cGRHLzIAAWVNAABIclDBpwYY1DFvvIJFpLcpD6ngKHf/3n3laik8x2gKQgAmbO46hqb8uc'
  + 'JBrIAx7SD35EQVwAojX//TkoGkf8xcMTyTu+YQ3qa+noe0B0U9GMxayPYf/2bkK225WDyjQxAAzdu6fMnG1zrQ808Tw7wgg0O/gdCP/9Z4pv'
  + 'cyVdSzHWMP/16pttHULaltWKIv1NWl9M13uu8iVC9f3/wOfhDSAeJr3kxkAwTkQ0MUFR////wwAAAwAX5HJx//4AAAMAABTP/7wcfb5usnv0'
  + '4IcU/98/FGcySmXRYiFWqFCRBjJzgAH3v/9qwi2NaaxUUo7ZyZyWQABGtBm//4AAAAMAChPQ9ZcN9gAAKr//fz3iKGrIj/Ph0/H/rWKiV+TX'
  + 'wP8w/8MAAAMAABUeRAAAAwACQOgAAAMAAdlkAAADAH6IBoAAAAMArpAAAAMAL7AAAAMAFOAAAAMAOaJgAAADAAADAAADAAAv4L+0AACcFjyA'
  + 'AhNAAAADAAADAAADAAADAP7xwwAA39lwAAZ+AAADAAADAAADAAADAAADAAADAAADAAADAAADAd6AAAADAAADAAADAAADAAADAAADAAADAAAk'
  + 'QAAAAwAAAwAAAwAKT5X9IAAf2K/IABkAAAMAAAMAAAMAAAMAN7NrcAAynuwABFx435m+mEm3H3bLmAAVJL1AGV//xrglGCgYBW9BEQAB137a'
  + 'zdbn2ggHX26PJZwGtkRuYsSEAOo//vt1NP1w4rX9FPiUWRDVjnx0K/1zgCiItS+tGFv/43UvRJq0xPP31UANl79M09ob2SWPuCOBmX4UJuxG'
  + 'cQYAA7n/95Z1TjBm92qClFN/+PwWj+qvFhHzug0vpQ7sGAF59oAodvyF8oIctS1ulKkvu14dj2NbDrEKJ869IAAAGJ3JWTNlu+AABNf/8DM3'
  + 'kJ9mQGA9XP4v9IHZrGAgdt3OntpeY0Jvt36NKc//0+tWKhxZL6wfogKRHjqgFKD+Qmq2KXAALRdCQBdW8SAABhv/7BVphFprEmqBk7Ff7RsW'
  + 'a38x85se7/zgAAADALkfIgAAAwAkPxgAACp7UAABi0yqAAADAAAtCcAAAAMBpxCAAATo8AABkGjhQAABrAQAACTQAAADAsTIAAJrd7gAAB9+'
  + 'AAAEDYAAAKjAAABfIiwAAAMABsGgAAADA9eoAAD/igAAmbuSAAADACcRAAADACtDQAALKYAAE3B/49j9oDt1SqpVPAEuvqO7+NYwSC2H/+sh'
  + 'mZmgqpFq4AFNczc42CJV9OxHRAFlxAB0Hoe+6/6kaH//Dp68vssLuADQVp8UjeFygTSGYT1KwEhQ8Hs5GYWNAf/3RBCM/jpJQU+mjzVf/zsV'
  + 'rqIwwAAAB0KF2hoz/+Q9mZmi/8qNIAGv+ZmZuLsx0ARgAAADACuHsgAAAwBnQlAAABHxCAAAQnw=';
