// Engine errors about an option, said in the form's words. The engine names
// what it was sent, `players[6].name` (zero-based, and the roster the user
// typed is not even a list); the user needs "Roster line 7: the name ...",
// pointing at the roster field.
//
// A field map is built from a view's form when a job is made (views/base.js)
// and kept with the job, so an answer that comes back later, or after a
// reload, is still said in the words of the form that made it. It is plain
// JSON: engine field path (an option, or one item of a list option) ->
// {field: the form field to point at, label: the words for it}.

// Every engine option the form shows as itself, under its label.
export function fieldMapOf(fields) {
  return Object.fromEntries(fields.filter((f) => f.engine).map((f) => [f.name, { field: f.name, label: f.label }]));
}

// The map's longest key that `path` is, or lies inside (`players[6]` holds `players[6].name`).
function owner(map, path) {
  let best = null;
  for (const key of Object.keys(map)) {
    const inside = path === key || path.startsWith(`${key}.`) || path.startsWith(`${key}[`);
    if (inside && (!best || key.length > best.length)) best = key;
  }
  return best;
}

const sentence = (s) => (/[.!?]$/.test(s) ? s : `${s}.`);

// {field, message} for an error whose `field` the map knows, else null (say it as it is).
export function inFormTerms(error, map) {
  const path = error?.field;
  const key = path && map ? owner(map, path) : null;
  if (!key) return null;
  const { field, label } = map[key];
  const text = String(error.message ?? '');
  const part = path.slice(key.length); // '' or '.name'
  // The engine starts its messages with the path: "players[6].name must be at most 40 characters, got 53".
  const opens = (p) => text.startsWith(p) && /^($|[\s:])/.test(text.slice(p.length));
  let message;
  if (part.startsWith('.') && opens(path)) {
    message = `${label}: the ${part.slice(1).replace(/[._]/g, ' ')}${text.slice(path.length)}`;
  } else if (opens(key)) {
    message = `${label}${text.slice(key.length)}`;
  } else {
    message = `${label}: ${text}`;
  }
  return { field, message: sentence(message) };
}
