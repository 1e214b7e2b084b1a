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
 *
 * Source: the shell is in real files under src/redis/sh, shipped in the package and checked by
 * shellcheck on their own: sh/<script> is the body of each script, sh/shared/ holds the parts several
 * scripts share (strict mode, auth, log, cli, field, pod_fqdn, identity, CLUSTER NODES parsing).
 * Only the settings header (`KEY='value' # comment` lines and the env defaults) is generated here.
 * A rendered script is that header followed by its files, one empty line apart; `#if acl` and
 * `#if tls` sections of a file pick the variant (see shell-files.ts). Three line-wise edits then
 * rewrite the CLI calls: the flavour's binary names (withBinaries), the TLS options (withTls) and,
 * with ACL users, `--user "$CLUSTER_USER"` (withClusterUser). They stay edits of the text, not
 * sections, because they touch every CLI call of most files in the same way, and a shell variable
 * holding the options instead would rely on word splitting and change the rendered scripts.
 * The scripts rely only on the settings, sh (dash or bash), redis-cli, redis-server, getent,
 * hostname and coreutils, all present in the official redis image.
 */
import { Duration } from 'cdk8s';
import { IConstruct } from 'constructs';
import { CLUSTER_BUS_PORT_OFFSET, DEFAULT_REDIS_PORT, RedisConfigOptions, renderRedisConf } from './config';
import { shQuote } from './quote';
import { shellFile } from './shell-files';
import { propError, wholeSeconds } from '../validation';

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
   * redis.conf settings. Its port is `port`, whatever it says.
   * @default - the defaults of RedisConfigOptions
   */
  readonly config?: RedisConfigOptions;
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

function checkAclRules(scope: IConstruct, option: string, rules: string): string {
  if (typeof rules !== 'string' || /[\u0000-\u001f\u007f]/.test(rules)) {
    throw propError(scope, option, rules, 'must be ACL rules on one line, without control characters');
  }
  const secret = rules.split(/\s+/).find(t => /^([<>#!]|nopass$|resetpass$)/.test(t));
  if (secret !== undefined) {
    throw propError(scope, option, rules, `must not set passwords (found ${JSON.stringify(secret)}): the password comes from the auth Secret and never enters the ConfigMap; accepted: rules such as "~* &* +@all -@admin" or "off"`);
  }
  return rules.trim();
}

/**
 * The script settings. RedisCluster validated every input it passes (names, counts, ports, timeouts, Secret keys)
 * before it renders; the checks here are the ones of settings only the scripts use, with the same error shape.
 */
function resolveSettings(scope: IConstruct, options: RedisScriptOptions): ScriptSettings {
  const shards = options.shards;
  const replicas = options.replicasPerShard;
  const port = options.port ?? DEFAULT_REDIS_PORT;
  return {
    STS_NAME: options.statefulSetName,
    HEADLESS: options.headlessServiceName,
    CLUSTER_DOMAIN: options.clusterDomain ?? 'cluster.local',
    // with TLS every call of the scripts, and the address nodes meet each other at, is the TLS port
    PORT: options.tls ? options.tls.port : port,
    BUS_PORT: port + CLUSTER_BUS_PORT_OFFSET,
    SHARDS: shards,
    REPLICAS: replicas,
    NODE_COUNT: shards * (1 + replicas),
    AUTH_REQUIRED: (options.authEnabled ?? true) ? 1 : 0,
    CMD_TIMEOUT: (options.commandTimeout ?? Duration.seconds(4)).toSeconds(),
    JOIN_TIMEOUT: wholeSeconds(scope, 'joinTimeout', options.joinTimeout ?? Duration.minutes(10), 10, 86400),
    STEP_INTERVAL: (options.pollInterval ?? Duration.seconds(2)).toSeconds(),
    ...resolveAcl(scope, options.acl),
    TLS_RELOAD_INTERVAL: wholeSeconds(scope, 'tls.reloadInterval', options.tls?.reloadInterval ?? Duration.minutes(1), 1, 86400),
    // a Redis Cluster needs 3 masters; the drained ones leave
    DRAINING_SHARDS: options.drainingShards ?? 0,
  };
}

function resolveAcl(scope: IConstruct, acl: RedisScriptAclOptions | undefined) {
  const key = (value: string | undefined): string => value ?? '';
  return {
    PASSWORD_KEY: key(acl?.passwordKey),
    CLUSTER_PASSWORD_KEY: key(acl?.clusterPasswordKey),
    METRICS_PASSWORD_KEY: key(acl?.metricsPasswordKey),
    DEFAULT_USER_RULES: checkAclRules(scope, 'acl.defaultUserRules', acl?.defaultUserRules ?? '~* &* +@all'),
    USERS_FROM_SECRET: acl?.usersFromSecret ? 1 : 0,
    CLUSTER_USER: REDIS_CLUSTER_USER,
    REPLICATION_USER: REDIS_REPLICATION_USER,
    METRICS_USER: REDIS_METRICS_USER,
    CLUSTER_USER_RULES: INTERNAL_USER_RULES[REDIS_CLUSTER_USER],
    REPLICATION_USER_RULES: INTERNAL_USER_RULES[REDIS_REPLICATION_USER],
    METRICS_USER_RULES: INTERNAL_USER_RULES[REDIS_METRICS_USER],
    RELOAD_USER: REDIS_RELOAD_USER,
    RELOAD_USER_RULES: INTERNAL_USER_RULES[REDIS_RELOAD_USER],
    RELOAD_INTERVAL: wholeSeconds(scope, 'acl.reloadInterval', acl?.reloadInterval ?? Duration.seconds(10), 1, 3600),
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
  /** The shell files that follow the settings header, rendered (see shell-files.ts), in order. */
  readonly body: string[];
}

function renderScript(s: ScriptSettings, parts: ScriptParts): string {
  const lines = [
    '#!/bin/sh',
    `# ${parts.purpose}`,
    ...(parts.body.includes(shellFile('shared/log.sh')) ? [`SCRIPT=${shQuote(parts.name)}`] : []),
    ...parts.settings.map(k => `${k}=${shQuote(String(s[k]))} # ${SETTING_COMMENTS[k]}`),
    ...parts.env.map(k => ENV_SETTINGS[k]),
  ];
  // the files are separated by an empty line
  return `${lines.join('\n')}\n${parts.body.join('\n')}`;
}

/** Renders the lifecycle scripts from the topology. */
export function renderRedisScripts(scope: IConstruct, options: RedisScriptOptions): RedisScripts {
  const s = resolveSettings(scope, options);
  const acl = options.acl !== undefined;
  const binaries = options.binaries;
  const tls = options.tls !== undefined;
  const file = (name: string) => shellFile(name, { acl, tls });
  // With ACL users every redis-cli call authenticates as the cluster user, with the password acl.sh keeps.
  const auth = file(acl ? 'shared/auth-acl.sh' : 'shared/auth.sh');
  const user = (name: string) => withTls(withBinaries(acl ? withClusterUser(file(name)) : file(name), binaries), tls);
  const cliSettings: Array<keyof ScriptSettings> = acl ? ['CLUSTER_USER'] : [];
  const cliEnv: EnvSetting[] = [...(acl ? ['RUN_DIR' as const] : []), ...(tls ? ['TLS_DIR' as const] : [])];
  const [base, log, field, fqdn, identity] = ['shared/base.sh', 'shared/log.sh', 'shared/field.sh', 'shared/fqdn.sh', 'shared/identity.sh'].map(file);
  return {
    start: renderScript(s, {
      name: 'start',
      purpose: 'Container entrypoint of a Redis Cluster node: per-pod settings, then redis-server.',
      settings: ['STS_NAME', 'HEADLESS', 'CLUSTER_DOMAIN', 'SHARDS', 'REPLICAS', 'NODE_COUNT', acl ? 'REPLICATION_USER' : 'AUTH_REQUIRED'],
      env: ['CONFIG_DIR', 'DATA_DIR', 'RUN_DIR', ...(acl ? [] : ['NL' as const, 'CR' as const]), ...(tls ? ['TLS_DIR' as const] : [])],
      body: [base, log, fqdn, identity, withBinaries(file(REDIS_START_SCRIPT), binaries)],
    }),
    clusterInit: renderScript(s, {
      name: 'cluster-init',
      purpose: 'Creates the cluster, joins new nodes and rejoins moved ones; started by start.sh, exits when done.',
      settings: ['STS_NAME', 'HEADLESS', 'CLUSTER_DOMAIN', 'PORT', 'BUS_PORT', 'SHARDS', 'REPLICAS', 'NODE_COUNT', 'CMD_TIMEOUT', 'JOIN_TIMEOUT', 'STEP_INTERVAL', ...cliSettings],
      env: ['CONFIG_DIR', 'LOCAL_HOST', 'NL', ...cliEnv],
      body: [base, auth, log, user('shared/cli.sh'), field, fqdn, identity, user('shared/cluster.sh'), user(REDIS_CLUSTER_INIT_SCRIPT)],
    }),
    liveness: renderScript(s, {
      name: 'liveness',
      purpose: 'Liveness and startup probe of a Redis Cluster node.',
      settings: ['PORT', 'CMD_TIMEOUT', ...cliSettings],
      env: ['LOCAL_HOST', ...cliEnv],
      body: [base, auth, user('shared/cli.sh'), file(REDIS_LIVENESS_SCRIPT)],
    }),
    readiness: renderScript(s, {
      name: 'readiness',
      purpose: 'Readiness probe of a Redis Cluster node.',
      settings: ['PORT', 'CMD_TIMEOUT', ...cliSettings],
      env: ['LOCAL_HOST', 'NL', ...cliEnv],
      body: [base, auth, field, user(REDIS_READINESS_SCRIPT)],
    }),
    acl: acl ? renderScript(s, {
      name: 'acl',
      purpose: 'Assembles the ACL file of a Redis Cluster node from the mounted Secrets.',
      settings: ['PORT', 'CMD_TIMEOUT', 'RELOAD_INTERVAL', 'PASSWORD_KEY', 'CLUSTER_PASSWORD_KEY', 'METRICS_PASSWORD_KEY', 'DEFAULT_USER_RULES',
        'USERS_FROM_SECRET', 'CLUSTER_USER', 'REPLICATION_USER', 'METRICS_USER', 'RELOAD_USER', 'CLUSTER_USER_RULES', 'REPLICATION_USER_RULES',
        'METRICS_USER_RULES', 'RELOAD_USER_RULES'],
      env: ['AUTH_DIR', 'USERS_DIR', 'RUN_DIR', 'LOCAL_HOST', 'NL', 'CR'],
      body: [base, log, withTls(withBinaries(file(REDIS_ACL_SCRIPT), binaries), tls)],
    }) : undefined,
    tls: tls ? renderScript(s, {
      name: 'tls',
      purpose: 'Reloads the certificate of a Redis Cluster node when the mounted TLS Secret changes.',
      settings: ['PORT', 'CMD_TIMEOUT', 'TLS_RELOAD_INTERVAL', ...(acl ? ['RELOAD_USER' as const] : [])],
      env: ['TLS_DIR', ...(acl ? ['RUN_DIR' as const] : []), 'LOCAL_HOST'],
      body: [base, log, withTls(withBinaries(file(REDIS_TLS_SCRIPT), binaries), tls)],
    }) : undefined,
    drain: s.DRAINING_SHARDS > 0 ? renderScript(s, {
      name: 'drain',
      purpose: 'Removes the drained shards from a Redis Cluster: moves their slots away, then forgets and resets their nodes; run by the drain Job.',
      settings: ['STS_NAME', 'HEADLESS', 'CLUSTER_DOMAIN', 'PORT', 'SHARDS', 'REPLICAS', 'NODE_COUNT', 'DRAINING_SHARDS', 'CMD_TIMEOUT', 'JOIN_TIMEOUT',
        'STEP_INTERVAL', ...(acl ? ['CLUSTER_PASSWORD_KEY' as const] : []), ...cliSettings],
      env: ['NL', ...(acl ? ['AUTH_DIR' as const] : []), ...(tls ? ['TLS_DIR' as const] : [])],
      // the Job reads the cluster user's password from the mounted auth Secret
      body: [base, acl ? file('shared/auth-acl-secret.sh') : auth, log, user('shared/cli.sh'), field, fqdn, user('shared/cluster.sh'), user(REDIS_DRAIN_SCRIPT)],
    }) : undefined,
  };
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

/** Adds --user to every redis-cli call of a script body (comments and log messages stay as they are). */
function withClusterUser(body: string): string {
  return body.split('\n').map(line => (line.trim().startsWith('#')
    ? line
    : line.replace(/redis-cli (?=-h |--cluster (create|add-node|call|check|info|reshard|rebalance|fix) )/g, 'redis-cli --user "$CLUSTER_USER" '))).join('\n');
}

/**
 * Renders the whole ConfigMap data: redis.conf plus the scripts, keyed by file name.
 * @param scope the construct whose props these are: errors name its path
 */
export function renderRedisClusterFiles(scope: IConstruct, options: RedisClusterFilesOptions): { [file: string]: string } {
  const port = options.port ?? DEFAULT_REDIS_PORT;
  const scripts = renderRedisScripts(scope, options);
  return {
    [REDIS_CONF_FILE]: renderRedisConf(scope, { ...options.config, port, tls: options.tls ? { plaintext: true, ...options.config?.tls, port: options.tls.port } : undefined }),
    [REDIS_START_SCRIPT]: scripts.start,
    [REDIS_CLUSTER_INIT_SCRIPT]: scripts.clusterInit,
    [REDIS_LIVENESS_SCRIPT]: scripts.liveness,
    [REDIS_READINESS_SCRIPT]: scripts.readiness,
    ...(scripts.acl !== undefined ? { [REDIS_ACL_SCRIPT]: scripts.acl } : {}),
    ...(scripts.tls !== undefined ? { [REDIS_TLS_SCRIPT]: scripts.tls } : {}),
    ...(scripts.drain !== undefined ? { [REDIS_DRAIN_SCRIPT]: scripts.drain, [REDIS_DRAINING_FILE]: `${options.drainingShards}\n` } : {}),
  };
}
