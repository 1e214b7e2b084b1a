import { Duration, Size, SizeRoundingBehavior } from 'cdk8s';
import { IConstruct } from 'constructs';
import { confQuote, findControlChar } from './quote';
import { checkEnum, propError } from '../validation';

/** @internal */
export const DEFAULT_REDIS_PORT = 6379;
/** @internal */
export const CLUSTER_BUS_PORT_OFFSET = 10000;

/** What Redis evicts when `maxmemory` is reached. */
export enum MaxMemoryPolicy {
  /** Reject writes that need memory; evict nothing. */
  NOEVICTION = 'noeviction',
  /** Evict any key, least recently used first. */
  ALLKEYS_LRU = 'allkeys-lru',
  /** Evict any key, least frequently used first. */
  ALLKEYS_LFU = 'allkeys-lfu',
  /** Evict random keys. */
  ALLKEYS_RANDOM = 'allkeys-random',
  /** Evict keys with a TTL, least recently used first. */
  VOLATILE_LRU = 'volatile-lru',
  /** Evict keys with a TTL, least frequently used first. */
  VOLATILE_LFU = 'volatile-lfu',
  /** Evict random keys with a TTL. */
  VOLATILE_RANDOM = 'volatile-random',
  /** Evict keys with a TTL, nearest expiry first. */
  VOLATILE_TTL = 'volatile-ttl',
}

/** How often the append-only file is fsynced. */
export enum AppendFsync {
  /** After every write: safest, slowest. */
  ALWAYS = 'always',
  /** Once per second: loses at most about a second of writes. */
  EVERYSEC = 'everysec',
  /** Leave it to the kernel. */
  NO = 'no',
}

/** One RDB save point: snapshot when at least `changes` writes happened within `after`. */
export interface RdbSavePoint {
  /** Time window, whole seconds. */
  readonly after: Duration;
  /** Number of writes within the window that triggers a snapshot. */
  readonly changes: number;
}

/** Persistence of the dataset on the data volume. */
export interface RedisPersistenceOptions {
  /**
   * Keep an append-only file (AOF).
   * @default true
   */
  readonly appendOnly?: boolean;
  /**
   * fsync policy of the append-only file.
   * @default AppendFsync.EVERYSEC
   */
  readonly appendFsync?: AppendFsync;
  /**
   * RDB snapshot save points. An empty list turns RDB snapshots off (`save ""`).
   * @default - 3600 s/1 change, 300 s/100 changes, 60 s/10000 changes
   */
  readonly rdbSavePoints?: RdbSavePoint[];
}

/** Typed settings rendered into `redis.conf`. */
export interface RedisConfigOptions {
  /**
   * Client port; the cluster bus uses port + 10000.
   * @default 6379
   */
  readonly port?: number;
  /**
   * How long a node may be unreachable before it counts as failing (and its replica takes over).
   * @default Duration.seconds(15)
   */
  readonly clusterNodeTimeout?: Duration;
  /**
   * Stop serving every slot while any slot is uncovered, so clients never see a partial dataset.
   * Set false to keep serving the remaining shards when one is down.
   * @default true
   */
  readonly clusterRequireFullCoverage?: boolean;
  /**
   * Memory limit of the dataset.
   * @default - no limit
   */
  readonly maxMemory?: Size;
  /**
   * Eviction policy once `maxMemory` is reached.
   * @default MaxMemoryPolicy.NOEVICTION
   */
  readonly maxMemoryPolicy?: MaxMemoryPolicy;
  /**
   * AOF and RDB persistence.
   * @default - AOF with fsync every second, plus RDB snapshots at the default save points
   */
  readonly dataPersistence?: RedisPersistenceOptions;
  /**
   * Further redis.conf directives, name to value. A value with spaces is split into arguments
   * (like CONFIG SET does); an empty value is rendered as "". Directives the construct owns are rejected.
   * @default - none
   */
  readonly extraSettings?: { [name: string]: string };
  /**
   * TLS for clients, replication and the cluster bus (certificate paths are per-pod settings of start.sh).
   * @default - no TLS
   */
  readonly tls?: RedisConfigTlsOptions;
}

/** TLS settings of redis.conf. */
export interface RedisConfigTlsOptions {
  /** TLS client port. */
  readonly port: number;
  /**
   * Keep serving plain TCP on `port`; false sets `port 0`.
   * @default true
   */
  readonly plaintext?: boolean;
}

const DEFAULT_RDB_SAVE_POINTS: ReadonlyArray<[number, number]> = [[3600, 1], [300, 100], [60, 10000]];

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

// Directives the construct (or start.sh at run time) owns, with where they come from instead.
const OWNED_DIRECTIVES: { [name: string]: string } = {
  'port': 'use the port option',
  'cluster-port': 'it is always port + 10000',
  'cluster-enabled': 'it is always yes',
  'cluster-config-file': 'nodes.conf always lives on the data volume',
  'dir': 'start.sh points it at the data volume',
  'bind': 'start.sh sets the listen addresses',
  'protected-mode': 'it is always no (access is controlled by the password and the network)',
  'requirepass': 'the password comes from a Secret and never enters the ConfigMap',
  'masterauth': 'the password comes from a Secret and never enters the ConfigMap',
  'masteruser': 'replicas authenticate as the default user with the Secret password',
  'user': 'ACL users would put passwords into the ConfigMap',
  'aclfile': 'ACL users would put passwords into the ConfigMap',
  'include': 'only start.sh includes its per-pod file',
  'daemonize': 'Redis must stay in the foreground as the container process',
  'supervised': 'Redis runs as the container process',
  'logfile': 'logs go to stdout',
  'rename-command': 'the lifecycle scripts call CLUSTER, CONFIG and PING by name',
  'cluster-preferred-endpoint-type': 'nodes always announce their stable hostnames',
  'cluster-allow-reads-when-down': 'it is always no',
  'aof-load-truncated': 'it is always yes, so a truncated AOF does not crash-loop the pod',
  'cluster-node-timeout': 'use the clusterNodeTimeout option',
  'cluster-require-full-coverage': 'use the clusterRequireFullCoverage option',
  'maxmemory': 'use the maxMemory option',
  'maxmemory-policy': 'use the maxMemoryPolicy option',
  'appendonly': 'use dataPersistence.appendOnly',
  'appendfsync': 'use dataPersistence.appendFsync',
  'save': 'use dataPersistence.rdbSavePoints',
  'tls-port': 'use the tls option',
  'tls-cluster': 'use the tls option',
  'tls-replication': 'use the tls option',
  'tls-cert-file': 'the certificate comes from the tls Secret',
  'tls-key-file': 'the certificate comes from the tls Secret',
  'tls-ca-cert-file': 'the certificate comes from the tls Secret',
  'tls-auth-clients': 'it is always optional: clients may present a certificate',
};

/** Owned prefixes: every cluster-announce-* is set per pod by start.sh. */
const OWNED_PREFIXES: ReadonlyArray<[string, string]> = [
  ['cluster-announce-', 'start.sh announces the pod address and hostname'],
];

const DIRECTIVE_NAME = /^[a-z][a-z0-9-]*$/;

/** One redis.conf line: a directive and its arguments. */
type Directive = [string, string[]];

function renderMaxMemory(scope: IConstruct, size: Size): string {
  const kib = size.toKibibytes({ rounding: SizeRoundingBehavior.NONE });
  if (!Number.isInteger(kib) || kib * 1024 < MIB) {
    throw propError(scope, 'maxMemory', size, 'must be a whole number of KiB and at least 1 MiB (e.g. Size.mebibytes(512))');
  }
  const bytes = kib * 1024;
  // Redis reads "gb"/"mb"/"kb" as powers of 1024, the same units as Kubernetes' Gi/Mi/Ki.
  if (bytes % GIB === 0) return `${bytes / GIB}gb`;
  if (bytes % MIB === 0) return `${bytes / MIB}mb`;
  return `${kib}kb`;
}

function renderNodeTimeout(scope: IConstruct, timeout: Duration): string {
  const ms = timeout.toMilliseconds();
  if (!Number.isInteger(ms) || ms < 500 || ms > 3_600_000) {
    throw propError(scope, 'clusterNodeTimeout', timeout, 'must be a whole number of milliseconds from 500 ms to 1 hour');
  }
  return String(ms);
}

function renderSavePoints(scope: IConstruct, points: RdbSavePoint[] | undefined): string[] {
  if (points === undefined) {
    return DEFAULT_RDB_SAVE_POINTS.flatMap(([s, c]) => [String(s), String(c)]);
  }
  if (points.length === 0) {
    return [''];
  }
  return points.flatMap((p, i) => {
    const option = `dataPersistence.rdbSavePoints[${i}]`;
    const seconds = p.after instanceof Duration ? p.after.toSeconds({ integral: false }) : NaN;
    if (!Number.isInteger(seconds) || seconds < 1) {
      throw propError(scope, `${option}.after`, p.after, 'must be a whole number of seconds, at least 1 s');
    }
    if (!Number.isInteger(p.changes) || p.changes < 1) {
      throw propError(scope, `${option}.changes`, p.changes, 'must be an integer of at least 1');
    }
    return [String(seconds), String(p.changes)];
  });
}


function extraDirectives(scope: IConstruct, extra: { [name: string]: string } | undefined): Directive[] {
  const out: Directive[] = [];
  for (const [name, value] of Object.entries(extra ?? {})) {
    const option = `extraSettings key ${JSON.stringify(name)}`;
    if (!DIRECTIVE_NAME.test(name)) {
      throw propError(scope, 'extraSettings key', name, 'must be a redis.conf directive name: lower-case letters, digits and "-", starting with a letter');
    }
    const owned = OWNED_DIRECTIVES[name] ?? OWNED_PREFIXES.find(([prefix]) => name.startsWith(prefix))?.[1];
    if (owned !== undefined) {
      throw propError(scope, 'extraSettings key', name, `"${name}" is owned by the construct (${owned}); accepted: any other redis.conf directive`);
    }
    if (typeof value !== 'string') {
      throw propError(scope, `${option} value`, value, 'must be a string');
    }
    const control = findControlChar(value);
    if (control !== undefined) {
      throw propError(scope, `${option} value`, value, `must not contain control characters such as newlines (found ${JSON.stringify(control)}); accepted: printable text, arguments separated by spaces`);
    }
    const args = value.trim() === '' ? [''] : value.trim().split(/\s+/);
    out.push([name, args]);
  }
  return out;
}

function renderLine([name, args]: Directive): string {
  return [name, ...args.map(confQuote)].join(' ');
}

/**
 * Renders `redis.conf` for a Redis Cluster node. Per-pod settings (data dir, listen and announced
 * addresses, password) are not in it: start.sh adds them at run time through an included file.
 */
export function renderRedisConf(scope: IConstruct, options: RedisConfigOptions = {}): string {
  const port = options.port ?? DEFAULT_REDIS_PORT;
  const persistence = options.dataPersistence ?? {};
  const appendOnly = persistence.appendOnly ?? true;
  const fullCoverage = options.clusterRequireFullCoverage ?? true;
  const yesNo = (b: boolean) => (b ? 'yes' : 'no');

  const tls = options.tls;
  const tlsPort = tls?.port;
  const directives: Directive[] = [
    ['port', [tls && tls.plaintext === false ? '0' : String(port)]],
    ...(tls ? [
      ['tls-port', [String(tlsPort)]] as Directive,
      // the bus and replication too: nothing between the nodes travels in clear text
      ['tls-cluster', ['yes']] as Directive,
      ['tls-replication', ['yes']] as Directive,
      ['tls-auth-clients', ['optional']] as Directive,
    ] : []),
    ['cluster-enabled', ['yes']],
    ['cluster-port', [String(port + CLUSTER_BUS_PORT_OFFSET)]],
    // Relative to dir, which start.sh sets to the data volume: nodes.conf must survive restarts.
    ['cluster-config-file', ['nodes.conf']],
    ['cluster-node-timeout', [renderNodeTimeout(scope, options.clusterNodeTimeout ?? Duration.seconds(15))]],
    ['cluster-require-full-coverage', [yesNo(fullCoverage)]],
    ['cluster-allow-reads-when-down', ['no']],
    // Clients are redirected to stable DNS names; the bus keeps using the announced IP.
    ['cluster-preferred-endpoint-type', ['hostname']],
    ['bind', ['*', '-::*']],
    ['protected-mode', ['no']],
    ['daemonize', ['no']],
    ['logfile', ['']],
    ['appendonly', [yesNo(appendOnly)]],
    ['appendfsync', [checkEnum(scope, 'dataPersistence.appendFsync', persistence.appendFsync ?? AppendFsync.EVERYSEC, AppendFsync, 'AppendFsync')]],
    // A pod killed mid-write leaves a truncated AOF tail; loading what is there beats a crash loop.
    ['aof-load-truncated', ['yes']],
    ['save', renderSavePoints(scope, persistence.rdbSavePoints)],
  ];
  if (options.maxMemory !== undefined) {
    directives.push(['maxmemory', [renderMaxMemory(scope, options.maxMemory)]]);
  }
  directives.push(['maxmemory-policy', [checkEnum(scope, 'maxMemoryPolicy', options.maxMemoryPolicy ?? MaxMemoryPolicy.NOEVICTION, MaxMemoryPolicy, 'MaxMemoryPolicy')]]);
  directives.push(...extraDirectives(scope, options.extraSettings));

  return [
    '# Redis Cluster node settings. start.sh adds the per-pod ones (dir, bind, announced',
    '# address and hostname, password) from a file it writes under the writable tmp dir.',
    ...directives.map(renderLine),
    '',
  ].join('\n');
}
