/**
 * Group 6: peer linters and scanners over every manifest of the example app and of the configuration matrix.
 * kube-score and Checkov are enforced: each finding must be in linter-allowlist.json with its reason, and each
 * entry must still match. kubectl-validate must accept every object, strictly, against the schemas of the
 * running API server.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { attachControlPlane } from './control-plane';
import {
  checkAllowlist, checkov, checkovVersion, describeFinding, Finding, kubectlValidate, kubeLinter, kubeScore, kubeScoreVersion, loadAllowlist, writeCases,
} from './support/linters';
import { Kube } from './support/kube';
import { MATRIX, synthExample } from './support/matrix';
import { writeResult } from './support/results';

const cp = attachControlPlane();
const inputs: Array<{ id: string; manifests: any[] }> = [
  { id: 'example', manifests: synthExample() },
  ...MATRIX.map((c) => ({ id: c.id, manifests: c.synth() })),
];
const results: Record<string, unknown> = {};
const casesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-stateful-scan-'));
writeCases(path.join(casesDir, 'cases'), inputs);

afterAll(() => {
  fs.rmSync(casesDir, { recursive: true, force: true });
  const file = writeResult('linters.json', results);
  process.stdout.write(`linter results written to ${file}\n`);
});

describe('kube-score (default settings)', () => {
  const bin = path.join(cp.binDir, 'kube-score');

  test('every finding is in linter-allowlist.json with its reason, and every entry still matches', () => {
    const findings: Finding[] = inputs.flatMap((i) => kubeScore(bin, i.id, i.manifests));
    const allowlist = loadAllowlist();
    const report = checkAllowlist(allowlist, findings, 'kube-score');
    results.kubeScore = {
      version: kubeScoreVersion(bin),
      inputs: inputs.map((i) => ({ case: i.id, objects: i.manifests.length })),
      findings: findings.length,
      allowlisted: findings.length - report.unexpected.length,
      unexpected: report.unexpected,
      stale: report.stale,
      perEntry: allowlist.entries.map((e, i) => ({ check: e.check, kind: e.kind, objects: e.objects, findings: report.matchedPerEntry[i] })),
    };
    process.stdout.write(`kube-score: ${findings.length} findings over ${inputs.length} inputs, `
      + `${findings.length - report.unexpected.length} allowlisted, ${report.unexpected.length} not, ${report.stale.length} stale entries\n`);
    expect(report.unexpected.map(describeFinding)).toEqual([]);
    expect(report.stale.map((s) => `entry ${s.entry} (${s.check}) lists case ${s.case}, which no longer has "${s.summary}"`)).toEqual([]);
  });

  test('every allowlist entry has its own reason (no shared, generic text)', () => {
    const reasons = loadAllowlist().entries.map((e) => e.reason.trim());
    expect(reasons.filter((r) => r === '')).toEqual([]);
    expect(reasons.filter((r, i) => reasons.indexOf(r) !== i)).toEqual([]);
  });
});

describe('kube-linter', () => {
  const bin = path.join(cp.binDir, 'kube-linter');
  const available = fs.existsSync(bin);

  if (!available) {
    // reported, not failed: the tool cannot be built here (see docs/verified-against-kubernetes.md)
    const marker = path.join(path.dirname(cp.binDir), '.kube-linter.unavailable');
    const reason = `kube-linter binary not found in ${cp.binDir}: scripts/cluster/build.sh could not build golang.stackrox.io/kube-linter`
      + (fs.existsSync(marker) ? ` (it left ${marker}; here the Go module proxy answers 403 Forbidden for that module path)` : '');
    results.kubeLinter = { available: false, reason };
    test.todo(`kube-linter not run: ${reason}`);
    beforeAll(() => {
      process.stderr.write(`WARNING: ${reason}\n`);
    });
    return;
  }

  test('every finding is in linter-allowlist.json with its reason, and every entry still matches', () => {
    const findings = inputs.flatMap((i) => kubeLinter(bin, i.id, i.manifests));
    const report = checkAllowlist(loadAllowlist(), findings, 'kube-linter');
    results.kubeLinter = { available: true, findings: findings.length, unexpected: report.unexpected, stale: report.stale };
    expect(report.unexpected.map(describeFinding)).toEqual([]);
    expect(report.stale.map((s) => `entry ${s.entry} (${s.check}) lists case ${s.case}, which no longer has "${s.summary}"`)).toEqual([]);
  });
});


describe('kubectl-validate (strict, schemas from the running API server)', () => {
  test('accepts every object of every case', async () => {
    // the OpenAPI v3 document of every group-version the API server serves, in the layout --local-schemas reads
    const schemas = path.join(casesDir, 'schemas');
    const kube = new Kube(cp);
    try {
      const index = (await kube.call('GET', '/openapi/v3')).body;
      for (const [gv, ref] of Object.entries<any>(index.paths)) {
        if (!/^(api\/v1|apis\/[^/]+\/[^/]+)$/.test(gv)) continue;
        const doc = await kube.call('GET', ref.serverRelativeURL);
        fs.mkdirSync(path.dirname(path.join(schemas, gv)), { recursive: true });
        fs.writeFileSync(path.join(schemas, `${gv}.json`), JSON.stringify(doc.body));
      }
    } finally {
      kube.close();
    }
    const report = kubectlValidate(path.join(cp.binDir, 'kubectl-validate'), path.join(casesDir, 'cases'), schemas, path.join(__dirname, '..', '..', 'crds'));
    results.kubectlValidate = { objects: report.objects, failures: report.failures };
    process.stdout.write(`kubectl-validate: ${report.objects} objects over ${inputs.length} inputs, ${report.failures.length} refused\n`);
    expect(report.objects).toBe(inputs.reduce((n, i) => n + i.manifests.length, 0));
    expect(report.failures).toEqual([]);
  });
});

describe('Checkov (kubernetes framework, default checks)', () => {
  const bin = process.env.CHECKOV;

  test('every finding is in linter-allowlist.json with its reason, and every entry still matches', () => {
    if (!bin) throw new Error('CHECKOV is not set: run the suite through npm run test:cluster (scripts/ensure-checkov.sh installs it)');
    const findings = checkov(bin, path.join(casesDir, 'cases'));
    const report = checkAllowlist(loadAllowlist(), findings, 'checkov');
    results.checkov = { version: checkovVersion(bin), findings: findings.length, unexpected: report.unexpected, stale: report.stale, all: findings };
    process.stdout.write(`checkov: ${findings.length} findings over ${inputs.length} inputs, ${findings.length - report.unexpected.length} allowlisted, `
      + `${report.unexpected.length} not, ${report.stale.length} stale entries\n`);
    expect(report.unexpected.map(describeFinding)).toEqual([]);
    expect(report.stale.map((s) => `entry ${s.entry} (${s.check}) lists case ${s.case}, which no longer has "${s.summary}"`)).toEqual([]);
  });
});
