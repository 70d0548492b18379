// The Python engine seen from JS: every call into pixelpress.bridge and
// pixelpress.registry goes through here, and every proxy those calls make is
// converted and destroyed here, so the dispatcher handles plain objects only.
// (The network's arguments are infer.js's to convert; the bare interpreter's
// calls before the engine is installed are interpreter.js's.)

import { heapBytes } from './interpreter.js';

const toObject = (proxy) => proxy.toJs({ dict_converter: Object.fromEntries });

export function engineOf(pyodide) {
  const bridge = pyodide.pyimport('pixelpress.bridge');
  const registry = pyodide.pyimport('pixelpress.registry');

  function needsModel(op) {
    try { return registry.needs_model(op); } catch { return false; } // unknown ops: the bridge phrases the error
  }

  return {
    versions: () => ({ ...JSON.parse(bridge.boot_report()), pyodide: pyodide.version }),

    warmUp: () => bridge.warm_up(),

    needsModel,

    // Throws for an unknown op (a typed engine error the bridge will phrase when the op is run).
    packagesFor(op) {
      const proxy = registry.packages_for(op);
      try { return proxy.toJs(); } finally { proxy.destroy(); }
    },

    // The bridge's answer, still a proxy: read it with answerOf. Rejects only
    // on a fault of the interpreter itself, since the bridge catches every
    // Python exception.
    async call({ op, input, options, onProgress, infer }) {
      const progress = (p) => {
        const fields = toObject(p);
        p.destroy?.();
        onProgress(fields);
      };
      const optionsJson = JSON.stringify(options ?? {});
      return needsModel(op)
        ? bridge.run_async(op, input, optionsJson, progress, infer)
        : bridge.run(op, input, optionsJson, progress);
    },

    // {ok: false, error} or {ok: true, outputs, meta, transfer}; the answer is destroyed either way.
    answerOf(res) {
      try {
        if (!res.get('ok')) {
          const err = res.get('error');
          const error = toObject(err);
          err.destroy();
          return { ok: false, error };
        }
        const outputs = [];
        const transfer = [];
        const list = res.get('outputs');
        for (const item of list) {
          const blob = item.get('data');
          const bytes = blob.toJs();
          blob.destroy();
          const meta = JSON.parse(item.get('meta'));
          outputs.push({ name: item.get('name'), mime: item.get('mime'), data: bytes.buffer, meta });
          item.destroy();
          transfer.push(bytes.buffer);
        }
        list.destroy();
        return { ok: true, outputs, meta: JSON.parse(res.get('meta')), transfer };
      } finally {
        res.destroy();
      }
    },

    stats() {
      const { python_objects: objects, bytecode } = JSON.parse(bridge.stats());
      return { wasm_heap_bytes: heapBytes(), python_objects: objects, bytecode };
    },
  };
}
