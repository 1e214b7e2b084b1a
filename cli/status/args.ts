/** Command-line arguments of `cdk8s-stateful status`. */

export const STATUS_USAGE = `Usage: cdk8s-stateful status <namespace> <statefulset> [options]

Checks a live StatefulSet against what cdk8s-stateful rendered for it: replicas, pods and claims
for every ordinal (and none beyond), claim binding, the headless Service, rollout progress, the
disruption budget, and pods stuck on a lost node or waiting for a ReadWriteOncePod claim.

Options:
  --kubeconfig <file>       kubeconfig to use (default: $KUBECONFIG, else ~/.kube/config,
                            else the pod's service account when run inside a cluster)
  --context <name>          kubeconfig context (default: the current context)
  -o, --output <format>     table (default) or json
  -w, --watch               check again every --interval until every check is ok or --timeout
  --timeout <duration>      with --watch: give up after this long (default 5m)
  --interval <duration>     with --watch: time between checks (default 2s)
  --request-timeout <dur>   time limit of each API request (default 30s)
  -h, --help                show this help

Durations: a number with a unit, e.g. 90s, 5m, 1m30s, 500ms.

Exit codes: 0 every check ok; 1 a check failed; 2 warnings only; 3 the status could not be read
(kubeconfig, connection, missing StatefulSet, RBAC); 64 bad command line.
`;

export type OutputFormat = 'table' | 'json';

export interface StatusArgs {
  readonly namespace: string;
  readonly name: string;
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly output: OutputFormat;
  readonly watch: boolean;
  readonly timeoutMs: number;
  readonly intervalMs: number;
  readonly requestTimeoutMs: number;
}

/** A command line that cannot be run; the message says what is accepted. */
export class UsageError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** "1m30s" -> 90000. */
export function parseDuration(flag: string, text: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  if (text.length === 0) throw new UsageError(`${flag}: a duration is required (for example 90s or 5m)`);
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw new UsageError(`${flag}: invalid duration "${text}": use a number with a unit, for example 500ms, 90s, 5m or 1m30s`);
    total += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    pos = re.lastIndex;
  }
  if (total <= 0) throw new UsageError(`${flag}: the duration must be more than 0 (got "${text}")`);
  return Math.round(total);
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** Parses the arguments after `status`. Returns "help" for -h/--help. */
export function parseStatusArgs(argv: readonly string[]): StatusArgs | 'help' {
  const positional: string[] = [];
  const values: Record<string, string> = {};
  let watch = false;
  const withValue = new Set(['--kubeconfig', '--context', '--output', '--timeout', '--interval', '--request-timeout']);
  const aliases: Record<string, string> = { '-o': '--output', '-w': '--watch', '-h': '--help' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const rawFlag = eq > 0 ? arg.slice(0, eq) : arg;
    const flag = aliases[rawFlag] ?? rawFlag;
    if (flag === '--help') return 'help';
    if (flag === '--watch') {
      if (eq > 0) throw new UsageError(`${rawFlag} takes no value`);
      watch = true;
      continue;
    }
    if (!withValue.has(flag)) {
      throw new UsageError(`unknown option ${rawFlag}; options: --kubeconfig, --context, -o/--output, -w/--watch, --timeout, --interval, --request-timeout, -h/--help`);
    }
    let value: string;
    if (eq > 0) {
      value = arg.slice(eq + 1);
    } else {
      if (i + 1 >= argv.length || (argv[i + 1].startsWith('-') && argv[i + 1] !== '-')) throw new UsageError(`${rawFlag} needs a value`);
      value = argv[++i];
    }
    if (values[flag] !== undefined) throw new UsageError(`${rawFlag} given twice`);
    if (value === '') throw new UsageError(`${rawFlag} needs a non-empty value`);
    values[flag] = value;
  }
  if (positional.length !== 2) {
    throw new UsageError(positional.length < 2
      ? `expected <namespace> <statefulset>, got ${positional.length === 0 ? 'neither' : `only "${positional[0]}"`}`
      : `expected <namespace> <statefulset>, got ${positional.length} arguments: ${positional.join(' ')}`);
  }
  const [namespace, name] = positional;
  if (!DNS_SUBDOMAIN.test(namespace) || namespace.length > 63 || namespace.includes('.')) {
    throw new UsageError(`invalid namespace "${namespace}": a namespace is a DNS label (lower-case letters, digits and '-', at most 63 characters)`);
  }
  if (!DNS_SUBDOMAIN.test(name) || name.length > 253) {
    throw new UsageError(`invalid StatefulSet name "${name}": lower-case letters, digits, '-' and '.', starting and ending with a letter or digit`);
  }
  const output = values['--output'] ?? 'table';
  if (output !== 'table' && output !== 'json') throw new UsageError(`--output: "${output}" is not a format; use table or json`);
  if (!watch && (values['--timeout'] !== undefined || values['--interval'] !== undefined)) {
    throw new UsageError(`${values['--timeout'] !== undefined ? '--timeout' : '--interval'} applies only with --watch`);
  }
  const timeoutMs = values['--timeout'] !== undefined ? parseDuration('--timeout', values['--timeout']) : 5 * 60_000;
  const intervalMs = values['--interval'] !== undefined ? parseDuration('--interval', values['--interval']) : 2000;
  const requestTimeoutMs = values['--request-timeout'] !== undefined ? parseDuration('--request-timeout', values['--request-timeout']) : 30_000;
  return {
    namespace,
    name,
    kubeconfig: values['--kubeconfig'],
    context: values['--context'],
    output,
    watch,
    timeoutMs,
    intervalMs,
    requestTimeoutMs,
  };
}
