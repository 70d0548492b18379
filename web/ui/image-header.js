// What a file is and how many pixels it claims, read from its header without decoding, so the page never
// hands the browser a 100-megapixel bomb to decode for a thumbnail or a preview. The formats and the cap
// are the engine's (client/engine-facts.js, written at build from py/pixelpress/formats/); a size reader
// for each format the engine reads follows, each as the engine's own reader in that format's module.
// No DOM: it runs in a page, a worker and under Node (tests/test_image_header.py).

import FACTS from '../client/engine-facts.js';
import { sniffFormat, SNIFF_BYTES } from '../client/sniff.js';

export { sniffFormat };

const ascii = (b, at, n) => String.fromCharCode(...b.subarray(at, at + n));

// ---------------------------------------------------------------------------- size readers
// Each gets `read(offset, length)` (a promise of at most that many bytes of the file) and the file's first
// HEAD bytes, and gives [width, height] as the header claims it, or null when it cannot tell.

const HEAD = 256 * 1024; // a JPEG's EXIF and ICC segments come before its frame header

const view = (b) => new DataView(b.buffer, b.byteOffset, b.byteLength);

function pngSize(b) {
  return b.length >= 24 && ascii(b, 12, 4) === 'IHDR' ? [view(b).getUint32(16), view(b).getUint32(20)] : null;
}

// The logical screen, grown to the first frame's extent as Pillow grows it (py/pixelpress/formats/gif.py).
function gifSize(b) {
  if (b.length < 13) return null;
  const dv = view(b);
  const [w, h, flags] = [dv.getUint16(6, true), dv.getUint16(8, true), b[10]];
  let i = 13 + (flags & 0x80 ? 3 << ((flags & 7) + 1) : 0);
  while (i < b.length) {
    const block = b[i];
    if (block === 0x21) { // an extension: a label, then sub-blocks up to an empty one
      i += 2;
      while (i < b.length && b[i]) i += b[i] + 1;
      i += 1;
    } else if (block === 0x2c) { // the first image descriptor
      if (i + 9 > b.length) return null;
      const [x, y, fw, fh] = [1, 3, 5, 7].map((k) => dv.getUint16(i + k, true));
      return [Math.max(w, x + fw), Math.max(h, y + fh)];
    } else if (block === 0x3b) {
      return null; // the trailer: no frame
    } else { // Pillow skips stray bytes up to the next block
      i += 1;
      while (i < b.length && ![0x21, 0x2c, 0x3b].includes(b[i])) i++;
    }
  }
  return null;
}

// BITMAPCOREHEADER (12 bytes, OS/2) has 16-bit sides; the later headers 32-bit ones, a negative height
// being a top-down picture (py/pixelpress/formats/bmp.py).
function bmpSize(b) {
  if (b.length < 26) return null;
  const dv = view(b);
  const header = dv.getUint32(14, true);
  if (header === 12) return [dv.getUint16(18, true), dv.getUint16(20, true)];
  if (![40, 52, 56, 64, 108, 124].includes(header)) return null;
  return [dv.getUint32(18, true), b[25] === 0xff ? 2 ** 32 - dv.getUint32(22, true) : dv.getUint32(22, true)];
}

function webpSize(b) {
  if (b.length < 30) return null;
  const dv = view(b);
  const u24 = (i) => b[i] | b[i + 1] << 8 | b[i + 2] << 16;
  const chunk = ascii(b, 12, 4);
  if (chunk === 'VP8X') return [1 + u24(24), 1 + u24(27)];
  if (chunk === 'VP8L' && b[20] === 0x2f) {
    const v = dv.getUint32(21, true);
    return [(v & 0x3fff) + 1, ((v >>> 14) & 0x3fff) + 1];
  }
  if (chunk === 'VP8 ' && b[23] === 0x9d && b[24] === 0x01 && b[25] === 0x2a) {
    return [dv.getUint16(26, true) & 0x3fff, dv.getUint16(28, true) & 0x3fff];
  }
  return null;
}

// The last frame header (SOFn) before the scan, walking the markers as Pillow does
// (py/pixelpress/formats/jpeg.py).
const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf, 0xde]);
function jpegSize(b) {
  const dv = view(b);
  let size = null;
  let i = 2;
  while (i + 1 < b.length) {
    if (b[i] !== 0xff) { // junk between segments, which Pillow skips
      i = b.indexOf(0xff, i);
      if (i < 0) break;
      continue;
    }
    const m = b[i + 1];
    if (m === 0xff) i += 1; // fill byte
    else if (m === 0x00) i += 2;
    else if (m < 0xc0) return null; // Pillow: "no marker found"
    else if (m === 0xc8 || (m >= 0xd0 && m <= 0xd9) || (m >= 0xf0 && m <= 0xfd)) i += 2; // no length
    else if (m === 0xda) break; // start of scan: the header is over
    else {
      if (SOF.has(m) && i + 9 <= b.length) size = [dv.getUint16(i + 7), dv.getUint16(i + 5)];
      if (i + 4 > b.length) return null; // cut short (the whole header is read: HEAD bytes)
      i += 2 + dv.getUint16(i + 2);
    }
  }
  return size;
}

// The first IFD's ImageWidth (256) and ImageLength (257), SHORT or LONG; the IFD may be anywhere.
async function tiffSize(b, read) {
  const le = b[0] === 0x49;
  const at = view(b).getUint32(4, le);
  const count = view(await read(at, 2)).getUint16(0, le);
  const entries = await read(at + 2, 12 * Math.min(count, 4096));
  const dv = view(entries);
  let width = null;
  let height = null;
  for (let i = 0; i + 12 <= entries.length; i += 12) {
    const tag = dv.getUint16(i, le);
    const type = dv.getUint16(i + 2, le);
    if (tag !== 256 && tag !== 257) continue;
    const value = type === 3 ? dv.getUint16(i + 8, le) : type === 4 ? dv.getUint32(i + 8, le) : null;
    if (tag === 256) width = value;
    else height = value;
  }
  return width === null || height === null ? null : [width, height];
}

// ISO BMFF boxes of b[start:end]: [type, payload start, payload end], stopping at one that runs past.
function* boxes(b, start, end) {
  const dv = view(b);
  let i = start;
  for (let n = 0; i + 8 <= end && n < 10_000; n++) {
    let size = dv.getUint32(i);
    let head = 8;
    if (size === 1) {
      if (i + 16 > end) return;
      size = Number(dv.getBigUint64(i + 8));
      head = 16;
    } else if (size === 0) size = end - i;
    if (size < head || i + size > end) return;
    yield [ascii(b, i + 4, 4), i + head, i + size];
    i += size;
  }
}
const child = (b, start, end, kind) => {
  for (const [k, s, e] of boxes(b, start, end)) if (k === kind) return [s, e];
  return null;
};

// The top-level `meta` box, found by walking the box headers wherever it is in the file (an `mdat`
// may come first), read whole (at most 4 MB).
async function metaBox(read) {
  let at = 0;
  for (let n = 0; n < 1000; n++) {
    const h = await read(at, 16);
    if (h.length < 8) return null;
    const dv = view(h);
    let size = dv.getUint32(0);
    if (size === 1 && h.length >= 16) size = Number(dv.getBigUint64(8));
    if (size < 8) return null;
    if (ascii(h, 4, 4) === 'meta') {
      if (size > 4 << 20) return null;
      return read(at, size);
    }
    at += size;
  }
  return null;
}

// The sizes of `ispe` properties: every one (AVIF: the engine takes the largest a file claims, a grid's
// canvas, its tiles, the alpha plane), or the primary item's only (HEIC: the image libheif decodes).
async function ispeSize(read, primaryOnly) {
  const meta = await metaBox(read);
  if (!meta || meta.length < 12) return null;
  const dv = view(meta);
  const [ms, me] = [12, meta.length]; // after the box header and its version and flags
  const iprp = child(meta, ms, me, 'iprp');
  const ipco = iprp && child(meta, ...iprp, 'ipco');
  if (!ipco) return null;
  const props = [...boxes(meta, ...ipco)];
  let wanted = null;
  if (primaryOnly) {
    const pitm = child(meta, ms, me, 'pitm');
    const ipma = child(meta, ...iprp, 'ipma');
    if (!pitm || !ipma) return null;
    const item = meta[pitm[0]] === 0 ? dv.getUint16(pitm[0] + 4) : dv.getUint32(pitm[0] + 4);
    wanted = associations(meta, ipma, item);
  }
  const sizes = props.map(([kind, s, e], k) => (kind === 'ispe' && e - s >= 12 && (!wanted || wanted.has(k + 1))
    ? [dv.getUint32(s + 4), dv.getUint32(s + 8)] : null)).filter(Boolean);
  if (!sizes.length) return null;
  return [Math.max(...sizes.map(([w]) => w)), Math.max(...sizes.map(([, h]) => h))];
}

// The 1-based `ipco` indices of an item's properties in an `ipma` box.
function associations(b, [start, end], item) {
  const dv = view(b);
  const version = b[start];
  const wide = b[start + 3] & 1;
  const idSize = version < 1 ? 2 : 4;
  let i = start + 8;
  for (let n = 0, count = dv.getUint32(start + 4); n < Math.min(count, 10_000) && i < end; n++) {
    const id = idSize === 2 ? dv.getUint16(i) : dv.getUint32(i);
    const k = b[i + idSize];
    i += idSize + 1;
    if (id === item) {
      const out = new Set();
      for (let j = 0; j < k; j++) out.add(wide ? dv.getUint16(i + 2 * j) & 0x7fff : b[i + j] & 0x7f);
      return out;
    }
    i += k * (wide ? 2 : 1);
  }
  return new Set();
}

const READERS = {
  jpeg: jpegSize, png: pngSize, gif: gifSize, bmp: bmpSize, webp: webpSize, tiff: tiffSize,
  avif: (b, read) => ispeSize(read, false),
  heic: (b, read) => ispeSize(read, true),
};

/** The formats the engine reads that this module has no size reader for (none: a test checks it). */
export const UNREAD = FACTS.formats.filter((f) => f.readable && !READERS[f.name]).map((f) => f.name);

/**
 * A file's format and the size its header claims, without decoding: {format, width, height}, with
 * width and height null when the header does not say (or is cut short); null for a format the engine
 * does not read.
 * @param {Blob} blob
 * @returns {Promise<{format: string, width: number | null, height: number | null} | null>}
 */
export async function readHeader(blob) {
  const read = async (offset, length) => new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
  const head = await read(0, HEAD);
  const format = sniffFormat(head.subarray(0, SNIFF_BYTES));
  if (!format) return null;
  let size = null;
  try {
    size = (await READERS[format]?.(head, read)) ?? null;
  } catch { /* cut short or garbled: the header does not say */ }
  return { format, width: size?.[0] ?? null, height: size?.[1] ?? null };
}

export const MAX_PIXELS = FACTS.max_pixels;

/**
 * Whether the browser may decode `blob` for the page: a format the engine reads, whose header gives a
 * size within the engine's pixel cap. An unknown size is not safe: the engine, which refuses what it
 * cannot size, decides instead.
 * @param {Blob} blob
 */
export async function safeToDecode(blob) {
  const h = await readHeader(blob);
  return Boolean(h && h.width !== null && h.width * h.height <= MAX_PIXELS);
}
