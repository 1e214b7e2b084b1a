/** The `status` command: arguments in, output and an exit code out. */
import { parseStatusArgs, STATUS_USAGE, StatusArgs, UsageError } from './args';
import { EXIT_CODES, exitCodeOf, SnapshotSource, statefulSetStatus, watchStatefulSetStatus } from './index';
import { StatusError } from './kube';
import { StatusReport } from './model';
import { renderReport } from './render';

export interface CommandIo {
  readonly stdout: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly stderr: { write(text: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where the objects come from (default: the cluster of the kubeconfig). */
  readonly source?: SnapshotSource;
}

function useColor(io: CommandIo): boolean {
  return io.stdout.isTTY === true && !io.env.NO_COLOR && io.env.TERM !== 'dumb';
}

function output(report: StatusReport, args: StatusArgs, io: CommandIo): string {
  return args.output === 'json' ? `${JSON.stringify(report, null, args.watch ? undefined : 2)}\n` : renderReport(report, { color: useColor(io) });
}

/** 500 ms, 2 s, 1.5 s, 300 s. */
function duration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Number((ms / 1000).toFixed(1))} s`;
}

/** What changes between two reports apart from the time they were read. */
function fingerprint(report: StatusReport): string {
  return JSON.stringify({ ...report, checkedAt: undefined, checks: report.checks.map((c) => ({ ...c, message: c.message.replace(/\d+ s\b/g, 'N s') })) });
}

export async function runStatusCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  let args: StatusArgs;
  try {
    const parsed = parseStatusArgs(argv);
    if (parsed === 'help') {
      io.stdout.write(STATUS_USAGE);
      return EXIT_CODES.ok;
    }
    args = parsed;
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`error: ${err.message}\nRun 'cdk8s-stateful status --help' for usage.\n`);
      return EXIT_CODES.usage;
    }
    throw err;
  }
  const connection = {
    namespace: args.namespace, name: args.name, kubeconfig: args.kubeconfig, context: args.context, requestTimeoutMs: args.requestTimeoutMs, source: io.source,
  };
  try {
    if (!args.watch) {
      const report = await statefulSetStatus(connection);
      io.stdout.write(output(report, args, io));
      return exitCodeOf(report);
    }
    const tty = io.stdout.isTTY === true && args.output === 'table';
    let last: string | undefined;
    const started = Date.now();
    const result = await watchStatefulSetStatus({
      ...connection,
      timeoutMs: args.timeoutMs,
      intervalMs: args.intervalMs,
      onReport: (report) => {
        if (tty) {
          const left = Math.max(0, Math.round((args.timeoutMs - (Date.now() - started)) / 1000));
          io.stdout.write(`\u001b[H\u001b[2J${output(report, args, io)}\nwatching every ${duration(args.intervalMs)} until every check is ok (gives up in ${left} s)\n`);
          return;
        }
        const print = fingerprint(report);
        if (print === last) return;
        last = print;
        io.stdout.write(args.output === 'json' ? output(report, args, io) : `${output(report, args, io)}---\n`);
      },
    });
    if (!result.settled) {
      io.stderr.write(`status: not settled after ${duration(args.timeoutMs)} (${result.rounds} checks); the last result is shown above\n`);
    }
    return exitCodeOf(result.report);
  } catch (err) {
    if (err instanceof StatusError) {
      io.stderr.write(`error: ${err.message}\n`);
      return EXIT_CODES.unreadable;
    }
    io.stderr.write(`error: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    return EXIT_CODES.unreadable;
  }
}
