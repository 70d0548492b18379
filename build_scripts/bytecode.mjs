// Adds bytecode to wheels with the pinned Pyodide itself, under Node.
//
//   node build_scripts/bytecode.mjs RUNTIME_DIR IN.whl OUT.whl [IN.whl OUT.whl ...]
//
// RUNTIME_DIR holds pyodide.mjs and its core files (the verified fetch cache).
// The work is done by bytecode_wheel.py, inside the interpreter whose bytecode
// the browser will load. Prints one JSON line per wheel.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [runtime, ...pairs] = process.argv.slice(2);
if (!runtime || pairs.length === 0 || pairs.length % 2) {
  console.error('usage: node bytecode.mjs RUNTIME_DIR IN.whl OUT.whl [...]');
  process.exit(2);
}
const indexURL = path.resolve(runtime) + path.sep;
const { loadPyodide } = await import(pathToFileURL(path.join(indexURL, 'pyodide.mjs')).href);
const py = await loadPyodide({ indexURL, stdout: () => {}, stderr: (s) => console.error(s) });
py.mountNodeFS('/host', '/');
const here = path.dirname(fileURLToPath(import.meta.url));
const module = py.runPython(readFileSync(path.join(here, 'bytecode_wheel.py'), 'utf8') + '\nadd_bytecode');
for (let i = 0; i < pairs.length; i += 2) {
  const [src, dst] = [path.resolve(pairs[i]), path.resolve(pairs[i + 1])];
  const counts = module(`/host${src}`, `/host${dst}`).toJs({ dict_converter: Object.fromEntries });
  console.log(JSON.stringify({ wheel: path.basename(src), ...counts }));
}
