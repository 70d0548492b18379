// Which of the engine's formats a file is, by its first bytes: the engine's own magic-byte tests
// (py/pixelpress/formats/, written at build into engine-facts.js), so no page module restates them.

import FACTS from './engine-facts.js';

const hex = (s) => Uint8Array.from(s.match(/../g), (b) => parseInt(b, 16));
const MAGIC = FACTS.formats.map((f) => ({
  name: f.name,
  readable: f.readable,
  brands: f.magic.ftyp_brands ?? null,
  any: (f.magic.any ?? []).map((alt) => alt.map(({ offset, hex: h }) => ({ offset, bytes: hex(h) }))),
}));

/** How many first bytes of a file `sniffFormat` reads. */
export const SNIFF_BYTES = FACTS.sniff_bytes;

const ascii = (b, at, n) => String.fromCharCode(...b.subarray(at, at + n));

// The major and compatible brands of an ISO BMFF `ftyp` box at the start of `head`.
function ftypBrands(head) {
  if (head.length < 16 || ascii(head, 4, 4) !== 'ftyp') return [];
  const end = Math.min(head.length, new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(0));
  const brands = [ascii(head, 8, 4)];
  for (let i = 16; i + 4 <= end; i += 4) brands.push(ascii(head, i, 4));
  return brands;
}

/**
 * The engine's name of the format of a file starting with `head` ('jpeg', 'heic', ...), tried in the
 * engine's order, or null for none of the formats the engine reads.
 * @param {Uint8Array} head the file's first bytes (SNIFF_BYTES are enough)
 * @returns {string | null}
 */
export function sniffFormat(head) {
  const brands = ftypBrands(head);
  for (const f of MAGIC) {
    if (!f.readable) continue;
    if (f.brands) {
      if (brands.some((b) => f.brands.includes(b))) return f.name;
    } else if (f.any.some((alt) => alt.every(({ offset, bytes }) => bytes.every((v, k) => head[offset + k] === v)))) {
      return f.name;
    }
  }
  return null;
}
