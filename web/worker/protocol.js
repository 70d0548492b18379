// The engine worker's messages, each shape built in one place so that its
// fields are named once. All messages are plain objects.
//
//   in : {type: 'run', id, op, options, data: ArrayBuffer}   (data transferred)
//        {type: 'preload', id, op}                           (load an op's packages ahead of time)
//        {type: 'stats', id}                                  (heap figures for leak benchmarks, bytecode use)
//        {type: 'infer-result', inferId, ok, data?, dims?, backend?, error?}  (the page's answer to an 'infer';
//                                                     backend: how the model worker ran it)
//   out: {type: 'progress', phase, loaded, total}             runtime loading, in bytes
//        {type: 'ready', timings, versions, interpreter: 'restored'|'started'}
//        {type: 'fatal', error: {code, message}}              the runtime could not start
//        {type: 'op-progress', id, done, total, step}            before each step of a multi-step op
//                                                             (pipeline.run_steps: `step` is its name)
//        {type: 'infer', inferId, tensor: ArrayBuffer, dims}     the network's input; the page runs it
//                                                             (one model worker serves every engine worker)
//        {type: 'result', id, ok: true, outputs: [{name, mime, data, meta}], meta, ms, heapBytes}
//        {type: 'result', id, ok: false, error: {code, message, field?}, heapBytes}
//        (heapBytes: the wasm heap after the job, which the pool uses to recycle a worker)

export const REQUEST = { run: 'run', preload: 'preload', stats: 'stats', inferResult: 'infer-result' };

export const loadProgress = ({ phase, loaded, total }) => ({ type: 'progress', phase, loaded, total });

export const ready = ({ timings, versions, interpreter }) => ({ type: 'ready', versions, interpreter, timings });

export const fatal = (error) => ({ type: 'fatal', error });

// Spread, not picked: what the engine's progress callback says reaches the page as it is.
export const opProgress = (id, fields) => ({ type: 'op-progress', id, ...fields });

export const inferRequest = ({ inferId, tensor, dims }) => ({ type: 'infer', inferId, tensor, dims });

// Only runs measure ms and heapBytes; preload and stats answers leave them out.
export function answer(id, { outputs = [], meta, ms, heapBytes }) {
  const msg = { type: 'result', id, ok: true, outputs, meta };
  if (ms !== undefined) msg.ms = ms;
  if (heapBytes !== undefined) msg.heapBytes = heapBytes;
  return msg;
}

export const failure = (id, error, heapBytes) => ({ type: 'result', id, ok: false, error, heapBytes });

// The error for a run request the engine could not even be asked, or null when it is well formed.
export function malformedRun({ op, data }) {
  if (data instanceof ArrayBuffer && typeof op === 'string') return null;
  return { code: 'bad_request', message: 'A run request needs an operation name and an ArrayBuffer of image bytes.' };
}
