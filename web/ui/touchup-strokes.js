// Touch-up strokes belong to one photo: they are kept here per source Blob (the
// File the user dropped, or a row's input), in the source photo's pixels, so
// the preview scales them down to its proxy and a full-size job sends them as
// they are. Another photo, even with the same bytes, has none.
// The bounds are the engine's `hints` option (ui/schema.js): a stroke the
// engine would refuse is never made.

import { clamp } from './util.js';
import { engineOption } from './views/schema-fields.js';

const byPhoto = new WeakMap(); // Blob -> [{keep, points: [[x, y]...], radius}] in source pixels

function limits() {
  const hints = engineOption('car_listing', 'hints'); // throws if the engine's option is gone: a bug, found at load
  const field = (name) => hints.item.fields.find((f) => f.name === name);
  return {
    strokes: hints.max_items,
    points: field('points').max_items,
    radiusMin: field('radius').min,
    radiusMax: field('radius').max,
  };
}
export const LIMITS = Object.freeze(limits());

export const strokesOf = (photo) => (photo ? byPhoto.get(photo) ?? [] : []);

export function setStrokes(photo, strokes) {
  if (!photo) return;
  if (strokes.length) byPhoto.set(photo, strokes); else byPhoto.delete(photo);
}

// A photo staged again under another Blob (a restored row's input made a File) takes its strokes along.
export function copyStrokes(from, to) {
  if (from !== to && byPhoto.has(from)) byPhoto.set(to, byPhoto.get(from));
}

const round2 = (v) => Math.round(v * 100) / 100;

// A long drag has more points than the engine takes: every other one goes until it fits (the brush is wider
// than the gap left between the points that stay, see touchup.js's spacing).
export function thin(points, max = LIMITS.points) {
  let p = points;
  while (p.length > max) p = p.filter((_, i) => i % 2 === 0 || i === p.length - 1);
  return p;
}

// The engine's `hints` for an image of `width`x`height` that is `scale` times the source (1 = full size).
export function hintsFor(photo, { scale = 1, width = Infinity, height = Infinity } = {}) {
  return strokesOf(photo).slice(0, LIMITS.strokes).map((s) => ({
    keep: s.keep,
    points: thin(s.points).map(([x, y]) => [round2(clamp(x * scale, 0, width)), round2(clamp(y * scale, 0, height))]),
    radius: round2(clamp(s.radius * scale, LIMITS.radiusMin, LIMITS.radiusMax)),
  }));
}
