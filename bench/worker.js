'use strict';
// One measurement in a fresh process; prints one JSON line (wall and CPU milliseconds, max RSS).
//   node bench/worker.js <construct> <N>        N instances of the construct in one chart, construct + App.synth timed
//   node bench/worker.js <construct>-hand <N>   the same objects from the generated hand-written L1 module
//   node bench/worker.js <construct>-yaml <N>   the same objects serialized by the yaml package alone (stringify timed)
//   node bench/worker.js <construct>-charts <N> one chart per instance (not in npm run bench: cdk8s makes it quadratic)
//   node bench/worker.js prepare                generate the hand-written modules (per construct, and the whole example
//                                               app) and check they emit the same YAML
// Options: --dump <file> (ours: afterwards, write the synthesized objects as JSON), --from <file> (yaml: read
// them from such a file instead of building them again, which saves the untimed construct and toJson work).
// Everything the timed region needs is loaded before the clock starts.

const fs = require('fs');
const os = require('os');
const path = require('path');
const cdk8s = require('cdk8s');
const { CONSTRUCTS, NAMESPACE, ROOT, constructByKey, loadLib, unavailableReason, instanceName } = require('./scenarios');

const round = (x) => Math.round(x * 100) / 100;

/** Wall and CPU (user + system, all threads) clock; CPU time is far less disturbed by other load on the machine. */
function now() {
  return { wall: process.hrtime.bigint(), cpu: process.cpuUsage() };
}
function since(a, b) {
  return { ms: round(Number(b.wall - a.wall) / 1e6), cpuMs: round((b.cpu.user - a.cpu.user + b.cpu.system - a.cpu.system) / 1000) };
}
function phases(t0, t1, t2) {
  const c = since(t0, t1);
  const s = since(t1, t2);
  const t = since(t0, t2);
  return { constructMs: c.ms, synthMs: s.ms, totalMs: t.ms, constructCpuMs: c.cpuMs, synthCpuMs: s.cpuMs, totalCpuMs: t.cpuMs };
}

function emit(result) {
  process.stdout.write(`${JSON.stringify({ ...result, maxRssKb: process.resourceUsage().maxRSS })}\n`);
}

function newApp() {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-bench-'));
  const app = new cdk8s.App({ outdir });
  const chart = new cdk8s.Chart(app, 'bench', { namespace: NAMESPACE });
  return { app, chart, outdir };
}

function outputBytes(outdir) {
  return fs.readdirSync(outdir).reduce((sum, f) => sum + fs.statSync(path.join(outdir, f)).size, 0);
}

function countApiObjects(scope) {
  return scope.node.findAll().filter((c) => c instanceof cdk8s.ApiObject).length;
}

/** cdk8s's own copy of yaml (it bundles one) and the options its Yaml.stringify passes. */
function cdk8sYaml() {
  const paths = [path.dirname(require.resolve('cdk8s'))];
  const YAML = require(require.resolve('yaml', { paths }));
  const { version } = require(require.resolve('yaml/package.json', { paths }));
  return { YAML, version, options: { keepUndefined: true, lineWidth: 0, version: '1.1' } };
}

function runScenario(scenario, n, opts = {}) {
  const m = /^([a-z]+)(?:-(hand|yaml|charts))?$/.exec(scenario);
  if (!m) throw new Error(`bad scenario "${scenario}"`);
  const construct = constructByKey(m[1]);
  const variant = m[2] ?? 'ours';
  const base = { scenario, construct: construct.key, variant, n };

  if (variant === 'hand') {
    const { handwrittenPath } = require('./handwritten');
    const file = handwrittenPath(construct.key);
    if (!fs.existsSync(file)) return { ...base, ok: false, unavailable: 'hand-written module not generated (run: node bench/worker.js prepare)' };
    const addInstance = require(file);
    const { app, chart, outdir } = newApp();
    const names = Array.from({ length: n }, (_, i) => instanceName(construct, i));
    const t0 = now();
    for (const name of names) addInstance(chart, name);
    const t1 = now();
    app.synth();
    const t2 = now();
    const result = { ...base, ok: true, ...phases(t0, t1, t2), objects: countApiObjects(chart), bytes: outputBytes(outdir) };
    fs.rmSync(outdir, { recursive: true, force: true });
    return result;
  }

  if (variant === 'yaml') {
    const { YAML, version, options } = cdk8sYaml();
    let docs;
    if (opts.from) {
      docs = JSON.parse(fs.readFileSync(opts.from, 'utf8'));
    } else {
      const { lib, error } = loadLib();
      const reason = error ?? unavailableReason(lib, construct);
      if (reason) return { ...base, ok: false, unavailable: reason };
      const { chart, outdir } = newApp();
      for (let i = 0; i < n; i++) construct.add(lib, cdk8s, chart, instanceName(construct, i));
      // the JSON cdk8s would serialize, as plain data; building it does not touch the yaml package
      docs = JSON.parse(JSON.stringify(chart.toJson()));
      fs.rmSync(outdir, { recursive: true, force: true });
    }
    const t0 = now();
    const text = docs.map((d) => YAML.stringify(d, options)).join('---\n');
    const t1 = now();
    const t = since(t0, t1);
    return { ...base, ok: true, totalMs: t.ms, totalCpuMs: t.cpuMs, objects: docs.length, bytes: Buffer.byteLength(text), yamlVersion: version };
  }

  const { lib, error } = loadLib();
  const reason = error ?? unavailableReason(lib, construct);
  if (reason) return { ...base, ok: false, unavailable: reason };
  const { app, chart, outdir } = newApp();
  const names = Array.from({ length: n }, (_, i) => instanceName(construct, i));

  const t0 = now();
  if (variant === 'charts') {
    for (const name of names) construct.add(lib, cdk8s, new cdk8s.Chart(app, name, { namespace: NAMESPACE }), name);
  } else {
    for (const name of names) construct.add(lib, cdk8s, chart, name);
  }
  const t1 = now();
  app.synth();
  const t2 = now();
  const result = { ...base, ok: true, ...phases(t0, t1, t2), objects: countApiObjects(app), bytes: outputBytes(outdir) };
  fs.rmSync(outdir, { recursive: true, force: true });
  if (opts.dump) fs.writeFileSync(opts.dump, JSON.stringify(chart.toJson()));
  return result;
}

/** First path where two JSON values differ, for the verification report. */
function firstDifference(a, b, at = '') {
  if (JSON.stringify(a) === JSON.stringify(b)) return undefined;
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference(a[k], b[k], `${at}/${k}`);
      if (d) return d;
    }
  }
  const show = (v) => (v === undefined ? 'undefined' : JSON.stringify(v).slice(0, 120));
  return `${at || '/'}: construct ${show(a)} vs hand-written ${show(b)}`;
}

/** Files of two output directories that differ, for the verification report. */
function compareDirs(a, b) {
  const fa = fs.readdirSync(a).sort();
  const fb = fs.readdirSync(b).sort();
  if (fa.join() !== fb.join()) return `files ${fa.join(', ')} vs ${fb.join(', ')}`;
  const diff = fa.filter((f) => !fs.readFileSync(path.join(a, f)).equals(fs.readFileSync(path.join(b, f))));
  return diff.length > 0 ? `contents of ${diff.join(', ')} differ` : undefined;
}

/** The example app as a hand-written script (same charts and objects from L1 literals), checked file by file. */
function prepareExampleApp(generateApp, handwrittenPath) {
  const appFile = path.join(ROOT, 'lib-example', 'main.js');
  const handFile = handwrittenPath('example-app');
  if (!fs.existsSync(appFile)) return { available: false, reason: 'lib-example/main.js not built (run npm run build)' };
  const ours = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-bench-app-'));
  const hand = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-bench-app-'));
  const saved = process.env.CDK8S_OUTDIR;
  try {
    process.env.CDK8S_OUTDIR = ours;
    const { app, charts, objects } = generateApp(appFile, handFile);
    app.synth();
    delete require.cache[handFile];
    const handApp = new cdk8s.App({ outdir: hand });
    require(handFile)(handApp);
    handApp.synth();
    const difference = compareDirs(ours, hand);
    return { available: true, file: path.relative(ROOT, handFile), charts, objects, equivalent: !difference, difference };
  } catch (e) {
    if (fs.existsSync(handFile)) fs.rmSync(handFile);
    return { available: false, reason: `failed: ${e.message.split('\n')[0]}` };
  } finally {
    if (saved === undefined) delete process.env.CDK8S_OUTDIR;
    else process.env.CDK8S_OUTDIR = saved;
    fs.rmSync(ours, { recursive: true, force: true });
    fs.rmSync(hand, { recursive: true, force: true });
  }
}

/** Generates every hand-written module and checks that 3 instances synthesize to the same manifests. */
function prepare() {
  const { generate, generateApp, handwrittenPath } = require('./handwritten');
  const { lib, error } = loadLib();
  const report = {};
  for (const construct of CONSTRUCTS) {
    const reason = error ?? unavailableReason(lib, construct);
    if (reason) {
      const stale = handwrittenPath(construct.key);
      if (fs.existsSync(stale)) fs.rmSync(stale);
      report[construct.key] = { available: false, reason };
      continue;
    }
    try {
      const gen = generate(lib, construct);
      const names = [0, 1, 2].map((i) => instanceName(construct, i));
      const ours = newApp();
      for (const name of names) construct.add(lib, cdk8s, ours.chart, name);
      const hand = newApp();
      delete require.cache[handwrittenPath(construct.key)];
      const addInstance = require(handwrittenPath(construct.key));
      for (const name of names) addInstance(hand.chart, name);
      const a = ours.chart.toJson();
      const b = hand.chart.toJson();
      const sameYaml = cdk8s.Yaml.stringify(...a) === cdk8s.Yaml.stringify(...b);
      const key = (o) => `${o.kind}/${o.metadata?.name}`;
      const sortedA = [...a].sort((x, y) => key(x).localeCompare(key(y)));
      const sortedB = [...b].sort((x, y) => key(x).localeCompare(key(y)));
      const sameObjects = JSON.stringify(sortedA) === JSON.stringify(sortedB);
      fs.rmSync(ours.outdir, { recursive: true, force: true });
      fs.rmSync(hand.outdir, { recursive: true, force: true });
      report[construct.key] = {
        available: true,
        ...gen,
        equivalent: sameYaml,
        sameObjectsOtherOrder: !sameYaml && sameObjects,
        difference: sameObjects ? undefined : firstDifference(sortedA, sortedB),
      };
    } catch (e) {
      report[construct.key] = { available: false, reason: `failed: ${e.message.split('\n')[0]}` };
    }
  }
  report.exampleApp = error ? { available: false, reason: error } : prepareExampleApp(generateApp, handwrittenPath);
  return { ok: true, scenario: 'prepare', report };
}

function main() {
  const args = process.argv.slice(2);
  const opts = {};
  for (const flag of ['dump', 'from']) {
    const i = args.indexOf(`--${flag}`);
    if (i >= 0) opts[flag] = args.splice(i, 2)[1];
  }
  const [scenario, nArg] = args;
  if (!scenario) {
    process.stderr.write('usage: node bench/worker.js <construct>[-hand|-yaml] <N> | prepare\n');
    process.exit(2);
  }
  if (scenario === 'prepare') return emit(prepare());
  const n = Number.parseInt(nArg, 10);
  if (!Number.isInteger(n) || n < 1) throw new Error(`N must be a positive integer, got "${nArg}"`);
  try {
    emit(runScenario(scenario, n, opts));
  } catch (e) {
    emit({ scenario, n, ok: false, error: e.message.split('\n').slice(0, 3).join(' ') });
  }
}

main();
