import { Chart, Duration, Size } from 'cdk8s';
import {
  ContainerResources, Cpu, EnvFieldPaths, EnvValue, ImagePullPolicy, k8s, PodManagementPolicy, PersistentVolumeAccessMode,
} from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { parse, stringify } from 'smol-toml';
import {
  isTable, PC_CONFIG_DIR, PC_DATA_PATH, PC_LOG_PATH, PC_LOGGER_FILE, PcRenderInput, PlacementCenterRelease,
} from './placement-center-release';
import { StatefulProbe, ProbeKind, ProbeTimings } from './probe';
import { EbsVolumeType, IStorageClass, ReclaimPolicy, StorageClass, StorageProvisioner } from './storage-class';
import { StatefulConstruct, StatefulConstructProps } from './stateful-construct';
import { DisruptionBudget, PodSecurityOptions, SpreadMode, StatefulUpdateStrategy, StatefulWorkload } from './stateful-workload';
import { checkDnsLabel, checkDnsSubdomain, checkInteger, checkPort, propError, sizeQuantity } from './validation';

/** The pod annotation with the SHA-256 of the rendered files (the key RedisCluster uses too). */

/**
 * Runs before the binary in the same process: derives the Raft id (ordinal + 1) from the pod-index label, or from the
 * pod name on clusters older than 1.28, exports it as the release's override of the id key, then execs the server.
 */
function nodeIdWrapper(variable: string): string {
  return [
    'set -eu',
    'pod_name="${POD_NAME:-}"',
    'ordinal="${POD_INDEX:-${pod_name##*-}}"',
    'case "$ordinal" in',
    `  ''|*[!0-9]*) echo "placement-center: cannot derive the pod ordinal (POD_INDEX='\${POD_INDEX:-}', POD_NAME='$pod_name')" >&2; exit 64 ;;`,
    'esac',
    `${variable}=$((ordinal + 1))`,
    `export ${variable}`,
    'exec "$@"',
  ].join('\n');
}

const GUIDE_READINESS: ProbeTimings = {
  initialDelay: Duration.seconds(45),
  period: Duration.seconds(10),
  timeout: Duration.seconds(5),
  successThreshold: 1,
  failureThreshold: 3,
};
const GUIDE_LIVENESS: ProbeTimings = {
  initialDelay: Duration.seconds(90),
  period: Duration.seconds(30),
  timeout: Duration.seconds(15),
  successThreshold: 1,
  failureThreshold: 5,
};

/** Probes chosen by hand; see PlacementCenterProbes.custom. */
export interface PlacementCenterCustomProbes {
  /**
   * Readiness probe; unset timings take the production guide's readiness timings (45 s / 10 s / 5 s / 1 / 3).
   * @default - no readiness probe
   */
  readonly readiness?: StatefulProbe;
  /**
   * Liveness probe; unset timings take the production guide's liveness timings (90 s / 30 s / 15 s / 1 / 5).
   * @default - no liveness probe
   */
  readonly liveness?: StatefulProbe;
  /**
   * Startup probe; unset timings take the Kubernetes defaults.
   * @default - no startup probe
   */
  readonly startup?: StatefulProbe;
}

interface ProbeSet {
  readonly readiness?: StatefulProbe;
  readonly liveness?: StatefulProbe;
  readonly startup?: StatefulProbe;
}

interface PortSet {
  readonly grpc: number;
  readonly http: number;
}

/**
 * The health checks of the placement-center pods. Build one with a static factory.
 */
export class PlacementCenterProbes {
  /**
   * A TCP connect to the gRPC port for readiness and liveness, with the production guide's timings: what a kubelet can
   * check on every release. The gRPC port opens first at start, before the member has joined the Raft cluster, so a
   * member is ready without a quorum and OrderedReady can start the next one; the admin HTTP API answers a kubelet with
   * 401 (v0.4.2 to v0.4.11) and its readiness check waits for the engine port, which opens only after a quorum.
   */
  public static tcpSocket(): PlacementCenterProbes {
    return new PlacementCenterProbes((ports) => ({
      readiness: StatefulProbe.fromTcpSocket({ port: ports.grpc }).withDefaults(GUIDE_READINESS),
      liveness: StatefulProbe.fromTcpSocket({ port: ports.grpc }).withDefaults(GUIDE_LIVENESS),
    }));
  }

  /**
   * Probes of your own; a probe left unset is not rendered.
   * @param probes the readiness, liveness and startup probes
   */
  public static custom(probes: PlacementCenterCustomProbes): PlacementCenterProbes {
    return new PlacementCenterProbes(() => ({
      readiness: probes.readiness?.withDefaults(GUIDE_READINESS),
      liveness: probes.liveness?.withDefaults(GUIDE_LIVENESS),
      startup: probes.startup,
    }));
  }

  private constructor(private readonly build: (ports: PortSet) => ProbeSet) {}

  /** @internal */
  public _render(ports: PortSet): ProbeSet {
    return this.build(ports);
  }
}

/**
 * Which pods a rollout of a changed pod template may replace. The StatefulSet replaces pods from the highest ordinal
 * down to the partition, so ordinal 0 (where the cluster was bootstrapped) goes last.
 */
export class PlacementCenterRollout {
  /** Update every member (partition 0): the production guide's default and the last phase of a staged rollout. */
  public static all(): PlacementCenterRollout {
    return new PlacementCenterRollout('all', 0);
  }

  /**
   * Update only the `members` highest ordinals (partition = replicas - members); canary(1) with 3 replicas updates
   * ordinal 2 only, canary(2) ordinals 1 and 2.
   * @param members how many of the highest ordinals to update
   */
  public static canary(members: number): PlacementCenterRollout {
    return new PlacementCenterRollout('canary', members);
  }

  /**
   * Update the pods whose ordinal is at least `partition`; `partition` equal to replicas holds every pod.
   * @param partition the lowest ordinal that is updated
   */
  public static partition(partition: number): PlacementCenterRollout {
    return new PlacementCenterRollout('partition', partition);
  }

  private constructor(private readonly kind: string, private readonly value: number) {}

  /**
   * The StatefulSet partition this rollout means for a replica count.
   * @internal
   */
  public _partition(scope: Construct, replicas: number): number {
    switch (this.kind) {
      case 'canary':
        return replicas - checkInteger(scope, 'rollout.canary', this.value, 1, replicas);
      case 'partition':
        return checkInteger(scope, 'rollout.partition', this.value, 0, replicas);
      default:
        return 0;
    }
  }
}

/** One phase of a staged rollout. */
export interface PlacementCenterRolloutPhase {
  /** Phase number, from 1. */
  readonly phase: number;
  /** StatefulSet partition of the phase. */
  readonly partition: number;
  /** Ordinals on the new revision once the phase is done. */
  readonly updatedOrdinals: number[];
  /** The value to pass as `rollout` for this phase. */
  readonly rollout: PlacementCenterRollout;
  /** What the phase does, for runbooks. */
  readonly description: string;
}

/** Props of PlacementCenter. */
export interface PlacementCenterProps extends StatefulConstructProps {
  /**
   * DNS domain of the cluster, part of the peer DNS names.
   * @default cluster.local
   */
  readonly clusterDomain?: string;
  /**
   * The RobustMQ release the members run: it decides the configuration format, the binary, the per-pod settings and
   * which keys additionalConfig may set.
   * @default PlacementCenterRelease.current() (RobustMQ v0.4.11)
   */
  readonly release?: PlacementCenterRelease;
  /**
   * Container image; pin a tag or digest. Required for a legacy release, which has no published image.
   * @default - the release's image: "ghcr.io/robustmq/robustmq:v0.4.11" for the current release
   */
  readonly image?: string;
  /**
   * When the kubelet pulls the image.
   * @default ImagePullPolicy.IF_NOT_PRESENT
   */
  readonly imagePullPolicy?: ImagePullPolicy;
  /**
   * The command that runs the server; it is exec'd after the node id is exported, so it stays the container's process.
   * @default - the release's: ["/robustmq/libs/broker-server", "--conf", "/etc/robustmq/server.toml"] for the current release
   */
  readonly command?: string[];
  /**
   * Number of Raft members: an odd number of at least 3 unless `allowNonHaReplicas` is set.
   * @default 3
   */
  readonly replicas?: number;
  /**
   * Accept a replica count that cannot survive the loss of a member without losing the majority (1, 2) or that tolerates
   * no more failures than the next smaller odd count (4, 6...).
   * @default false
   */
  readonly allowNonHaReplicas?: boolean;
  /**
   * Pod creation order: OrderedReady starts ordinal n+1 only after n is ready, so members join the cluster one by one.
   * RobustMQ needs it: a fresh member that reaches no peer within 500 ms bootstraps a cluster of its own, so members
   * started together can split into several clusters. Use Parallel only with a readiness check that passes without a
   * quorum being formed by later members and a cluster that already exists.
   * @default PodManagementPolicy.ORDERED_READY
   */
  readonly podManagementPolicy?: PodManagementPolicy;
  /**
   * Which members a changed pod template may replace; see PlacementCenter.stagedRollout for the phases of a canary rollout.
   * @default PlacementCenterRollout.all()
   */
  readonly rollout?: PlacementCenterRollout;
  /**
   * gRPC port (Raft and metadata traffic; the port in every peer address).
   * @default 1228
   */
  readonly grpcPort?: number;
  /**
   * HTTP port: the admin HTTP API (http_port) of the current release, [network] http_port of a legacy one.
   * @default - the release's: 58080 for the current release, 1227 for a legacy one
   */
  readonly httpPort?: number;
  /**
   * cluster_name in the configuration.
   * @default - the StatefulSet name
   */
  readonly clusterName?: string;
  /**
   * Further configuration merged into the TOML, as nested tables: a map of table names to maps of keys and values.
   *
   * Values are JSON-like (strings, numbers, booleans, lists and nested maps): a `dict` in Python, a `Map` in Java,
   * a `map[string]interface{}` in Go. For example the table `meta_runtime` with the key `heartbeat_timeout_ms` set to
   * 30000 renders `[meta_runtime]` / `heartbeat_timeout_ms = 30000`. Every key must be one the release reads, with a
   * value of the kind it reads; keys that typed props or the construct set (cluster_name, broker_id, broker_ip, roles,
   * ports, data paths, meta_addrs, log) are refused.
   * @default - none
   */
  readonly additionalConfig?: { [key: string]: any };
  /**
   * Extra environment variables (ROBUST_MQ_SERVER_<SECTION>_<KEY>, PLACEMENT_CENTER_<SECTION>_<KEY> for a legacy
   * release, overrides a key present in the file with a raw TOML value).
   * @default - none
   */
  readonly env?: { [name: string]: EnvValue };
  /**
   * CPU and memory.
   * @default - requests cpu 500m / memory 512Mi, limits cpu 1000m / memory 1Gi
   */
  readonly resources?: ContainerResources;
  /**
   * Size of each member's data claim (claim template `data`, mounted at /robustmq/data).
   * @default Size.gibibytes(20)
   */
  readonly storageSize?: Size;
  /**
   * StorageClass of the data claims; when set, no StorageClass is created.
   * @default - a StorageClass "ssd" created here: EBS CSI gp3, iops 3000, throughput 125, Retain, expandable
   */
  readonly storageClass?: IStorageClass;
  /**
   * Health checks.
   * @default PlacementCenterProbes.tcpSocket()
   */
  readonly probes?: PlacementCenterProbes;
  /**
   * PodDisruptionBudget; it must keep a Raft majority up unless `allowNonHaReplicas` is set.
   * @default - maxUnavailable 1 (0 when fewer than 3 members): a drain never takes more than one member
   */
  readonly disruptionBudget?: DisruptionBudget;
  /**
   * Numeric user and group of the process (images from ghcr.io/robustmq run as the system user robustmq).
   * @default - uid/gid 1000
   */
  readonly security?: PodSecurityOptions;
}

/**
 * The RobustMQ placement-center, a Raft metadata service, with the production settings of the placement-center production guide: a 3-member
 * StatefulSet started in order, one gp3 volume per member, a generated TOML that lists every peer by its stable DNS
 * name, a per-pod Raft node id, staged rollouts, and a disruption budget that keeps a majority up.
 */
export class PlacementCenter extends StatefulConstruct {
  /**
   * The phases of a canary rollout for a replica count: the highest ordinal first, one more member per phase, then all
   * (3 replicas: partition 2, 1, 0).
   * @param replicas the number of members
   */
  public static stagedRollout(replicas: number = 3): PlacementCenterRolloutPhase[] {
    if (!Number.isInteger(replicas) || replicas < 1) {
      throw new Error(`PlacementCenter.stagedRollout: invalid replicas (${JSON.stringify(replicas)}): must be a whole number >= 1`);
    }
    return Array.from({ length: replicas }, (_, i) => {
      const members = i + 1;
      const partition = replicas - members;
      const updatedOrdinals = Array.from({ length: members }, (__, k) => partition + k);
      const kept = partition === 0 ? 'every member is on the new revision' : `ordinals ${partition === 1 ? '0' : `0-${partition - 1}`} keep the old revision`;
      return {
        phase: members,
        partition,
        updatedOrdinals,
        rollout: partition === 0 ? PlacementCenterRollout.all() : PlacementCenterRollout.canary(members),
        description: `phase ${members}: partition ${partition} updates ordinal${members > 1 ? 's' : ''} ${updatedOrdinals.join(', ')}; ${kept}`,
      };
    });
  }

  /** The stateful core: StatefulSet, headless Service and PodDisruptionBudget. */
  public readonly workload: StatefulWorkload;
  /** The ConfigMap with the server configuration and the logging configuration, mounted at /etc/robustmq. */
  public readonly configMap: k8s.KubeConfigMap;
  /** The RobustMQ release the members run. */
  public readonly release: PlacementCenterRelease;
  /** The StorageClass this construct created; not set when the `storageClass` prop was given. */
  public readonly storageClass?: StorageClass;
  /** Name of the StorageClass the data claims use. */
  public readonly storageClassName: string;
  /**
   * The server configuration as mounted (`/etc/robustmq/<release.configFileName>`); every pod runs it with its own Raft id
   * (and, on the current release, its own broker_ip): see effectiveConfig.
   */
  public readonly tomlConfig: string;
  /** The logging configuration as mounted (`/etc/robustmq/logger.toml`): console only. */
  public readonly loggerConfig: string;
  /** Peer address of every member (`<pod>.<headless>.<namespace>.svc.<domain>:<grpcPort>`); index i has Raft id i + 1. */
  public readonly peerAddresses: string[];
  /** gRPC port. */
  public readonly grpcPort: number;
  /** HTTP port (the admin HTTP API of the current release). */
  public readonly httpPort: number;
  /** StatefulSet partition in force. */
  public readonly partition: number;
  private readonly renderInput: PcRenderInput;

  /**
   * Define the PlacementCenter in a scope.
   * @param scope the chart or construct to define it in
   * @param id its id, unique within the scope
   * @param props its configuration
   */
  public constructor(scope: Construct, id: string, props: PlacementCenterProps = {}) {
    super(scope, id);
    const name = checkDnsLabel(this, 'name', props.name ?? 'placement-center', 52);
    const replicas = checkInteger(this, 'replicas', props.replicas ?? 3, 1);
    const allowNonHa = props.allowNonHaReplicas ?? false;
    const majority = Math.floor(replicas / 2) + 1;
    const tolerated = replicas - majority;
    if (!allowNonHa && (replicas < 3 || replicas % 2 === 0)) {
      throw propError(this, 'replicas', replicas,
        `must be an odd number of at least 3: Raft needs a majority (${majority} of ${replicas}) to elect a leader and commit, `
        + (replicas < 3 ? `so ${replicas} member${replicas === 1 ? '' : 's'} cannot survive the loss of any member`
          : `so ${replicas} members survive no more failures (${tolerated}) than ${replicas - 1} do`)
        + '; set allowNonHaReplicas: true to accept that');
    }

    this.release = props.release ?? PlacementCenterRelease.current();
    this.grpcPort = checkPort(this, 'grpcPort', props.grpcPort ?? 1228);
    this.httpPort = checkPort(this, 'httpPort', props.httpPort ?? this.release.defaultHttpPort);
    const declaredPorts: Array<[string, string, number]> = [
      ['grpcPort', 'grpc', this.grpcPort], ['httpPort', 'http', this.httpPort],
      ...this.release._extraPorts().map(({ name: portName, port }): [string, string, number] => [`the ${portName} port`, portName, port]),
    ];
    for (const [i, [prop, , port]] of declaredPorts.entries()) {
      const clash = declaredPorts.slice(0, i).find(([, , other]) => other === port);
      if (!clash) continue;
      // a port of the release is fixed, so the clash is the typed prop's
      if (!prop.endsWith('Port')) throw propError(this, clash[0], port, `clashes with ${prop} (${port}) of ${this.release.displayName}: each port needs its own number`);
      throw propError(this, prop, port, `clashes with ${clash[0]} (${clash[2]}): each port needs its own number`);
    }
    const portSet: PortSet = { grpc: this.grpcPort, http: this.httpPort };

    this.partition = (props.rollout ?? PlacementCenterRollout.all())._partition(this, replicas);

    const image = props.image ?? this.release.defaultImage;
    if (image === undefined) {
      throw propError(this, 'image', image, `must be set for ${this.release.displayName}: RobustMQ published no image of the standalone placement-center, so name the one you run`);
    }
    const command = props.command ?? this.release.command;
    if (command.length === 0 || command[0].trim() === '') throw propError(this, 'command', command, 'must name the server binary');

    // the members' DNS names, as the StatefulWorkload below names them (it validates namespace and domain)
    const namespace = props.namespace ?? Chart.of(this).namespace ?? 'default';
    const podDomain = `${name}-headless.${namespace}.svc.${props.clusterDomain ?? 'cluster.local'}`;
    const renderInput: PcRenderInput = {
      clusterName: props.clusterName ?? name,
      hosts: Array.from({ length: replicas }, (_, ordinal) => `${name}-${ordinal}.${podDomain}`),
      podDomain,
      grpcPort: this.grpcPort,
      httpPort: this.httpPort,
    };
    this.renderInput = renderInput;
    const podEnv = this.release._podEnv(renderInput);
    const perPodEnvNames = [this.release.nodeIdVariable, ...podEnv.map((e) => e.name)];
    const reserved = [...perPodEnvNames, 'POD_NAME', 'POD_INDEX'];
    for (const envName of Object.keys(props.env ?? {})) {
      if (reserved.includes(envName)) {
        throw propError(this, 'env', envName, `is set by the construct (${reserved.join(', ')} carry each pod's identity)`);
      }
    }

    const probes = (props.probes ?? PlacementCenterProbes.tcpSocket())._render(portSet);
    const kinds: Array<[keyof ProbeSet, ProbeKind]> = [['readiness', ProbeKind.READINESS], ['liveness', ProbeKind.LIVENESS], ['startup', ProbeKind.STARTUP]];
    for (const [slot, kind] of kinds) {
      const probe = probes[slot];
      if (!probe) continue;
      probe.resolve(this, `probes.${slot}`, kind);
      for (const port of probe.targetPorts) {
        if (!declaredPorts.some(([, , p]) => p === port)) {
          throw propError(this, `probes.${slot}.port`, port,
            `must be a port of the container (${declaredPorts.map(([prop, , p]) => `${prop} ${p}`).join(', ')})`);
        }
      }
    }

    const storageSize = props.storageSize ?? Size.gibibytes(20);
    sizeQuantity(this, 'storageSize', storageSize);
    if (props.clusterDomain !== undefined) checkDnsSubdomain(this, 'clusterDomain', props.clusterDomain);

    if (props.storageClass) {
      this.storageClassName = props.storageClass.storageClassName;
    } else {
      this.storageClass = new StorageClass(this, 'StorageClass', {
        name: 'ssd',
        // the CSI driver, because the production guide's in-tree kubernetes.io/aws-ebs cannot set gp3 iops and throughput
        provisioner: StorageProvisioner.awsEbs({ type: EbsVolumeType.GP3, iops: 3000, throughput: 125 }),
        allowVolumeExpansion: true,
        reclaimPolicy: ReclaimPolicy.RETAIN,
      });
      this.storageClassName = this.storageClass.storageClassName;
    }
    const claimClass: IStorageClass = props.storageClass ?? this.storageClass!;

    // one member at a time even where the majority would allow more: a drain should leave room for an unplanned failure
    const budget = props.disruptionBudget ?? DisruptionBudget.maxUnavailable(Math.min(1, tolerated));
    if (props.disruptionBudget && !allowNonHa) {
      const max = budget.maxUnavailableCount;
      const takes = max ?? replicas - (budget.minAvailableCount ?? replicas);
      if (takes > tolerated) {
        const field = max !== undefined ? 'disruptionBudget.maxUnavailable' : 'disruptionBudget.minAvailable';
        throw propError(this, field, max ?? budget.minAvailableCount,
          `lets voluntary disruptions take ${takes} of ${replicas} members, but Raft needs ${majority} up for a majority; `
          + `use maxUnavailable <= ${tolerated} or minAvailable >= ${majority}`);
      }
    }

    this.workload = new StatefulWorkload(this, 'Workload', {
      name,
      namespace: props.namespace,
      clusterDomain: props.clusterDomain,
      replicas,
      podManagementPolicy: props.podManagementPolicy ?? PodManagementPolicy.ORDERED_READY,
      updateStrategy: StatefulUpdateStrategy.rollingUpdate({ partition: this.partition }),
      appName: 'robustmq',
      component: 'placement-center',
      partOf: 'robustmq',
      selectorLabels: { app: 'robustmq', component: 'placement-center' },
      // peers must resolve each other before they are ready: Raft needs them to elect a leader
      headlessService: { name: `${name}-headless`, publishNotReadyAddresses: true },
      containers: [{
        name: 'placement-center',
        image,
        imagePullPolicy: props.imagePullPolicy ?? ImagePullPolicy.IF_NOT_PRESENT,
        command: ['/bin/sh', '-c', nodeIdWrapper(this.release.nodeIdVariable), 'placement-center', ...command],
        env: {
          POD_INDEX: EnvValue.fromFieldRef(EnvFieldPaths.POD_LABEL, { key: 'apps.kubernetes.io/pod-index' }),
          // POD_NAME comes before the variables that refer to it as $(POD_NAME)
          POD_NAME: EnvValue.fromFieldRef(EnvFieldPaths.POD_NAME),
          ...Object.fromEntries(podEnv.map((e) => [e.name, EnvValue.fromValue(e.value)])),
          ...props.env,
        },
        ports: declaredPorts.map(([, portName, port]) => ({ name: portName, port })),
        resources: props.resources ?? {
          cpu: { request: Cpu.millis(500), limit: Cpu.millis(1000) },
          memory: { request: Size.mebibytes(512), limit: Size.gibibytes(1) },
        },
        readiness: probes.readiness,
        liveness: probes.liveness,
        startup: probes.startup,
        mounts: [{ volume: 'data', path: PC_DATA_PATH }],
        writablePaths: [PC_LOG_PATH, '/tmp'],
      }],
      volumeClaimTemplates: [{
        name: 'data',
        size: storageSize,
        accessModes: [PersistentVolumeAccessMode.READ_WRITE_ONCE],
        storageClass: claimClass,
      }],
      disruptionBudget: budget,
      scheduling: { nodeSpread: SpreadMode.PREFERRED, ...props.scheduling },
      podLabels: props.podLabels,
      podAnnotations: props.podAnnotations,
      imagePullSecrets: props.imagePullSecrets,
      serviceAccountName: props.serviceAccountName,
      security: props.security,
    });
    // escape hatches (ApiObject.of(x.node.defaultChild).addJsonPatch(...)) reach the StatefulSet, as on every construct of the library
    this.node.defaultChild = this.workload.statefulSet;

    this.peerAddresses = renderInput.hosts.map((host) => `${host}:${this.grpcPort}`);
    this.tomlConfig = this.renderConfig(props.additionalConfig);
    this.loggerConfig = this.release._renderLogger();
    // the process reads the files only at start: a changed file rolls the members (checksum/config), in the staged order
    this.configMap = this.workload.addConfigFiles('Config', {
      files: { [this.release.configFileName]: this.tomlConfig, [PC_LOGGER_FILE]: this.loggerConfig },
      mountPath: PC_CONFIG_DIR,
      volumeName: 'config',
    });
  }

  /** Name of the headless Service. */
  public get headlessServiceName(): string {
    return this.workload.headlessServiceName;
  }

  /** Name of the StatefulSet. */
  public get name(): string {
    return this.workload.name;
  }

  /** Namespace the peer DNS names are built with. */
  public get namespace(): string {
    return this.workload.namespace;
  }

  /** Number of Raft members. */
  public get replicas(): number {
    return this.workload.replicas;
  }

  /** Name of the ConfigMap with the TOML. */
  public get configMapName(): string {
    return this.configMap.name;
  }

  /** The phases of a canary rollout for this replica count. */
  public get rolloutPhases(): PlacementCenterRolloutPhase[] {
    return PlacementCenter.stagedRollout(this.replicas);
  }

  /**
   * Raft node id of the member with this ordinal (ordinal + 1).
   * @param ordinal the member's ordinal, from 0
   */
  public raftNodeId(ordinal: number): number {
    return this.checkOrdinal(ordinal) + 1;
  }

  /**
   * The configuration the member with this ordinal effectively runs with: the file with the values its environment
   * overrides (its Raft id and, on the current release, its broker_ip) applied.
   * @param ordinal the member's ordinal, from 0
   */
  public effectiveConfig(ordinal: number): string {
    const config = parse(this.tomlConfig) as any;
    this.release._applyMember(config, this.checkOrdinal(ordinal), this.renderInput);
    return stringify(config);
  }

  private checkOrdinal(ordinal: number): number {
    return checkInteger(this, 'ordinal', ordinal, 0, this.replicas - 1);
  }

  private renderConfig(additional: { [key: string]: any } | undefined): string {
    const clusterName = this.renderInput.clusterName;
    if (clusterName.trim() === '' || /[\u0000-\u001f\u007f]/.test(clusterName)) {
      throw propError(this, 'clusterName', clusterName, 'must be a non-empty name without control characters');
    }
    const config = this.release._renderConfig(this.renderInput);
    if (additional) this.mergeConfig(config, additional, [], this.release._managedKeys());
    // every value passed the release's key check, so it is one TOML can hold
    const toml = stringify(config);
    const perPod = this.release.isLegacy
      ? [`# node_id is member 0's; each pod runs with ${this.release.nodeIdVariable} = StatefulSet ordinal + 1.`]
      : [
        `# broker_id and broker_ip are member 0's; each pod runs with ${this.release.nodeIdVariable} = StatefulSet ordinal + 1`,
        '# and ROBUST_MQ_SERVER_BROKER_IP = its own DNS name.',
      ];
    return [
      `# ${this.release.displayName} configuration${this.release.isLegacy ? '' : ' (broker-server with roles meta and engine: the placement center)'}, rendered by cdk8s-stateful.`,
      ...perPod,
      '',
      toml,
    ].join('\n');
  }

  private mergeConfig(target: { [key: string]: any }, source: { [key: string]: any }, path: string[], managed: { [path: string]: string }): void {
    for (const [key, value] of Object.entries(source)) {
      const keyPath = [...path, key].join('.');
      const prop = `additionalConfig.${keyPath}`;
      if (managed[keyPath]) {
        throw propError(this, prop, value, `is set by ${managed[keyPath]}`);
      }
      if (value === undefined || value === null) {
        throw propError(this, prop, value, 'must be a TOML value (TOML has no null)');
      }
      if (Array.isArray(value) && value.some((v) => v === undefined || v === null)) {
        throw propError(this, prop, value, 'must hold TOML values only (TOML has no null)');
      }
      // only keys the release reads: it ignores unknown ones without a word, so a typo would go unnoticed
      const nested = this.release._checkKey(this, prop, [...path, key], value);
      if (nested) {
        if (!isTable(target[key])) target[key] = {};
        this.mergeConfig(target[key], value, [...path, key], managed);
      } else {
        target[key] = value;
      }
    }
  }
}
