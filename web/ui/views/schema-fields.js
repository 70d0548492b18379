// The engine's option schema (written at build into ui/schema.js from the
// option classes) joined with a view's own words and widgets. A view names an
// engine option and adds a label, help and a widget; names, bounds, choices and
// the engine default come from here, so the form cannot drift from the engine.
// A view may set `studioDefault` where the studio deliberately starts elsewhere.

import { PixelpressError } from '../../client/errors.js';
import SCHEMA from '../schema.js';

// A view spec out of step with the engine: a bug, found when the view loads.
const outOfStep = (message) => new PixelpressError('internal_error', message);

export function engineOption(op, name) {
  const o = SCHEMA[op]?.options.find((x) => x.name === name);
  if (!o) throw outOfStep(`${op} has no option ${name}`);
  return o;
}

export function fieldFor(op, name, ui) {
  const o = engineOption(op, name);
  // `form: false`: the engine says the option is made another way (touch-up strokes are painted).
  if (o.form === false) throw outOfStep(`${op}.${name} is not a form field`);
  const f = { ...ui, name, engine: o, default: 'studioDefault' in ui ? ui.studioDefault : o.default };
  if (o.kind === 'int' || o.kind === 'float') Object.assign(f, { min: o.min, max: o.max });
  if (o.kind === 'text') Object.assign(f, { maxlength: o.max_len, required: Boolean(o.required) });
  if (o.kind === 'choice' && ui.options) {
    const stray = ui.options.map(([v]) => v).filter((v) => !o.choices.includes(v));
    if (stray.length) throw outOfStep(`${op}.${name} offers ${stray.join(', ')}, not engine choices`);
  }
  return f;
}

// The engine's own code for what it would refuse; `field` is the form's field, which the form focuses.
export const invalid = (field, message) => new PixelpressError('invalid_option', message, { field });

// What the engine would say about `value`, in the form's words (its label), or nothing.
export function checkValue(option, value, label, field = option.name) {
  if (value === null || value === undefined || value === '') {
    if (option.required) throw invalid(field, `Enter the ${label.toLowerCase()}.`);
    if (option.kind === 'int' && !option.optional && option.default !== null) throw invalid(field, `${label} is needed.`);
    return;
  }
  if (option.kind === 'int' || option.kind === 'float') {
    const whole = option.kind === 'int';
    if (typeof value !== 'number' || !Number.isFinite(value) || (whole && !Number.isInteger(value))
      || value < option.min || value > option.max) {
      throw invalid(field, `${label} must be a ${whole ? 'whole number' : 'number'} from ${option.min} to ${option.max}.`);
    }
  } else if (option.kind === 'text') {
    const s = String(value).trim();
    if (option.required && !s) throw invalid(field, `Enter the ${label.toLowerCase()}.`);
    if (s.length > option.max_len) {
      throw invalid(field, `${label} can be at most ${option.max_len} characters (this is ${s.length}).`);
    }
  } else if (option.kind === 'choice' && !option.choices.includes(value)) {
    throw invalid(field, `${label} must be one of ${option.choices.join(', ')}.`);
  }
}

// Every schema-backed field of a view, checked before anything is queued.
export function checkFields(fields, values) {
  for (const f of fields) {
    if (f.engine && (!f.when || f.when(values))) checkValue(f.engine, values[f.name], f.label);
  }
}

// The roster's non-blank lines, numbered as the user sees them: players[k] was typed on rosterLines(text)[k].line.
export function rosterLines(text) {
  return String(text ?? '').split('\n').map((raw, i) => ({ line: i + 1, text: raw.trim() })).filter((l) => l.text);
}

// A roster typed one player per line ("7 Ana Silva") to the engine's `players`,
// checked against the engine's list and item rules; errors name the line.
export function parseRoster(text, op, field = 'roster') {
  const list = engineOption(op, 'players');
  const [numberRule, nameRule] = ['number', 'name'].map((n) => list.item.fields.find((x) => x.name === n));
  const players = [];
  for (const { line: n, text: line } of rosterLines(text)) {
    const where = `Roster line ${n}`;
    const m = line.match(/^#?\s*(\d+)[\s.,:;-]+(.+)$/);
    if (!m) throw invalid(field, `${where} ("${line.slice(0, 30)}") needs a number then a name, like "7 Ana Silva".`);
    const number = Number(m[1]);
    const name = m[2].trim().split(/\s+/).join(' ');
    if (number < numberRule.min || number > numberRule.max) {
      throw invalid(field, `${where}: the number must be from ${numberRule.min} to ${numberRule.max}, not ${m[1]}.`);
    }
    if (name.length > nameRule.max_len) {
      throw invalid(field, `${where}: the name can be at most ${nameRule.max_len} characters (this one is ${name.length}).`);
    }
    players.push({ number, name });
  }
  if (players.length > list.max_items) {
    throw invalid(field, `At most ${list.max_items} players fit on the banners; this roster has ${players.length}.`);
  }
  if (players.length < list.min_items) throw invalid(field, `Enter at least ${list.min_items} player.`);
  return players;
}

