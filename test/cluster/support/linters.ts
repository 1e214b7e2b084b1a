/**
 * Peer linters over synthesized manifests, and the allowlist that keeps their
 * remaining findings explained (test/cluster/linter-allowlist.json).
 */
import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface Finding {
  readonly tool: string;
  /** Matrix case id, or "example". */
  readonly case: string;
  readonly kind: string;
  readonly name: string;
  readonly check: string;
  /** Container the finding is about ('' for the whole object). */
  readonly container: string;
  readonly summary: string;
  readonly severity: string;
}

export interface AllowlistEntry {
  readonly tool: string;
  readonly check: string;
  /** The finding texts this entry explains; each must still occur in every listed case. */
  readonly summaries: string[];
  readonly kind: string;
  /** Regular expression (anchored) on the object name. */
  readonly objects: string;
  /** Regular expression (anchored) on the container; absent means the finding is about the whole object. */
  readonly containers?: string;
  /** Every case listed must still produce the finding, or the entry is stale. */
  readonly cases: string[];
  readonly reason: string;
}

export interface Allowlist {
  readonly entries: AllowlistEntry[];
}

export const ALLOWLIST_FILE = path.join(__dirname, '..', 'linter-allowlist.json');

export function loadAllowlist(): Allowlist {
  return JSON.parse(fs.readFileSync(ALLOWLIST_FILE, 'utf8')) as Allowlist;
}

function anchored(re: string): RegExp {
  return new RegExp(`^(?:${re})$`);
}

export function matches(entry: AllowlistEntry, f: Finding): boolean {
  return entry.tool === f.tool && entry.check === f.check && entry.summaries.includes(f.summary) && entry.kind === f.kind
    && entry.cases.includes(f.case) && anchored(entry.objects).test(f.name)
    && (entry.containers === undefined ? f.container === '' : anchored(entry.containers).test(f.container));
}

export interface AllowlistReport {
  /** Findings no entry explains. */
  readonly unexpected: Finding[];
  /** Entries (with the case) that no longer match any finding. */
  readonly stale: Array<{ entry: number; check: string; case: string; summary: string }>;
  /** Findings per entry index. */
  readonly matchedPerEntry: number[];
}

export function checkAllowlist(allowlist: Allowlist, findings: Finding[], tool: string): AllowlistReport {
  const entries = allowlist.entries.map((e, i) => ({ e, i })).filter(({ e }) => e.tool === tool);
  const matchedPerEntry = allowlist.entries.map(() => 0);
  const unexpected: Finding[] = [];
  for (const f of findings) {
    const hits = entries.filter(({ e }) => matches(e, f));
    if (hits.length === 0) unexpected.push(f);
    for (const { i } of hits) matchedPerEntry[i]++;
  }
  const stale: Array<{ entry: number; check: string; case: string; summary: string }> = [];
  for (const { e, i } of entries) {
    for (const c of e.cases) {
      for (const summary of e.summaries) {
        if (!findings.some((f) => f.case === c && f.summary === summary && matches(e, f))) stale.push({ entry: i, check: e.check, case: c, summary });
      }
    }
  }
  return { unexpected, stale, matchedPerEntry };
}

/** Multi-document YAML (JSON documents are YAML) for a linter's stdin or input file. */
export function toYamlStream(manifests: any[]): string {
  return manifests.map((m) => JSON.stringify(m)).join('\n---\n') + '\n';
}

const KUBE_SCORE_SEVERITY: Record<number, string> = { 1: 'CRITICAL', 5: 'WARNING', 7: 'WARNING' };

/** kube-score with its default settings; every comment of a non-OK, non-skipped check is a finding. */
export function kubeScore(bin: string, caseId: string, manifests: any[]): Finding[] {
  const res = childProcess.spawnSync(bin, ['score', '--output-format', 'json', '-'], { input: toYamlStream(manifests), encoding: 'utf8' });
  // exit 1 only means "critical findings"; anything unparsable is a real failure
  if (res.error) throw res.error;
  let report: any[];
  try {
    report = JSON.parse(res.stdout);
  } catch {
    throw new Error(`kube-score exited ${res.status} without a JSON report: ${res.stderr}`);
  }
  const findings: Finding[] = [];
  for (const obj of report ?? []) {
    for (const c of obj.checks ?? []) {
      if (c.skipped || c.grade >= 10) continue;
      for (const comment of c.comments ?? [{ path: '', summary: c.check.name }]) {
        findings.push({
          tool: 'kube-score',
          case: caseId,
          kind: obj.type_meta.kind,
          name: obj.object_meta.name,
          check: c.check.id,
          container: comment.path ?? '',
          summary: comment.summary,
          severity: KUBE_SCORE_SEVERITY[c.grade] ?? `grade ${c.grade}`,
        });
      }
    }
  }
  return findings;
}

export function kubeScoreVersion(bin: string): string {
  return childProcess.execFileSync(bin, ['version'], { encoding: 'utf8' }).trim();
}

/** kube-linter with its default checks; findings in the same shape. */
export function kubeLinter(bin: string, caseId: string, manifests: any[]): Finding[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-linter-'));
  try {
    fs.writeFileSync(path.join(dir, 'manifests.yaml'), toYamlStream(manifests));
    const res = childProcess.spawnSync(bin, ['lint', '--format', 'json', dir], { encoding: 'utf8' });
    if (res.error) throw res.error;
    let report: any;
    try {
      report = JSON.parse(res.stdout);
    } catch {
      throw new Error(`kube-linter exited ${res.status} without a JSON report: ${res.stderr}`);
    }
    return (report.Reports ?? []).map((r: any): Finding => ({
      tool: 'kube-linter',
      case: caseId,
      kind: r.Object?.K8sObject?.GroupVersionKind?.Kind ?? '',
      name: r.Object?.K8sObject?.Name ?? '',
      check: r.Check,
      container: '',
      summary: r.Diagnostic?.Message ?? '',
      severity: 'ERROR',
    }));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function describeFinding(f: Finding): string {
  return `[${f.case}] ${f.kind}/${f.name}${f.container ? ` (${f.container})` : ''}: ${f.check}: ${f.summary}`;
}

/** Writes each case's manifests to `<dir>/<case>.yaml`, so that one scanner run covers every case. */
export function writeCases(dir: string, inputs: Array<{ id: string; manifests: any[] }>): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const i of inputs) fs.writeFileSync(path.join(dir, `${i.id}.yaml`), toYamlStream(i.manifests));
}

/** The case a scanner's file path belongs to (see writeCases). */
function caseOf(file: string): string {
  return path.basename(file).replace(/\.yaml$/, '');
}

/**
 * Checkov (its kubernetes framework, default checks) over every case at once. Every failed check is a finding;
 * Checkov names resources "Kind.namespace.name".
 */
export function checkov(bin: string, dir: string): Finding[] {
  const res = childProcess.spawnSync(bin, ['-d', dir, '--framework', 'kubernetes', '-o', 'json', '--quiet', '--skip-download'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (res.error) throw res.error;
  let report: any;
  try {
    report = JSON.parse(res.stdout);
  } catch {
    throw new Error(`checkov exited ${res.status} without a JSON report: ${res.stderr.slice(-2000)}`);
  }
  const runs = Array.isArray(report) ? report : [report];
  const findings: Finding[] = [];
  for (const run of runs) {
    if ((run.summary?.parsing_errors ?? 0) > 0) throw new Error(`checkov could not parse ${run.summary.parsing_errors} file(s)`);
    for (const f of run.results?.failed_checks ?? []) {
      const [kind, , ...rest] = String(f.resource).split('.');
      findings.push({
        tool: 'checkov', case: caseOf(f.file_abs_path ?? f.file_path), kind, name: rest.join('.'), check: f.check_id, container: '',
        summary: f.check_name, severity: f.severity ?? 'FAILED',
      });
    }
  }
  return findings;
}

export function checkovVersion(bin: string): string {
  return childProcess.execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
}

/**
 * kubectl-validate over every case at once, strict (unknown fields are errors), against the OpenAPI schemas in
 * `schemas` (taken from the running API server) and the CRDs in `crds`. Returns one line per object it refused.
 */
export function kubectlValidate(bin: string, dir: string, schemas: string, crds: string): { objects: number; failures: string[] } {
  const res = childProcess.spawnSync(bin, [dir, '--local-schemas', schemas, '--local-crds', crds, '-o', 'json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (res.error) throw res.error;
  let report: Record<string, any[]>;
  try {
    report = JSON.parse(res.stdout);
  } catch {
    throw new Error(`kubectl-validate exited ${res.status} without a JSON report: ${res.stdout.slice(0, 500)} ${res.stderr.slice(-2000)}`);
  }
  let objects = 0;
  const failures: string[] = [];
  for (const [file, results] of Object.entries(report)) {
    for (const [i, r] of results.entries()) {
      objects++;
      if (r.status !== 'Success') failures.push(`[${caseOf(file)}] document ${i + 1}: ${r.message}`);
    }
  }
  return { objects, failures };
}
