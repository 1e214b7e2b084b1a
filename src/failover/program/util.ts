/** Logging, time and cancellable sleeping for the failover controller program. */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** JSON lines on stdout: time, level and msg first, then the fields. */
export function createLogger(options: { level?: LogLevel; write?: (line: string) => void; clock?: () => Date } = {}): Logger {
  const min = LOG_LEVELS[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const clock = options.clock ?? (() => new Date());
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (LOG_LEVELS[level] < min) return;
    const entry: LogFields = { time: clock().toISOString(), level, msg };
    for (const [k, v] of Object.entries(fields ?? {})) {
      if (k === 'time' || k === 'level' || k === 'msg' || v === undefined) continue;
      entry[k] = v instanceof Error ? errorText(v) : v;
    }
    write(`${JSON.stringify(entry)}\n`);
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
  };
}

/** metav1.MicroTime wire format: RFC 3339 with exactly six fractional digits. */
export function formatMicroTime(t: Date | number): string {
  const iso = new Date(t).toISOString();
  return `${iso.slice(0, 23)}000Z`;
}

/** metav1.Time wire format: RFC 3339 with whole seconds. */
export function formatTime(t: Date | number): string {
  return `${new Date(t).toISOString().slice(0, 19)}Z`;
}

/** Parses an RFC 3339 timestamp (any fractional precision) to epoch ms; null when invalid. */
export function parseTime(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.exec(value.trim());
  if (!m) return null;
  const fraction = m[2] ? m[2].slice(0, 4).padEnd(4, '0') : '.000';
  const ms = Date.parse(`${m[1]}${fraction}${m[3].toUpperCase()}`);
  return Number.isNaN(ms) ? null : ms;
}

/** A clock that wall-clock steps cannot move; used for every "how long since I saw it" measurement. */
export function monotonicNow(): number {
  return Number(process.hrtime.bigint() / 1000000n);
}

/** Sleeps that stop() wakes at once. */
export class Stopper {
  public stopped = false;
  private readonly wakers = new Set<() => void>();

  public sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve();
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }

  public stop(): void {
    this.stopped = true;
    for (const wake of [...this.wakers]) wake();
  }
}
