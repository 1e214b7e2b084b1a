/**
 * `cdk8s-stateful status` as functions:
 *
 *   import { statefulSetStatus, exitCodeOf, renderReport } from 'cdk8s-stateful/status';
 *   const report = await statefulSetStatus({ namespace: 'apps', name: 'orders-db' });
 *   console.log(renderReport(report));
 *   process.exitCode = exitCodeOf(report);
 */
import { checkStatefulSet } from './checks';
import { CheckLevel, ClusterSnapshot, StatusReport } from './model';
import { ConnectionOptions, StatusError, StatusReader } from './kube';

export { checkStatefulSet, libraryPromises, FAILOVER_BUDGET_ANNOTATION } from './checks';
export { renderReport } from './render';
export type { RenderOptions } from './render';
export { REQUIRED_ACCESS, StatusError, StatusReader } from './kube';
export type { ConnectionOptions, StatusErrorKind } from './kube';
export * from './model';

/** Where snapshots come from: the cluster (StatusReader), or anything else that reads the same objects. */
export interface SnapshotSource {
  snapshot(namespace: string, name: string): Promise<ClusterSnapshot>;
}

export interface StatusOptions extends ConnectionOptions {
  /** Namespace of the StatefulSet. */
  readonly namespace: string;
  /** Name of the StatefulSet. */
  readonly name: string;
  /**
   * Read the objects from here instead of connecting with the kubeconfig.
   * @default - a StatusReader for the kubeconfig options
   */
  readonly source?: SnapshotSource;
}

/** Exit codes of the command: 0 every check ok, 1 a check failed, 2 warnings only, 3 status unreadable, 64 bad usage. */
export const EXIT_CODES = { ok: 0, failure: 1, warning: 2, unreadable: 3, usage: 64 } as const;

export function exitCodeOf(report: StatusReport): number {
  const byLevel: Record<CheckLevel, number> = { ok: EXIT_CODES.ok, failure: EXIT_CODES.failure, warning: EXIT_CODES.warning };
  return byLevel[report.summary.result];
}

/** Reads the StatefulSet once and checks it. Rejects with a StatusError when it cannot be read. */
export async function statefulSetStatus(opts: StatusOptions): Promise<StatusReport> {
  const source = opts.source ?? await StatusReader.connect(opts);
  return checkStatefulSet(await source.snapshot(opts.namespace, opts.name));
}

export interface WatchOptions extends StatusOptions {
  /** Give up after this long (ms). Default 5 minutes. */
  readonly timeoutMs?: number;
  /** Time between checks (ms). Default 2000. */
  readonly intervalMs?: number;
  /** Called with every report. */
  readonly onReport?: (report: StatusReport) => void;
}

export interface WatchResult {
  /** The last report. */
  readonly report: StatusReport;
  /** True when every check turned ok before the timeout. */
  readonly settled: boolean;
  /** Checks made. */
  readonly rounds: number;
}

/** Checks again and again until every check is ok or the timeout passes (a rollout or a failover settling). */
export async function watchStatefulSetStatus(opts: WatchOptions): Promise<WatchResult> {
  const deadline = Date.now() + (opts.timeoutMs ?? 5 * 60_000);
  const source = opts.source ?? await StatusReader.connect(opts);
  let rounds = 0;
  for (;;) {
    const report = checkStatefulSet(await source.snapshot(opts.namespace, opts.name));
    rounds++;
    opts.onReport?.(report);
    if (report.summary.result === 'ok') return { report, settled: true, rounds };
    const wait = Math.min(opts.intervalMs ?? 2000, deadline - Date.now());
    if (wait <= 0) return { report, settled: false, rounds };
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

export function isStatusError(err: unknown): err is StatusError {
  return err instanceof StatusError;
}
