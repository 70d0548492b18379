// Before/after comparison: two stacked images, the "after" clipped at a
// divider the user drags (pointer) or moves with the arrow keys (a real
// range input underneath, so it is labelled and keyboard operable).
// A result framed differently from the original (a crop, a trim) would not
// line up under a divider, so such pairs are shown side by side instead:
// whenever the engine's meta says it cropped (framingChanged), and whenever
// the proportions differ, even if no meta says why.

import { h } from './util.js';

// Whether a result shows another part of its source than the whole, from the crop the engine reports:
// autocrop's `crop_origin` (the car listing nests it under `crop`) or logo clean-up's `crop_box` [x0, y0, x1, y1].
// A crop that keeps nearly the same proportions (4242x2828 to 2364x1594) counts as much as any other:
// the halves under a divider would not line up.
export function framingChanged(meta) {
  if (!meta) return false;
  const { input_width: w, input_height: hgt } = meta;
  const origin = meta.crop?.crop_origin ?? meta.crop_origin;
  if (origin) return origin[0] !== 0 || origin[1] !== 0 || meta.width !== w || meta.height !== hgt;
  if (meta.crop_box) {
    const [x0, y0, x1, y1] = meta.crop_box;
    return x0 !== 0 || y0 !== 0 || x1 !== w || y1 !== hgt;
  }
  return false;
}

export function createCompare({ label = 'Compare before and after' } = {}) {
  const before = h('img.cmp-before', { alt: 'Original', draggable: false });
  const after = h('img.cmp-after', { alt: 'Result', draggable: false });
  const divider = h('div.cmp-divider', { 'aria-hidden': 'true' }, h('span.cmp-knob', {}, '⟷'));
  const range = h('input.cmp-range', { type: 'range', min: 0, max: 100, value: 50, step: 1, 'aria-label': label });
  const status = h('div.cmp-status', { role: 'status', 'aria-live': 'polite' });
  const stage = h('div.cmp-stage', {}, before, after, divider,
    h('span.cmp-tag.left', { 'aria-hidden': 'true' }, 'Before'), h('span.cmp-tag.right', { 'aria-hidden': 'true' }, 'After'));
  const el = h('figure.compare', { hidden: true }, stage, range, status);
  let urls = [];
  let reframed = false; // the current result is another framing of the original (setAfter's word)

  const set = (pct) => {
    const p = Math.max(0, Math.min(100, pct));
    after.style.clipPath = `inset(0 0 0 ${p}%)`;
    divider.style.left = `${p}%`;
    range.value = String(Math.round(p));
  };
  range.addEventListener('input', () => set(Number(range.value)));
  let dragging = false;
  const fromEvent = (e) => {
    const r = stage.getBoundingClientRect();
    set(((e.clientX - r.left) / r.width) * 100);
  };
  stage.addEventListener('pointerdown', (e) => {
    if (el.classList.contains('side')) return; // nothing to drag
    dragging = true;
    stage.setPointerCapture(e.pointerId);
    fromEvent(e);
  });
  stage.addEventListener('pointermove', (e) => { if (dragging) fromEvent(e); });
  stage.addEventListener('pointerup', () => { dragging = false; });
  stage.addEventListener('pointercancel', () => { dragging = false; });
  set(50);

  const layout = () => {
    const a = before.naturalWidth / before.naturalHeight;
    const b = after.naturalWidth / after.naturalHeight;
    const shown = after.hasAttribute('src');
    const side = shown && (reframed || (a > 0 && b > 0 && Math.abs(a - b) > 0.02 * a));
    el.classList.toggle('side', side);
    el.classList.toggle('wide', side && a > 1 && b > 1); // both landscape: stacked on a narrow screen (styles.css)
    range.hidden = side;
  };
  before.addEventListener('load', layout);
  after.addEventListener('load', layout);

  const show = (img, blob) => {
    const url = URL.createObjectURL(blob);
    urls.push(url);
    img.src = url;
  };
  return {
    el,
    // `blob` null: nothing to show yet (a source the page must not decode); the status still shows.
    setBefore(blob) {
      el.hidden = false;
      for (const u of urls) URL.revokeObjectURL(u);
      urls = [];
      before.hidden = !blob; // no broken-image box where nothing may be shown
      if (blob) show(before, blob);
      else before.removeAttribute('src');
      after.removeAttribute('src');
      reframed = false;
      layout();
      el.classList.add('pending');
    },
    // `reframed`: the result is cropped or trimmed (framingChanged of its meta), so it goes beside the original.
    setAfter(blob, { reframed: cropped = false } = {}) {
      reframed = cropped;
      show(after, blob);
      el.classList.remove('pending');
      // keep at most the current pair of object URLs alive
      while (urls.length > 3) URL.revokeObjectURL(urls.splice(1, 1)[0]);
    },
    setBusy(busy) { el.classList.toggle('busy', busy); el.setAttribute('aria-busy', String(busy)); },
    setStatus(text, tone = 'info') { status.textContent = text; status.dataset.tone = tone; },
    hide() { el.hidden = true; },
    set,
  };
}
