import { Duration } from 'cdk8s';
import { ConnectionScheme, k8s } from 'cdk8s-plus-28';
import { IConstruct } from 'constructs';
import { checkInteger, checkPort, propError, wholeSeconds } from './validation';

/**
 * Timing of a probe. Unset fields take the owning construct's default, then the Kubernetes default.
 */
export interface ProbeTimings {
  /**
   * Wait after the container starts before the first probe.
   * @default - the construct's default, else 0 s
   */
  readonly initialDelay?: Duration;
  /**
   * How often the probe runs.
   * @default - the construct's default, else 10 s
   */
  readonly period?: Duration;
  /**
   * How long one probe may take before it counts as a failure.
   * @default - the construct's default, else 1 s
   */
  readonly timeout?: Duration;
  /**
   * Consecutive failures that count as failed.
   * @default - the construct's default, else 3
   */
  readonly failureThreshold?: number;
  /**
   * Consecutive successes that count as success after a failure. Must be 1 for liveness and startup probes.
   * @default 1
   */
  readonly successThreshold?: number;
  /**
   * Grace period for the kill that a failed liveness or startup probe triggers (overrides the pod's).
   * Not allowed on readiness probes.
   * @default - the construct's default, else the pod's terminationGracePeriodSeconds
   */
  readonly terminationGracePeriod?: Duration;
}

/** Options of an HTTP GET probe. */
export interface HttpProbeOptions extends ProbeTimings {
  /** Container port the request goes to. */
  readonly port: number;
  /**
   * HTTP or HTTPS.
   * @default ConnectionScheme.HTTP
   */
  readonly scheme?: ConnectionScheme;
}

/** Options of a TCP socket probe. */
export interface TcpProbeOptions extends ProbeTimings {
  /** Container port that must accept a connection. */
  readonly port: number;
}

/** Options of a gRPC health probe. */
export interface GrpcProbeOptions extends ProbeTimings {
  /** Container port that serves grpc.health.v1.Health. */
  readonly port: number;
  /**
   * Service name sent in the health check request.
   * @default - the server's overall health
   */
  readonly service?: string;
}

/** Which probe slot a probe is used in; the rules differ. */
export enum ProbeKind {
  /** The liveness probe: its failure restarts the container in place. */
  LIVENESS = 'liveness',
  /** The readiness probe: its failure takes the pod out of its Services' endpoints. */
  READINESS = 'readiness',
  /** The startup probe: liveness and readiness wait until it succeeds once. */
  STARTUP = 'startup',
}

/** Effective timing of a probe in whole seconds, with every default applied. */
export interface ResolvedProbeTimings {
  /** initialDelaySeconds */
  readonly initialDelaySeconds: number;
  /** periodSeconds */
  readonly periodSeconds: number;
  /** timeoutSeconds */
  readonly timeoutSeconds: number;
  /** failureThreshold */
  readonly failureThreshold: number;
  /** successThreshold */
  readonly successThreshold: number;
  /** Probe-level terminationGracePeriodSeconds, if set. */
  readonly terminationGracePeriodSeconds?: number;
}

type ProbeAction = Pick<k8s.Probe, 'httpGet' | 'tcpSocket' | 'exec' | 'grpc'>;

/**
 * A container probe: what to check and how often. Build one with a static factory.
 */
export class StatefulProbe {
  /**
   * A probe with an HTTP GET to a path; 200-399 is success.
   * @param path the HTTP path to request
   * @param options the port, the scheme and the probe timings
   */
  public static fromHttpGet(path: string, options: HttpProbeOptions): StatefulProbe {
    return new StatefulProbe({ httpGet: { path, port: k8s.IntOrString.fromNumber(options.port), scheme: options.scheme } }, options, [options.port]);
  }

  /**
   * A probe that succeeds when the port accepts a TCP connection.
   * @param options the port and the probe timings
   */
  public static fromTcpSocket(options: TcpProbeOptions): StatefulProbe {
    return new StatefulProbe({ tcpSocket: { port: k8s.IntOrString.fromNumber(options.port) } }, options, [options.port]);
  }

  /**
   * A probe that runs a command in the container; exit code 0 is success.
   * @param command the command and its arguments, run without a shell
   * @param options the probe timings
   */
  public static fromCommand(command: string[], options: ProbeTimings = {}): StatefulProbe {
    return new StatefulProbe({ exec: { command } }, options, []);
  }

  /**
   * A probe that calls the gRPC health checking protocol.
   * @param options the port, the service name and the probe timings
   */
  public static fromGrpc(options: GrpcProbeOptions): StatefulProbe {
    return new StatefulProbe({ grpc: { port: options.port, service: options.service } }, options, [options.port]);
  }

  private constructor(
    private readonly action: ProbeAction,
    /** The timings this probe was given (unresolved). */
    public readonly timings: ProbeTimings,
    private readonly ports: number[],
  ) {}

  /**
   * A copy whose unset timings are filled from `defaults`.
   * @param defaults timings used where this probe sets none
   */
  public withDefaults(defaults: ProbeTimings): StatefulProbe {
    const merged: { [key: string]: unknown } = { ...defaults };
    for (const [key, value] of Object.entries(this.timings)) {
      if (value !== undefined) merged[key] = value;
    }
    return new StatefulProbe(this.action, merged as ProbeTimings, this.ports);
  }

  /**
   * A copy with these timings replacing the ones set.
   * @param timings timings that replace this probe's
   */
  public withTimings(timings: ProbeTimings): StatefulProbe {
    return new StatefulProbe(this.action, { ...this.timings, ...timings }, this.ports);
  }

  /**
   * A probe with the same check and only these timings (nothing inherited).
   * @param timings the timings of the new probe
   */
  public reuseCheck(timings: ProbeTimings): StatefulProbe {
    return new StatefulProbe(this.action, { ...timings }, this.ports);
  }

  /** The container ports this probe connects to (empty for commands). */
  public get targetPorts(): number[] {
    return [...this.ports];
  }

  /**
   * Effective timings with Kubernetes defaults, after checking every rule the API server enforces.
   * @param scope construct that reports the error
   * @param prop the prop that holds this probe, for error messages
   * @param kind which probe this is: liveness, readiness and startup follow different rules
   */
  public resolve(scope: IConstruct, prop: string, kind: ProbeKind): ResolvedProbeTimings {
    const t = this.timings;
    for (const port of this.ports) checkPort(scope, `${prop}.port`, port);
    if (this.action.exec && ((this.action.exec.command ?? []).length === 0 || this.action.exec.command![0].trim() === '')) {
      throw propError(scope, `${prop}.command`, [], 'must name a command to run');
    }
    if (this.action.httpGet && !this.action.httpGet.path?.startsWith('/')) {
      throw propError(scope, `${prop}.path`, this.action.httpGet.path, 'must be an absolute HTTP path starting with "/"');
    }
    const successThreshold = checkInteger(scope, `${prop}.successThreshold`, t.successThreshold ?? 1, 1);
    if (kind !== ProbeKind.READINESS && successThreshold !== 1) {
      throw propError(scope, `${prop}.successThreshold`, successThreshold, `must be 1 for a ${kind} probe (the API server rejects anything else)`);
    }
    let terminationGracePeriodSeconds: number | undefined;
    if (t.terminationGracePeriod !== undefined) {
      if (kind === ProbeKind.READINESS) {
        throw propError(scope, `${prop}.terminationGracePeriod`, t.terminationGracePeriod,
          'is not allowed on a readiness probe (a readiness failure never kills the container)');
      }
      terminationGracePeriodSeconds = wholeSeconds(scope, `${prop}.terminationGracePeriod`, t.terminationGracePeriod, 1);
    }
    return {
      initialDelaySeconds: t.initialDelay ? wholeSeconds(scope, `${prop}.initialDelay`, t.initialDelay, 0) : 0,
      periodSeconds: t.period ? wholeSeconds(scope, `${prop}.period`, t.period, 1) : 10,
      timeoutSeconds: t.timeout ? wholeSeconds(scope, `${prop}.timeout`, t.timeout, 1) : 1,
      failureThreshold: checkInteger(scope, `${prop}.failureThreshold`, t.failureThreshold ?? 3, 1),
      successThreshold,
      terminationGracePeriodSeconds,
    };
  }

  /**
   * Whether the check needs the process itself to answer: an HTTP, gRPC or exec check does; a TCP connect does
   * not, because the kernel completes the handshake for a process that is stopped or deadlocked.
   * @internal
   */
  public _needsAnswerFromProcess(): boolean {
    return this.action.tcpSocket === undefined;
  }

  /**
   * The Kubernetes probe object.
   * @internal
   */
  public _toKube(scope: IConstruct, prop: string, kind: ProbeKind): k8s.Probe {
    const r = this.resolve(scope, prop, kind);
    return {
      ...this.action,
      initialDelaySeconds: r.initialDelaySeconds,
      periodSeconds: r.periodSeconds,
      timeoutSeconds: r.timeoutSeconds,
      failureThreshold: r.failureThreshold,
      successThreshold: r.successThreshold,
      terminationGracePeriodSeconds: r.terminationGracePeriodSeconds,
    };
  }
}
