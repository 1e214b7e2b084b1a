/**
 * Lifecycle scripts of a Redis Cluster node, rendered into the ConfigMap next to redis.conf.
 *
 * Design:
 * - Addressing: every node announces its stable DNS name (cluster-announce-hostname, clients are
 *   redirected to it) and its current pod IP (cluster-announce-ip, used by the cluster bus). On
 *   every start a node re-resolves the names of the peers it knows and CLUSTER MEETs each one whose
 *   address changed, so the cluster re-forms even when every pod came back with a new IP. nodes.conf
 *   is never edited: Redis itself updates a known node's address when a MEET handshake reaches it.
 * - Layout: ordinal o belongs to shard floor(o / (1 + replicas)); the first ordinal of each shard is
 *   its intended master, the next ones its replicas. Growing `shards` appends whole shards, so
 *   existing pods keep their roles. After failovers the actual roles may differ; that is fine.
 * - Formation: ordinal 0 creates the cluster from the intended masters (--cluster-replicas 0) once
 *   all of them answer as empty nodes and no peer belongs to a cluster. Every other node joins a
 *   healthy cluster by itself with --cluster add-node, as a replica of its shard's master, or as an
 *   empty intended master. The highest-ordinal new master gives each empty one a slot (--cluster
 *   reshard) and then evens out the masters that own slots (--cluster rebalance); a new master's
 *   job exits only once it owns its fair share. One join path serves the first start and every
 *   scale-up.
 * - Removal: `drainingShards` marks the last shards. cluster-init.sh reads that number from the ConfigMap
 *   file draining-shards when it starts (the file is left out of the pods' config checksum, so marking
 *   restarts no pod): draining masters take no share of the slots, draining pods join no cluster, and
 *   no node rebalances. drain.sh, run by a Job, moves the draining masters' slots away (rebalance with
 *   weight 0), has every remaining node forget the drained nodes and resets those; then `shards` can go.
 * - Passwords never enter the ConfigMap or a command line: start.sh writes requirepass/masterauth
 *   to a mode-600 file under the tmp dir that redis-server includes; redis-cli reads REDISCLI_AUTH.
 */
import { Duration } from 'cdk8s';
import { RedisConfigOptions, renderRedisConf } from './config';
import { shQuote } from './quote';
import { checkPort, CLUSTER_BUS_PORT_OFFSET, DEFAULT_REDIS_PORT, optionError } from './validate';

/** Mount path of the ConfigMap holding redis.conf and the scripts (read-only). */
export const REDIS_CONFIG_MOUNT_PATH = '/etc/redis-cluster';
/** Mount path of the data volume: nodes.conf, AOF and RDB live here. */
export const REDIS_DATA_MOUNT_PATH = '/data';
/** Mount path of the writable emptyDir; start.sh writes the per-pod settings file here. */
export const REDIS_TMP_MOUNT_PATH = '/tmp';
/** ConfigMap key of the Redis configuration. */
export const REDIS_CONF_FILE = 'redis.conf';
/** ConfigMap key of the container entrypoint script (`sh /etc/redis-cluster/start.sh`). */
export const REDIS_START_SCRIPT = 'start.sh';
/** ConfigMap key of the cluster formation script that start.sh runs in the background. */
export const REDIS_CLUSTER_INIT_SCRIPT = 'cluster-init.sh';
/** ConfigMap key of the liveness (and startup) probe script. */
export const REDIS_LIVENESS_SCRIPT = 'liveness.sh';
/** ConfigMap key of the readiness probe script. */
export const REDIS_READINESS_SCRIPT = 'readiness.sh';
/** ConfigMap key of the drain script that the drain Job runs (only while shards are drained). */
export const REDIS_DRAIN_SCRIPT = 'drain.sh';
/**
 * ConfigMap key holding the number of shards being drained (only while shards are drained). The pods read it
 * when they (re)start; it is left out of the pods' config checksum, so draining restarts no pod.
 */
export const REDIS_DRAINING_FILE = 'draining-shards';
/** Default image: the official Redis image, pinned. */
export const REDIS_DEFAULT_IMAGE = 'redis:7.4.2';
/** uid and gid of the `redis` user in the official image; a non-root pod must set them. */
export const REDIS_UID = 999;
/** Env var with the password (from a Secret key); absent when auth is off. */
export const REDIS_PASSWORD_ENV = 'REDIS_PASSWORD';
/** Env var with the pod IP (downward API status.podIP). */
export const REDIS_POD_IP_ENV = 'POD_IP';
/** Env var with the pod namespace (downward API metadata.namespace); part of the announced hostname. */
export const REDIS_POD_NAMESPACE_ENV = 'POD_NAMESPACE';

/** Parameters of the lifecycle scripts. */
export interface RedisScriptOptions {
  /** StatefulSet name; pods are `<name>-<ordinal>`. */
  readonly statefulSetName: string;
  /** Headless Service that gives every pod the DNS name `<pod>.<service>.<namespace>.svc.<clusterDomain>`. */
  readonly headlessServiceName: string;
  /** Number of shards (masters), at least 3. */
  readonly shards: number;
  /** Replicas of each shard's master. */
  readonly replicasPerShard: number;
  /**
   * Client port; the cluster bus uses port + 10000.
   * @default 6379
   */
  readonly port?: number;
  /**
   * Kubernetes cluster DNS domain.
   * @default "cluster.local"
   */
  readonly clusterDomain?: string;
  /**
   * Require a password in REDIS_PASSWORD; the node refuses to start without one.
   * @default true
   */
  readonly authEnabled?: boolean;
  /**
   * Time limit of one redis-cli call in the probes and scripts. The probes' timeoutSeconds should be
   * one second more.
   * @default Duration.seconds(4)
   */
  readonly commandTimeout?: Duration;
  /**
   * How long a starting node keeps trying to create, join or rejoin the cluster. A node that is not a
   * member by then stops, so that the container restarts and tries again.
   * @default Duration.minutes(10)
   */
  readonly joinTimeout?: Duration;
  /**
   * Pause between two attempts of the cluster formation script.
   * @default Duration.seconds(2)
   */
  readonly pollInterval?: Duration;
  /**
   * ACL users instead of requirepass: acl.sh assembles an aclfile under the tmp dir from the mounted
   * auth Secret (and the users Secret); the scripts authenticate as the cluster user.
   * @default - off: requirepass/masterauth from REDIS_PASSWORD
   */
  readonly acl?: RedisScriptAclOptions;
  /**
   * Names of the server and CLI binaries the scripts call (Valkey images name them valkey-server and valkey-cli).
   * @default - redis-server and redis-cli
   */
  readonly binaries?: RedisBinaries;
  /**
   * TLS: the scripts and probes talk TLS on this port with the certificate under the tls dir, and a
   * loop beside the server reloads the certificate when the mounted Secret changes.
   * @default - plain TCP on `port`
   */
  readonly tls?: RedisScriptTlsOptions;
  /**
   * The last `drainingShards` shards are being removed: their masters take no slots, their pods join no
   * cluster, and drain.sh moves their slots to the other masters, then has every other node forget their
   * nodes and resets them. At least 3 shards must remain.
   * @default 0
   */
  readonly drainingShards?: number;
}

/** TLS settings of the lifecycle scripts. */
export interface RedisScriptTlsOptions {
  /** TLS client port. */
  readonly port: number;
  /**
   * How often the mounted certificate is checked for a renewal.
   * @default Duration.minutes(1)
   */
  readonly reloadInterval?: Duration;
}

/** Mount path of the TLS Secret (tls.crt, tls.key, ca.crt), read-only. */
export const REDIS_TLS_MOUNT_PATH = '/etc/redis-tls';
/** ConfigMap key of the certificate reload loop (TLS only). */
export const REDIS_TLS_SCRIPT = 'tls.sh';

/** Binary names of a server flavour. */
export interface RedisBinaries {
  /** The server, e.g. valkey-server. */
  readonly server: string;
  /** The CLI, e.g. valkey-cli. */
  readonly cli: string;
}

/** ACL settings of the lifecycle scripts. */
export interface RedisScriptAclOptions {
  /** Key of the auth Secret with the default user's password. */
  readonly passwordKey: string;
  /** Key of the auth Secret with the password of the cluster and replication users. */
  readonly clusterPasswordKey: string;
  /**
   * Key of the auth Secret with the metrics user's password.
   * @default - no metrics user
   */
  readonly metricsPasswordKey?: string;
  /**
   * ACL rules of the default user (its password comes from the Secret).
   * @default "~* &* +@all"
   */
  readonly defaultUserRules?: string;
  /**
   * Application users come from a mounted Secret (one key per user name, the value its rules).
   * @default false
   */
  readonly usersFromSecret?: boolean;
  /**
   * How often a running node checks the mounted Secrets and applies changes.
   * @default Duration.seconds(10)
   */
  readonly reloadInterval?: Duration;
}

/** Mount path of the auth Secret when ACL users are on (read-only). */
export const REDIS_AUTH_MOUNT_PATH = '/etc/redis-auth';
/** Mount path of the application users Secret (read-only). */
export const REDIS_USERS_MOUNT_PATH = '/etc/redis-users';
/** ConfigMap key of the script that assembles the ACL file (ACL users only). */
export const REDIS_ACL_SCRIPT = 'acl.sh';
/** User the lifecycle scripts, probes and redis-cli --cluster authenticate as (ACL users only). */
export const REDIS_CLUSTER_USER = 'cluster-admin';
/** User replicas authenticate as towards their master (ACL users only). */
export const REDIS_REPLICATION_USER = 'replication';
/** User of the metrics exporter (ACL users only). */
export const REDIS_METRICS_USER = 'metrics';
/**
 * User the in-pod reload loop applies changes as (ACL users only). Its password is random, made at
 * every start and kept in the pod's private tmp dir: no Secret and no other pod has it.
 */
export const REDIS_RELOAD_USER = 'local-reload';

/**
 * Rights of the internal users. The cluster user moves slots (MIGRATE, RESTORE-ASKING: all keys) and
 * manages the cluster, but cannot read or write keys, flush, change the configuration or the ACL.
 * The replication user can only sync. The metrics user reads INFO-type data but no keys and no
 * CONFIG GET (which would reveal masterauth).
 */
const INTERNAL_USER_RULES: { [user: string]: string } = {
  [REDIS_CLUSTER_USER]: 'resetchannels ~* -@all +auth +hello +ping +echo +select +readonly +readwrite +asking +info +role +dbsize +cluster +migrate +restore +restore-asking +client|setname +client|id',
  [REDIS_REPLICATION_USER]: 'resetkeys resetchannels -@all +auth +ping +psync +replconf',
  [REDIS_METRICS_USER]: 'resetkeys resetchannels -@all +auth +hello +ping +echo +select +client|setname +info +cluster|info +slowlog|get +slowlog|len +latency|latest +latency|histogram +dbsize',
  [REDIS_RELOAD_USER]: 'resetkeys resetchannels -@all +auth +ping +cluster|nodes +acl|load +config|set',
};

/** The rendered lifecycle scripts (POSIX sh). */
export interface RedisScripts {
  /** Container entrypoint: writes the per-pod settings, starts cluster-init.sh, execs redis-server. */
  readonly start: string;
  /** Creates the cluster, joins new nodes, rejoins after address changes; exits when done. */
  readonly clusterInit: string;
  /** Liveness (and startup) probe: PING answers PONG, LOADING or MASTERDOWN. */
  readonly liveness: string;
  /** Readiness probe: PING answers PONG and CLUSTER INFO says cluster_state:ok. */
  readonly readiness: string;
  /** ACL users only: assembles the ACL file from the mounted Secrets. */
  readonly acl?: string;
  /** TLS only: reloads a renewed certificate. */
  readonly tls?: string;
  /** Only while shards are drained: moves their slots away, then forgets and resets their nodes; run by a Job. */
  readonly drain?: string;
}

/** Everything the Redis ConfigMap holds. */
export interface RedisClusterFilesOptions extends RedisScriptOptions {
  /**
   * redis.conf settings. Its port, when set, must equal `port`.
   * @default - the defaults of RedisConfigOptions
   */
  readonly config?: RedisConfigOptions;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function checkInteger(option: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw optionError(option, value, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

function wholeSeconds(option: string, value: Duration, min: number, max: number): number {
  const seconds = value instanceof Duration ? value.toSeconds({ integral: false }) : NaN;
  if (!Number.isInteger(seconds) || seconds < min || seconds > max) {
    throw optionError(option, value, `must be a whole number of seconds from ${min} s to ${max} s`);
  }
  return seconds;
}

/** Validated script parameters. */
interface ScriptSettings {
  readonly STS_NAME: string;
  readonly HEADLESS: string;
  readonly CLUSTER_DOMAIN: string;
  readonly PORT: number;
  readonly BUS_PORT: number;
  readonly SHARDS: number;
  readonly REPLICAS: number;
  readonly NODE_COUNT: number;
  readonly AUTH_REQUIRED: number;
  readonly CMD_TIMEOUT: number;
  readonly JOIN_TIMEOUT: number;
  readonly STEP_INTERVAL: number;
  readonly PASSWORD_KEY: string;
  readonly CLUSTER_PASSWORD_KEY: string;
  readonly METRICS_PASSWORD_KEY: string;
  readonly DEFAULT_USER_RULES: string;
  readonly USERS_FROM_SECRET: number;
  readonly CLUSTER_USER: string;
  readonly REPLICATION_USER: string;
  readonly METRICS_USER: string;
  readonly CLUSTER_USER_RULES: string;
  readonly REPLICATION_USER_RULES: string;
  readonly METRICS_USER_RULES: string;
  readonly RELOAD_USER: string;
  readonly RELOAD_USER_RULES: string;
  readonly RELOAD_INTERVAL: number;
  readonly TLS_RELOAD_INTERVAL: number;
  readonly DRAINING_SHARDS: number;
}

const SECRET_KEY = /^[-._a-zA-Z0-9]{1,253}$/;

function checkAclRules(option: string, rules: string): string {
  if (typeof rules !== 'string' || /[\u0000-\u001f\u007f]/.test(rules)) {
    throw optionError(option, rules, 'must be ACL rules on one line, without control characters');
  }
  const secret = rules.split(/\s+/).find(t => /^([<>#!]|nopass$|resetpass$)/.test(t));
  if (secret !== undefined) {
    throw optionError(option, rules, `must not set passwords (found ${JSON.stringify(secret)}): the password comes from the auth Secret and never enters the ConfigMap; accepted: rules such as "~* &* +@all -@admin" or "off"`);
  }
  return rules.trim();
}

function resolveSettings(options: RedisScriptOptions): ScriptSettings {
  const shards = checkInteger('shards', options.shards, 3, 16384);
  const replicas = checkInteger('replicasPerShard', options.replicasPerShard, 0, 100);
  const nodeCount = shards * (1 + replicas);
  const name = options.statefulSetName;
  // Pod names <name>-<ordinal> must stay valid DNS labels.
  const maxNameLength = 63 - 1 - String(nodeCount - 1).length;
  if (typeof name !== 'string' || !DNS_LABEL.test(name) || name.length > maxNameLength) {
    throw optionError('statefulSetName', name, `must be a DNS label of at most ${maxNameLength} characters (lower-case letters, digits and '-'), so that pod names stay DNS labels`);
  }
  const headless = options.headlessServiceName;
  if (typeof headless !== 'string' || !DNS_LABEL.test(headless)) {
    throw optionError('headlessServiceName', headless, "must be a DNS label: at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit");
  }
  const domain = options.clusterDomain ?? 'cluster.local';
  if (typeof domain !== 'string' || !DNS_SUBDOMAIN.test(domain) || domain.length > 253) {
    throw optionError('clusterDomain', domain, 'must be a DNS subdomain such as cluster.local');
  }
  const port = checkPort('port', options.port ?? DEFAULT_REDIS_PORT);
  return {
    STS_NAME: name,
    HEADLESS: headless,
    CLUSTER_DOMAIN: domain,
    // with TLS every call of the scripts, and the address nodes meet each other at, is the TLS port
    PORT: options.tls ? checkPort('tls.port', options.tls.port) : port,
    BUS_PORT: port + CLUSTER_BUS_PORT_OFFSET,
    SHARDS: shards,
    REPLICAS: replicas,
    NODE_COUNT: nodeCount,
    AUTH_REQUIRED: (options.authEnabled ?? true) ? 1 : 0,
    CMD_TIMEOUT: wholeSeconds('commandTimeout', options.commandTimeout ?? Duration.seconds(4), 1, 60),
    JOIN_TIMEOUT: wholeSeconds('joinTimeout', options.joinTimeout ?? Duration.minutes(10), 10, 86400),
    STEP_INTERVAL: wholeSeconds('pollInterval', options.pollInterval ?? Duration.seconds(2), 1, 60),
    ...resolveAcl(options.acl),
    TLS_RELOAD_INTERVAL: wholeSeconds('tls.reloadInterval', options.tls?.reloadInterval ?? Duration.minutes(1), 1, 86400),
    // a Redis Cluster needs 3 masters; the drained ones leave
    DRAINING_SHARDS: checkInteger('drainingShards', options.drainingShards ?? 0, 0, shards - 3),
  };
}

function resolveAcl(acl: RedisScriptAclOptions | undefined) {
  const key = (option: string, value: string | undefined): string => {
    if (value === undefined) return '';
    if (typeof value !== 'string' || !SECRET_KEY.test(value)) {
      throw optionError(option, value, 'must be a Secret data key: one or more of [-._a-zA-Z0-9], at most 253 characters');
    }
    return value;
  };
  return {
    PASSWORD_KEY: key('acl.passwordKey', acl?.passwordKey),
    CLUSTER_PASSWORD_KEY: key('acl.clusterPasswordKey', acl?.clusterPasswordKey),
    METRICS_PASSWORD_KEY: key('acl.metricsPasswordKey', acl?.metricsPasswordKey),
    DEFAULT_USER_RULES: checkAclRules('acl.defaultUserRules', acl?.defaultUserRules ?? '~* &* +@all'),
    USERS_FROM_SECRET: acl?.usersFromSecret ? 1 : 0,
    CLUSTER_USER: REDIS_CLUSTER_USER,
    REPLICATION_USER: REDIS_REPLICATION_USER,
    METRICS_USER: REDIS_METRICS_USER,
    CLUSTER_USER_RULES: INTERNAL_USER_RULES[REDIS_CLUSTER_USER],
    REPLICATION_USER_RULES: INTERNAL_USER_RULES[REDIS_REPLICATION_USER],
    METRICS_USER_RULES: INTERNAL_USER_RULES[REDIS_METRICS_USER],
    RELOAD_USER: REDIS_RELOAD_USER,
    RELOAD_USER_RULES: INTERNAL_USER_RULES[REDIS_RELOAD_USER],
    RELOAD_INTERVAL: wholeSeconds('acl.reloadInterval', acl?.reloadInterval ?? Duration.seconds(10), 1, 3600),
  };
}

const SETTING_COMMENTS: { [K in keyof ScriptSettings]: string } = {
  STS_NAME: 'StatefulSet name: pods are <name>-<ordinal>',
  HEADLESS: 'headless Service that gives every pod its DNS name',
  CLUSTER_DOMAIN: 'cluster DNS domain',
  PORT: 'client port',
  BUS_PORT: 'cluster bus port',
  SHARDS: 'number of shards (masters)',
  REPLICAS: 'replicas per shard',
  NODE_COUNT: 'pods in the StatefulSet: shards * (1 + replicas)',
  AUTH_REQUIRED: '1: refuse to start without REDIS_PASSWORD',
  CMD_TIMEOUT: 'seconds one redis-cli call may take',
  JOIN_TIMEOUT: 'seconds to create, join or rejoin the cluster',
  STEP_INTERVAL: 'seconds between two formation attempts',
  PASSWORD_KEY: "auth Secret key of the default user's password",
  CLUSTER_PASSWORD_KEY: 'auth Secret key of the cluster and replication users\' password',
  METRICS_PASSWORD_KEY: "auth Secret key of the metrics user's password (empty: no metrics user)",
  DEFAULT_USER_RULES: 'ACL rules of the default user',
  USERS_FROM_SECRET: '1: one application user per key of the users Secret',
  CLUSTER_USER: 'user of the lifecycle scripts, probes and redis-cli --cluster',
  REPLICATION_USER: 'user replicas authenticate as (masteruser)',
  METRICS_USER: 'user of the metrics exporter',
  CLUSTER_USER_RULES: 'manages the cluster and moves slots; cannot read or write keys',
  REPLICATION_USER_RULES: 'can only sync from a master',
  METRICS_USER_RULES: 'reads server statistics; no keys, no CONFIG GET',
  RELOAD_INTERVAL: 'seconds between two checks of the mounted Secrets',
  RELOAD_USER: 'user of the reload loop; its random password never leaves this pod',
  TLS_RELOAD_INTERVAL: 'seconds between two checks of the mounted certificate',
  DRAINING_SHARDS: 'the last shards, being removed: their slots move to the other masters',
  RELOAD_USER_RULES: 'applies changed users (ACL LOAD) and masterauth (CONFIG SET)',
};

/** Paths and the local address; the REDIS_* overrides exist to run the scripts outside a pod. */
type EnvSetting = 'CONFIG_DIR' | 'DATA_DIR' | 'RUN_DIR' | 'LOCAL_HOST' | 'NL' | 'CR' | 'AUTH_DIR' | 'USERS_DIR' | 'TLS_DIR';

const ENV_SETTINGS: { [K in EnvSetting]: string } = {
  CONFIG_DIR: `CONFIG_DIR=\${REDIS_CONFIG_DIR:-${shQuote(REDIS_CONFIG_MOUNT_PATH)}}`,
  DATA_DIR: `DATA_DIR=\${REDIS_DATA_DIR:-${shQuote(REDIS_DATA_MOUNT_PATH)}}`,
  RUN_DIR: `RUN_DIR=\${REDIS_RUN_DIR:-${shQuote(REDIS_TMP_MOUNT_PATH)}}`,
  LOCAL_HOST: 'LOCAL_HOST=${REDIS_LOCAL_HOST:-127.0.0.1}',
  NL: "NL='\n'",
  CR: "CR=$(printf '\\r')",
  AUTH_DIR: `AUTH_DIR=\${REDIS_AUTH_DIR:-${shQuote(REDIS_AUTH_MOUNT_PATH)}}`,
  USERS_DIR: `USERS_DIR=\${REDIS_USERS_DIR:-${shQuote(REDIS_USERS_MOUNT_PATH)}}`,
  TLS_DIR: `TLS_DIR=\${REDIS_TLS_DIR:-${shQuote(REDIS_TLS_MOUNT_PATH)}}`,
};

interface ScriptParts {
  readonly name: string;
  readonly purpose: string;
  readonly settings: Array<keyof ScriptSettings>;
  readonly env: EnvSetting[];
  readonly body: string[];
}

function renderScript(s: ScriptSettings, parts: ScriptParts): string {
  const lines = [
    '#!/bin/sh',
    `# ${parts.purpose}`,
    ...(parts.body.includes(SH_LOG) ? [`SCRIPT=${shQuote(parts.name)}`] : []),
    ...parts.settings.map(k => `${k}=${shQuote(String(s[k]))} # ${SETTING_COMMENTS[k]}`),
    ...parts.env.map(k => ENV_SETTINGS[k]),
  ];
  return `${lines.join('\n')}\n${parts.body.join('')}`;
}

/** Renders the lifecycle scripts from the topology. */
export function renderRedisScripts(options: RedisScriptOptions): RedisScripts {
  const s = resolveSettings(options);
  const acl = options.acl !== undefined;
  const binaries = checkBinaries(options.binaries);
  // With ACL users every redis-cli call authenticates as the cluster user, with the password acl.sh keeps.
  const auth = acl ? SH_AUTH_ACL : SH_AUTH;
  const tls = options.tls !== undefined;
  const user = (body: string) => withTls(withBinaries(acl ? withClusterUser(body) : body, binaries), tls);
  const cliSettings: Array<keyof ScriptSettings> = acl ? ['CLUSTER_USER'] : [];
  const cliEnv: EnvSetting[] = [...(acl ? ['RUN_DIR' as const] : []), ...(tls ? ['TLS_DIR' as const] : [])];
  return {
    start: renderScript(s, {
      name: 'start',
      purpose: 'Container entrypoint of a Redis Cluster node: per-pod settings, then redis-server.',
      settings: ['STS_NAME', 'HEADLESS', 'CLUSTER_DOMAIN', 'SHARDS', 'REPLICAS', 'NODE_COUNT', acl ? 'REPLICATION_USER' : 'AUTH_REQUIRED'],
      env: ['CONFIG_DIR', 'DATA_DIR', 'RUN_DIR', ...(acl ? [] : ['NL' as const, 'CR' as const]), ...(tls ? ['TLS_DIR' as const] : [])],
      body: [SH_BASE, SH_LOG, SH_FQDN, SH_IDENTITY, withBinaries(tlsStart(acl ? aclStart(SH_START) : SH_START, tls), binaries)],
    }),
    clusterInit: renderScript(s, {
      name: 'cluster-init',
      purpose: 'Creates the cluster, joins new nodes and rejoins moved ones; started by start.sh, exits when done.',
      settings: ['STS_NAME', 'HEADLESS', 'CLUSTER_DOMAIN', 'PORT', 'BUS_PORT', 'SHARDS', 'REPLICAS', 'NODE_COUNT', 'CMD_TIMEOUT', 'JOIN_TIMEOUT', 'STEP_INTERVAL', ...cliSettings],
      env: ['CONFIG_DIR', 'LOCAL_HOST', 'NL', ...cliEnv],
      body: [SH_BASE, auth, SH_LOG, user(SH_CLI), SH_FIELD, SH_FQDN, SH_IDENTITY, user(SH_CLUSTER), user(SH_CLUSTER_INIT)],
    }),
    liveness: renderScript(s, {
      name: 'liveness',
      purpose: 'Liveness and startup probe of a Redis Cluster node.',
      settings: ['PORT', 'CMD_TIMEOUT', ...cliSettings],
      env: ['LOCAL_HOST', ...cliEnv],
      body: [SH_BASE, auth, user(SH_CLI), SH_LIVENESS],
    }),
    readiness: renderScript(s, {
      name: 'readiness',
      purpose: 'Readiness probe of a Redis Cluster node.',
      settings: ['PORT', 'CMD_TIMEOUT', ...cliSettings],
      env: ['LOCAL_HOST', 'NL', ...cliEnv],
      body: [SH_BASE, auth, SH_FIELD, user(SH_READINESS)],
    }),
    acl: acl ? renderScript(s, {
      name: 'acl',
      purpose: 'Assembles the ACL file of a Redis Cluster node from the mounted Secrets.',
      settings: ['PORT', 'CMD_TIMEOUT', 'RELOAD_INTERVAL', 'PASSWORD_KEY', 'CLUSTER_PASSWORD_KEY', 'METRICS_PASSWORD_KEY', 'DEFAULT_USER_RULES',
        'USERS_FROM_SECRET', 'CLUSTER_USER', 'REPLICATION_USER', 'METRICS_USER', 'RELOAD_USER', 'CLUSTER_USER_RULES', 'REPLICATION_USER_RULES',
        'METRICS_USER_RULES', 'RELOAD_USER_RULES'],
      env: ['AUTH_DIR', 'USERS_DIR', 'RUN_DIR', 'LOCAL_HOST', 'NL', 'CR'],
      body: [SH_BASE, SH_LOG, withTls(withBinaries(SH_ACL, binaries), tls)],
    }) : undefined,
    tls: tls ? renderScript(s, {
      name: 'tls',
      purpose: 'Reloads the certificate of a Redis Cluster node when the mounted TLS Secret changes.',
      settings: ['PORT', 'CMD_TIMEOUT', 'TLS_RELOAD_INTERVAL', ...(acl ? ['RELOAD_USER' as const] : [])],
      env: ['TLS_DIR', ...(acl ? ['RUN_DIR' as const] : []), 'LOCAL_HOST'],
      body: [SH_BASE, SH_LOG, acl ? SH_TLS_AUTH_ACL : SH_TLS_AUTH, withTls(withBinaries(SH_TLS, binaries), tls)],
    }) : undefined,
    drain: s.DRAINING_SHARDS > 0 ? renderScript(s, {
      name: 'drain',
      purpose: 'Removes the drained shards from a Redis Cluster: moves their slots away, then forgets and resets their nodes; run by the drain Job.',
      settings: ['STS_NAME', 'HEADLESS', 'CLUSTER_DOMAIN', 'PORT', 'SHARDS', 'REPLICAS', 'NODE_COUNT', 'DRAINING_SHARDS', 'CMD_TIMEOUT', 'JOIN_TIMEOUT',
        'STEP_INTERVAL', ...(acl ? ['CLUSTER_PASSWORD_KEY' as const] : []), ...cliSettings],
      env: ['NL', ...(acl ? ['AUTH_DIR' as const] : []), ...(tls ? ['TLS_DIR' as const] : [])],
      body: [SH_BASE, acl ? SH_AUTH_DRAIN_ACL : SH_AUTH, SH_LOG, user(SH_CLI), SH_FIELD, SH_FQDN, user(SH_CLUSTER), user(SH_DRAIN)],
    }) : undefined,
  };
}

function checkBinaries(binaries: RedisBinaries | undefined): RedisBinaries | undefined {
  if (binaries === undefined) return undefined;
  for (const [option, value] of [['binaries.server', binaries.server], ['binaries.cli', binaries.cli]]) {
    if (typeof value !== 'string' || !/^[a-z][a-z0-9-]*$/.test(value)) {
      throw optionError(option, value, 'must be a command name: lower-case letters, digits and "-"');
    }
  }
  return binaries;
}

/** Calls the flavour's binaries instead of redis-server and redis-cli (comments stay as they are). */
function withBinaries(body: string, binaries: RedisBinaries | undefined): string {
  if (binaries === undefined) return body;
  return body.split('\n').map(line => (line.trim().startsWith('#')
    ? line
    : line.replace(/\bredis-cli (?=(--user "\$\w+" )?(-h |-x |--cluster ))/g, `${binaries.cli} `).replace(/^exec redis-server /, `exec ${binaries.server} `))).join('\n');
}

/** Makes every CLI call of a script body talk TLS with the pod's certificate. */
function withTls(body: string, tls: boolean): string {
  if (!tls) return body;
  return body.split('\n').map(line => (line.trim().startsWith('#')
    ? line
    : line.replace(/\b([a-z]+-cli) (?=(--user "\$\w+" )?(-h |-x |--cluster ))/g,
      '$1 --tls --cacert "$TLS_DIR/ca.crt" --cert "$TLS_DIR/tls.crt" --key "$TLS_DIR/tls.key" '))).join('\n');
}

/** start.sh with TLS: the certificate paths go to the per-pod settings; tls.sh reloads a renewed certificate. */
function tlsStart(start: string, tls: boolean): string {
  if (!tls) return start;
  return replaceOnce(replaceOnce(start, SH_START_TLS_ANCHOR, SH_START_TLS_CONF + SH_START_TLS_ANCHOR), SH_START_EXEC, SH_START_TLS_WATCH + SH_START_EXEC);
}

/** Adds --user to every redis-cli call of a script body (comments and log messages stay as they are). */
function withClusterUser(body: string): string {
  return body.split('\n').map(line => (line.trim().startsWith('#')
    ? line
    : line.replace(/redis-cli (?=-h |--cluster (create|add-node|call|check|info|reshard|rebalance|fix) )/g, 'redis-cli --user "$CLUSTER_USER" '))).join('\n');
}

/** start.sh with ACL users: acl.sh assembles the ACL file; replicas authenticate as the replication user. */
function aclStart(start: string): string {
  return replaceOnce(replaceOnce(start, SH_START_PASSWORD_CHECK, SH_START_ACL_BUILD), SH_START_PASSWORD_CONF, SH_START_ACL_CONF);
}

function replaceOnce(text: string, find: string, replacement: string): string {
  const at = text.indexOf(find);
  if (at < 0 || text.indexOf(find, at + 1) >= 0) throw new Error('internal error: script fragment not found exactly once');
  return text.slice(0, at) + replacement + text.slice(at + find.length);
}

/**
 * Renders the whole ConfigMap data: redis.conf plus the scripts, keyed by file name.
 */
export function renderRedisClusterFiles(options: RedisClusterFilesOptions): { [file: string]: string } {
  const port = options.port ?? DEFAULT_REDIS_PORT;
  if (options.config?.port !== undefined && options.config.port !== port) {
    throw optionError('config.port', options.config.port, `must be unset or equal to port (${port})`);
  }
  const scripts = renderRedisScripts(options);
  return {
    [REDIS_CONF_FILE]: renderRedisConf({ ...options.config, port, tls: options.tls ? { plaintext: true, ...options.config?.tls, port: options.tls.port } : undefined }),
    [REDIS_START_SCRIPT]: scripts.start,
    [REDIS_CLUSTER_INIT_SCRIPT]: scripts.clusterInit,
    [REDIS_LIVENESS_SCRIPT]: scripts.liveness,
    [REDIS_READINESS_SCRIPT]: scripts.readiness,
    ...(scripts.acl !== undefined ? { [REDIS_ACL_SCRIPT]: scripts.acl } : {}),
    ...(scripts.tls !== undefined ? { [REDIS_TLS_SCRIPT]: scripts.tls } : {}),
    ...(scripts.drain !== undefined ? { [REDIS_DRAIN_SCRIPT]: scripts.drain, [REDIS_DRAINING_FILE]: `${options.drainingShards}\n` } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Script bodies. They rely only on the settings above, sh (dash or bash), redis-cli, redis-server,
// getent, hostname and coreutils, all present in the official redis image.
// ---------------------------------------------------------------------------------------------

const SH_BASE = `set -u
set -f
LC_ALL=C
export LC_ALL
`;

const SH_AUTH = `
# redis-cli takes the password from the environment, so it never shows on a command line.
unset REDISCLI_AUTH
if [ -n "\${REDIS_PASSWORD:-}" ]; then
  REDISCLI_AUTH=$REDIS_PASSWORD
  export REDISCLI_AUTH
fi
`;

const SH_LOG = `
log() {
  printf '%s %s: %s\\n' "$(date -u '+%Y-%m-%dT%H:%M:%SZ')" "$SCRIPT" "$*" >&2
}

die() {
  log "error: $*"
  exit 1
}

# Unsigned decimal without leading zeros, so that arithmetic never reads it as octal.
is_uint() {
  case $1 in
    '' | *[!0-9]* | 0?*) return 1 ;;
  esac
  return 0
}
`;

const SH_CLI = `
# cli HOST ARG...: one redis-cli call bounded by the command timeout; prints the reply or the error.
cli() {
  _cli_host=$1
  shift
  timeout "$CMD_TIMEOUT" redis-cli -h "$_cli_host" -p "$PORT" "$@" </dev/null 2>&1 | tr -d '\\r'
}
`;

const SH_FIELD = `
# field NAME TEXT: the value of the NAME:value line of TEXT (CLUSTER INFO format).
field() {
  printf '%s\\n' "$2" | while IFS=: read -r _f_key _f_value; do
    if [ "$_f_key" = "$1" ]; then
      printf '%s\\n' "$_f_value"
      break
    fi
  done
}
`;

const SH_FQDN = `
pod_fqdn() {
  printf '%s-%s.%s.%s.svc.%s' "$STS_NAME" "$1" "$HEADLESS" "$NAMESPACE" "$CLUSTER_DOMAIN"
}
`;

const SH_IDENTITY = `
# Who this pod is: ORDINAL, SELF_HOST (stable DNS name) and SELF_IP.
identity() {
  # shellcheck disable=SC3028 # HOSTNAME is set by the container runtime; hostname is the fallback
  _i_hostname=\${HOSTNAME:-$(hostname)}
  ORDINAL=\${POD_ORDINAL:-\${_i_hostname##*-}}
  is_uint "$ORDINAL" || die "cannot tell the pod ordinal from HOSTNAME '$_i_hostname' (expected $STS_NAME-<ordinal>) or POD_ORDINAL"
  if [ "$ORDINAL" -ge "$NODE_COUNT" ]; then
    die "ordinal $ORDINAL is outside the topology of $NODE_COUNT nodes ($SHARDS shards of 1 + $REPLICAS); the configuration may not be updated yet"
  fi
  NAMESPACE=\${POD_NAMESPACE:-}
  [ -n "$NAMESPACE" ] || die "POD_NAMESPACE is not set (expose metadata.namespace through the downward API)"
  SELF_HOST=$(pod_fqdn "$ORDINAL")
  SELF_IP=\${POD_IP:-}
  if [ -z "$SELF_IP" ]; then
    # shellcheck disable=SC2046 # the first word of the address list
    set -- $(hostname -i 2>/dev/null)
    SELF_IP=\${1:-}
  fi
  [ -n "$SELF_IP" ] || die "cannot tell the pod address: POD_IP is not set and hostname -i gave nothing"
}
`;

const SH_START = `
# conf_quote VALUE: VALUE as one double-quoted redis.conf argument.
conf_quote() {
  _q_rest=$1
  _q_out=
  while [ -n "$_q_rest" ]; do
    _q_tail=\${_q_rest#?}
    _q_char=\${_q_rest%"$_q_tail"}
    _q_rest=$_q_tail
    case $_q_char in
      \\\\ | \\") _q_out="$_q_out\\\\$_q_char" ;;
      *) _q_out="$_q_out$_q_char" ;;
    esac
  done
  printf '"%s"' "$_q_out"
}

identity

if [ -n "\${REDIS_PASSWORD:-}" ]; then
  case $REDIS_PASSWORD in
    *"$NL"* | *"$CR"*)
      die "REDIS_PASSWORD contains a line break (a Secret made from a file often ends with a newline)" ;;
  esac
elif [ "$AUTH_REQUIRED" = 1 ]; then
  die "REDIS_PASSWORD is empty but the cluster requires a password (check the Secret and its key)"
fi
if [ -n "\${REDIS_BIND:-}" ]; then
  case $REDIS_BIND in
    *[!0-9A-Fa-f.:*\\ -]*) die "REDIS_BIND '$REDIS_BIND' is not a list of addresses" ;;
  esac
fi
if [ ! -d "$DATA_DIR" ] || [ ! -w "$DATA_DIR" ]; then
  die "data directory $DATA_DIR is missing or not writable by uid $(id -u)"
fi

# Per-pod settings go to a file only this user can read: the password never appears in the
# ConfigMap or on a command line.
RUNTIME_CONF=$RUN_DIR/redis-runtime.conf
(
  umask 077
  {
    printf 'dir %s\\n' "$(conf_quote "$DATA_DIR")"
    if [ -n "\${REDIS_BIND:-}" ]; then
      printf 'bind %s\\n' "$REDIS_BIND"
    fi
    printf 'cluster-announce-ip %s\\n' "$(conf_quote "$SELF_IP")"
    printf 'cluster-announce-hostname %s\\n' "$(conf_quote "$SELF_HOST")"
    printf 'replica-announce-ip %s\\n' "$(conf_quote "$SELF_IP")"
    if [ -n "\${REDIS_PASSWORD:-}" ]; then
      _pw=$(conf_quote "$REDIS_PASSWORD")
      printf 'requirepass %s\\nmasterauth %s\\n' "$_pw" "$_pw"
    fi
  } >"$RUNTIME_CONF.tmp" && mv -f "$RUNTIME_CONF.tmp" "$RUNTIME_CONF"
) || die "cannot write $RUNTIME_CONF"

if [ -f "$DATA_DIR/nodes.conf" ]; then
  log "$SELF_HOST ($SELF_IP): nodes.conf found, rejoining the cluster"
else
  log "$SELF_HOST ($SELF_IP): no nodes.conf, starting as a new node"
fi

# Cluster formation and rejoin run beside the server and exit when done; exec makes
# redis-server the process that receives the pod's signals.
REDIS_SERVER_PID=$$ sh "$CONFIG_DIR/cluster-init.sh" &
exec redis-server "$CONFIG_DIR/redis.conf" --include "$RUNTIME_CONF"
`;

const SH_CLUSTER = `
# redis-cli --cluster colours its output for xterm-like terminals only.
TERM=dumb
export TERM

now() {
  date +%s
}

pod_name() {
  printf '%s-%s' "$STS_NAME" "$1"
}

# ordinal_of_host NAME: the ordinal when NAME is the stable DNS name of one of our pods.
ordinal_of_host() {
  _o_pod=\${1%%.*}
  _o_ord=\${_o_pod##*-}
  is_uint "$_o_ord" || return 1
  [ "$1" = "$(pod_fqdn "$_o_ord")" ] || return 1
  printf '%s' "$_o_ord"
}

# resolve NAME: the current address of a DNS name (REDIS_RESOLVER replaces getent outside a pod).
resolve() {
  if [ -n "\${REDIS_RESOLVER:-}" ]; then
    _r_out=$("$REDIS_RESOLVER" "$1" 2>/dev/null) || return 1
  else
    _r_out=$(getent hosts "$1" 2>/dev/null) || return 1
  fi
  # shellcheck disable=SC2086 # split "address name..." into words
  set -- $_r_out
  [ $# -gt 0 ] || return 1
  printf '%s' "$1"
}

# Ordinals N*(1+replicas) start shard N and are its intended master; the next ones its replicas.
is_master_ordinal() {
  [ $(($1 % (REPLICAS + 1))) -eq 0 ]
}

# nodes_table HOST: CLUSTER NODES as seen by HOST, one node a line:
#   id address ordinal flags master-id link slot-count open
# address and master-id are "-" when unknown, ordinal "-" for nodes that are not our pods,
# open is 1 while the node has slots in migrating or importing state.
nodes_table() {
  _t_raw=$(cli "$1" CLUSTER NODES)
  case $_t_raw in
    *myself*) ;;
    *) return 1 ;;
  esac
  printf '%s\\n' "$_t_raw" | while read -r _t_id _t_addr _t_flags _t_master _t_ping _t_pong _t_epoch _t_link _t_slots; do
    [ -n "$_t_id" ] || continue
    _t_hostport=\${_t_addr%%@*}
    _t_ip=\${_t_hostport%:*}
    case $_t_addr in
      *,*) _t_host=\${_t_addr#*,} ; _t_host=\${_t_host%%,*} ;;
      *) _t_host= ;;
    esac
    _t_ord=$(ordinal_of_host "$_t_host") || _t_ord=-
    _t_count=0
    _t_open=0
    for _t_range in $_t_slots; do
      case $_t_range in
        \\[*) _t_open=1 ;;
        *-*) _t_count=$((_t_count + \${_t_range#*-} - \${_t_range%-*} + 1)) ;;
        *) _t_count=$((_t_count + 1)) ;;
      esac
    done
    printf '%s %s %s %s %s %s %s %s\\n' "$_t_id" "\${_t_ip:--}" "$_t_ord" "$_t_flags" "$_t_master" "$_t_link" "$_t_count" "$_t_open"
  done
}

# self_entry TABLE: this node's line of TABLE.
self_entry() {
  while read -r _s_id _s_ip _s_ord _s_flags _s_rest; do
    case $_s_flags in
      *myself*)
        printf '%s %s %s %s %s\\n' "$_s_id" "$_s_ip" "$_s_ord" "$_s_flags" "$_s_rest"
        return 0 ;;
    esac
  done <<END
$1
END
  return 1
}

# any_open TABLE: some node has slots in migrating or importing state.
any_open() {
  while read -r _a_id _a_ip _a_ord _a_flags _a_master _a_link _a_count _a_open; do
    [ "$_a_open" = 1 ] && return 0
  done <<END
$1
END
  return 1
}

# healthy FLAGS: neither failing, nor in handshake, nor without address.
healthy() {
  case $1 in
    *fail* | *handshake* | *noaddr*) return 1 ;;
  esac
  return 0
}
`;

const SH_CLUSTER_INIT = `
# drainingShards: the last DRAINING shards are being removed. Their masters take no share of the
# slots, their pods join no cluster, and only the drain job moves slots meanwhile. Read on every
# pass from the mounted ConfigMap, which the kubelet updates without restarting the pod.
read_draining() {
  DRAINING=0
  [ -f "$CONFIG_DIR/draining-shards" ] || return 0
  _z_value=$(cat "$CONFIG_DIR/draining-shards" 2>/dev/null)
  if is_uint "$_z_value" && [ "$_z_value" -le $((SHARDS - 3)) ]; then
    DRAINING=$_z_value
  else
    log "ignoring draining-shards '$_z_value': not a number from 0 to $((SHARDS - 3))"
  fi
}

# is_draining ORDINAL: the ordinal belongs to a shard that is being drained.
is_draining() {
  [ "$DRAINING" -gt 0 ] && [ "$1" != - ] && [ $(($1 / (REPLICAS + 1))) -ge $((SHARDS - DRAINING)) ]
}

# shard_master SHARD TABLE [SELF_ID]: id of the current master of SHARD among healthy members other
# than this pod: a master that owns slots, the master a member replicates, or the shard's intended
# master. A member that replicates SELF_ID already follows this node, so it names no other master.
shard_master() {
  _m_first=$(($1 * (REPLICAS + 1)))
  _m_last=$((_m_first + REPLICAS))
  while read -r _m_id _m_ip _m_ord _m_flags _m_master _m_link _m_count _m_open; do
    [ "$_m_ord" != - ] || continue
    [ "$_m_ord" -ne "$ORDINAL" ] || continue
    [ "$_m_ord" -ge "$_m_first" ] || continue
    [ "$_m_ord" -le "$_m_last" ] || continue
    healthy "$_m_flags" || continue
    case $_m_flags in
      *master*)
        if [ "$_m_count" -gt 0 ] || [ "$_m_ord" -eq "$_m_first" ]; then
          printf '%s' "$_m_id"
          return 0
        fi ;;
      *slave*)
        if [ "$_m_master" != - ] && [ "$_m_master" != "\${3:-}" ]; then
          printf '%s' "$_m_master"
          return 0
        fi ;;
    esac
  done <<END
$2
END
  return 1
}

# shard_has_member SHARD TABLE
shard_has_member() {
  _h_first=$(($1 * (REPLICAS + 1)))
  _h_last=$((_h_first + REPLICAS))
  while read -r _h_id _h_ip _h_ord _h_flags _h_rest; do
    [ "$_h_ord" != - ] || continue
    healthy "$_h_flags" || continue
    if [ "$_h_ord" -ge "$_h_first" ] && [ "$_h_ord" -le "$_h_last" ]; then
      return 0
    fi
  done <<END
$2
END
  return 1
}

# has_other_entry ORDINAL ID TABLE: a healthy entry other than ID carries ORDINAL's name.
has_other_entry() {
  while read -r _x_id _x_ip _x_ord _x_flags _x_rest; do
    [ "$_x_ord" = "$1" ] || continue
    [ "$_x_id" != "$2" ] || continue
    healthy "$_x_flags" && return 0
  done <<END
$3
END
  return 1
}

# A member meets every known peer again at the address its stable DNS name has now, so the cluster
# re-forms even when every pod came back with a new IP. Returns 0 once every resolvable peer is
# known at its current address.
rejoin_peers() {
  _j_table=$1
  _j_pending=0
  while read -r _j_id _j_ip _j_ord _j_flags _j_rest; do
    [ "$_j_ord" != - ] || continue
    case $_j_flags in
      *myself* | *handshake*) continue ;;
    esac
    # An old identity of a pod that came back with empty data: another entry owns the name now.
    if ! healthy "$_j_flags" && has_other_entry "$_j_ord" "$_j_id" "$_j_table"; then
      continue
    fi
    _j_want=$(resolve "$(pod_fqdn "$_j_ord")") || continue
    if [ "$_j_want" != "$_j_ip" ]; then
      _j_pending=1
      log "meeting $(pod_name "$_j_ord") at $_j_want (known at $_j_ip)"
      cli "$LOCAL_HOST" CLUSTER MEET "$_j_want" "$PORT" "$BUS_PORT" >/dev/null
    fi
  done <<END
$_j_table
END
  [ "$_j_pending" -eq 0 ]
}

# old_selves TABLE ID: entries that carry this pod's name under another id are this pod before it
# lost its data. Nodes do not gossip such dead entries, so every healthy member's view is read;
# once failed (or address-less) and without slots, every node forgets them. Returns 0 while any
# remain.
old_selves() {
  _g_views=$1
  while read -r _v_id _v_ip _v_ord _v_flags _v_rest; do
    healthy "$_v_flags" || continue
    case $_v_flags in
      *myself*) continue ;;
    esac
    _g_views="$_g_views$NL$(nodes_table "$_v_ip")"
  done <<END
$1
END
  _g_found=1
  _g_seen=
  while read -r _g_id _g_ip _g_ord _g_flags _g_master _g_link _g_count _g_open; do
    [ "$_g_ord" = "$ORDINAL" ] || continue
    [ "$_g_id" != "$2" ] || continue
    case " $_g_seen " in
      *" $_g_id "*) continue ;;
    esac
    _g_seen="$_g_seen $_g_id"
    _g_found=0
    case $_g_flags in
      *fail* | *noaddr*) ;;
      *) continue ;;
    esac
    if [ "$_g_count" -gt 0 ]; then
      log "an earlier identity $_g_id of this pod still owns slots; leaving it to an operator (--cluster fix of the CLI)"
      continue
    fi
    log "forgetting $_g_id, an earlier identity of this pod, on every node"
    timeout 60 redis-cli --cluster call "$SELF_IP:$PORT" CLUSTER FORGET "$_g_id" </dev/null >&2
  done <<END
$_g_views
END
  return "$_g_found"
}

# Percent by which a master's slots may miss its fair share: the default threshold of redis-cli
# --cluster rebalance, passed to it explicitly so that both agree on "balanced".
REBALANCE_THRESHOLD=2

# shard_owned SHARD TABLE: a healthy master of SHARD owns slots.
shard_owned() {
  _d_first=$(($1 * (REPLICAS + 1)))
  _d_last=$((_d_first + REPLICAS))
  while read -r _d_id _d_ip _d_ord _d_flags _d_master _d_link _d_count _d_open; do
    [ "$_d_ord" != - ] || continue
    [ "$_d_count" -gt 0 ] || continue
    healthy "$_d_flags" || continue
    case $_d_flags in
      *master*) ;;
      *) continue ;;
    esac
    if [ "$_d_ord" -ge "$_d_first" ] && [ "$_d_ord" -le "$_d_last" ]; then
      return 0
    fi
  done <<END
$2
END
  return 1
}

# sharing ORDINAL FLAGS COUNT TABLE: the node takes a share of the slots: a healthy master that owns
# slots, or an empty intended master of a shard that no master serves yet. Other empty masters (a
# replica between add-node's MEET and its REPLICATE, one waiting for its master) take none.
sharing() {
  healthy "$2" || return 1
  ! is_draining "$1" || return 1
  case $2 in
    *master*) ;;
    *) return 1 ;;
  esac
  [ "$3" -gt 0 ] && return 0
  [ "$1" != - ] && is_master_ordinal "$1" && ! shard_owned $(($1 / (REPLICAS + 1))) "$4"
}

# fair_share TABLE: the slots each sharing master owns once the slots are balanced (0: none shares).
fair_share() {
  _k_n=0
  while read -r _k_id _k_ip _k_ord _k_flags _k_master _k_link _k_count _k_open; do
    if sharing "$_k_ord" "$_k_flags" "$_k_count" "$1"; then
      _k_n=$((_k_n + 1))
    fi
  done <<END
$1
END
  if [ "$_k_n" -gt 0 ]; then
    printf '%s' $((16384 / _k_n))
  else
    printf 0
  fi
}

# underfilled COUNT FAIR: COUNT slots miss the fair share FAIR by more than the threshold, by the
# rule redis-cli --cluster rebalance applies (|100 - 100 * FAIR / COUNT| > threshold).
underfilled() {
  [ "$1" -lt "$2" ] && [ $((100 * ($2 - $1))) -gt $((REBALANCE_THRESHOLD * $1)) ]
}

# Spreads the slots over new (empty or underfilled) intended masters, e.g. after shards grew.
# The highest-ordinal such master acts, once every shard has a member; past half the join timeout
# any of them does. Empty ones get a first slot, then rebalance runs without
# --cluster-use-empty-masters: that flag also counts, and feeds, a replica that add-node has met
# but not yet attached (an empty master for a moment), whatever weights were computed before.
rebalance() {
  _b_table=$1
  _b_missing=
  _b_shard=0
  while [ "$_b_shard" -lt $((SHARDS - DRAINING)) ]; do
    shard_has_member "$_b_shard" "$_b_table" || _b_missing="$_b_missing $_b_shard"
    _b_shard=$((_b_shard + 1))
  done
  _b_fair=$(fair_share "$_b_table")
  _b_highest=-1
  _b_empty=
  _b_donor=
  _b_most=0
  while read -r _b_id _b_ip _b_ord _b_flags _b_master _b_link _b_count _b_open; do
    sharing "$_b_ord" "$_b_flags" "$_b_count" "$_b_table" || continue
    if [ "$_b_count" -eq 0 ]; then
      _b_empty="$_b_empty $_b_id"
    elif [ "$_b_count" -gt "$_b_most" ]; then
      _b_most=$_b_count
      _b_donor=$_b_id
    fi
    if [ "$_b_ord" != - ] && is_master_ordinal "$_b_ord" && underfilled "$_b_count" "$_b_fair" &&
      [ "$_b_ord" -gt "$_b_highest" ]; then
      _b_highest=$_b_ord
    fi
  done <<END
$_b_table
END
  _b_patient=$(($(now) < START + JOIN_TIMEOUT / 2))
  if [ -n "$_b_missing" ] && [ "$_b_patient" -eq 1 ]; then
    log "waiting for shard(s)$_b_missing to join before moving slots"
    return 1
  fi
  if [ "$_b_highest" -ne "$ORDINAL" ] && [ "$_b_patient" -eq 1 ]; then
    log "waiting for $(pod_name "$_b_highest") to move slots to the new masters"
    return 1
  fi
  # A node that just joined refuses imports (CLUSTERDOWN) until it sees the cluster healthy.
  if [ "$(field cluster_state "$(cli "$LOCAL_HOST" CLUSTER INFO)")" != ok ]; then
    log "waiting for cluster_state ok before moving slots"
    return 1
  fi
  _b_check=$(timeout 120 redis-cli --cluster check "$SELF_IP:$PORT" </dev/null 2>&1)
  case $_b_check in
    *"[OK] All 16384 slots covered"*) ;;
    *)
      log "cluster check does not pass yet; not moving slots"
      return 1 ;;
  esac
  for _b_id in $_b_empty; do
    log "giving the empty master $_b_id a first slot from $_b_donor"
    timeout "$JOIN_TIMEOUT" redis-cli --cluster reshard "$SELF_IP:$PORT" --cluster-from "$_b_donor" \\
      --cluster-to "$_b_id" --cluster-slots 1 --cluster-yes </dev/null >&2 || return 1
  done
  # A move fails when a node turns replica meanwhile (add-node attaching one); the next pass resumes.
  log "moving slots to the new masters (fair share: $_b_fair slots)"
  timeout "$JOIN_TIMEOUT" redis-cli --cluster rebalance "$SELF_IP:$PORT" \\
    --cluster-threshold "$REBALANCE_THRESHOLD" </dev/null >&2
  return 1
}

# A member settles its role; returns 0 when nothing is left to do.
settle() {
  _e_table=$1
  _e_self=$(self_entry "$_e_table") || return 1
  read -r _e_id _e_ip _e_ord _e_flags _e_master _e_link _e_count _e_open <<END
$_e_self
END
  if [ "$_e_open" -eq 1 ]; then
    # An interrupted slot move leaves slots open; fix completes it.
    log "slots left open by an interrupted move: running cluster fix"
    timeout "$JOIN_TIMEOUT" redis-cli --cluster fix "$SELF_IP:$PORT" --cluster-yes </dev/null >&2
    return 1
  fi
  if old_selves "$_e_table" "$_e_id"; then
    return 1
  fi
  case $_e_flags in
    *master*)
      if [ "$_e_count" -eq 0 ] && _e_target=$(shard_master "$SHARD" "$_e_table" "$_e_id"); then
        log "empty master: replicating $_e_target, the master of shard $SHARD"
        cli "$LOCAL_HOST" CLUSTER REPLICATE "$_e_target" >&2
        return 1
      fi
      if ! is_master_ordinal "$ORDINAL"; then
        if [ "$_e_count" -eq 0 ]; then
          log "empty master: waiting for the master of shard $SHARD"
          return 1
        fi
      elif [ "$DRAINING" -eq 0 ] && underfilled "$_e_count" "$(fair_share "$_e_table")"; then
        # Settled only at a fair share: a rebalance cut short leaves this master short of it. While
        # shards are drained, only the drain job moves slots.
        rebalance "$_e_table"
        return 1
      fi ;;
  esac
  _e_state=$(field cluster_state "$(cli "$LOCAL_HOST" CLUSTER INFO)")
  if [ "$_e_state" != ok ]; then
    log "cluster_state is '\${_e_state:-unknown}'; waiting"
    return 1
  fi
  return 0
}

# find_cluster: asks every expected peer. Sets SEED to a peer of a formed, healthy cluster,
# PEER_CLUSTER=1 when any peer belongs to a cluster at all, PEERS_UP to the peers that answer.
find_cluster() {
  SEED=
  PEER_CLUSTER=0
  PEERS_UP=0
  _f_ord=0
  while [ "$_f_ord" -lt "$NODE_COUNT" ]; do
    if [ "$_f_ord" -ne "$ORDINAL" ] && _f_ip=$(resolve "$(pod_fqdn "$_f_ord")"); then
      _f_info=$(cli "$_f_ip" CLUSTER INFO)
      _f_known=$(field cluster_known_nodes "$_f_info")
      _f_slots=$(field cluster_slots_assigned "$_f_info")
      if [ -n "$_f_known" ]; then
        PEERS_UP=$((PEERS_UP + 1))
        if [ "$_f_known" -gt 1 ] || [ "\${_f_slots:-0}" -gt 0 ]; then
          PEER_CLUSTER=1
          if [ -z "$SEED" ] && [ "$_f_known" -gt 1 ] && [ "$(field cluster_state "$_f_info")" = ok ]; then
            SEED=$_f_ip
          fi
        fi
      fi
    fi
    _f_ord=$((_f_ord + 1))
  done
}

# The creator forms the cluster from the intended masters once each of them answers as an empty
# node; replicas then join on their own, so shard N's replicas are always ordinals N*(1+r)+1..+r.
create_cluster() {
  _c_addrs=
  _c_shard=0
  while [ "$_c_shard" -lt $((SHARDS - DRAINING)) ]; do
    _c_ord=$((_c_shard * (REPLICAS + 1)))
    if [ "$_c_ord" -eq "$ORDINAL" ]; then
      _c_ip=$SELF_IP
    elif ! _c_ip=$(resolve "$(pod_fqdn "$_c_ord")"); then
      log "waiting for $(pod_name "$_c_ord") to have an address"
      return 1
    fi
    _c_info=$(cli "$_c_ip" CLUSTER INFO)
    if [ "$(field cluster_known_nodes "$_c_info")" != 1 ] || [ "$(field cluster_slots_assigned "$_c_info")" != 0 ]; then
      log "waiting for $(pod_name "$_c_ord") ($_c_ip) to answer as an empty node"
      return 1
    fi
    _c_addrs="$_c_addrs $_c_ip:$PORT"
    _c_shard=$((_c_shard + 1))
  done
  log "creating the cluster from the masters$_c_addrs"
  # shellcheck disable=SC2086 # one word per address
  timeout 300 redis-cli --cluster create $_c_addrs --cluster-replicas 0 --cluster-yes </dev/null >&2
}

# earlier_self_active TABLE: an entry with this pod's name (this pod before it lost its data) still
# owns slots or is not yet failed; joining now would race its failover.
earlier_self_active() {
  while read -r _l_id _l_ip _l_ord _l_flags _l_master _l_link _l_count _l_open; do
    [ "$_l_ord" = "$ORDINAL" ] || continue
    case $_l_flags in
      *fail* | *noaddr*) [ "$_l_count" -gt 0 ] && return 0 ;;
      *) return 0 ;;
    esac
  done <<END
$1
END
  return 1
}

# A new node joins the formed cluster that SEED belongs to: as a replica of its shard's master when
# the shard has one, else (intended masters only) as an empty master that a rebalance then fills.
join_cluster() {
  _n_table=$(nodes_table "$1") || return 1
  if any_open "$_n_table"; then
    log "slots are being moved; waiting to join"
    return 1
  fi
  if earlier_self_active "$_n_table"; then
    log "an earlier identity of this pod is still active in the cluster; waiting for its failover"
    return 1
  fi
  if _n_master=$(shard_master "$SHARD" "$_n_table"); then
    log "joining through $1 as a replica of $_n_master (shard $SHARD)"
    timeout 300 redis-cli --cluster add-node "$SELF_IP:$PORT" "$1:$PORT" \\
      --cluster-slave --cluster-master-id "$_n_master" </dev/null >&2
  elif is_master_ordinal "$ORDINAL"; then
    log "joining through $1 as the master of shard $SHARD"
    timeout 300 redis-cli --cluster add-node "$SELF_IP:$PORT" "$1:$PORT" </dev/null >&2
  else
    log "waiting for the master of shard $SHARD to join"
  fi
}

# One pass; returns 0 when this node is a settled member of a healthy cluster.
step() {
  read_draining
  _p_table=$(nodes_table "$LOCAL_HOST") || return 1
  _p_self=$(self_entry "$_p_table") || return 1
  read -r _p_id _p_ip _p_ord _p_flags _p_master _p_link _p_count _p_open <<END
$_p_self
END
  if [ "$(printf '%s\\n' "$_p_table" | wc -l)" -gt 1 ]; then
    MEMBER=1
    rejoin_peers "$_p_table" || return 1
    if is_draining "$ORDINAL"; then
      # reachable at its current address, which is all the drain job needs of it
      log "shard $SHARD is being drained: its slots move to the other masters (drain job); done"
      exit 0
    fi
    settle "$_p_table"
    return
  fi
  if is_draining "$ORDINAL"; then
    log "shard $SHARD is being drained: this node joins no cluster; done"
    exit 0
  fi
  if [ "$_p_count" -gt 0 ]; then
    log "owns slots but knows no peer yet (cluster creation in progress); waiting"
    return 1
  fi
  find_cluster
  if [ -n "$SEED" ]; then
    join_cluster "$SEED"
  elif [ "$PEER_CLUSTER" -eq 1 ]; then
    log "peers belong to a cluster that is not healthy; waiting to join it"
  elif [ "$ORDINAL" -eq 0 ]; then
    create_cluster
  else
    log "waiting for the cluster to be created ($PEERS_UP peers answer)"
  fi
  return 1
}

identity
SHARD=$((ORDINAL / (REPLICAS + 1)))
START=$(now)
MEMBER=0
while :; do
  _w_reply=$(cli "$LOCAL_HOST" PING)
  case $_w_reply in
    PONG) break ;;
    # Loading a big dataset may take long; the join timeout starts once it is done.
    LOADING*) START=$(now) ;;
  esac
  if [ "$(now)" -ge $((START + JOIN_TIMEOUT)) ]; then
    log "redis-server did not answer PING within \${JOIN_TIMEOUT}s (last reply: $_w_reply)"
    exit 1
  fi
  sleep 1
done
START=$(now)
while :; do
  if step; then
    log "$SELF_HOST is a member of a healthy cluster; done"
    exit 0
  fi
  if [ "$(now)" -ge $((START + JOIN_TIMEOUT)) ]; then
    if [ "$MEMBER" -eq 1 ]; then
      log "gave up after \${JOIN_TIMEOUT}s; the cluster's own gossip carries on"
      exit 1
    fi
    # A node that never joined serves nothing: restarting the container retries from scratch.
    log "not part of a cluster after \${JOIN_TIMEOUT}s; stopping redis-server so the container restarts"
    if is_uint "\${REDIS_SERVER_PID:-}" && [ "$REDIS_SERVER_PID" -gt 1 ]; then
      kill -TERM "$REDIS_SERVER_PID" 2>/dev/null
    fi
    exit 1
  fi
  sleep "$STEP_INTERVAL"
done
`;

const SH_DRAIN = `
ACTIVE_SHARDS=$((SHARDS - DRAINING_SHARDS))
ACTIVE_NODES=$((ACTIVE_SHARDS * (REPLICAS + 1)))
if [ "$DRAINING_SHARDS" -eq 1 ]; then
  SHARD_RANGE="shard $ACTIVE_SHARDS"
else
  SHARD_RANGE="shards $ACTIVE_SHARDS to $((SHARDS - 1))"
fi
NAMESPACE=\${POD_NAMESPACE:-}
[ -n "$NAMESPACE" ] || die "POD_NAMESPACE is not set (expose metadata.namespace through the downward API)"

# draining ORDINAL: the pod belongs to one of the shards being removed.
draining() {
  [ "$1" != - ] && [ "$1" -ge "$ACTIVE_NODES" ]
}

# active_views: "ordinal address" of every pod of the remaining shards that answers CLUSTER NODES.
active_views() {
  _v_ord=0
  while [ "$_v_ord" -lt "$ACTIVE_NODES" ]; do
    if _v_ip=$(resolve "$(pod_fqdn "$_v_ord")") && nodes_table "$_v_ip" >/dev/null; then
      printf '%s %s\\n' "$_v_ord" "$_v_ip"
    fi
    _v_ord=$((_v_ord + 1))
  done
}

# One pass: returns 0 once no remaining node knows a node of the drained shards and those keep no
# peers. Every pass looks at the cluster as it is, so a pass or a job that was cut short resumes.
pass() {
  _d_views=$(active_views)
  if [ -z "$_d_views" ]; then
    log "no pod of the remaining shards answers yet"
    return 1
  fi
  _d_seed=\${_d_views%%"$NL"*}
  _d_seed=\${_d_seed#* }
  _d_table=$(nodes_table "$_d_seed") || return 1
  if any_open "$_d_table"; then
    log "slots left open by an interrupted move: running cluster fix"
    timeout "$JOIN_TIMEOUT" redis-cli --cluster fix "$_d_seed:$PORT" --cluster-yes </dev/null >&2
    return 1
  fi
  _d_weights=
  _d_left=0
  while read -r _d_id _d_ip _d_ord _d_flags _d_master _d_link _d_count _d_open; do
    draining "$_d_ord" || continue
    [ "$_d_count" -gt 0 ] || continue
    if ! healthy "$_d_flags"; then
      log "$(pod_name "$_d_ord") owns $_d_count slots but is not reachable ($_d_flags); waiting for it"
      return 1
    fi
    _d_weights="$_d_weights $_d_id=0"
    _d_left=$((_d_left + _d_count))
  done <<END
$_d_table
END
  if [ -n "$_d_weights" ]; then
    _d_check=$(timeout 120 redis-cli --cluster check "$_d_seed:$PORT" </dev/null 2>&1)
    case $_d_check in
      *"[OK] All 16384 slots covered"*) ;;
      *)
        log "cluster check does not pass yet; not moving slots"
        return 1 ;;
    esac
    log "moving $_d_left slots off $SHARD_RANGE to the $ACTIVE_SHARDS remaining masters"
    # Weight 0 empties the draining masters; the remaining ones end with even shares.
    # shellcheck disable=SC2086 # one word per node=weight
    timeout "$JOIN_TIMEOUT" redis-cli --cluster rebalance "$_d_seed:$PORT" --cluster-weight $_d_weights </dev/null >&2
    return 1
  fi
  # The drained nodes own no slots: every remaining node forgets them (FORGET bans a node for 60 s,
  # long enough to reset it before gossip brings it back), then they are reset.
  _d_done=0
  while read -r _d_ord _d_ip; do
    [ -n "$_d_ord" ] || continue
    _d_view=$(nodes_table "$_d_ip") || continue
    while read -r _d_id _d_nip _d_nord _d_rest; do
      draining "$_d_nord" || continue
      _d_done=1
      log "$(pod_name "$_d_ord") forgets $_d_id ($(pod_name "$_d_nord"))"
      cli "$_d_ip" CLUSTER FORGET "$_d_id" >&2
    done <<END
$_d_view
END
  done <<END
$_d_views
END
  _d_ord=$ACTIVE_NODES
  while [ "$_d_ord" -lt "$NODE_COUNT" ]; do
    if _d_ip=$(resolve "$(pod_fqdn "$_d_ord")"); then
      _d_known=$(field cluster_known_nodes "$(cli "$_d_ip" CLUSTER INFO)")
      if [ -n "$_d_known" ] && [ "$_d_known" -gt 1 ]; then
        _d_done=1
        log "resetting $(pod_name "$_d_ord"): it keeps no peers, slots or data"
        cli "$_d_ip" CLUSTER RESET SOFT >&2
      fi
    fi
    _d_ord=$((_d_ord + 1))
  done
  if [ "$_d_done" -eq 0 ]; then
    log "the cluster runs on the $ACTIVE_SHARDS remaining shards:"
    timeout 120 redis-cli --cluster info "$_d_seed:$PORT" </dev/null >&2
    return 0
  fi
  return 1
}

START=$(now)
log "removing $SHARD_RANGE (pods $(pod_name "$ACTIVE_NODES") to $(pod_name $((NODE_COUNT - 1))))"
while :; do
  if pass; then
    log "done: lower shards to $ACTIVE_SHARDS (and drainingShards to 0) and apply"
    exit 0
  fi
  if [ "$(now)" -ge $((START + JOIN_TIMEOUT)) ]; then
    log "not done after \${JOIN_TIMEOUT}s; the job starts again and resumes"
    exit 1
  fi
  sleep "$STEP_INTERVAL"
done
`;

const SH_AUTH_DRAIN_ACL = `
# redis-cli authenticates as the cluster user with its password from the mounted auth Secret; it
# never shows on a command line.
unset REDISCLI_AUTH
if [ -r "$AUTH_DIR/$CLUSTER_PASSWORD_KEY" ]; then
  REDISCLI_AUTH=$(cat "$AUTH_DIR/$CLUSTER_PASSWORD_KEY")
  export REDISCLI_AUTH
fi
`;

const SH_LIVENESS = `
# Loading a big dataset, or a master that is down, still means this process is healthy.
reply=$(cli "$LOCAL_HOST" PING)
case $reply in
  PONG | LOADING* | MASTERDOWN* | "(error) LOADING"* | "(error) MASTERDOWN"*) exit 0 ;;
esac
printf 'PING answered: %s\\n' "$reply"
exit 1
`;

const SH_READINESS = `
# Ready only when the node answers (not LOADING) and sees the cluster healthy.
reply=$(printf 'PING\\nCLUSTER INFO\\n' | timeout "$CMD_TIMEOUT" redis-cli -h "$LOCAL_HOST" -p "$PORT" 2>&1 | tr -d '\\r')
first=\${reply%%"$NL"*}
if [ "$first" != PONG ]; then
  printf 'PING answered: %s\\n' "$first"
  exit 1
fi
state=$(field cluster_state "$reply")
if [ "$state" != ok ]; then
  printf 'cluster_state is %s\\n' "\${state:-unknown}"
  exit 1
fi
exit 0
`;

const SH_START_PASSWORD_CHECK = `if [ -n "\${REDIS_PASSWORD:-}" ]; then
  case $REDIS_PASSWORD in
    *"$NL"* | *"$CR"*)
      die "REDIS_PASSWORD contains a line break (a Secret made from a file often ends with a newline)" ;;
  esac
elif [ "$AUTH_REQUIRED" = 1 ]; then
  die "REDIS_PASSWORD is empty but the cluster requires a password (check the Secret and its key)"
fi
`;

const SH_START_ACL_BUILD = `# ACL users: acl.sh assembles the ACL file and the cluster user's password file from the mounted Secrets,
# then watches them beside the server and applies changes without a restart.
sh "$CONFIG_DIR/acl.sh" build || die "cannot assemble the ACL file from the mounted Secrets (see above)"
REDIS_SERVER_PID=$$ sh "$CONFIG_DIR/acl.sh" watch &
`;

const SH_START_PASSWORD_CONF = `    if [ -n "\${REDIS_PASSWORD:-}" ]; then
      _pw=$(conf_quote "$REDIS_PASSWORD")
      printf 'requirepass %s\\nmasterauth %s\\n' "$_pw" "$_pw"
    fi
`;

const SH_START_ACL_CONF = `    printf 'aclfile %s\\n' "$(conf_quote "$RUN_DIR/users.acl")"
    printf 'masteruser %s\\nmasterauth %s\\n' "$REPLICATION_USER" "$(conf_quote "$(cat "$RUN_DIR/cluster-auth")")"
`;

const SH_AUTH_ACL = `
# redis-cli authenticates as the cluster user with the password acl.sh keeps in a private file; it
# never shows on a command line.
unset REDISCLI_AUTH
if [ -r "$RUN_DIR/cluster-auth" ]; then
  REDISCLI_AUTH=$(cat "$RUN_DIR/cluster-auth")
  export REDISCLI_AUTH
fi
`;

const SH_ACL = `
# secret_value FILE: a mounted Secret value without its trailing newlines; fails when it is missing,
# empty or has a line break inside.
secret_value() {
  [ -f "$1" ] || return 1
  _s_value=$(cat "$1") || return 1
  [ -n "$_s_value" ] || return 1
  case $_s_value in
    *"$NL"* | *"$CR"*)
      log "error: $1 has a line break inside its value"
      return 1 ;;
  esac
  printf '%s' "$_s_value"
}

# hashed KEY: "#<sha256>" of the password under KEY of the auth Secret (the ACL file holds no password).
hashed() {
  _p_value=$(secret_value "$AUTH_DIR/$1") || return 1
  printf '#%s' "$(printf '%s' "$_p_value" | sha256sum | cut -d ' ' -f 1)"
}

# passwords KEY: the hashed password under KEY and, while a rotation is under way, the one under KEY.previous.
passwords() {
  if ! _w_list=$(hashed "$1"); then
    log "error: the auth Secret has no usable key $1 (mounted at $AUTH_DIR)"
    return 1
  fi
  if _w_previous=$(hashed "$1.previous"); then
    _w_list="$_w_list $_w_previous"
  fi
  printf '%s' "$_w_list"
}

# app_users: one "user NAME RULES" line per key of the users Secret.
app_users() {
  [ "$USERS_FROM_SECRET" = 1 ] || return 0
  if [ ! -d "$USERS_DIR" ]; then
    log "error: the users Secret is not mounted at $USERS_DIR"
    return 1
  fi
  set +f
  set -- "$USERS_DIR"/*
  set -f
  for _u_file in "$@"; do
    [ -f "$_u_file" ] || continue
    _u_name=\${_u_file##*/}
    case $_u_name in
      default | "$CLUSTER_USER" | "$REPLICATION_USER" | "$METRICS_USER" | "$RELOAD_USER")
        log "error: user $_u_name of the users Secret is reserved: the cluster sets default and its internal users"
        return 1 ;;
    esac
    if ! _u_rules=$(secret_value "$_u_file"); then
      log "error: user $_u_name of the users Secret has no rules on one line"
      return 1
    fi
    printf 'user %s %s\\n' "$_u_name" "$_u_rules"
  done
}

# assemble FILE: writes the ACL file to FILE (readable by this user only).
assemble() {
  _a_default=$(passwords "$PASSWORD_KEY") || return 1
  _a_cluster=$(passwords "$CLUSTER_PASSWORD_KEY") || return 1
  _a_metrics=
  if [ -n "$METRICS_PASSWORD_KEY" ]; then
    _a_metrics=$(passwords "$METRICS_PASSWORD_KEY") || return 1
  fi
  _a_users=$(app_users) || return 1
  _a_reload=$(secret_value "$RUN_DIR/reload-auth") || return 1
  _a_reload="#$(printf '%s' "$_a_reload" | sha256sum | cut -d ' ' -f 1)"
  (
    umask 077
    {
      printf 'user default reset on %s %s\\n' "$_a_default" "$DEFAULT_USER_RULES"
      printf 'user %s reset on %s %s\\n' "$CLUSTER_USER" "$_a_cluster" "$CLUSTER_USER_RULES"
      printf 'user %s reset on %s %s\\n' "$REPLICATION_USER" "$_a_cluster" "$REPLICATION_USER_RULES"
      if [ -n "$_a_metrics" ]; then
        printf 'user %s reset on %s %s\\n' "$METRICS_USER" "$_a_metrics" "$METRICS_USER_RULES"
      fi
      printf 'user %s reset on %s %s\\n' "$RELOAD_USER" "$_a_reload" "$RELOAD_USER_RULES"
      if [ -n "$_a_users" ]; then
        printf '%s\\n' "$_a_users"
      fi
    } >"$1.tmp" && mv -f "$1.tmp" "$1"
  )
}

# use_password PASSWORD: the cluster password the scripts and masterauth use from now on.
use_password() {
  (
    umask 077
    printf '%s' "$1" >"$RUN_DIR/cluster-auth.tmp" && mv -f "$RUN_DIR/cluster-auth.tmp" "$RUN_DIR/cluster-auth"
  )
}

# build (at start): the ACL file and the cluster password. While a rotation is under way the
# previous password is used: every node accepts it, whether or not it has seen the new one.
build() {
  (
    umask 077
    head -c 32 /dev/urandom | od -A n -t x1 | tr -d ' \\n' >"$RUN_DIR/reload-auth"
  ) || return 1
  assemble "$RUN_DIR/users.acl" || return 1
  _b_password=$(secret_value "$AUTH_DIR/$CLUSTER_PASSWORD_KEY.previous") ||
    _b_password=$(secret_value "$AUTH_DIR/$CLUSTER_PASSWORD_KEY") || return 1
  use_password "$_b_password"
}

# cli_with PASSWORD HOST ARG...: one redis-cli call as the cluster user; the password stays off argv.
cli_with() {
  _c_password=$1
  _c_host=$2
  shift 2
  REDISCLI_AUTH=$_c_password timeout "$CMD_TIMEOUT" redis-cli --user "$CLUSTER_USER" -h "$_c_host" -p "$PORT" "$@" </dev/null 2>&1 | tr -d '\\r'
}

# local_cli ARG...: one redis-cli call to this node as the reload user.
local_cli() {
  REDISCLI_AUTH=$(cat "$RUN_DIR/reload-auth") timeout "$CMD_TIMEOUT" redis-cli --user "$RELOAD_USER" -h "$LOCAL_HOST" -p "$PORT" "$@" 2>&1 | tr -d '\\r'
}

# peers_accept PASSWORD: every reachable member of the cluster accepts PASSWORD for the cluster user.
peers_accept() {
  _e_nodes=$(local_cli CLUSTER NODES </dev/null)
  case $_e_nodes in
    *myself*) ;;
    *) return 1 ;;
  esac
  while read -r _e_id _e_addr _e_flags _e_rest; do
    case $_e_flags in
      *myself* | *fail* | *noaddr* | *handshake* | '') continue ;;
    esac
    _e_ip=\${_e_addr%%@*}
    _e_ip=\${_e_ip%:*}
    if [ "$(cli_with "$1" "$_e_ip" PING)" != PONG ]; then
      log "waiting for $_e_ip to accept the new cluster password"
      return 1
    fi
  done <<END
$_e_nodes
END
  return 0
}

# reload: applies changed users and passwords (ACL LOAD), then moves masterauth and the scripts to
# the current cluster password once every peer accepts it.
reload() {
  assemble "$RUN_DIR/users.acl.new" || return 1
  if cmp -s "$RUN_DIR/users.acl.new" "$RUN_DIR/users.acl"; then
    rm -f "$RUN_DIR/users.acl.new"
  else
    cp -p "$RUN_DIR/users.acl" "$RUN_DIR/users.acl.old" && mv -f "$RUN_DIR/users.acl.new" "$RUN_DIR/users.acl" || return 1
    _r_reply=$(local_cli ACL LOAD </dev/null)
    if [ "$_r_reply" != OK ]; then
      # Redis keeps the users it has; the file goes back so that a restart starts with them too.
      mv -f "$RUN_DIR/users.acl.old" "$RUN_DIR/users.acl"
      log "error: ACL LOAD refused the changed users: $_r_reply"
      return 1
    fi
    rm -f "$RUN_DIR/users.acl.old"
    log "applied changed users and passwords (ACL LOAD)"
  fi
  _r_want=$(secret_value "$AUTH_DIR/$CLUSTER_PASSWORD_KEY") || return 1
  [ "$_r_want" != "$(cat "$RUN_DIR/cluster-auth")" ] || return 0
  if [ -f "$AUTH_DIR/$CLUSTER_PASSWORD_KEY.previous" ] && ! peers_accept "$_r_want"; then
    return 0
  fi
  _r_reply=$(printf '%s' "$_r_want" | local_cli -x CONFIG SET masterauth)
  if [ "$_r_reply" != OK ]; then
    log "error: CONFIG SET masterauth failed: $_r_reply"
    return 1
  fi
  use_password "$_r_want"
  log "replication and the scripts use the current cluster password"
}

# watch: started by start.sh beside redis-server; reloads when the mounted Secrets change.
watch() {
  while :; do
    sleep "$RELOAD_INTERVAL"
    if is_uint "\${REDIS_SERVER_PID:-}" && ! kill -0 "$REDIS_SERVER_PID" 2>/dev/null; then
      exit 0
    fi
    reload
  done
}

# status: whether this node runs with what the Secrets say now; exits 0 when it does.
status() {
  _t_ok=0
  if assemble "$RUN_DIR/users.acl.check" && cmp -s "$RUN_DIR/users.acl.check" "$RUN_DIR/users.acl"; then
    echo "users: applied"
  else
    echo "users: not applied yet"
    _t_ok=1
  fi
  rm -f "$RUN_DIR/users.acl.check"
  if [ "$(secret_value "$AUTH_DIR/$CLUSTER_PASSWORD_KEY")" = "$(cat "$RUN_DIR/cluster-auth")" ]; then
    echo "cluster password: the current one ($CLUSTER_PASSWORD_KEY)"
  else
    echo "cluster password: not the current one yet ($CLUSTER_PASSWORD_KEY)"
    _t_ok=1
  fi
  if [ -f "$AUTH_DIR/$CLUSTER_PASSWORD_KEY.previous" ] || [ -f "$AUTH_DIR/$PASSWORD_KEY.previous" ]; then
    echo "rotation: previous passwords are still accepted"
  fi
  return "$_t_ok"
}

case \${1:-} in
  build) build ;;
  watch) watch ;;
  status) status ;;
  *) die "usage: acl.sh build|watch|status" ;;
esac
`;

const SH_START_TLS_ANCHOR = `    printf 'cluster-announce-ip %s\\n' "$(conf_quote "$SELF_IP")"
`;

const SH_START_TLS_CONF = `    printf 'tls-cert-file %s\\ntls-key-file %s\\ntls-ca-cert-file %s\\n' "$(conf_quote "$TLS_DIR/tls.crt")" \\
      "$(conf_quote "$TLS_DIR/tls.key")" "$(conf_quote "$TLS_DIR/ca.crt")"
`;

const SH_START_EXEC = `# Cluster formation and rejoin run beside the server`;

const SH_START_TLS_WATCH = `# A renewed certificate (the kubelet updates the mounted Secret) is loaded without a restart.
REDIS_SERVER_PID=$$ sh "$CONFIG_DIR/tls.sh" watch &
`;

const SH_TLS_AUTH = `
# The reload loop acts as the default user; redis-cli takes the password from the environment.
unset REDISCLI_AUTH
CLI_USER=
if printenv REDIS_PASSWORD >/dev/null; then
  REDISCLI_AUTH=$(printenv REDIS_PASSWORD)
  export REDISCLI_AUTH
fi
`;

const SH_TLS_AUTH_ACL = `
# The reload loop acts as the reload user, whose random password acl.sh made at start.
unset REDISCLI_AUTH
CLI_USER=
if [ -r "$RUN_DIR/reload-auth" ]; then
  REDISCLI_AUTH=$(cat "$RUN_DIR/reload-auth")
  export REDISCLI_AUTH
  CLI_USER=$RELOAD_USER
fi
`;

const SH_TLS = `
# fingerprint: a checksum of the mounted certificate, key and CA.
fingerprint() {
  cat "$TLS_DIR/tls.crt" "$TLS_DIR/tls.key" "$TLS_DIR/ca.crt" 2>/dev/null | cksum
}

# watch: started by start.sh beside the server; loads a changed certificate (CONFIG SET of the same
# paths makes the server read the files again).
watch() {
  _w_loaded=$(fingerprint)
  while :; do
    sleep "$TLS_RELOAD_INTERVAL"
    if is_uint "\${REDIS_SERVER_PID:-}" && ! kill -0 "$REDIS_SERVER_PID" 2>/dev/null; then
      exit 0
    fi
    _w_now=$(fingerprint)
    [ "$_w_now" != "$_w_loaded" ] || continue
    set -- redis-cli -h "$LOCAL_HOST" -p "$PORT"
    if [ -n "\${CLI_USER:-}" ]; then
      set -- "$@" --user "$CLI_USER"
    fi
    _w_reply=$(timeout "$CMD_TIMEOUT" "$@" CONFIG SET tls-cert-file "$TLS_DIR/tls.crt" tls-key-file "$TLS_DIR/tls.key" \\
      tls-ca-cert-file "$TLS_DIR/ca.crt" </dev/null 2>&1 | tr -d '\\r')
    if [ "$_w_reply" = OK ]; then
      _w_loaded=$_w_now
      log "loaded the renewed certificate"
    else
      log "error: loading the changed certificate failed (retrying): $_w_reply"
    fi
  done
}

case \${1:-} in
  watch) watch ;;
  *) die "usage: tls.sh watch" ;;
esac
`;
