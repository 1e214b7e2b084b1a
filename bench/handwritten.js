'use strict';
// Writes the hand-written baselines: for each construct, a module that creates the same L1 objects
// (k8s.KubeStatefulSet, k8s.KubeService, ...) as one construct instance, with literal specs.
//
// The literals are taken from one reference instance rather than typed in, so the baseline cannot
// drift from what the construct emits while src/ changes; `node bench/worker.js prepare` checks that
// both synthesize the same YAML.
// The generated code is plain object literals with `${name}` where the instance name goes, which is
// what a hand-written chart compiles to; it never loads the library.

const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const cdk8s = require('cdk8s');
const { k8s } = require('cdk8s-plus-28');
const { NAMESPACE, ROOT } = require('./scenarios');

const OUT_DIR = path.join(__dirname, 'results', 'handwritten');
// a DNS label that appears nowhere in the constructs' output except where the name is used
const REF_NAME = 'zqbenchref';

function sha256(s) {
  return crypto.createHash('sha256').update(s).digest('hex');
}

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);
}

/** A JS expression for a class, from the module that exports it. */
function classExpression(cls, requires, fromFile) {
  if (k8s[cls.name] === cls) return `k8s.${cls.name}`;
  if (cdk8s[cls.name] === cls) return `cdk8s.${cls.name}`;
  for (const [file, mod] of Object.entries(require.cache)) {
    const exp = mod.exports;
    if (!exp || typeof exp !== 'object') continue;
    for (const [exportName, value] of Object.entries(exp)) {
      if (value !== cls) continue;
      let rel = path.relative(path.dirname(fromFile), file).replace(/\\/g, '/').replace(/\.js$/, '');
      if (!rel.startsWith('.')) rel = `./${rel}`;
      if (file.includes(`${path.sep}node_modules${path.sep}`)) rel = file.slice(file.lastIndexOf(`node_modules${path.sep}`) + 'node_modules/'.length).replace(/\.js$/, '');
      const id = `M${requires.size}`;
      if (!requires.has(rel)) requires.set(rel, id);
      return `${requires.get(rel)}.${exportName}`;
    }
  }
  throw new Error(`cannot find the module that exports class ${cls.name}`);
}

/**
 * The literal of one object: the resolved L1 props (Lazy values resolved, before JSON patches), with
 * key order and value classes (IntOrString, Quantity, ...) taken back from the props the construct passed.
 */
function literalTree(resolved, raw) {
  if (Array.isArray(resolved)) {
    return resolved.map((v, i) => literalTree(v, Array.isArray(raw) ? raw[i] : undefined));
  }
  if (!isPlainObject(resolved)) return resolved;
  if (raw && typeof raw === 'object' && !Array.isArray(raw) && !isPlainObject(raw)) {
    const cls = raw.constructor;
    const keys = Object.keys(resolved);
    if (keys.length === 1 && keys[0] === 'value' && (typeof cls.fromString === 'function' || typeof cls.fromNumber === 'function')) {
      return { __class: cls, value: resolved.value };
    }
  }
  const order = isPlainObject(raw) ? Object.keys(raw).filter((k) => k in resolved) : [];
  for (const k of Object.keys(resolved)) if (!order.includes(k)) order.push(k);
  const out = {};
  for (const k of order) out[k] = literalTree(resolved[k], isPlainObject(raw) ? raw[k] : undefined);
  return out;
}

/** Strings that are a SHA-256 of another value of the instance (a config checksum), by hash. */
function findHashes(literals) {
  const hexes = new Set();
  const candidates = [];
  const walk = (v) => {
    if (typeof v === 'string') {
      if (/^[0-9a-f]{64}$/.test(v)) hexes.add(v);
      else if (v.length > 64) candidates.push(v);
    } else if (Array.isArray(v)) {
      v.forEach(walk);
    } else if (isPlainObject(v) && !v.__class) {
      const values = Object.values(v);
      if (values.length > 0 && values.every((x) => typeof x === 'string')) candidates.push(v);
      values.forEach(walk);
    }
  };
  literals.forEach(walk);
  const found = new Map();
  if (hexes.size === 0) return found;
  for (const c of candidates) {
    const asString = typeof c === 'string';
    const h = sha256(asString ? c : JSON.stringify(c));
    if (hexes.has(h) && !found.has(h)) found.set(h, { value: c, json: !asString });
  }
  return found;
}

function stringLiteral(s) {
  if (!s.includes(REF_NAME)) return JSON.stringify(s);
  if (s === REF_NAME) return 'name';
  const esc = (part) => part.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${').replace(/\r/g, '\\r');
  return `\`${s.split(REF_NAME).map(esc).join('${name}')}\``;
}

function serialize(v, ctx, indent) {
  const pad = '  '.repeat(indent);
  const inner = '  '.repeat(indent + 1);
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') {
    const hashed = ctx.hashes.get(v);
    if (hashed) return `sha256(${hashed.json ? `JSON.stringify(${hashed.id})` : hashed.id})`;
    const hoisted = ctx.hoistedStrings.get(v);
    if (hoisted && !ctx.defining) return hoisted;
    return stringLiteral(v);
  }
  if (typeof v !== 'object' || v === null) return JSON.stringify(v);
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return `[\n${v.map((x) => inner + serialize(x, ctx, indent + 1)).join(',\n')},\n${pad}]`;
  }
  if (v.__class) {
    const factory = typeof v.value === 'number' ? 'fromNumber' : 'fromString';
    return `${classExpression(v.__class, ctx.requires, ctx.file)}.${factory}(${serialize(v.value, ctx, indent)})`;
  }
  const hoisted = ctx.hoistedObjects.get(v);
  if (hoisted && !ctx.defining) return hoisted;
  const keys = Object.keys(v).filter((k) => v[k] !== undefined);
  if (keys.length === 0) return '{}';
  const wasDefining = ctx.defining;
  ctx.defining = false;
  const body = keys.map((k) => `${inner}${/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(k) ? k : JSON.stringify(k)}: ${serialize(v[k], ctx, indent + 1)}`).join(',\n');
  ctx.defining = wasDefining;
  return `{\n${body},\n${pad}}`;
}

/** A cdk8s.JsonPatch call for one RFC 6902 operation. */
function patchExpression(p, ctx) {
  const arg = (v) => serialize(v, ctx, 1);
  switch (p.op) {
    case 'remove': return `cdk8s.JsonPatch.remove(${arg(p.path)})`;
    case 'add': case 'replace': case 'test': return `cdk8s.JsonPatch.${p.op}(${arg(p.path)}, ${arg(p.value)})`;
    case 'copy': case 'move': return `cdk8s.JsonPatch.${p.op}(${arg(p.from)}, ${arg(p.path)})`;
    default: throw new Error(`unknown JSON patch operation ${p.op}`);
  }
}

/**
 * The API objects of a chart in the order the chart writes them (its dependency order, e.g. a ConfigMap
 * before the StatefulSet that mounts it), which is the order a hand-written chart would create them in.
 */
function apiObjectsInSynthOrder(chart) {
  const objects = chart.node.findAll().filter((c) => c instanceof cdk8s.ApiObject && cdk8s.Chart.of(c) === chart);
  const key = (m) => `${m.apiVersion}/${m.kind}/${m.metadata?.namespace ?? ''}/${m.metadata?.name ?? ''}`;
  const order = new Map(chart.toJson().map((m, i) => [key(m), i]));
  const index = (o) => {
    const i = order.get(key(o.toJson()));
    if (i === undefined) throw new Error(`${o.node.path}: not among the objects the chart writes`);
    return i;
  };
  return objects.map((o) => [index(o), o]).sort((a, b) => a[0] - b[0]).map(([, o]) => o);
}

/** The literal props, class and JSON patches of every API object, as the construct made them. */
function captureObjects(apiObjects) {
  return apiObjects.map((obj) => {
    const cls = obj.constructor;
    // the props before JSON patches; the patches are replayed, as a hand-written chart would have to
    const patches = obj.patches.splice(0);
    let resolved;
    try {
      resolved = cdk8s.ApiObject.prototype.toJson.call(obj);
    } finally {
      obj.patches.push(...patches);
    }
    if (cls.GVK) {
      delete resolved.apiVersion;
      delete resolved.kind;
    } else if (cls !== cdk8s.ApiObject) {
      throw new Error(`${obj.node.path}: ${cls.name} is neither an L1 class (no GVK) nor ApiObject`);
    }
    return { cls, kind: obj.kind, literal: literalTree(resolved, obj.props), patches: patches.map((p) => p._toJson()) };
  });
}

/**
 * Writes a module that creates every captured object with `new <L1 class>(...)`. Each group is one scope:
 * `scope` is the JS expression of its construct scope and `prelude` any line that defines it.
 */
function writeModule(file, title, groups, signature, footer = []) {
  const ctx = { file, requires: new Map(), hashes: new Map(), hoistedObjects: new Map(), hoistedStrings: new Map(), defining: false };
  const hashes = findHashes(groups.flatMap((g) => g.objects.map((o) => o.literal)));
  const preamble = [];
  let n = 0;
  for (const [hex, h] of hashes) {
    const id = `hashed${n++}`;
    ctx.hashes.set(hex, { id, json: h.json });
    if (h.json) ctx.hoistedObjects.set(h.value, id);
    else ctx.hoistedStrings.set(h.value, id);
  }
  for (const [hex, h] of hashes) {
    ctx.defining = true;
    preamble.push(`  const ${ctx.hashes.get(hex).id} = ${serialize(h.value, ctx, 1)};`);
    ctx.defining = false;
  }
  let k = 0;
  const body = groups.flatMap((g) => [...(g.prelude ?? []), ...g.objects.map((o) => {
    const v = `o${k++}`;
    const create = `new ${classExpression(o.cls, ctx.requires, file)}(${g.scope}, ${g.id(v)}, ${serialize(o.literal, ctx, 1)})`;
    if (o.patches.length === 0) return `  ${create};`;
    ctx.usesCdk8s = true;
    return [`  const ${v} = ${create};`, ...o.patches.map((p) => `  ${v}.addJsonPatch(${patchExpression(p, ctx)});`)].join('\n');
  })]);
  if (groups.some((g) => g.prelude?.length) || footer.length) ctx.usesCdk8s = true;

  const header = [
    '\'use strict\';',
    `// Generated by bench/handwritten.js from ${title}: the L1 objects it emits, as literals.`,
    '// Regenerated on every bench run; do not edit.',
    ...(ctx.usesCdk8s ? ['const cdk8s = require(\'cdk8s\');'] : []),
    'const { k8s } = require(\'cdk8s-plus-28\');',
    ...(hashes.size > 0 ? ['const { createHash } = require(\'crypto\');', '', 'function sha256(s) {', '  return createHash(\'sha256\').update(s).digest(\'hex\');', '}'] : []),
    ...[...ctx.requires].map(([rel, id]) => `const ${id} = require(${JSON.stringify(rel)});`),
    '',
    `module.exports = function ${signature} {`,
  ];
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, [...header, ...preamble, ...body, '};', ...footer, ''].join('\n'));
  return hashes.size;
}

/** Generates the baseline module of one construct; returns its path and the object count per instance. */
function generate(lib, construct) {
  const file = handwrittenPath(construct.key);
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-bench-ref-'));
  try {
    const app = new cdk8s.App({ outdir });
    const chart = new cdk8s.Chart(app, 'bench', { namespace: NAMESPACE });
    construct.add(lib, cdk8s, chart, REF_NAME);
    const objects = captureObjects(apiObjectsInSynthOrder(chart));
    const checksums = writeModule(file, `one ${construct.title} instance`, [{ scope: 'scope', id: (v) => `\`\${name}-${v}\``, objects }], 'addInstance(scope, name)');
    return {
      file: path.relative(ROOT, file),
      objectsPerInstance: objects.length,
      kinds: objects.map((o) => o.kind),
      checksumsRecomputed: checksums,
    };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/**
 * The same for a whole app (the example): loads the compiled app with App.synth held back, and writes a script
 * that builds the same charts from literals and synthesizes them (CDK8S_OUTDIR applies, as for any cdk8s app).
 * Returns the captured app, so the caller can synthesize it for comparison.
 */
function generateApp(appFile, outFile) {
  const synth = cdk8s.App.prototype.synth;
  let app;
  cdk8s.App.prototype.synth = function hold() {
    app = this;
  };
  try {
    delete require.cache[require.resolve(appFile)];
    require(appFile);
  } finally {
    cdk8s.App.prototype.synth = synth;
  }
  if (!app) throw new Error(`${path.relative(ROOT, appFile)} did not call app.synth()`);
  const groups = app.charts.map((chart, i) => {
    const props = { namespace: chart.namespace, labels: Object.keys(chart.labels).length > 0 ? chart.labels : undefined };
    const objects = captureObjects(apiObjectsInSynthOrder(chart));
    const ctx = { file: outFile, requires: new Map(), hashes: new Map(), hoistedObjects: new Map(), hoistedStrings: new Map() };
    return {
      scope: `chart${i}`,
      id: (v) => JSON.stringify(v),
      prelude: [`  const chart${i} = new cdk8s.Chart(app, ${JSON.stringify(chart.node.id)}, ${serialize(props, ctx, 1)});`],
      objects,
    };
  });
  writeModule(outFile, path.relative(ROOT, appFile), groups, 'build(app)', [
    '',
    'if (require.main === module) {',
    '  const app = new cdk8s.App();',
    '  module.exports(app);',
    '  app.synth();',
    '}',
  ]);
  return { app, charts: groups.length, objects: groups.reduce((a, g) => a + g.objects.length, 0) };
}

function handwrittenPath(key) {
  return path.join(OUT_DIR, `${key}.js`);
}

module.exports = { generate, generateApp, handwrittenPath, REF_NAME };
