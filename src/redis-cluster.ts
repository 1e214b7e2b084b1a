import { ApiObject, Chart, Duration, Names, Size, SizeRoundingBehavior } from 'cdk8s';
import { ContainerResources, Cpu, EnvValue, ImagePullPolicy, k8s, PodManagementPolicy, Secret, Volume } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Certificate, CertificateSpecUsages } from '../imports/cert-manager.io';
import { ServiceMonitor } from '../imports/monitoring.coreos.com';
import { StatefulProbe, ProbeKind, ProbeTimings } from './probe';
import {
  MaxMemoryPolicy, RedisPersistenceOptions, renderRedisClusterFiles, REDIS_CLUSTER_INIT_SCRIPT, REDIS_CONF_FILE,
  REDIS_CONFIG_MOUNT_PATH, REDIS_DATA_MOUNT_PATH, REDIS_LIVENESS_SCRIPT, REDIS_PASSWORD_ENV, REDIS_POD_IP_ENV,
  REDIS_POD_NAMESPACE_ENV, REDIS_READINESS_SCRIPT, REDIS_START_SCRIPT, REDIS_TMP_MOUNT_PATH, REDIS_UID,
  REDIS_AUTH_MOUNT_PATH, REDIS_USERS_MOUNT_PATH, REDIS_METRICS_USER, REDIS_TLS_MOUNT_PATH, REDIS_DRAIN_SCRIPT, REDIS_DRAINING_FILE,
} from './redis';
import { flavourDetails, flavourNames, RedisFlavour } from './redis/flavour';
import { derivedMaxMemory, presetNames, presetResources, RedisResourcesPreset } from './redis/resources';
import { IStorageClass, StorageClass, StorageProvisioner } from './storage-class';
import { StatefulConstruct, StatefulConstructProps } from './stateful-construct';
import { DisruptionBudget, PodSecurityOptions, SpreadMode, StatefulContainer, StatefulWorkload } from './stateful-workload';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from './security';
import { checkDnsLabel, checkDnsSubdomain, checkInteger, checkLabels, checkPort, clusterScoped, propError, wholeSeconds } from './validation';


/** Set on the client Service, so that selectors can tell it from the headless one. */
const SERVICE_ROLE_LABEL = 'stateful.cdk8s.io/service';
/** Set on the StatefulSet while shards drain: how many of its last pods the next apply may remove. */
const DRAINING_PODS_ANNOTATION = 'stateful.cdk8s.io/draining-pods';
/** Password authentication of a Redis Cluster. */
export interface RedisAuthOptions {
  /**
   * Require a password. Turning it off is explicit: anyone who reaches the port gets full access.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Secret you own that holds the password (the construct never generates or writes one).
   * @default `<name>-auth`
   */
  readonly existingSecret?: string;
  /**
   * Key of the password in that Secret.
   * @default password
   */
  readonly existingSecretPasswordKey?: string;
}

/** ACL users of a Redis Cluster, from Secrets you own. */
export interface RedisAclOptions {
  /**
   * Use ACL users. At start each node assembles an ACL file under its private tmp dir from the
   * mounted auth Secret (and `usersSecret`); passwords never enter the ConfigMap.
   * @default true (when the options are given)
   */
  readonly enabled?: boolean;
  /**
   * Secret you own with one key per application user: the key is the user name, the value its ACL
   * rules on one line, e.g. `on #<sha256 of the password> ~app:* +@read +@write +ping` (or `>password`
   * for a password without spaces). `default`, `cluster-admin`, `replication` and `metrics` are reserved.
   * @default - no application users
   */
  readonly usersSecret?: string;
  /**
   * ACL rules of the default user (the one clients without a user name get); its password is the
   * auth Secret's `existingSecretPasswordKey`. `off` disables it.
   * @default "~* &* +@all"
   */
  readonly defaultUserRules?: string;
  /**
   * Key of the auth Secret with the password of the internal `cluster-admin` user (lifecycle scripts,
   * probes, redis-cli --cluster) and `replication` user (masteruser). Only the Redis pods need it.
   * @default "cluster-password"
   */
  readonly clusterPasswordKey?: string;
  /**
   * Key of the auth Secret with the password of the `metrics` user of the exporter (used when metrics are on).
   * @default "metrics-password"
   */
  readonly metricsPasswordKey?: string;
  /**
   * How often each node checks the mounted Secrets and applies changed users and passwords without a
   * restart (`ACL LOAD`, `CONFIG SET masterauth`). The kubelet itself takes up to about a minute to
   * update a mounted Secret.
   * @default Duration.seconds(10)
   */
  readonly reloadInterval?: Duration;
}

/** A cert-manager issuer. */
export interface RedisTlsIssuer {
  /** Name of the Issuer or ClusterIssuer. */
  readonly name: string;
  /**
   * Kind of the issuer.
   * @default "Issuer"
   */
  readonly kind?: string;
  /**
   * API group of the issuer (external issuers have their own).
   * @default "cert-manager.io"
   */
  readonly group?: string;
}

/** TLS for clients, replication and the cluster bus. */
export interface RedisTlsOptions {
  /**
   * Use TLS.
   * @default true (when the options are given)
   */
  readonly enabled?: boolean;
  /**
   * Secret you own with `tls.crt`, `tls.key` and `ca.crt` (the layout cert-manager writes). The
   * certificate must cover the pods' names (`*.<name>-headless.<namespace>.svc.<domain>`), the client
   * Service and, for the exporter, `localhost`. Exactly one of `existingSecret` and `issuer`.
   * @default - the Secret of the Certificate made from `issuer`
   */
  readonly existingSecret?: string;
  /**
   * Create a cert-manager Certificate `<name>-tls` (Secret `<name>-tls`) from this issuer, with DNS
   * names covering every pod, both Services and localhost.
   * @default - none: `existingSecret` is required
   */
  readonly issuer?: RedisTlsIssuer;
  /**
   * TLS client port.
   * @default - `port` + 1 while plaintext is served, else `port`
   */
  readonly port?: number;
  /**
   * Keep serving plain TCP on `port` next to TLS. Replication and the cluster bus use TLS either way.
   * @default true
   */
  readonly plaintext?: boolean;
  /**
   * How often each node checks the mounted certificate and loads a renewed one without a restart.
   * @default Duration.minutes(1)
   */
  readonly reloadInterval?: Duration;
}

/** Persistent data volume of every node. */
export interface RedisPersistenceVolumeOptions {
  /**
   * Size of each node's claim (`data-<name>-<ordinal>`).
   * @default Size.gibibytes(8)
   */
  readonly size?: Size;
  /**
   * An existing StorageClass (or one of your StorageClass constructs).
   * @default - the cluster's default class, unless `storageProvisioner` is set
   */
  readonly storageClass?: IStorageClass;
  /**
   * Create a StorageClass named `<name>` with this provisioner (reclaimPolicy Retain).
   * @default - no StorageClass is created
   */
  readonly storageProvisioner?: StorageProvisioner;
}

/** redis_exporter sidecar and Prometheus Operator ServiceMonitor. */
export interface RedisMetricsOptions {
  /**
   * Run the exporter.
   * @default true (when the options are given)
   */
  readonly enabled?: boolean;
  /**
   * Exporter image.
   * @default "docker.io/oliver006/redis_exporter:v1.66.0"
   */
  readonly image?: string;
  /**
   * Exporter port.
   * @default 9121
   */
  readonly port?: number;
  /**
   * Create a ServiceMonitor (monitoring.coreos.com/v1) for the exporter.
   * @default false
   */
  readonly serviceMonitor?: boolean;
  /**
   * Scrape interval of the ServiceMonitor.
   * @default Duration.seconds(30)
   */
  readonly scrapeInterval?: Duration;
  /**
   * Labels the Prometheus instance selects ServiceMonitors by.
   * @default - none
   */
  readonly serviceMonitorLabels?: { [key: string]: string };
}

/** Ingress NetworkPolicy of the cluster. */
export interface RedisNetworkPolicyOptions {
  /**
   * Create the policy.
   * @default true (when the options are given)
   */
  readonly enabled?: boolean;
  /**
   * Labels of the client pods allowed on the client port (same namespace). Members always are.
   * @default - no other client pods
   */
  readonly allowedClientLabels?: { [key: string]: string };
  /**
   * Labels of namespaces whose pods (matching allowedClientLabels, or all) may reach the client port.
   * @default - only the cluster's own namespace
   */
  readonly allowedClientNamespaceLabels?: { [key: string]: string };
}

/**
 * Timings of RedisCluster's probes. The checks are the cluster's own scripts (liveness.sh accepts PONG, LOADING and
 * MASTERDOWN; readiness.sh wants PONG and cluster_state:ok); only how often and how patiently they run is yours.
 */
export interface RedisProbeOptions {
  /**
   * Liveness probe timings (a failure restarts Redis in place). The timeout must be at least commandTimeout + 1 s.
   * @default - every 5 s, restart after 5 failures, timeout commandTimeout + 1 s
   */
  readonly liveness?: ProbeTimings;
  /**
   * Readiness probe timings (a failure takes the node out of the client Service). The timeout must be at least
   * commandTimeout + 1 s.
   * @default - every 5 s, out after 3 failures, timeout commandTimeout + 1 s
   */
  readonly readiness?: ProbeTimings;
}

/** Props of RedisCluster. */
export interface RedisClusterProps extends StatefulConstructProps {
  /**
   * Number of masters (each owns a share of the 16384 slots); at least 3. Raising it on a running cluster adds
   * masters and moves slots to them.
   * @default 3
   */
  readonly shards?: number;
  /**
   * Number of the last shards being removed. Removing shards takes two applies: first `drainingShards: N` with
   * the current `shards` (a Job `<name>-drain-<shards>-to-<shards - N>` moves their slots to the other masters,
   * then every other node forgets their nodes and they are reset; no pod restarts), then, once the Job is
   * complete, `shards` lowered by N with `drainingShards` back to 0. At least 3 shards remain.
   * @default 0
   */
  readonly drainingShards?: number;
  /**
   * Create a ValidatingAdmissionPolicy and its binding (cluster-scoped, named
   * `cdk8s-stateful.redis-shards.<namespace>.<name>`) that make the API server refuse an update of the
   * StatefulSet that lowers its pods by more than the shards declared draining in the previous apply: a direct
   * decrease of `shards` (or of `replicasPerShard`) would delete pods that own slots. Turn it off when you cannot
   * create cluster-scoped objects.
   * @default true
   */
  readonly shardRemovalGuard?: boolean;
  /**
   * Replicas of each master. 0 gives the plain three-pod shape (no failover).
   * @default 1
   */
  readonly replicasPerShard?: number;
  /**
   * Server flavour: Redis 7.4, Redis 8 or Valkey 8. It picks the default image and the binary names the
   * scripts call (valkey-server and valkey-cli for Valkey).
   * @default RedisFlavour.REDIS_7_4
   */
  readonly flavour?: RedisFlavour;
  /**
   * Image, pinned; it must match the flavour.
   * @default - the flavour's pinned image: "docker.io/library/redis:7.4.2", "docker.io/library/redis:8.2.2" or "docker.io/valkey/valkey:8.1.4"
   */
  readonly image?: string;
  /**
   * When the kubelet pulls the image (of the Redis containers and the drain Job).
   * @default ImagePullPolicy.IF_NOT_PRESENT
   */
  readonly imagePullPolicy?: ImagePullPolicy;
  /**
   * uid, gid and fsGroup of the pods and the drain Job (the image's redis user: 999 in the official images).
   * @default - uid 999, gid and fsGroup the same as the uid
   */
  readonly security?: PodSecurityOptions;
  /**
   * Client port; the cluster bus uses port + 10000.
   * @default 6379
   */
  readonly port?: number;
  /**
   * Password authentication.
   * @default - on, password from Secret `<name>-auth` key `password`
   */
  readonly auth?: RedisAuthOptions;
  /**
   * ACL users from Secrets (requires auth): a default user with configurable rules, least-privilege
   * internal users for the cluster scripts, replication and the exporter, and application users.
   * @default - no ACL users: one password (requirepass) for everything
   */
  readonly acl?: RedisAclOptions;
  /**
   * TLS for clients, replication and the cluster bus, from your Secret or a cert-manager Certificate.
   * @default - no TLS
   */
  readonly tls?: RedisTlsOptions;
  /**
   * Data volumes.
   * @default - 8 GiB per node on the cluster's default class
   */
  readonly persistence?: RedisPersistenceVolumeOptions;
  /**
   * maxmemory of each node. Refused above the Redis container's memory limit, where the kernel would
   * kill the node before Redis evicts or refuses writes.
   * @default - 75 % of the memory limit with `resourcesPreset`, otherwise no limit
   */
  readonly maxMemory?: Size;
  /**
   * Eviction policy at maxmemory.
   * @default MaxMemoryPolicy.NOEVICTION
   */
  readonly maxMemoryPolicy?: MaxMemoryPolicy;
  /**
   * AOF and RDB settings.
   * @default - AOF on with fsync every second, RDB save points 3600/1, 300/100, 60/10000
   */
  readonly dataPersistence?: RedisPersistenceOptions;
  /**
   * cluster-node-timeout: how long a master may be unreachable before its replica takes over.
   * @default Duration.seconds(15)
   */
  readonly clusterNodeTimeout?: Duration;
  /**
   * cluster-require-full-coverage.
   * @default true
   */
  readonly clusterRequireFullCoverage?: boolean;
  /**
   * Further redis.conf directives (directives the construct owns are refused).
   * @default - none
   */
  readonly extraSettings?: { [name: string]: string };
  /**
   * Resources of the Redis container. Cannot be combined with `resourcesPreset`.
   * @default - requests 100m CPU / 256 MiB, limit 1 GiB (raise with maxMemory), unless `resourcesPreset` is set
   */
  readonly resources?: ContainerResources;
  /**
   * A named size for the Redis container (CPU request, memory request = limit) that also sets `maxmemory`
   * to 75 % of the memory limit unless `maxMemory` is given. Cannot be combined with `resources`.
   * @default - `resources`, or their default
   */
  readonly resourcesPreset?: RedisResourcesPreset;
  /**
   * Time limit of one redis-cli call in the probes and lifecycle scripts; probe timeouts are one second more.
   * @default Duration.seconds(4)
   */
  readonly commandTimeout?: Duration;
  /**
   * How long a starting node keeps trying to create, join or rejoin the cluster before it stops (and restarts).
   * @default Duration.minutes(10)
   */
  readonly joinTimeout?: Duration;
  /**
   * How long a node may take to load its dataset before the startup probe gives up.
   * @default Duration.minutes(30)
   */
  readonly startupTimeout?: Duration;
  /**
   * Timings of the liveness and readiness probes (the startup probe follows startupTimeout).
   * @default - see RedisProbeOptions
   */
  readonly probes?: RedisProbeOptions;
  /**
   * PodDisruptionBudget. With replicasPerShard 0 only budgets that allow no eviction are accepted: every pod is
   * the only copy of its slots.
   * @default DisruptionBudget.maxUnavailable(1); maxUnavailable(0) with replicasPerShard 0
   */
  readonly disruptionBudget?: DisruptionBudget;
  /**
   * NetworkPolicy.
   * @default - none
   */
  readonly networkPolicy?: RedisNetworkPolicyOptions;
  /**
   * Metrics exporter.
   * @default - none
   */
  readonly metrics?: RedisMetricsOptions;
  /**
   * Kubernetes cluster DNS domain.
   * @default cluster.local
   */
  readonly clusterDomain?: string;
}

const DEFAULT_EXPORTER_IMAGE = 'docker.io/oliver006/redis_exporter:v1.66.0';

/**
 * A Redis Cluster on one StatefulSet: it forms by itself on first start, survives restarts and address changes
 * (nodes announce stable DNS names and re-meet their peers), and grows when `shards` is raised.
 */
export class RedisCluster extends StatefulConstruct {
  /** The stateful core. */
  public readonly workload: StatefulWorkload;
  /** The client Service (`<name>`). */
  public readonly clientService: k8s.KubeService;
  /** ConfigMap with redis.conf and the lifecycle scripts. */
  public readonly configMap: k8s.KubeConfigMap;
  /** The StorageClass, when the construct created one. */
  public readonly storageClass?: StorageClass;
  /** The NetworkPolicy, when asked for. */
  public readonly networkPolicy?: k8s.KubeNetworkPolicy;
  /** The ServiceMonitor, when asked for. */
  public readonly serviceMonitor?: ApiObject;
  /** Server flavour. */
  public readonly flavour: RedisFlavour;
  /** Number of masters. */
  public readonly shards: number;
  /** Replicas per master. */
  public readonly replicasPerShard: number;
  /** Number of the last shards being removed (0: none). */
  public readonly drainingShards: number;
  /** The Job that drains those shards (only while `drainingShards` is above 0). */
  public readonly drainJob?: k8s.KubeJob;
  /** The policy that refuses dropping pods that own slots (unless `shardRemovalGuard` is false). */
  public readonly shardRemovalPolicy?: ApiObject;
  /** Client port. */
  public readonly port: number;
  /** Files of the ConfigMap (redis.conf and the scripts), by name. */
  public readonly files: { [file: string]: string };
  /** Secret holding the password (not set with auth off). */
  public readonly authSecretName?: string;
  /** Key of the password in that Secret (not set with auth off). */
  public readonly authSecretKey?: string;
  /** TLS client port (undefined without TLS). */
  public readonly tlsPort?: number;
  /** Secret with the TLS certificate (undefined without TLS). */
  public readonly tlsSecretName?: string;
  /** The cert-manager Certificate, when the construct created one. */
  public readonly certificate?: ApiObject;
  /** Secret of the application ACL users (undefined without one). */
  public readonly aclUsersSecretName?: string;
  /** maxmemory of each node, given or derived from the preset (undefined: no limit). */
  public readonly maxMemory?: Size;

  /**
   * Define the RedisCluster in a scope.
   * @param scope the chart or construct to define it in
   * @param id its id, unique within the scope
   * @param props its configuration
   */
  public constructor(scope: Construct, id: string, props: RedisClusterProps = {}) {
    super(scope, id);
    const name = checkDnsLabel(this, 'name', props.name ?? Names.toDnsLabel(this, { maxLen: 45 }), 45);
    this.shards = checkInteger(this, 'shards', props.shards ?? 3, 3, 1000);
    this.replicasPerShard = checkInteger(this, 'replicasPerShard', props.replicasPerShard ?? 1, 0, 5);
    this.drainingShards = props.drainingShards ?? 0;
    if (!Number.isInteger(this.drainingShards) || this.drainingShards < 0 || this.drainingShards > this.shards - 3) {
      throw propError(this, 'drainingShards', this.drainingShards,
        `must be an integer from 0 to ${this.shards - 3} (a Redis Cluster keeps at least 3 of its ${this.shards} shards); to remove N shards, ` +
        'first apply drainingShards N with the current shards, then lower shards by N with drainingShards 0');
    }
    this.port = checkPort(this, 'port', props.port ?? 6379);
    if (this.port + 10000 > 65535) throw propError(this, 'port', this.port, 'must be at most 55535: the cluster bus uses port + 10000');
    const busPort = this.port + 10000;
    const nodes = this.shards * (1 + this.replicasPerShard);
    const clusterDomain = checkDnsSubdomain(this, 'clusterDomain', props.clusterDomain ?? 'cluster.local');

    const auth = props.auth ?? {};
    const authEnabled = auth.enabled ?? true;
    if (!authEnabled && (auth.existingSecret !== undefined || auth.existingSecretPasswordKey !== undefined)) {
      throw propError(this, 'auth.enabled', false, 'cannot be false while auth.existingSecret or auth.existingSecretPasswordKey is set (they would be ignored)');
    }
    if (authEnabled) {
      this.authSecretName = checkDnsSubdomain(this, 'auth.existingSecret', auth.existingSecret ?? `${name}-auth`);
      const key = auth.existingSecretPasswordKey ?? 'password';
      if (!/^[-._a-zA-Z0-9]+$/.test(key) || key.length > 253) {
        throw propError(this, 'auth.existingSecretPasswordKey', key, 'must be a Secret data key: one or more of [-._a-zA-Z0-9], at most 253 characters');
      }
      this.authSecretKey = key;
    }

    const acl = props.acl && (props.acl.enabled ?? true) ? props.acl : undefined;
    if (props.acl?.enabled === false && (props.acl.usersSecret !== undefined || props.acl.defaultUserRules !== undefined
      || props.acl.clusterPasswordKey !== undefined || props.acl.metricsPasswordKey !== undefined || props.acl.reloadInterval !== undefined)) {
      throw propError(this, 'acl.enabled', false, 'cannot be false while other acl options are set (they would be ignored)');
    }
    if (acl && !authEnabled) {
      throw propError(this, 'acl', 'enabled', 'needs auth: ACL users authenticate with passwords from the auth Secret; remove auth.enabled false or the acl options');
    }
    const aclKey = (prop: string, value: string) => {
      if (!/^[-._a-zA-Z0-9]+$/.test(value) || value.length > 244) {
        throw propError(this, prop, value, 'must be a Secret data key: one or more of [-._a-zA-Z0-9], at most 244 characters (".previous" is appended during a rotation)');
      }
      return value;
    };
    const clusterPasswordKey = acl ? aclKey('acl.clusterPasswordKey', acl.clusterPasswordKey ?? 'cluster-password') : undefined;
    const metricsPasswordKey = acl ? aclKey('acl.metricsPasswordKey', acl.metricsPasswordKey ?? 'metrics-password') : undefined;
    if (acl && this.authSecretKey !== undefined && (clusterPasswordKey === this.authSecretKey || metricsPasswordKey === this.authSecretKey || clusterPasswordKey === metricsPasswordKey)) {
      throw propError(this, 'acl.clusterPasswordKey', clusterPasswordKey,
        `must differ from auth.existingSecretPasswordKey (${this.authSecretKey}) and acl.metricsPasswordKey (${metricsPasswordKey}): each user gets its own password`);
    }
    const usersSecret = acl?.usersSecret !== undefined ? checkDnsSubdomain(this, 'acl.usersSecret', acl.usersSecret) : undefined;
    this.aclUsersSecretName = usersSecret;
    if (usersSecret !== undefined && usersSecret === this.authSecretName) {
      throw propError(this, 'acl.usersSecret', usersSecret, 'must differ from the auth Secret: every key of the users Secret becomes a user');
    }

    const metrics = props.metrics && (props.metrics.enabled ?? true) ? props.metrics : undefined;
    const metricsPort = metrics ? checkPort(this, 'metrics.port', metrics.port ?? 9121) : undefined;
    if (metricsPort !== undefined && (metricsPort === this.port || metricsPort === busPort)) {
      throw propError(this, 'metrics.port', metricsPort, `clashes with the client port ${this.port} or the cluster bus port ${busPort}`);
    }
    if (props.metrics && props.metrics.enabled === false && (props.metrics.serviceMonitor || props.metrics.port !== undefined || props.metrics.image !== undefined)) {
      throw propError(this, 'metrics.enabled', false, 'cannot be false while other metrics options are set (they would be ignored)');
    }
    if (metrics?.serviceMonitor !== true && (metrics?.scrapeInterval !== undefined || metrics?.serviceMonitorLabels !== undefined)) {
      throw propError(this, 'metrics.serviceMonitor', metrics?.serviceMonitor, 'must be true when scrapeInterval or serviceMonitorLabels are set');
    }

    if (props.resourcesPreset !== undefined && props.resources !== undefined) {
      throw propError(this, 'resourcesPreset', props.resourcesPreset, 'cannot be combined with resources: choose a preset or explicit resources');
    }
    let resources: ContainerResources = props.resources ?? {
      cpu: { request: Cpu.millis(100) },
      memory: { request: Size.mebibytes(256), limit: Size.gibibytes(1) },
    };
    if (props.resourcesPreset !== undefined) {
      const preset = presetResources(props.resourcesPreset);
      if (!preset) throw propError(this, 'resourcesPreset', props.resourcesPreset, `must be one of ${presetNames().join(', ')}`);
      resources = preset;
    }
    const memoryLimit = resources.memory?.limit;
    this.maxMemory = props.maxMemory ?? (props.resourcesPreset !== undefined && memoryLimit ? derivedMaxMemory(memoryLimit) : undefined);
    if (props.maxMemory instanceof Size && memoryLimit instanceof Size) {
      const kib = (s: Size) => s.toKibibytes({ rounding: SizeRoundingBehavior.NONE });
      const mib = (s: Size) => `${Math.round(kib(s) / 1.024) / 1000} MiB`;
      if (kib(props.maxMemory) > kib(memoryLimit)) {
        const source = props.resourcesPreset !== undefined ? `resourcesPreset ${props.resourcesPreset}` : props.resources ? 'resources.memory.limit' : 'the default resources';
        throw propError(this, 'maxMemory', props.maxMemory,
          `must not exceed the Redis container's memory limit (${mib(memoryLimit)} from ${source}): the kernel would kill the node before Redis evicts or refuses writes; ` +
          `accepted: at most the limit, better about 75 % of it (${mib(derivedMaxMemory(memoryLimit))}), or a higher limit`);
      }
    }

    const tls = props.tls && (props.tls.enabled ?? true) ? props.tls : undefined;
    if (props.tls?.enabled === false && (props.tls.existingSecret !== undefined || props.tls.issuer !== undefined || props.tls.port !== undefined
      || props.tls.plaintext !== undefined || props.tls.reloadInterval !== undefined)) {
      throw propError(this, 'tls.enabled', false, 'cannot be false while other tls options are set (they would be ignored)');
    }
    if (tls) {
      if ((tls.existingSecret === undefined) === (tls.issuer === undefined)) {
        throw propError(this, 'tls', tls.existingSecret !== undefined ? 'existingSecret and issuer' : 'neither existingSecret nor issuer',
          'needs exactly one certificate source: tls.existingSecret (a Secret with tls.crt, tls.key and ca.crt) or tls.issuer (a cert-manager issuer)');
      }
      const plaintext = tls.plaintext ?? true;
      this.tlsPort = checkPort(this, 'tls.port', tls.port ?? (plaintext ? this.port + 1 : this.port));
      if ((plaintext && this.tlsPort === this.port) || this.tlsPort === busPort || this.tlsPort === metricsPort) {
        throw propError(this, 'tls.port', this.tlsPort, `clashes with the ${plaintext && this.tlsPort === this.port ? 'plaintext client' : this.tlsPort === busPort ? 'cluster bus' : 'metrics'} port; accepted: another free port`);
      }
      if (tls.issuer) {
        checkDnsSubdomain(this, 'tls.issuer.name', tls.issuer.name);
        if (tls.issuer.kind !== undefined && !/^[A-Z][A-Za-z0-9]*$/.test(tls.issuer.kind)) {
          throw propError(this, 'tls.issuer.kind', tls.issuer.kind, 'must be a Kubernetes kind such as Issuer or ClusterIssuer');
        }
        if (tls.issuer.group !== undefined) checkDnsSubdomain(this, 'tls.issuer.group', tls.issuer.group);
      }
      this.tlsSecretName = checkDnsSubdomain(this, tls.existingSecret !== undefined ? 'tls.existingSecret' : 'name', tls.existingSecret ?? `${name}-tls`);
    }

    const flavour = flavourDetails(props.flavour ?? RedisFlavour.REDIS_7_4);
    if (!flavour) throw propError(this, 'flavour', props.flavour, `must be one of ${flavourNames().join(', ')}`);
    this.flavour = props.flavour ?? RedisFlavour.REDIS_7_4;

    // the render functions trust what the construct validated
    const commandTimeoutSeconds = wholeSeconds(this, 'commandTimeout', props.commandTimeout ?? Duration.seconds(4), 1, 60);
    const files = renderRedisClusterFiles(this, {
      statefulSetName: name,
      headlessServiceName: `${name}-headless`,
      shards: this.shards,
      replicasPerShard: this.replicasPerShard,
      drainingShards: this.drainingShards,
      port: this.port,
      clusterDomain,
      authEnabled,
      acl: acl && this.authSecretKey && clusterPasswordKey ? {
        passwordKey: this.authSecretKey,
        clusterPasswordKey,
        metricsPasswordKey: metrics ? metricsPasswordKey : undefined,
        defaultUserRules: acl.defaultUserRules,
        usersFromSecret: usersSecret !== undefined,
        reloadInterval: acl.reloadInterval,
      } : undefined,
      commandTimeout: props.commandTimeout,
      joinTimeout: props.joinTimeout,
      // Redis flavours keep the scripts as they are; Valkey's binaries have their own names
      binaries: flavour.server !== 'redis-server' ? { server: flavour.server, cli: flavour.cli } : undefined,
      tls: tls && this.tlsPort !== undefined ? { port: this.tlsPort, reloadInterval: tls.reloadInterval } : undefined,
      config: {
        tls: tls && this.tlsPort !== undefined ? { port: this.tlsPort, plaintext: tls.plaintext ?? true } : undefined,
        clusterNodeTimeout: props.clusterNodeTimeout,
        clusterRequireFullCoverage: props.clusterRequireFullCoverage,
        maxMemory: this.maxMemory,
        maxMemoryPolicy: props.maxMemoryPolicy,
        dataPersistence: props.dataPersistence,
        extraSettings: props.extraSettings,
      },
    });
    this.files = files;

    const persistence = props.persistence ?? {};
    if (persistence.storageClass && persistence.storageProvisioner) {
      throw propError(this, 'persistence.storageProvisioner', persistence.storageProvisioner.name, 'cannot be combined with persistence.storageClass: choose an existing class or a new one');
    }
    if (persistence.storageProvisioner) {
      this.storageClass = new StorageClass(this, 'StorageClass', { name, provisioner: persistence.storageProvisioner });
    }

    // the startup probe shares the liveness script (LOADING counts as alive), with a long failure budget
    const probeTimeout = Duration.seconds(commandTimeoutSeconds + 1);
    const startupSeconds = wholeSeconds(this, 'startupTimeout', props.startupTimeout ?? Duration.minutes(30), 10);
    const startupPeriod = 10;
    const script = (file: string) => ['sh', `${REDIS_CONFIG_MOUNT_PATH}/${file}`];
    const probe = (kind: ProbeKind, file: string, defaults: ProbeTimings): StatefulProbe => {
      const prop = `probes.${kind}`;
      const p = StatefulProbe.fromCommand(script(file), props.probes?.[kind as 'liveness' | 'readiness'] ?? {}).withDefaults(defaults);
      // checked here, so that an error names the prop as written; a shorter timeout would kill a redis-cli call that is still in time
      const timeout = p.resolve(this, prop, kind).timeoutSeconds;
      if (timeout < commandTimeoutSeconds + 1) {
        throw propError(this, `${prop}.timeout`, p.timings.timeout, `must be at least ${commandTimeoutSeconds + 1} s: the probe script waits up to commandTimeout (${commandTimeoutSeconds} s) for redis-cli; lower commandTimeout for a shorter probe timeout`);
      }
      return p;
    };
    const liveness = probe(ProbeKind.LIVENESS, REDIS_LIVENESS_SCRIPT, { period: Duration.seconds(5), timeout: probeTimeout, failureThreshold: 5, initialDelay: Duration.seconds(0) });
    const readiness = probe(ProbeKind.READINESS, REDIS_READINESS_SCRIPT, { period: Duration.seconds(5), timeout: probeTimeout, failureThreshold: 3 });

    const env: { [name: string]: EnvValue } = {
      [REDIS_POD_IP_ENV]: EnvValue.fromFieldRef('status.podIP' as any),
      [REDIS_POD_NAMESPACE_ENV]: EnvValue.fromFieldRef('metadata.namespace' as any),
    };
    if (this.authSecretName && this.authSecretKey && !acl) {
      env[REDIS_PASSWORD_ENV] = { value: undefined, valueFrom: { secretKeyRef: { name: this.authSecretName, key: this.authSecretKey } } } as EnvValue;
    }
    const containers: StatefulContainer[] = [{
      name: 'redis',
      image: props.image ?? flavour.image,
      imagePullPolicy: props.imagePullPolicy,
      command: script(REDIS_START_SCRIPT),
      env,
      ports: [
        ...(tls && tls.plaintext === false ? [] : [{ name: 'redis', port: this.port }]),
        ...(this.tlsPort !== undefined ? [{ name: 'redis-tls', port: this.tlsPort }] : []),
        { name: 'cluster-bus', port: busPort },
      ],
      resources,
      liveness,
      readiness,
      startup: StatefulProbe.fromCommand(script(REDIS_LIVENESS_SCRIPT), {
        period: Duration.seconds(startupPeriod), timeout: probeTimeout, failureThreshold: Math.ceil(startupSeconds / startupPeriod),
      }),
      mounts: [
        { volume: 'data', path: REDIS_DATA_MOUNT_PATH },
        ...(acl ? [{ volume: 'auth', path: REDIS_AUTH_MOUNT_PATH, readOnly: true }] : []),
        ...(usersSecret !== undefined ? [{ volume: 'users', path: REDIS_USERS_MOUNT_PATH, readOnly: true }] : []),
        ...(this.tlsSecretName !== undefined ? [{ volume: 'tls', path: REDIS_TLS_MOUNT_PATH, readOnly: true }] : []),
      ],
      writablePaths: [REDIS_TMP_MOUNT_PATH],
    }];
    if (metrics && metricsPort !== undefined) {
      const exporterEnv: { [name: string]: EnvValue } = {
        REDIS_ADDR: EnvValue.fromValue(this.tlsPort !== undefined ? `rediss://localhost:${this.tlsPort}` : `redis://127.0.0.1:${this.port}`),
        REDIS_EXPORTER_IS_CLUSTER: EnvValue.fromValue('true'),
        REDIS_EXPORTER_WEB_LISTEN_ADDRESS: EnvValue.fromValue(`:${metricsPort}`),
      };
      if (env[REDIS_PASSWORD_ENV]) exporterEnv.REDIS_PASSWORD = env[REDIS_PASSWORD_ENV];
      if (acl && this.authSecretName && metricsPasswordKey) {
        exporterEnv.REDIS_USER = EnvValue.fromValue(REDIS_METRICS_USER);
        exporterEnv.REDIS_PASSWORD = { value: undefined, valueFrom: { secretKeyRef: { name: this.authSecretName, key: metricsPasswordKey } } } as EnvValue;
      }
      if (this.tlsPort !== undefined) {
        exporterEnv.REDIS_EXPORTER_TLS_CA_CERT_FILE = EnvValue.fromValue(`${REDIS_TLS_MOUNT_PATH}/ca.crt`);
        exporterEnv.REDIS_EXPORTER_TLS_CLIENT_CERT_FILE = EnvValue.fromValue(`${REDIS_TLS_MOUNT_PATH}/tls.crt`);
        exporterEnv.REDIS_EXPORTER_TLS_CLIENT_KEY_FILE = EnvValue.fromValue(`${REDIS_TLS_MOUNT_PATH}/tls.key`);
      }
      containers.push({
        name: 'metrics',
        mounts: this.tlsPort !== undefined ? [{ volume: 'tls', path: REDIS_TLS_MOUNT_PATH, readOnly: true }] : undefined,
        image: metrics.image ?? DEFAULT_EXPORTER_IMAGE,
        env: exporterEnv,
        ports: [{ name: 'metrics', port: metricsPort }],
        resources: { cpu: { request: Cpu.millis(10) }, memory: { request: Size.mebibytes(32), limit: Size.mebibytes(128) } },
        // liveness only: a failing exporter is restarted, but must not take its Redis node out of the Services or the budget
        liveness: StatefulProbe.fromHttpGet('/health', { port: metricsPort, period: Duration.seconds(10) }),
      });
    }

    this.workload = new StatefulWorkload(this, 'Workload', {
      name,
      namespace: props.namespace,
      clusterDomain,
      replicas: nodes,
      appName: 'redis-cluster',
      component: 'redis',
      // the creator waits for every node to answer before it forms the cluster, and no node is ready before that
      podManagementPolicy: PodManagementPolicy.PARALLEL,
      headlessService: { publishNotReadyAddresses: true },
      containers,
      volumeClaimTemplates: [{ name: 'data', size: persistence.size ?? Size.gibibytes(8), storageClass: persistence.storageClass ?? this.storageClass }],
      volumes: [
        // mounted, not env: a changed Secret reaches the running pod (group-readable through fsGroup)
        ...(acl && this.authSecretName ? [Volume.fromSecret(this, 'AuthVolume', Secret.fromSecretName(this, 'AuthRef', this.authSecretName), { name: 'auth', defaultMode: 0o440 })] : []),
        ...(usersSecret !== undefined ? [Volume.fromSecret(this, 'UsersVolume', Secret.fromSecretName(this, 'UsersRef', usersSecret), { name: 'users', defaultMode: 0o440 })] : []),
        ...(this.tlsSecretName !== undefined ? [Volume.fromSecret(this, 'TlsVolume', Secret.fromSecretName(this, 'TlsRef', this.tlsSecretName), { name: 'tls', defaultMode: 0o440 })] : []),
      ],
      security: { ...props.security, runAsUser: props.security?.runAsUser ?? REDIS_UID },
      disruptionBudget: this.renderDisruptionBudget(props.disruptionBudget),
      scheduling: { nodeSpread: SpreadMode.PREFERRED, ...props.scheduling },
      podLabels: props.podLabels,
      podAnnotations: props.podAnnotations,
      imagePullSecrets: props.imagePullSecrets,
      serviceAccountName: props.serviceAccountName,
    });
    // escape hatches (ApiObject.of(x.node.defaultChild).addJsonPatch(...)) reach the StatefulSet, as on every construct of the library
    this.node.defaultChild = this.workload.statefulSet;
    this.configMap = this.workload.addConfigFiles('Config', {
      files,
      mountPath: REDIS_CONFIG_MOUNT_PATH,
      volumeName: 'config',
      containers: ['redis'],
      // the pods read them only when they start (and the drain Job reads them): draining restarts no pod
      liveFiles: [REDIS_DRAIN_SCRIPT, REDIS_DRAINING_FILE].filter((f) => f in files),
    });
    if (this.drainingShards > 0) {
      // read by the shard removal policy at the next apply: up to this many pods may go then
      this.workload.statefulSet.metadata.addAnnotation(DRAINING_PODS_ANNOTATION, String(this.drainingShards * (1 + this.replicasPerShard)));
      this.drainJob = this.renderDrainJob(name, props, containers[0]);
    }
    if (props.shardRemovalGuard ?? true) this.shardRemovalPolicy = this.renderShardRemovalGuard(name, props.namespace !== undefined || Chart.of(this).namespace !== undefined);

    this.clientService = new k8s.KubeService(this, 'Client', {
      // the extra label lets the ServiceMonitor select this Service only: the headless one publishes the same ports
      metadata: { name, namespace: props.namespace, labels: { ...this.workload.labels, [SERVICE_ROLE_LABEL]: 'client' } },
      spec: {
        selector: this.workload.selectorLabels,
        ports: [
          ...(tls && tls.plaintext === false ? [] : [{ name: 'redis', port: this.port, targetPort: k8s.IntOrString.fromString('redis') }]),
          ...(this.tlsPort !== undefined ? [{ name: 'redis-tls', port: this.tlsPort, targetPort: k8s.IntOrString.fromString('redis-tls') }] : []),
          ...(metricsPort !== undefined ? [{ name: 'metrics', port: metricsPort, targetPort: k8s.IntOrString.fromString('metrics') }] : []),
        ],
      },
    });

    const np = props.networkPolicy && (props.networkPolicy.enabled ?? true) ? props.networkPolicy : undefined;
    if (props.networkPolicy?.enabled === false && (props.networkPolicy.allowedClientLabels || props.networkPolicy.allowedClientNamespaceLabels)) {
      throw propError(this, 'networkPolicy.enabled', false, 'cannot be false while allowedClientLabels or allowedClientNamespaceLabels are set (they would be ignored)');
    }
    if (np) {
      checkLabels(this, 'networkPolicy.allowedClientLabels', np.allowedClientLabels);
      checkLabels(this, 'networkPolicy.allowedClientNamespaceLabels', np.allowedClientNamespaceLabels);
      const members = { podSelector: { matchLabels: this.workload.selectorLabels } };
      const clients: k8s.NetworkPolicyPeer[] = [members, ...(this.drainJob ? [{ podSelector: { matchLabels: this.drainLabels } }] : [])];
      if (np.allowedClientLabels || np.allowedClientNamespaceLabels) {
        clients.push({
          podSelector: { matchLabels: np.allowedClientLabels ?? {} },
          namespaceSelector: np.allowedClientNamespaceLabels ? { matchLabels: np.allowedClientNamespaceLabels } : undefined,
        });
      }
      const clientPorts = [
        ...(tls && tls.plaintext === false ? [] : [this.port]),
        ...(this.tlsPort !== undefined ? [this.tlsPort] : []),
      ];
      const ingress: k8s.NetworkPolicyIngressRule[] = [
        { from: clients, ports: clientPorts.map(p => ({ port: k8s.IntOrString.fromNumber(p), protocol: 'TCP' })) },
        { from: [members], ports: [{ port: k8s.IntOrString.fromNumber(busPort), protocol: 'TCP' }] },
      ];
      if (metricsPort !== undefined) {
        // scrapers live in other namespaces (monitoring); the exporter only exposes metrics
        ingress.push({ from: [{ namespaceSelector: {} }], ports: [{ port: k8s.IntOrString.fromNumber(metricsPort), protocol: 'TCP' }] });
      }
      this.networkPolicy = new k8s.KubeNetworkPolicy(this, 'NetworkPolicy', {
        metadata: { name, namespace: props.namespace, labels: this.workload.labels },
        spec: { podSelector: { matchLabels: this.workload.selectorLabels }, policyTypes: ['Ingress'], ingress },
      });
      if (this.drainJob) {
        // the drain Job's pods serve nothing: policy type Ingress without a rule admits no ingress at all
        new k8s.KubeNetworkPolicy(this, 'DrainNetworkPolicy', {
          metadata: { name: `${name}-drain`, namespace: props.namespace, labels: { ...this.workload.labels, ...this.drainLabels } },
          spec: { podSelector: { matchLabels: this.drainLabels }, policyTypes: ['Ingress'] },
        });
      }
    }

    if (tls?.issuer && this.tlsSecretName) {
      const ns = this.workload.namespace;
      const svc = (service: string) => [`${service}.${ns}.svc.${clusterDomain}`, `${service}.${ns}.svc`, `${service}.${ns}`, service];
      this.certificate = new Certificate(this, 'Certificate', {
        metadata: { name: `${name}-tls`, namespace: props.namespace, labels: this.workload.labels },
        spec: {
          secretName: this.tlsSecretName,
          issuerRef: { name: tls.issuer.name, kind: tls.issuer.kind ?? 'Issuer', group: tls.issuer.group ?? 'cert-manager.io' },
          // every pod (also the ones a later shards increase adds), both Services, and localhost for the exporter
          dnsNames: [`*.${name}-headless.${ns}.svc.${clusterDomain}`, ...svc(`${name}-headless`), ...svc(name), 'localhost'],
          ipAddresses: ['127.0.0.1'],
          usages: [CertificateSpecUsages.SERVER_AUTH, CertificateSpecUsages.CLIENT_AUTH, CertificateSpecUsages.DIGITAL_SIGNATURE, CertificateSpecUsages.KEY_ENCIPHERMENT],
        },
      });
    }

    if (metrics?.serviceMonitor) {
      checkLabels(this, 'metrics.serviceMonitorLabels', metrics.serviceMonitorLabels);
      const interval = wholeSeconds(this, 'metrics.scrapeInterval', metrics.scrapeInterval ?? Duration.seconds(30), 1);
      this.serviceMonitor = new ServiceMonitor(this, 'ServiceMonitor', {
        metadata: { name, namespace: props.namespace, labels: { ...this.workload.labels, ...metrics.serviceMonitorLabels } },
        spec: {
          // the client Service only: selecting the headless one too would scrape every pod twice
          selector: { matchLabels: { ...this.workload.selectorLabels, [SERVICE_ROLE_LABEL]: 'client' } },
          endpoints: [{ port: 'metrics', interval: `${interval}s` }],
        },
      });
    }
  }

  /** Labels of the drain Job's pods: not the StatefulSet's selector labels, so no Service or budget counts them. */
  private get drainLabels(): { [key: string]: string } {
    return { ...this.workload.selectorLabels, 'app.kubernetes.io/component': 'drain' };
  }

  /**
   * The Job that runs drain.sh with the Redis container's image, credentials, TLS files and settings; it touches
   * no Kubernetes object, so it needs no service account token.
   */
  private renderDrainJob(name: string, props: RedisClusterProps, redis: StatefulContainer): k8s.KubeJob {
    // the Job runs where the Redis pods may (the core validated these when it rendered them)
    const pod = this.workload.podPlacement;
    const active = this.shards - this.drainingShards;
    const env: k8s.EnvVar[] = [{ name: REDIS_POD_NAMESPACE_ENV, valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }];
    const password = redis.env?.[REDIS_PASSWORD_ENV]?.valueFrom;
    if (password?.secretKeyRef) env.push({ name: REDIS_PASSWORD_ENV, valueFrom: { secretKeyRef: { name: password.secretKeyRef.name, key: password.secretKeyRef.key } } });
    const secretMounts = (redis.mounts ?? []).filter(m => m.volume === 'auth' || m.volume === 'tls');
    const mounts = [{ volume: 'config', path: REDIS_CONFIG_MOUNT_PATH }, ...secretMounts];
    const volumes: k8s.Volume[] = [
      { name: 'config', configMap: { name: this.configMap.name } },
      ...secretMounts.map(m => ({ name: m.volume, secret: { secretName: m.volume === 'auth' ? this.authSecretName : this.tlsSecretName, defaultMode: 0o440 } })),
    ];
    return new k8s.KubeJob(this, 'Drain', {
      // a Job's pod template cannot change: each drain target has a Job of its own
      metadata: { name: `${name}-drain-${this.shards}-to-${active}`, namespace: props.namespace, labels: { ...this.workload.labels, ...this.drainLabels } },
      spec: {
        // each attempt resumes where the last one stopped
        backoffLimit: 6,
        template: {
          metadata: { labels: this.drainLabels },
          spec: {
            restartPolicy: 'Never',
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            priorityClassName: pod.priorityClassName,
            nodeSelector: pod.nodeSelector,
            tolerations: pod.tolerations,
            imagePullSecrets: pod.imagePullSecrets,
            // the pods' ids: the mounted Secrets are readable by their group
            securityContext: restrictedPodSecurityContext(this.workload.podSecurity.runAsUser!, this.workload.podSecurity.runAsGroup!, this.workload.podSecurity.fsGroup),
            containers: [{
              name: 'drain',
              image: redis.image,
              imagePullPolicy: redis.imagePullPolicy ?? ImagePullPolicy.IF_NOT_PRESENT,
              command: ['sh', `${REDIS_CONFIG_MOUNT_PATH}/${REDIS_DRAIN_SCRIPT}`],
              env,
              resources: {
                requests: { cpu: k8s.Quantity.fromString('10m'), memory: k8s.Quantity.fromString('32Mi') },
                limits: { memory: k8s.Quantity.fromString('128Mi') },
              },
              volumeMounts: mounts.map(m => ({ name: m.volume, mountPath: m.path, readOnly: true })),
              securityContext: restrictedContainerSecurityContext(),
            }],
            volumes,
          },
        },
      },
    });
  }

  /**
   * A ValidatingAdmissionPolicy (and binding) that refuses lowering the StatefulSet's pods by more than the previous
   * apply declared draining. Synthesis cannot see the running cluster, so the check runs where the old object is
   * known: in the API server, at the update.
   */
  private renderShardRemovalGuard(name: string, namespaced: boolean): ApiObject {
    const ns = this.workload.namespace;
    const policyName = `cdk8s-stateful.redis-shards.${ns}.${name}`;
    const annotation = `oldObject.metadata.annotations[${JSON.stringify(DRAINING_PODS_ANNOTATION)}]`;
    const drained = `(has(oldObject.metadata.annotations) && ${JSON.stringify(DRAINING_PODS_ANNOTATION)} in oldObject.metadata.annotations ? int(${annotation}) : 0)`;
    const policy = new ApiObject(this, 'ShardRemovalPolicy', {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: policyName, labels: this.workload.labels },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [{ apiGroups: ['apps'], apiVersions: ['v1'], operations: ['UPDATE'], resources: ['statefulsets'] }],
          objectSelector: { matchLabels: this.workload.selectorLabels },
        },
        validations: [{
          expression: `object.spec.replicas >= oldObject.spec.replicas || oldObject.spec.replicas - object.spec.replicas <= ${drained}`,
          messageExpression: `'RedisCluster ' + object.metadata.namespace + '/' + object.metadata.name + ': lowering the StatefulSet from ' + ` +
            `string(oldObject.spec.replicas) + ' to ' + string(object.spec.replicas) + ' pods would delete pods that own hash slots (the previous apply ' + ` +
            `'declared ' + string(${drained}) + ' pods draining). Remove shards in two applies: drainingShards N with the current shards, wait for the Job ' + ` +
            `object.metadata.name + '-drain-<shards>-to-<shards - N> to complete, then shards lowered by N with drainingShards 0'`,
          reason: 'Forbidden',
        }],
      },
    });
    clusterScoped(policy);
    const binding = new ApiObject(this, 'ShardRemovalPolicyBinding', {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: policyName, labels: this.workload.labels },
      spec: {
        policyName,
        validationActions: ['Deny'],
        // without a namespace in the chart the objects go wherever they are applied: the labels pick the StatefulSet
        matchResources: namespaced ? { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } } } : undefined,
      },
    });
    clusterScoped(binding);
    return policy;
  }

  /**
   * Without replicas every pod is the only copy of its slots, and the cluster stops serving when one is down
   * (cluster-require-full-coverage): a budget that lets a drain evict one would take the cluster down.
   */
  private renderDisruptionBudget(budget: DisruptionBudget | undefined): DisruptionBudget {
    if (this.replicasPerShard > 0) return budget ?? DisruptionBudget.maxUnavailable(1);
    if (budget === undefined) return DisruptionBudget.maxUnavailable(0);
    const allows = budget.maxUnavailableCount !== undefined ? budget.maxUnavailableCount > 0 : (budget.minAvailableCount ?? 0) < this.shards;
    if (allows) {
      throw propError(this, 'disruptionBudget', budget.maxUnavailableCount !== undefined ? `maxUnavailable ${budget.maxUnavailableCount}` : `minAvailable ${budget.minAvailableCount}`,
        `lets a drain evict a pod, but with replicasPerShard 0 every pod is the only copy of its slots and the cluster stops serving without it; use DisruptionBudget.maxUnavailable(0) (drains then wait for you) or replicasPerShard 1 or more`);
    }
    return budget;
  }

  /** StatefulSet name. */
  public get name(): string {
    return this.workload.name;
  }

  /** DNS name of the client Service. */
  public get clientServiceDnsName(): string {
    return `${this.workload.name}.${this.workload.namespace}.svc.${this.workload.clusterDomain}`;
  }

  /** Seed nodes for cluster-aware clients (`host:port` of every node). */
  public get clusterNodes(): string[] {
    return this.workload.podDnsNames.map((host) => `${host}:${this.port}`);
  }

  /** The redis.conf this cluster runs with. */
  public get redisConf(): string {
    return this.files[REDIS_CONF_FILE];
  }

  /** The cluster formation script. */
  public get clusterInitScript(): string {
    return this.files[REDIS_CLUSTER_INIT_SCRIPT];
  }

}

