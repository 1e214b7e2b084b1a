'use strict';
// CPU profiles, summarized: top self-time functions, self time per module/package, and the inclusive time
// of chosen functions.
//   node bench/profile.js <script> [args...]          run `node --cpu-prof <script> args` and summarize it
//                                                     (node refuses --cpu-prof in NODE_OPTIONS, so a child process such as
//                                                     the app the CLI starts is profiled by passing it: --app 'node --cpu-prof ...')
//   node bench/profile.js --summarize <file.cpuprofile> [...more files]
// Options (before the script): --top <k> (default 25), --inclusive <name,name,...>
// Profiles are kept in bench/results/profiles/.

const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const PROFILE_DIR = path.join(__dirname, 'results', 'profiles');
const DEFAULT_INCLUSIVE = [
  'synth', 'synthYaml', 'toJson', 'stringify', 'resolve', 'sanitizeValue', 'validate', 'resolveDependencies', 'topology',
  'findAll', 'apply', 'Module._load', 'require',
];

/** Which module a script URL belongs to: an npm package, a file of this repo, or node itself. */
function moduleOf(url) {
  if (!url) return '(native / VM)';
  if (url.startsWith('node:')) return 'node (internal)';
  const file = url.replace(/^file:\/\//, '');
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = file.slice(nm + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (file.startsWith(ROOT)) return path.relative(ROOT, file);
  return file;
}

function summarize(file, { top = 25, inclusive = DEFAULT_INCLUSIVE } = {}) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const nodes = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  // duration of sample i is the gap to the next sample
  const selfUs = new Map();
  const { samples, timeDeltas } = prof;
  for (let i = 0; i < samples.length; i++) {
    const dt = i + 1 < samples.length ? timeDeltas[i + 1] : Math.max(0, prof.endTime - (prof.startTime + timeDeltas.reduce((a, b) => a + b, 0)));
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + Math.max(0, dt));
  }
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);

  const byFunction = new Map();
  const byModule = new Map();
  for (const [id, us] of selfUs) {
    const cf = nodes.get(id).callFrame;
    const name = cf.functionName || '(anonymous)';
    const mod = cf.url ? moduleOf(cf.url) : ['(garbage collector)', '(program)', '(idle)', '(root)'].includes(name) ? name : '(native / VM)';
    const where = cf.url ? `${mod}:${cf.lineNumber + 1}` : mod;
    const key = `${name} ${where}`;
    const f = byFunction.get(key) ?? { name, where, us: 0 };
    f.us += us;
    byFunction.set(key, f);
    byModule.set(mod, (byModule.get(mod) ?? 0) + us);
  }

  // inclusive time: a sample counts once for every distinct chosen name on its stack
  const wanted = new Set(inclusive);
  const inclusiveUs = new Map();
  const stackNames = new Map();
  const namesOnStack = (id) => {
    if (stackNames.has(id)) return stackNames.get(id);
    const n = nodes.get(id);
    const up = parent.has(id) ? namesOnStack(parent.get(id)) : new Set();
    const fn = n.callFrame.functionName;
    let set = up;
    if (wanted.has(fn) && !up.has(fn)) {
      set = new Set(up);
      set.add(fn);
    }
    stackNames.set(id, set);
    return set;
  };
  for (const [id, us] of selfUs) for (const name of namesOnStack(id)) inclusiveUs.set(name, (inclusiveUs.get(name) ?? 0) + us);

  const ms = (us) => (us / 1000).toFixed(1);
  const pct = (us) => `${((100 * us) / totalUs).toFixed(1)}%`;
  const lines = [];
  lines.push(`Profile ${path.relative(process.cwd(), file)}: ${ms(totalUs)} ms sampled`);
  lines.push('');
  lines.push(`Top ${top} functions by self time:`);
  lines.push('| self ms | % | function | where |');
  lines.push('|---:|---:|---|---|');
  for (const f of [...byFunction.values()].sort((a, b) => b.us - a.us).slice(0, top)) lines.push(`| ${ms(f.us)} | ${pct(f.us)} | ${f.name} | ${f.where} |`);
  lines.push('');
  lines.push('Self time by module / package:');
  lines.push('| self ms | % | module |');
  lines.push('|---:|---:|---|');
  for (const [mod, us] of [...byModule].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`| ${ms(us)} | ${pct(us)} | ${mod} |`);
  lines.push('');
  lines.push('Inclusive time of selected functions (by name, any module):');
  lines.push('| incl. ms | % | function |');
  lines.push('|---:|---:|---|');
  for (const [name, us] of [...inclusiveUs].sort((a, b) => b[1] - a[1])) lines.push(`| ${ms(us)} | ${pct(us)} | ${name} |`);
  return lines.join('\n');
}

function main() {
  const argv = process.argv.slice(2);
  const opts = { top: 25, inclusive: DEFAULT_INCLUSIVE };
  while (argv[0]?.startsWith('--') && argv[0] !== '--summarize') {
    const flag = argv.shift();
    if (flag === '--top') opts.top = Number.parseInt(argv.shift(), 10);
    else if (flag === '--inclusive') opts.inclusive = argv.shift().split(',');
    else throw new Error(`unknown option ${flag}`);
  }
  if (argv[0] === '--summarize') {
    for (const f of argv.slice(1)) process.stdout.write(`${summarize(f, opts)}\n\n`);
    return;
  }
  if (argv.length === 0) {
    process.stderr.write('usage: node bench/profile.js [--top k] [--inclusive a,b] <script> [args...] | --summarize <file.cpuprofile>...\n');
    process.exit(2);
  }
  fs.mkdirSync(PROFILE_DIR, { recursive: true });
  const before = new Set(fs.readdirSync(PROFILE_DIR));
  const res = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, ...argv], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (res.status !== 0) process.stderr.write(`(profiled command exited ${res.status})\n`);
  const created = fs.readdirSync(PROFILE_DIR).filter((f) => f.endsWith('.cpuprofile') && !before.has(f)).sort();
  for (const f of created) process.stdout.write(`${summarize(path.join(PROFILE_DIR, f), opts)}\n\n`);
}

main();
