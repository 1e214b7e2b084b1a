/** The human output of `status`: a header, the pods and claims as tables, then every check. */
import { shortAccessMode } from './checks';
import { CheckLevel, StatusReport } from './model';

export interface RenderOptions {
  /** ANSI colours (only for a terminal). */
  readonly color?: boolean;
}

const COLORS: Record<CheckLevel, string> = { ok: '\u001b[32m', warning: '\u001b[33m', failure: '\u001b[31m' };
const RESET = '\u001b[0m';
const BOLD = '\u001b[1m';

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

function budgetValue(v: number | string | undefined): string {
  return v === undefined ? '?' : typeof v === 'number' ? `${v} s` : v;
}

export function renderReport(report: StatusReport, opts: RenderOptions = {}): string {
  const color = opts.color ?? false;
  const paint = (level: CheckLevel, text: string) => (color ? `${COLORS[level]}${text}${RESET}` : text);
  const bold = (text: string) => (color ? `${BOLD}${text}${RESET}` : text);
  const out: string[] = [];
  const r = report.replicas;
  out.push(bold(`StatefulSet ${report.namespace}/${report.name}`) + (report.construct ? ` (${report.construct})` : ''));
  out.push(`  Replicas: ${r.ready}/${r.desired} ready   ServiceName: ${report.serviceName ?? '-'}   ${report.podManagementPolicy}`);
  const strategy = report.updateStrategy.partition !== undefined
    ? `${report.updateStrategy.type}, partition ${report.updateStrategy.partition}` : report.updateStrategy.type;
  const revisions = report.revisions.current === report.revisions.update
    ? `revision ${report.revisions.update ?? '-'}` : `current ${report.revisions.current ?? '-'}, update ${report.revisions.update ?? '-'}`;
  out.push(`  Update: ${strategy}, ${revisions}   Claims kept: whenScaled ${report.claimRetention.whenScaled}, whenDeleted ${report.claimRetention.whenDeleted}`);
  if (report.failoverBudget) {
    const b = report.failoverBudget;
    const automation = b.nodeLossWithAutomationSeconds === 'off' ? 'automation off' : `${budgetValue(b.nodeLossWithAutomationSeconds)} with automation`;
    out.push(`  Failover budget: hung process ${budgetValue(b.hungProcessSeconds)}, node loss ${budgetValue(b.nodeLossWithoutAutomationSeconds)} without automation, ${automation}`);
  }
  out.push('');

  const revisionName = (rev: string | undefined) => {
    if (!rev) return '-';
    if (rev === report.revisions.update) return report.revisions.current === rev ? 'current' : 'update';
    if (rev === report.revisions.current) return 'current';
    return rev;
  };
  if (report.pods.length === 0) {
    out.push('Pods: none');
  } else {
    out.push(...table(['ORDINAL', 'POD', 'IP', 'NODE', 'PHASE', 'READY', 'RESTARTS', 'REVISION'], report.pods.map((p) => [
      p.ordinal === undefined ? '-' : String(p.ordinal), p.name, p.ip ?? '-',
      p.node === undefined ? '-' : `${p.node}${p.nodeReady === false ? ' (NotReady)' : ''}`,
      p.phase, p.ready ? 'true' : 'false', String(p.restarts), revisionName(p.revision),
    ])));
  }
  out.push('');
  if (report.claims.length === 0) {
    out.push('Claims: none');
  } else {
    out.push(...table(['CLAIM', 'PHASE', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'VOLUME'], report.claims.map((c) => [
      c.name, c.phase, c.capacity ?? '-', c.accessModes.map(shortAccessMode).join(',') || '-', c.storageClass ?? '-', c.volume ?? '-',
    ])));
  }
  out.push('');
  const width = Math.max(...report.checks.map((c) => c.check.length));
  for (const c of report.checks) {
    const level = paint(c.level, c.level.padEnd(7));
    out.push(`${level}  ${c.check.padEnd(width)}  ${c.object ? `${c.object}: ` : ''}${c.message}`);
  }
  const s = report.summary;
  out.push('');
  out.push(`${paint(s.result, s.result === 'ok' ? 'OK' : s.result === 'warning' ? 'WARNING' : 'FAILURE')}: `
    + `${s.failure} failed, ${s.warning} warning${s.warning === 1 ? '' : 's'}, ${s.ok} ok (checked ${report.checkedAt})`);
  return `${out.join('\n')}\n`;
}
