// The touch-up surface: the cut-out over a checkerboard (the photo grey and
// faint beneath it, so what was dropped still shows), and a canvas above it at
// screen resolution where keep (green) and remove (red) strokes are painted
// with a pointer (mouse, pen, touch) or the keyboard. Strokes are kept in the
// source photo's pixels (touchup-strokes.js); each finished stroke calls
// `onChange`, and the view re-solves the cut-out and hands it back here.

import { clamp, h, fmtMs } from './util.js';
import { LIMITS, strokesOf, setStrokes } from './touchup-strokes.js';

const COLOR = { true: 'rgb(22 163 74 / 45%)', false: 'rgb(220 38 38 / 45%)' };
const RING = { true: '#16a34a', false: '#dc2626' };
const BRUSH = { min: 4, max: 80, initial: 18 }; // radius in CSS pixels: what the finger or mouse covers
let seq = 0;

// `waiting()`: whether the view's own jobs hold the engine (previews wait for them), said in the status.
export function createTouchup({ onChange, onApply, onClose, waiting = () => false }) {
  const id = `touchup-${++seq}`;
  let photo = null; // the source Blob the strokes belong to
  let size = null; // {width, height} of the source photo
  let strokes = [];
  let pending = null; // the stroke being painted, not yet sent
  let keep = false;
  let cursor = null; // {x, y} in source pixels, shown while hovering or focused
  let painting = null; // the id of the pointer painting now
  let changedAt = 0;
  let expected = ''; // the strokes the newest request was made with
  const urls = {};

  const title = h('h3', { id: `${id}-title`, tabindex: '-1' }, 'Touch up the cut-out');
  const done = h('button.ghost.small', { type: 'button', onclick: () => close() }, 'Done');
  const btnKeep = h('button.tool.keep', { type: 'button', 'aria-pressed': 'false', onclick: () => setKeep(true) },
    h('span.swatch', { 'aria-hidden': 'true' }), 'Keep');
  const btnRemove = h('button.tool.remove', { type: 'button', 'aria-pressed': 'true', onclick: () => setKeep(false) },
    h('span.swatch', { 'aria-hidden': 'true' }), 'Remove');
  const sizeOut = h('output.range-value', { for: `${id}-size` }, `${BRUSH.initial * 2} px`);
  const brush = h('input', { id: `${id}-size`, type: 'range', min: BRUSH.min, max: BRUSH.max, step: 1, value: BRUSH.initial,
    oninput: () => { sizeOut.textContent = `${brush.value * 2} px`; draw(); } });
  const btnUndo = h('button.ghost.small', { type: 'button', onclick: () => undo(), 'aria-keyshortcuts': 'Control+Z' }, 'Undo');
  const btnReset = h('button.ghost.small', { type: 'button', onclick: () => reset() }, 'Reset');
  const ghost = h('img.touchup-photo', { alt: '', 'aria-hidden': 'true', draggable: false });
  const cutout = h('img.touchup-cutout', { alt: 'The cut-out being touched up', draggable: false });
  const keysId = `${id}-keys`;
  const canvas = h('canvas.touchup-canvas', { tabindex: '0', role: 'application', 'aria-roledescription': 'paint canvas',
    'aria-label': 'Touch-up canvas', 'aria-describedby': keysId });
  const stage = h('div.touchup-stage', {}, ghost, cutout, canvas);
  const status = h('p.touchup-status', { role: 'status', 'aria-live': 'polite' });
  const apply = h('button.primary.small', { type: 'button', onclick: () => onApply?.() }, 'Process this photo at full size');
  const el = h('section.touchup', { 'aria-labelledby': title.id, hidden: true },
    h('div.touchup-head', {}, title, done),
    h('p.help', {}, 'Paint green over what belongs to the subject and red over what is backdrop: '
      + 'each stroke fixes the whole region it touches.'),
    h('div.touchup-tools', {},
      h('div.tool-pair', { role: 'group', 'aria-label': 'Brush' }, btnKeep, btnRemove),
      h('label.brush-size', { for: brush.id }, h('span', {}, 'Brush'), brush, sizeOut),
      h('div.tool-pair', {}, btnUndo, btnReset)),
    stage,
    h('p.help', { id: keysId }, 'Keyboard: arrow keys move the brush (Shift: faster), Space marks a point, '
      + 'Enter ends the stroke, Escape drops it; K keep, R remove, [ and ] brush size, Ctrl+Z undo.'),
    status, h('div.touchup-apply', {}, apply));

  // What the offer under the preview says: a doubtful cut-out's warning, with the way to fix it.
  const offerText = h('p.touchup-warning');
  const offerBtn = h('button.secondary.small', { type: 'button', onclick: () => open() }, 'Touch up the cut-out');
  const offer = h('div.touchup-offer', { hidden: true }, offerText, offerBtn);

  const ctx2d = canvas.getContext('2d');
  new ResizeObserver(() => { fit(); draw(); }).observe(canvas);

  function fit() {
    const r = canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(r.width * dpr));
    const hgt = Math.max(1, Math.round(r.height * dpr));
    if (canvas.width !== w || canvas.height !== hgt) { canvas.width = w; canvas.height = hgt; }
  }

  // Source pixels per CSS pixel of the canvas as shown.
  const perCss = () => (size ? size.width / Math.max(1, canvas.getBoundingClientRect().width) : 1);

  function draw() {
    ctx2d.clearRect(0, 0, canvas.width, canvas.height);
    if (!size) return;
    const k = canvas.width / size.width; // canvas pixels per source pixel
    ctx2d.lineCap = 'round';
    ctx2d.lineJoin = 'round';
    // A stroke marked from the keyboard runs on to the brush, so its next segment shows before Space or Enter.
    const keyed = pending && painting === null && cursor;
    const shown = keyed ? { ...pending, points: [...pending.points, [cursor.x, cursor.y]] } : pending;
    for (const s of shown ? [...strokes, shown] : strokes) {
      ctx2d.strokeStyle = ctx2d.fillStyle = COLOR[s.keep];
      if (s.points.length === 1) {
        ctx2d.beginPath();
        ctx2d.arc(s.points[0][0] * k, s.points[0][1] * k, s.radius * k, 0, 2 * Math.PI);
        ctx2d.fill();
        continue;
      }
      ctx2d.lineWidth = 2 * s.radius * k;
      ctx2d.beginPath();
      s.points.forEach(([x, y], i) => (i ? ctx2d.lineTo(x * k, y * k) : ctx2d.moveTo(x * k, y * k)));
      ctx2d.stroke();
    }
    if (cursor) {
      const r = brush.value * perCss() * k;
      ctx2d.lineWidth = Math.max(1.5, (window.devicePixelRatio || 1) * 1.5);
      for (const [color, extra] of [['#fff', ctx2d.lineWidth], [RING[keep], 0]]) {
        ctx2d.strokeStyle = color;
        ctx2d.beginPath();
        ctx2d.arc(cursor.x * k, cursor.y * k, r + extra, 0, 2 * Math.PI);
        ctx2d.stroke();
      }
    }
  }

  function refresh() {
    btnUndo.disabled = !strokes.length && !pending;
    btnReset.disabled = !strokes.length;
    apply.hidden = !strokes.length;
  }

  function setKeep(v) {
    keep = v;
    btnKeep.setAttribute('aria-pressed', String(v));
    btnRemove.setAttribute('aria-pressed', String(!v));
    el.dataset.mode = v ? 'keep' : 'remove';
    say(v ? 'Keep brush: paint over what belongs to the subject.' : 'Remove brush: paint over the backdrop.');
    draw();
  }

  const say = (text, tone = 'info') => { status.textContent = text; status.dataset.tone = tone; };

  function point(e) {
    const r = canvas.getBoundingClientRect();
    return { x: clamp(((e.clientX - r.left) / r.width) * size.width, 0, size.width),
      y: clamp(((e.clientY - r.top) / r.height) * size.height, 0, size.height) };
  }

  function begin(p) {
    if (strokes.length >= LIMITS.strokes) {
      say(`At most ${LIMITS.strokes} strokes: undo one or reset to paint more.`, 'error');
      return false;
    }
    const radius = clamp(brush.value * perCss(), LIMITS.radiusMin, LIMITS.radiusMax);
    pending = { keep, points: [[p.x, p.y]], radius };
    return true;
  }

  // Points closer than a quarter of the brush add nothing the line between them does not cover.
  function extend(p) {
    const last = pending.points.at(-1);
    if (Math.hypot(p.x - last[0], p.y - last[1]) >= Math.max(pending.radius / 4, perCss())) pending.points.push([p.x, p.y]);
  }

  function finish() {
    if (!pending) return;
    strokes = [...strokes, pending];
    pending = null;
    changed(`${strokes.at(-1).keep ? 'Keep' : 'Remove'} stroke ${strokes.length} added`);
  }

  function changed(what) {
    setStrokes(photo, strokes);
    refresh();
    draw();
    changedAt = performance.now();
    el.dataset.state = 'updating';
    stage.setAttribute('aria-busy', 'true');
    say(`${what}. ${waiting() ? 'The cut-out updates once the photos being processed are done…' : 'Updating the cut-out…'}`);
    onChange?.();
  }

  function undo() {
    if (pending) { pending = null; refresh(); draw(); say('Stroke dropped.'); return; }
    if (!strokes.length) return;
    strokes = strokes.slice(0, -1);
    changed('Last stroke undone');
  }

  function reset() {
    if (!strokes.length) return;
    strokes = [];
    pending = null;
    changed('All strokes cleared');
  }

  canvas.addEventListener('pointerdown', (e) => {
    if (!size || painting !== null || (e.pointerType === 'mouse' && e.button !== 0)) return;
    e.preventDefault();
    canvas.focus({ preventScroll: true });
    pending = null;
    if (!begin(point(e))) return;
    painting = e.pointerId;
    canvas.setPointerCapture(e.pointerId);
    cursor = point(e);
    draw();
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!size) return;
    cursor = point(e);
    if (painting === e.pointerId && pending) extend(cursor);
    draw();
  });
  const lift = (e, keepIt) => {
    if (painting !== e.pointerId) return;
    painting = null;
    if (keepIt) finish(); else { pending = null; draw(); }
    if (e.pointerType !== 'mouse') { cursor = null; draw(); }
  };
  canvas.addEventListener('pointerup', (e) => lift(e, true));
  canvas.addEventListener('pointercancel', (e) => lift(e, false));
  canvas.addEventListener('pointerleave', () => {
    if (painting === null && document.activeElement !== canvas) { cursor = null; draw(); }
  });
  canvas.addEventListener('focus', () => {
    if (size && !cursor) cursor = { x: size.width / 2, y: size.height / 2 };
    draw();
  });
  canvas.addEventListener('blur', () => { finish(); cursor = null; draw(); });

  canvas.addEventListener('keydown', (e) => {
    if (!size || e.ctrlKey || e.metaKey || e.altKey) return;
    const step = brush.value * perCss() * (e.shiftKey ? 2 : 0.5);
    const move = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[e.key];
    const key = e.key.toLowerCase();
    if (move) {
      cursor = { x: clamp(cursor.x + move[0], 0, size.width), y: clamp(cursor.y + move[1], 0, size.height) };
    } else if (e.key === ' ' || e.key === 'Enter') {
      if (!pending && !begin(cursor)) { e.preventDefault(); return; }
      const last = pending.points.at(-1);
      if (last[0] !== cursor.x || last[1] !== cursor.y) pending.points.push([cursor.x, cursor.y]);
      if (e.key === 'Enter' || pending.points.length >= LIMITS.points) finish();
      else say(`Point ${pending.points.length} marked; Enter ends the stroke.`);
    } else if (e.key === 'Escape' && pending) {
      pending = null;
      say('Stroke dropped.');
    } else if (key === 'k' || key === 'r') {
      setKeep(key === 'k');
    } else if (e.key === '[' || e.key === ']') {
      brush.value = String(Number(brush.value) + (e.key === ']' ? 2 : -2));
      brush.dispatchEvent(new Event('input'));
      say(`Brush ${brush.value * 2} px.`);
    } else return;
    e.preventDefault();
    refresh();
    draw();
  });
  // Undo from anywhere in the panel, as in any editor.
  el.addEventListener('keydown', (e) => {
    if ((e.ctrlKey || e.metaKey) && !e.shiftKey && e.key.toLowerCase() === 'z') { e.preventDefault(); undo(); }
  });

  function show(img, blob, name) {
    if (urls[name]) URL.revokeObjectURL(urls[name]);
    urls[name] = blob ? URL.createObjectURL(blob) : null;
    if (blob) img.src = urls[name]; else img.removeAttribute('src');
  }

  function open() {
    el.hidden = false;
    offerBtn.hidden = true;
    fit();
    draw();
    el.scrollIntoView({ block: 'nearest' });
    canvas.focus({ preventScroll: true });
    if (!status.textContent) setKeep(keep);
    onChange?.();
  }

  function hidePanel() {
    el.hidden = true;
    offerBtn.hidden = false;
    onClose?.();
  }

  function close() {
    finish();
    hidePanel();
    offerBtn.focus();
  }

  setKeep(false);
  refresh();

  return {
    el, offer,
    get open() { return !el.hidden; },
    get photo() { return photo; },
    openPanel: open,
    // The photo whose strokes are painted (its source Blob, source size) and its preview proxy, shown faint.
    // null: another photo is being prepared.
    setPhoto(blob, { width, height } = {}, proxyBlob = null) {
      if (blob === photo) return;
      photo = blob;
      size = blob ? { width, height } : null;
      strokes = strokesOf(blob);
      pending = null;
      cursor = null;
      if (size) {
        stage.style.aspectRatio = `${width} / ${height}`;
        // As tall as the screen allows, never wider than the column.
        stage.style.maxWidth = `min(100%, calc(62vh * ${(width / height).toFixed(4)}))`;
      }
      show(ghost, proxyBlob, 'ghost');
      show(cutout, null, 'cutout');
      el.dataset.state = blob ? 'idle' : 'preparing';
      if (!blob) say('Preparing the cut-out…');
      offer.hidden = true;
      refresh();
      draw();
    },
    // Nothing to touch up (no photo, or a provider that keeps the background).
    unavailable() {
      offer.hidden = true;
      if (!el.hidden) hidePanel();
    },
    // The strokes the view is about to re-solve with, in whatever form it compares (its hints as JSON).
    expect(signature) { expected = signature; },
    // A cut-out made with `signature`'s strokes (result: {blob, meta, ms}).
    setCutout(result, signature) {
      show(cutout, result.blob, 'cutout');
      const m = result.meta ?? {};
      const doubt = (m.warnings ?? []).find((w) => w.startsWith('The cut-out may be wrong'));
      offer.hidden = false;
      offer.dataset.doubt = String(Boolean(doubt));
      offerText.textContent = doubt ? `⚠ ${doubt}` : '';
      if (signature !== expected || el.dataset.state !== 'updating') return;
      el.dataset.state = 'idle';
      stage.removeAttribute('aria-busy');
      const ms = performance.now() - changedAt;
      const n = m.matte?.hints ?? strokes.length;
      say(`Cut-out updated in ${fmtMs(ms)} · ${n} ${n === 1 ? 'stroke' : 'strokes'}.`);
      document.dispatchEvent(new CustomEvent('pixelpress:touchup',
        { detail: { ms, engineMs: result.ms, strokes: n, steps: m.matte?.timings_ms ?? null } }));
    },
    failed(message) {
      el.dataset.state = 'idle';
      stage.removeAttribute('aria-busy');
      say(`The cut-out was not updated: ${message}`, 'error');
    },
  };
}
