#!/usr/bin/env node
// Bundles the failover controller program (src/failover/program, TypeScript) into the one dependency-free file
// that FailoverController puts in its ConfigMap, so a stock Node.js image runs it.
'use strict';
const path = require('path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');
const outfile = path.join(root, 'lib', 'assets', 'failover-controller.js');

esbuild.buildSync({
  entryPoints: [path.join(root, 'src', 'failover', 'program', 'main.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  // the oldest Node.js line the default image could be overridden with and still run the program
  target: 'node18',
  format: 'cjs',
  legalComments: 'none',
  charset: 'utf8',
  logLevel: 'warning',
  banner: { js: '#!/usr/bin/env node\n// Failover controller of cdk8s-stateful (bundled from src/failover/program; configuration in the environment).' },
});
process.stdout.write(`bundled ${path.relative(root, outfile)}\n`);
