#!/usr/bin/env bash
# Packs the library with npm pack and synthesizes a chart from a fresh consumer project outside the repository.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$repo"
tarball="$(npm pack --silent --pack-destination "$work" | tail -n 1)"
echo "packed $tarball ($(du -h "$work/$tarball" | cut -f1))"
mkdir "$work/consumer"
cd "$work/consumer"
cat > package.json <<'JSON'
{ "name": "consumer", "version": "1.0.0", "private": true }
JSON
deps="$(node -e "const p=require('$repo/package.json'); console.log(['cdk8s','cdk8s-plus-28','constructs'].map(d => d + '@' + p.devDependencies[d]).join(' '))")"
npm install --no-audit --no-fund --silent "$work/$tarball" $deps
cat > main.js <<'JS'
const { App, Chart, Size } = require('cdk8s');
const { RwopStatefulApp } = require('cdk8s-stateful');
const lib = require('cdk8s-stateful');
const app = new App({ outdir: 'out' });
const chart = new Chart(app, 'consumer', { namespace: 'shop' });
new RwopStatefulApp(chart, 'db', { image: 'postgres:16.4', ports: [{ name: 'pg', port: 5432 }], storageSize: Size.gibibytes(5),
  nodeLossAutomation: { acknowledgeNodesAreFenced: true } });
for (const name of ['RedisCluster', 'PlacementCenter']) {
  if (lib[name] === undefined) continue;
  new lib[name](chart, name, name === 'RedisCluster' ? { auth: { existingSecret: 'redis-auth', existingSecretPasswordKey: 'password' } } : {});
}
app.synth();
JS
node main.js
out="out/consumer.k8s.yaml"
grep -q 'ReadWriteOncePod' "$out"
grep -q 'node.kubernetes.io/out-of-service' "$out"
echo "consumer synthesized $(grep -c '^kind:' "$out") objects from the packed library"

# the Redis lifecycle scripts are shell files in the package (src/redis/sh): the packed library renders
# the same ConfigMap data as the repository's build, for a plain and for an ACL + TLS + Valkey + draining cluster
cat > redis-files.js <<'JS'
const path = require('path');
const target = require.resolve(process.argv[2], { paths: [process.cwd()] });
const { Testing } = require(require.resolve('cdk8s', { paths: [path.dirname(target)] }));
const lib = require(target);
const shapes = {
  defaults: {},
  variants: { shards: 4, drainingShards: 1, acl: { usersSecret: 'users' }, tls: { existingSecret: 'tls' }, flavour: lib.RedisFlavour.VALKEY_8 },
};
const files = {};
for (const [shape, props] of Object.entries(shapes)) files[shape] = new lib.RedisCluster(Testing.chart(), 'r', { name: 'r', ...props }).files;
process.stdout.write(JSON.stringify(files, null, 1));
JS
shipped="$(tar -tzf "$work/$tarball")"
grep -q '^package/src/redis/sh/shared/base.sh$' <<<"$shipped"
node redis-files.js cdk8s-stateful > redis-packed.json
node redis-files.js "$repo/lib/src/index.js" > redis-repo.json
cmp redis-packed.json redis-repo.json
grep -q 'exec valkey-server' redis-packed.json
echo "Redis scripts: $(grep -c '^package/src/redis/sh/.*\.sh$' <<<"$shipped") shell files shipped; the packed library renders the repository's ConfigMap"

# bad input from a JavaScript caller, who has no types to stop it: the library's own errors, naming the prop
cat > bad-input.js <<'JS'
const assert = require('assert');
const { Testing } = require('cdk8s');
const lib = require('cdk8s-stateful');
const cases = [
  ['an enum given any string', (c) => new lib.StatefulWorkload(c, 'w', { containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ name: 'http', port: 80, protocol: 'tcp' }] }] }),
    /test\/w: invalid containers\[web\]\.ports\[http\]\.protocol \("tcp"\): must be one of Protocol/],
  ['a required prop left out', (c) => new lib.RwopStatefulApp(c, 'db', {}), /test\/db: invalid image \(unset\): is required/],
  ['a label overriding the selector', (c) => new lib.StatefulWorkload(c, 'w', { containers: [{ name: 'web', image: 'nginx:1.27' }], labels: { 'app.kubernetes.io/instance': 'x' } }),
    /invalid labels\["app\.kubernetes\.io\/instance"\] \("x"\): would override the selector label/],
  ['two objects of one name', (c) => { new lib.StatefulWorkload(c, 'a', { name: 'web', containers: [{ name: 'web', image: 'nginx:1.27' }] });
    new lib.StatefulWorkload(c, 'b', { name: 'web', containers: [{ name: 'web', image: 'nginx:1.27' }] }); Testing.synth(c); },
    /StatefulSet "web" .* is emitted twice, by test\/a\/Resource and by test\/b\/Resource/],
  ['RedisClusters "cache" and "cache-headless" (two Services "cache-headless")', (c) => { new lib.RedisCluster(c, 'a', { name: 'cache' });
    new lib.RedisCluster(c, 'b', { name: 'cache-headless' }); Testing.synth(c); },
    /Service "cache-headless" .* is emitted twice, by test\/a\/Workload\/Headless and by test\/b\/Client/],
  ['two PlacementCenters with the default StorageClass', (c) => { new lib.PlacementCenter(c, 'a', { name: 'pc-a' });
    new lib.PlacementCenter(c, 'b', { name: 'pc-b' }); Testing.synth(c); },
    /StorageClass "ssd" \(cluster-scoped: one per cluster\) is emitted twice/],
];
for (const [name, make, message] of cases) {
  assert.throws(() => make(Testing.chart()), message, name);
}
console.log(`bad input from JavaScript: ${cases.length} cases refused with the library's errors`);
JS
node bad-input.js

# the status command and its function API, from the installed tarball (bin and optional client included)
npx --no-install cdk8s-stateful status --help | grep -q '^Usage: cdk8s-stateful status <namespace> <statefulset>'
rc=0
npx --no-install cdk8s-stateful status apps db --kubeconfig "$work/missing-kubeconfig" 2> status.err || rc=$?
grep -q 'missing-kubeconfig (--kubeconfig) does not exist' status.err
[ "$rc" -eq 3 ]
cat > unreachable.kubeconfig <<'YAML'
apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "https://127.0.0.1:9", insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: c, context: { cluster: c, user: u } }]
current-context: c
YAML
rc=0
npx --no-install cdk8s-stateful status apps db --kubeconfig unreachable.kubeconfig 2> status.err || rc=$?
grep -q 'cannot reach the API server https://127.0.0.1:9' status.err
[ "$rc" -eq 3 ]
node -e "
const status = require('cdk8s-stateful/status');
status.statefulSetStatus({ namespace: 'apps', name: 'db', kubeconfig: 'unreachable.kubeconfig' }).then(
  () => { throw new Error('expected an error'); },
  (err) => { if (!status.isStatusError(err) || err.kind !== 'unreachable') throw err; });
"
cat > check-types.ts <<'TS'
import { exitCodeOf, renderReport, statefulSetStatus, StatusReport } from 'cdk8s-stateful/status';
export async function gate(): Promise<number> {
  const report: StatusReport = await statefulSetStatus({ namespace: 'apps', name: 'db', context: 'prod' });
  process.stdout.write(renderReport(report));
  return exitCodeOf(report);
}
TS
"$repo/node_modules/.bin/tsc" --noEmit --strict --module commonjs --target es2022 --skipLibCheck check-types.ts
# without the optional client (npm install --omit=optional) the command says what to install
rm -rf node_modules/@kubernetes/client-node
rc=0
npx --no-install cdk8s-stateful status apps db --kubeconfig unreachable.kubeconfig 2> status.err || rc=$?
grep -q 'needs @kubernetes/client-node' status.err
[ "$rc" -eq 3 ]
echo "status command: --help, a missing kubeconfig and an unreachable server answered from the packed library, and a clear error without the optional client"
