// The network's graph made runnable by onnxruntime-web's WebGPU execution provider, which (1.22) refuses
// MaxPool with ceil_mode=1, as U²-Net-p's 2x2 stride-2 pools are. For those pools, ceil_mode=1 and
// ceil_mode=0 with one extra row and column of end padding (never the max) give the same windows on any
// input size, so the same numbers: a graph rewrite, not an approximation. Only the protobuf fields on the
// path ModelProto.graph(7) -> GraphProto.node(1) -> NodeProto.attribute(5) are touched; every other byte
// is copied as it is.

const MODEL_GRAPH = 7;
const GRAPH_NODE = 1;
const NODE_OP_TYPE = 4;
const NODE_ATTRIBUTE = 5;
const ATTR = { name: 1, i: 3, ints: 8, type: 20 };
const ATTR_TYPE = { INT: 2, INTS: 7 };

function readVarint(buf, pos) {
  let value = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++];
    value |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return [value, pos];
    shift += 7n;
  }
}

function varint(value) {
  let v = BigInt.asUintN(64, BigInt(value));
  const out = [];
  do {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v ? b | 0x80 : b);
  } while (v);
  return Uint8Array.from(out);
}

// [{no, wire, raw: the whole field's bytes, body: the payload of a length-delimited one, value: a varint's}]
function fields(buf) {
  const out = [];
  let pos = 0;
  while (pos < buf.length) {
    const start = pos;
    const [key, afterKey] = readVarint(buf, pos);
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    const field = { no, wire };
    pos = afterKey;
    if (wire === 0) [field.value, pos] = readVarint(buf, pos);
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const [len, at] = readVarint(buf, pos);
      field.body = buf.subarray(at, at + Number(len));
      pos = at + Number(len);
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
    if (pos > buf.length) throw new Error('truncated field');
    field.raw = buf.subarray(start, pos);
    out.push(field);
  }
  return out;
}

const concat = (parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};
const key = (no, wire) => varint((no << 3) | wire);
const bytesField = (no, body) => concat([key(no, 2), varint(body.length), body]);
const intField = (no, value) => concat([key(no, 0), varint(value)]);
const text = (bytes) => new TextDecoder().decode(bytes);

function attributes(node) {
  const out = {};
  for (const f of fields(node)) {
    if (f.no !== NODE_ATTRIBUTE) continue;
    const a = { ints: [] };
    for (const g of fields(f.body)) {
      if (g.no === ATTR.name) a.name = text(g.body);
      else if (g.no === ATTR.i) a.i = BigInt.asIntN(64, g.value);
      else if (g.no === ATTR.ints && g.wire === 0) a.ints.push(BigInt.asIntN(64, g.value));
      else if (g.no === ATTR.ints && g.wire === 2) {
        for (let p = 0; p < g.body.length;) { const [v, q] = readVarint(g.body, p); a.ints.push(BigInt.asIntN(64, v)); p = q; }
      }
    }
    out[a.name] = a;
  }
  return out;
}

const intsAttr = (name, values) => concat([bytesField(ATTR.name, new TextEncoder().encode(name)),
  ...values.map((v) => intField(ATTR.ints, v)), intField(ATTR.type, ATTR_TYPE.INTS)]);
const intAttr = (name, value) => concat([bytesField(ATTR.name, new TextEncoder().encode(name)),
  intField(ATTR.i, value), intField(ATTR.type, ATTR_TYPE.INT)]);

const same = (list, value) => list.length > 0 && list.every((v) => v === BigInt(value));

// A ceil_mode=1 MaxPool rewritten, or null when it is not one this rewrite knows to be exact.
function rewriteNode(node) {
  const all = fields(node);
  const op = all.find((f) => f.no === NODE_OP_TYPE);
  if (!op || text(op.body) !== 'MaxPool') return null;
  const a = attributes(node);
  if (a.ceil_mode?.i !== 1n) return null;
  const kernel = a.kernel_shape?.ints ?? [];
  if (kernel.length !== 2 || !same(kernel, 2) || !same(a.strides?.ints ?? [], 2)
      || (a.pads && !same(a.pads.ints, 0)) || (a.dilations && !same(a.dilations.ints, 1))
      || (a.auto_pad && a.auto_pad.name)) {
    throw new Error('a MaxPool with ceil_mode=1 other than 2x2 stride 2 without padding: not rewritten');
  }
  const attrName = (body) => text(fields(body).find((g) => g.no === ATTR.name)?.body ?? new Uint8Array());
  const kept = all.filter((f) => f.no !== NODE_ATTRIBUTE || !['ceil_mode', 'pads'].includes(attrName(f.body)));
  return concat([...kept.map((f) => f.raw), bytesField(NODE_ATTRIBUTE, intAttr('ceil_mode', 0)),
    bytesField(NODE_ATTRIBUTE, intsAttr('pads', [0, 0, 1, 1]))]);
}

/** The model's bytes with every ceil_mode=1 2x2 MaxPool made ceil_mode=0 + end padding; {bytes, rewritten}. */
export function withoutCeilPools(model) {
  let rewritten = 0;
  const graphParts = [];
  const modelFields = fields(model);
  const graph = modelFields.find((f) => f.no === MODEL_GRAPH);
  if (!graph) throw new Error('the model has no graph');
  for (const f of fields(graph.body)) {
    const node = f.no === GRAPH_NODE ? rewriteNode(f.body) : null;
    if (node) rewritten++;
    graphParts.push(node ? bytesField(GRAPH_NODE, node) : f.raw);
  }
  const bytes = concat(modelFields.map((f) => (f === graph ? bytesField(MODEL_GRAPH, concat(graphParts)) : f.raw)));
  return { bytes, rewritten };
}
