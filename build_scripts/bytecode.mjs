// Compiles bytecode for what the site ships, with the pinned Pyodide itself, under Node.
//
//   node build_scripts/bytecode.mjs RUNTIME_DIR [--stdlib IN.zip OUT.zip] [IN.whl OUT.whl ...]
//
// RUNTIME_DIR holds pyodide.mjs and its core files (the verified fetch cache).
// The work is done by bytecode.py, inside the interpreter whose bytecode the
// browser will load. Prints one JSON line per file.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [runtime, ...rest] = process.argv.slice(2);
const jobs = [];
for (let i = 0; i < rest.length; i += 2) {
  const stdlib = rest[i] === '--stdlib';
  if (stdlib) i += 1;
  if (rest[i + 1] === undefined) break;
  jobs.push({ fn: stdlib ? 'compile_stdlib' : 'add_bytecode', src: path.resolve(rest[i]), dst: path.resolve(rest[i + 1]) });
}
if (!runtime || jobs.length === 0 || jobs.length * 2 + jobs.filter((j) => j.fn === 'compile_stdlib').length !== rest.length) {
  console.error('usage: node bytecode.mjs RUNTIME_DIR [--stdlib IN.zip OUT.zip] [IN.whl OUT.whl ...]');
  process.exit(2);
}
const indexURL = path.resolve(runtime) + path.sep;
const { loadPyodide } = await import(pathToFileURL(path.join(indexURL, 'pyodide.mjs')).href);
const py = await loadPyodide({ indexURL, stdout: () => {}, stderr: (s) => console.error(s) });
py.mountNodeFS('/host', '/');
const here = path.dirname(fileURLToPath(import.meta.url));
py.runPython(readFileSync(path.join(here, 'bytecode.py'), 'utf8'));
for (const { fn, src, dst } of jobs) {
  const counts = py.globals.get(fn)(`/host${src}`, `/host${dst}`).toJs({ dict_converter: Object.fromEntries });
  console.log(JSON.stringify({ file: path.basename(src), ...counts }));
}
