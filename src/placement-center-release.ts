import { IConstruct } from 'constructs';
import { propError } from './validation';

/** Where the data volume is mounted: the image's data directory, also the server's data path. */
export const PC_DATA_PATH = '/robustmq/data';
/** Directory the ConfigMap is mounted at. */
export const PC_CONFIG_DIR = '/etc/robustmq';
/** Log directory the server creates at start: an emptyDir, because the root file system is read-only. */
export const PC_LOG_PATH = '/robustmq/logs';
/** Logging configuration file, next to the server configuration in the ConfigMap. */
export const PC_LOGGER_FILE = 'logger.toml';

/** The kind of value a configuration key takes, as the server's Rust struct declares it. */
type KeyKind = 'string' | 'integer' | 'number' | 'boolean' | 'string-array' | 'string-map';
/** Keys a release reads: a leaf kind or a nested table. */
interface KeySchema { readonly [key: string]: KeyKind | KeySchema }

/** What a release needs from the construct to render its files. */
export interface PcRenderInput {
  readonly clusterName: string;
  /** Stable DNS name of every member; index i has Raft id i + 1. */
  readonly hosts: string[];
  /** `<headless>.<namespace>.svc.<domain>`: a member's DNS name is `<pod name>.<this>`. */
  readonly podDomain: string;
  readonly grpcPort: number;
  readonly httpPort: number;
}

/** An environment variable a release sets on every pod. */
export interface PcPodEnv {
  readonly name: string;
  readonly value: string;
}

const LOG_SCHEMA: KeySchema = { log_config: 'string', log_path: 'string' };

/** BrokerConfig of v0.4.11 (src/common/config/src/config.rs and common.rs at the tag). */
const V0_4_11_SCHEMA: KeySchema = {
  cluster_name: 'string',
  broker_id: 'integer',
  broker_ip: 'string',
  roles: 'string-array',
  grpc_port: 'integer',
  http_port: 'integer',
  meta_addrs: 'string-map',
  data_path: 'string',
  log: LOG_SCHEMA,
  broker_network: { accept_thread_num: 'integer', handler_thread_num: 'integer', queue_size: 'integer', tls_cert: 'string', tls_key: 'string' },
  runtime: {
    server_worker_threads: 'integer', channels_per_address: 'integer', pprof_enable: 'boolean',
    default_topic_partition_num: 'integer', default_topic_replica_num: 'integer',
  },
  llm_client: { embedding: 'string', embedding_model_path: 'string', platform: 'string', model: 'string', token: 'string', base_url: 'string' },
  cluster_limit: { max_network_connection: 'integer', max_network_connection_rate: 'integer', max_connection_per_ip: 'integer', max_admin_http_uri_rate: 'integer' },
  admin: { username: 'string', password: 'string', jwt_secret: 'string', token_ttl_hours: 'integer' },
  delay_task: { delay_task_queue_num: 'integer', delay_task_handler_concurrency: 'integer' },
  delay_message: { max_retries: 'integer', initial_retry_delay_sec: 'integer' },
  meta_runtime: {
    heartbeat_timeout_ms: 'integer', heartbeat_check_time_ms: 'integer', raft_write_timeout_sec: 'integer',
    offset_raft_group_num: 'integer', data_raft_group_num: 'integer', group_offset_expire_sec: 'integer',
    segment_leader_rebalance_interval_ms: 'integer', segment_leader_rebalance_max_moves: 'integer', meta_worker_threads: 'integer',
  },
  storage_runtime: {
    tcp_port: 'integer', max_segment_size: 'integer', io_thread_num: 'integer', data_path: 'string-array',
    offset_enable_cache: 'boolean', expire_scan_task_num: 'integer', num_replica_fetchers: 'integer',
    replica_fetch_min_bytes: 'integer', replica_fetch_max_wait_ms: 'integer', replica_fetch_backoff_ms: 'integer',
    replica_lag_time_max_ms: 'integer', metadata_reconcile_interval_ms: 'integer', isr_maintain_interval_ms: 'integer',
  },
  mqtt_runtime: {
    server: { tcp_port: 'integer', tls_port: 'integer', websocket_port: 'integer', websockets_port: 'integer', quic_port: 'integer' },
    keep_alive: { enable: 'boolean', default_time: 'integer', max_time: 'integer', default_timeout: 'integer' },
    auth: { default_user: 'string', default_password: 'string', durable_sessions_enable: 'boolean', secret_free_login: 'boolean', is_self_protection_status: 'boolean' },
    offline_message: { enable: 'boolean', expire_ms: 'integer', max_messages_num: 'integer' },
    slow_subscribe: { enable: 'boolean', record_time: 'integer', delay_type: 'string' },
    flapping_detect: { enable: 'boolean', window_time: 'integer', max_client_connections: 'integer', ban_time: 'integer' },
    protocol: {
      max_session_expiry_interval: 'integer', default_session_expiry_interval: 'integer', topic_alias_max: 'integer',
      max_packet_size: 'integer', receive_max: 'integer', max_message_expiry_interval: 'integer', client_pkid_persistent: 'boolean',
    },
    schema: { enable: 'boolean', strategy: 'string', failed_operation: 'string', echo_log: 'boolean', log_level: 'string' },
    system_monitor: { enable: 'boolean', os_cpu_high_watermark: 'number', os_memory_high_watermark: 'number', system_topic_interval_ms: 'integer' },
    limit: {
      cluster: { max_connections_per_node: 'integer', max_connection_rate: 'integer', max_topics: 'integer', max_sessions: 'integer', max_publish_rate: 'integer' },
      tenant: { max_connections_per_node: 'integer', max_connection_rate: 'integer', max_topics: 'integer', max_sessions: 'integer', max_publish_rate: 'integer' },
    },
    broker_worker_threads: 'integer',
  },
  kafka_runtime: {
    tcp_port: 'integer', max_fetch_bytes: 'integer', max_message_bytes: 'integer', max_describe_topic_partitions: 'integer',
    sasl: { enabled: 'boolean', mechanisms: 'string-array' }, auto_create_topics_enable: 'boolean',
  },
  amqp_runtime: { tcp_port: 'integer' },
  nats_runtime: {
    tcp_port: 'integer', tls_port: 'integer', ws_port: 'integer', wss_port: 'integer', max_payload: 'integer', auth_required: 'boolean',
    ping_interval: 'integer', ping_max: 'integer', ping_send_chunk: 'integer', core_shard_num: 'integer', push_thread_num: 'integer',
    push_queue_thread_num: 'integer', mq9_mailbox_default_ttl: 'integer',
  },
};

/** PlacementCenterConfig of v0.1.24 to v0.1.28 (src/common/config/src/place/config.rs and common.rs at those tags). */
const LEGACY_SCHEMA: KeySchema = {
  cluster_name: 'string',
  node: { node_id: 'integer', nodes: 'string-map' },
  network: { local_ip: 'string', grpc_port: 'integer', grpc_max_decoding_message_size: 'integer', http_port: 'integer' },
  system: { runtime_work_threads: 'integer' },
  heartbeat: { heartbeat_timeout_ms: 'integer', heartbeat_check_time_ms: 'integer' },
  rocksdb: { data_path: 'string', max_open_files: 'integer' },
  log: LOG_SCHEMA,
  prometheus: { enable: 'boolean', model: 'string', port: 'integer', push_gateway_server: 'string', interval: 'integer', header: 'string' },
};

/** The engine's TCP port (storage_runtime.tcp_port); v0.4.11's default. */
const ENGINE_PORT = 1778;
const FIRST_LEGACY_PATCH = 24;
const LAST_LEGACY_PATCH = 28;

/**
 * The RobustMQ release a PlacementCenter runs: its image, binary, configuration format and per-pod settings.
 * Every key the construct renders for a release is one that release reads, and additionalConfig is checked against the
 * keys it reads.
 */
export class PlacementCenterRelease {
  /**
   * RobustMQ v0.4.11 (2026-07-31): the placement center is the meta service of the one `broker-server` binary, run with
   * roles meta and engine; image ghcr.io/robustmq/robustmq:v0.4.11.
   */
  public static readonly V0_4_11: PlacementCenterRelease = new PlacementCenterRelease({
    version: '0.4.11',
    legacy: false,
    defaultImage: 'ghcr.io/robustmq/robustmq:v0.4.11',
    binary: '/robustmq/libs/broker-server',
    configFile: 'server.toml',
    envPrefix: 'ROBUST_MQ_SERVER',
    idKey: ['broker_id'],
    defaultHttpPort: 58080,
    schema: V0_4_11_SCHEMA,
    loggerLevel: 'info',
    loggerKind: 'console',
  });

  /** The release this library targets: RobustMQ v0.4.11. */
  public static current(): PlacementCenterRelease {
    return PlacementCenterRelease.V0_4_11;
  }

  /**
   * The standalone `placement-center` binary of RobustMQ v0.1.24 to v0.1.28 (`[node] node_id`, `[node] nodes`,
   * PLACEMENT_CENTER_NODE_NODE_ID), for clusters that still run it. RobustMQ published no image of it, so `image` must
   * be set to the one you run.
   * @param version the release, "0.1.24" to "0.1.28" (a leading "v" is accepted)
   */
  public static legacyPlacementCenter(version: string): PlacementCenterRelease {
    const match = /^v?0\.1\.(\d+)$/.exec(String(version));
    const patch = match ? Number(match[1]) : NaN;
    if (!(patch >= FIRST_LEGACY_PATCH && patch <= LAST_LEGACY_PATCH)) {
      throw new Error(`PlacementCenterRelease.legacyPlacementCenter: invalid version (${JSON.stringify(version)}): must be 0.1.${FIRST_LEGACY_PATCH} to 0.1.${LAST_LEGACY_PATCH}, `
        + 'the releases whose placement-center reads the format rendered here (later releases have no placement-center binary: use PlacementCenterRelease.current())');
    }
    return new PlacementCenterRelease({
      version: `0.1.${patch}`,
      legacy: true,
      binary: '/robustmq/libs/placement-center',
      configFile: 'placement-center.toml',
      envPrefix: 'PLACEMENT_CENTER',
      idKey: ['node', 'node_id'],
      defaultHttpPort: 1227,
      schema: LEGACY_SCHEMA,
      // the logging appenders were renamed to snake case in v0.1.27
      loggerLevel: patch >= 27 ? 'info' : 'Info',
      loggerKind: patch >= 27 ? 'console' : 'Console',
    });
  }

  /** The RobustMQ version, without a leading "v". */
  public readonly version: string;
  /** True for the standalone placement-center of v0.1.x. */
  public readonly isLegacy: boolean;
  /**
   * The published image of the release.
   * @default - none: the release has no published image
   */
  public readonly defaultImage?: string;
  /** The server binary inside the image. */
  public readonly binary: string;
  /** The configuration file name, in the ConfigMap and at /etc/robustmq. */
  public readonly configFileName: string;
  /** The admin HTTP port the release listens on by default (http_port). */
  public readonly defaultHttpPort: number;
  /** The environment variable that carries each pod's Raft id (the release's override of a key in the file). */
  public readonly nodeIdVariable: string;

  private constructor(private readonly spec: ReleaseSpec) {
    this.version = spec.version;
    this.isLegacy = spec.legacy;
    this.defaultImage = spec.defaultImage;
    this.binary = spec.binary;
    this.configFileName = spec.configFile;
    this.defaultHttpPort = spec.defaultHttpPort;
    this.nodeIdVariable = envName(spec.envPrefix, spec.idKey);
  }

  /** A name for messages: "RobustMQ v0.4.11". */
  public get displayName(): string {
    return `RobustMQ v${this.version}${this.isLegacy ? ' placement-center' : ''}`;
  }

  /** The command that starts the server with the mounted configuration. */
  public get command(): string[] {
    return [this.binary, '--conf', `${PC_CONFIG_DIR}/${this.configFileName}`];
  }

  /**
   * The configuration the construct renders, as nested tables, with member 0's per-pod values.
   * @internal
   */
  public _renderConfig(input: PcRenderInput): { [key: string]: any } {
    const addresses: { [id: string]: string } = {};
    input.hosts.forEach((host, ordinal) => { addresses[String(ordinal + 1)] = `${host}:${input.grpcPort}`; });
    const log = { log_config: `${PC_CONFIG_DIR}/${PC_LOGGER_FILE}`, log_path: PC_LOG_PATH };
    if (this.spec.legacy) {
      return {
        cluster_name: input.clusterName,
        // the file carries member 0's id; every pod exports its own through PLACEMENT_CENTER_NODE_NODE_ID
        node: { node_id: 1, nodes: addresses },
        // bind address: peers reach a member through its DNS name in [node] nodes
        network: { local_ip: '0.0.0.0', grpc_port: input.grpcPort, http_port: input.httpPort },
        rocksdb: { data_path: PC_DATA_PATH },
        log,
      };
    }
    return {
      cluster_name: input.clusterName,
      // top-level keys must come before the first table: the release's env override only sees keys in the file
      broker_id: 1,
      broker_ip: input.hosts[0],
      // the meta role alone exits at start (it needs an engine for its inner topics)
      roles: ['meta', 'engine'],
      grpc_port: input.grpcPort,
      http_port: input.httpPort,
      data_path: PC_DATA_PATH,
      meta_addrs: addresses,
      log,
      storage_runtime: { tcp_port: ENGINE_PORT, data_path: [`${PC_DATA_PATH}/engine`] },
    };
  }

  /**
   * Keys of the configuration that the construct or a typed prop owns, with the owner (for error messages).
   * @internal
   */
  public _managedKeys(): { [path: string]: string } {
    const common = {
      'cluster_name': 'the clusterName prop',
      'log.log_config': `the construct (${PC_CONFIG_DIR}/${PC_LOGGER_FILE}, in the ConfigMap)`,
      'log.log_path': `the construct (a writable emptyDir at ${PC_LOG_PATH})`,
    };
    if (this.spec.legacy) {
      return {
        ...common,
        'node.node_id': 'the construct (ordinal + 1 per pod)',
        'node.nodes': 'the construct (one peer per replica)',
        'network.grpc_port': 'the grpcPort prop',
        'network.http_port': 'the httpPort prop',
        'rocksdb.data_path': `the construct (the data volume at ${PC_DATA_PATH})`,
      };
    }
    return {
      ...common,
      'broker_id': 'the construct (ordinal + 1 per pod)',
      'broker_ip': 'the construct (each pod\'s stable DNS name)',
      'roles': 'the construct (meta and engine: the meta role alone exits at start)',
      'grpc_port': 'the grpcPort prop',
      'http_port': 'the httpPort prop',
      'data_path': `the construct (the data volume at ${PC_DATA_PATH})`,
      'meta_addrs': 'the construct (one peer per replica)',
      'storage_runtime.tcp_port': `the construct (the container port "engine", ${ENGINE_PORT})`,
      'storage_runtime.data_path': `the construct (${PC_DATA_PATH}/engine on the data volume)`,
    };
  }

  /**
   * Further container ports the release listens on, besides grpc and http.
   * @internal
   */
  public _extraPorts(): Array<{ name: string; port: number }> {
    return this.spec.legacy ? [] : [{ name: 'engine', port: ENGINE_PORT }];
  }

  /**
   * Environment variables with per-pod values that Kubernetes can fill in itself (dependent variables on POD_NAME).
   * @internal
   */
  public _podEnv(input: PcRenderInput): PcPodEnv[] {
    if (this.spec.legacy) return [];
    // raw TOML (the release inserts the value as is), so the string keeps its quotes
    return [{ name: envName(this.spec.envPrefix, ['broker_ip']), value: `"$(POD_NAME).${input.podDomain}"` }];
  }

  /**
   * The configuration with the values one member runs with (what the env overrides change).
   * @internal
   */
  public _applyMember(config: { [key: string]: any }, ordinal: number, input: PcRenderInput): void {
    if (this.spec.legacy) {
      config.node.node_id = ordinal + 1;
    } else {
      config.broker_id = ordinal + 1;
      config.broker_ip = input.hosts[ordinal];
    }
  }

  /**
   * The logging configuration: console only, so the logs reach `kubectl logs` and nothing is written to the data volume.
   * @internal
   */
  public _renderLogger(): string {
    return [
      '# Logging of the placement center, rendered by cdk8s-stateful: the console only (kubectl logs).',
      '[stdout]',
      `kind = "${this.spec.loggerKind}"`,
      `level = "${this.spec.loggerLevel}"`,
      '',
    ].join('\n');
  }

  /**
   * Checks that `value` at `path` is a key this release reads, with a value of the kind it reads; throws otherwise.
   * Returns true when the key is a table of further keys.
   * @internal
   */
  public _checkKey(scope: IConstruct, prop: string, path: string[], value: unknown): boolean {
    let schema: KeySchema | KeyKind = this.spec.schema;
    for (const [i, key] of path.entries()) {
      const table = schema as KeySchema;
      const where = i === 0 ? 'top-level keys' : `keys of [${path.slice(0, i).join('.')}]`;
      if (!Object.prototype.hasOwnProperty.call(table, key)) {
        throw propError(scope, prop, value, `is not a key ${this.displayName} reads; its ${where}: ${Object.keys(table).join(', ')}`);
      }
      schema = table[key];
      if (typeof schema === 'string' && i < path.length - 1) {
        throw propError(scope, prop, value, `is not a key ${this.displayName} reads: ${path.slice(0, i + 1).join('.')} is ${KIND_NAMES[schema]}, not a table`);
      }
    }
    const kind = schema;
    if (typeof kind !== 'string') {
      if (!isTable(value)) {
        throw propError(scope, prop, value, `must be a table: ${this.displayName} reads [${path.join('.')}] with keys ${Object.keys(kind).join(', ')}`);
      }
      return true;
    }
    if (!matchesKind(kind, value)) {
      throw propError(scope, prop, value, `must be ${KIND_NAMES[kind]}: ${this.displayName} reads ${path.join('.')} as one`);
    }
    return false;
  }
}

interface ReleaseSpec {
  readonly version: string;
  readonly legacy: boolean;
  readonly defaultImage?: string;
  readonly binary: string;
  readonly configFile: string;
  readonly envPrefix: string;
  readonly idKey: string[];
  readonly defaultHttpPort: number;
  readonly schema: KeySchema;
  readonly loggerKind: string;
  readonly loggerLevel: string;
}

const KIND_NAMES: { [kind in KeyKind]: string } = {
  'string': 'a string',
  'integer': 'a whole number',
  'number': 'a number',
  'boolean': 'true or false',
  'string-array': 'an array of strings',
  'string-map': 'a table of strings',
};

function matchesKind(kind: KeyKind, value: unknown): boolean {
  switch (kind) {
    case 'string': return typeof value === 'string';
    case 'integer': return (typeof value === 'number' && Number.isInteger(value)) || typeof value === 'bigint';
    case 'number': return typeof value === 'number' && Number.isFinite(value);
    case 'boolean': return typeof value === 'boolean';
    case 'string-array': return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'string-map': return isTable(value) && Object.values(value).every((v) => typeof v === 'string');
  }
}

/** The release's environment override name for a key: `<PREFIX>_<SECTION>_<KEY>` in upper case. */
function envName(prefix: string, path: string[]): string {
  return [prefix, ...path].join('_').toUpperCase();
}

/** @internal */
export function isTable(value: unknown): value is { [key: string]: any } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}
