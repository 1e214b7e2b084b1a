import { createHash } from 'crypto';
import { Chart, Duration, Lazy, Names, Size } from 'cdk8s';
import { ContainerResources, EnvValue, ImagePullPolicy, k8s, PersistentVolumeAccessMode, PodManagementPolicy, Protocol, TaintEffect, Volume } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { StatefulProbe, ProbeKind } from './probe';
import { IStatefulConstruct, StatefulConstructProps } from './stateful-construct';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from './security';
import { IStorageClass } from './storage-class';
import { registerCollisionCheck } from './collisions';
import {
  checkDnsLabel, checkDnsSubdomain, checkEnum, checkInteger, checkLabels, checkLabelValue, checkPort, checkQualifiedName, gracePeriodSeconds, propError, required,
  sizeQuantity, wholeSeconds,
} from './validation';

/** A port a container listens on. */
export interface StatefulContainerPort {
  /** Port name (IANA service name: at most 15 characters, lower-case letters, digits and '-'). */
  readonly name: string;
  /** Port number. */
  readonly port: number;
  /**
   * Protocol.
   * @default Protocol.TCP
   */
  readonly protocol?: Protocol;
}

/** A volume mounted into a container. */
export interface ContainerMount {
  /** Name of a volume claim template or of a pod volume. */
  readonly volume: string;
  /** Path in the container. */
  readonly path: string;
  /**
   * Mount read-only.
   * @default false
   */
  readonly readOnly?: boolean;
  /**
   * Sub-path of the volume to mount.
   * @default - the volume's root
   */
  readonly subPath?: string;
}

/**
 * What a container runs and how: image, command, environment, ports, resources, mounts and stop hook. StatefulContainer
 * extends it, and so do the props of a construct that runs one app container (RwopStatefulAppProps).
 */
export interface StatefulContainerOptions {
  /** Image reference; pin a tag or digest. */
  readonly image: string;
  /**
   * When the kubelet pulls the image.
   * @default ImagePullPolicy.IF_NOT_PRESENT
   */
  readonly imagePullPolicy?: ImagePullPolicy;
  /**
   * Entrypoint.
   * @default - the image's entrypoint
   */
  readonly command?: string[];
  /**
   * Arguments.
   * @default - the image's cmd
   */
  readonly args?: string[];
  /**
   * Environment variables.
   * @default - none
   */
  readonly env?: { [name: string]: EnvValue };
  /**
   * Ports the container listens on; they are published by the headless Service.
   * @default - none
   */
  readonly ports?: StatefulContainerPort[];
  /**
   * CPU, memory and ephemeral storage requests and limits.
   * @default - none
   */
  readonly resources?: ContainerResources;
  /**
   * Volumes to mount.
   * @default - none
   */
  readonly mounts?: ContainerMount[];
  /**
   * Command run before the container is stopped (runs inside the termination grace period).
   * @default - none
   */
  readonly preStop?: string[];
}

/** A container of a stateful workload. Security settings are not per container: they come from the workload. */
export interface StatefulContainer extends StatefulContainerOptions {
  /** Container name (DNS label). */
  readonly name: string;
  /**
   * Liveness probe (a failure restarts the container in place).
   * @default - none
   */
  readonly liveness?: StatefulProbe;
  /**
   * Readiness probe (a failure removes the pod from Service endpoints).
   * @default - none
   */
  readonly readiness?: StatefulProbe;
  /**
   * Startup probe (liveness and readiness wait until it succeeds).
   * @default - none
   */
  readonly startup?: StatefulProbe;
  /**
   * Paths the process writes besides its volumes; each gets an emptyDir, because the root file system is read-only.
   * @default - none
   */
  readonly writablePaths?: string[];
}

/** A persistent volume claim stamped out for every pod (PVC name `<name>-<statefulset>-<ordinal>`). */
export interface VolumeClaimTemplate {
  /** Template name; also the volume name containers mount. */
  readonly name: string;
  /** Requested size (whole MiB). */
  readonly size: Size;
  /**
   * Access modes.
   * @default [PersistentVolumeAccessMode.READ_WRITE_ONCE]
   */
  readonly accessModes?: PersistentVolumeAccessMode[];
  /**
   * StorageClass of the claims.
   * @default - the cluster's default StorageClass
   */
  readonly storageClass?: IStorageClass;
}

/** What happens to the claims of a StatefulSet's pods. */
export enum PvcRetentionAction {
  /** Keep the claims (and so the data). */
  RETAIN = 'Retain',
  /** Delete the claims. */
  DELETE = 'Delete',
}

/** persistentVolumeClaimRetentionPolicy of a StatefulSet. */
export interface PvcRetentionPolicy {
  /**
   * When the StatefulSet is deleted.
   * @default PvcRetentionAction.RETAIN
   */
  readonly whenDeleted?: PvcRetentionAction;
  /**
   * When the StatefulSet is scaled down (claims of removed ordinals).
   * @default PvcRetentionAction.RETAIN
   */
  readonly whenScaled?: PvcRetentionAction;
}

/** Options of a RollingUpdate strategy. */
export interface RollingUpdateOptions {
  /**
   * Only pods with an ordinal >= partition are updated; raise it to stage a rollout.
   * @default 0
   */
  readonly partition?: number;
}

/** How a StatefulSet rolls out a changed pod template. */
export class StatefulUpdateStrategy {
  /**
   * Replace pods one by one from the highest ordinal down to `partition`.
   * @param options the partition
   */
  public static rollingUpdate(options: RollingUpdateOptions = {}): StatefulUpdateStrategy {
    return new StatefulUpdateStrategy('RollingUpdate', options.partition ?? 0);
  }

  /** Replace a pod only when someone deletes it. */
  public static onDelete(): StatefulUpdateStrategy {
    return new StatefulUpdateStrategy('OnDelete', undefined);
  }

  private constructor(
    /** RollingUpdate or OnDelete. */
    public readonly type: string,
    /** The partition of a rolling update. */
    public readonly partition?: number,
  ) {}
}

/** What an eviction that would make a pod unavailable is judged against. */
export enum UnhealthyPodEvictionPolicy {
  /** Unready pods can be evicted only while the budget allows (the Kubernetes default). */
  IF_HEALTHY_BUDGET = 'IfHealthyBudget',
  /** Unready pods can always be evicted, so a broken pod never blocks a node drain. */
  ALWAYS_ALLOW = 'AlwaysAllow',
}

/** Options shared by both kinds of disruption budget. */
export interface DisruptionBudgetOptions {
  /**
   * How unready pods are treated.
   * @default UnhealthyPodEvictionPolicy.IF_HEALTHY_BUDGET
   */
  readonly unhealthyPodEvictionPolicy?: UnhealthyPodEvictionPolicy;
}

/** A PodDisruptionBudget: how many pods voluntary disruptions (drains, evictions) may take at once. */
export class DisruptionBudget {
  /**
   * At most `count` pods unavailable at a time.
   * @param count the most pods that may be unavailable at once
   * @param options how unready pods are treated
   */
  public static maxUnavailable(count: number, options: DisruptionBudgetOptions = {}): DisruptionBudget {
    return new DisruptionBudget(count, undefined, options);
  }

  /**
   * At least `count` pods available at all times.
   * @param count the fewest pods that must stay available
   * @param options how unready pods are treated
   */
  public static minAvailable(count: number, options: DisruptionBudgetOptions = {}): DisruptionBudget {
    return new DisruptionBudget(undefined, count, options);
  }

  private constructor(
    /** maxUnavailable, if this is that kind. */
    public readonly maxUnavailableCount: number | undefined,
    /** minAvailable, if this is that kind. */
    public readonly minAvailableCount: number | undefined,
    /** Other options. */
    public readonly options: DisruptionBudgetOptions,
  ) {}
}

/** How strongly pods of one workload avoid sharing a node or zone. */
export enum SpreadMode {
  /** No rule. */
  NONE = 'None',
  /** Spread when possible (scheduling never blocks). */
  PREFERRED = 'Preferred',
  /** Always spread; a pod stays Pending when it cannot. */
  REQUIRED = 'Required',
}

/** A toleration of a node taint. */
export interface TaintToleration {
  /** Taint key. */
  readonly key: string;
  /**
   * Taint value to match; unset tolerates every value.
   * @default - any value (operator Exists)
   */
  readonly value?: string;
  /**
   * Effect to tolerate (cdk8s-plus-28's TaintEffect).
   * @default - every effect
   */
  readonly effect?: TaintEffect;
  /**
   * For NoExecute: how long the pod stays bound after the taint appears.
   * @default - forever
   */
  readonly tolerationSeconds?: Duration;
}

/** Where pods may run. */
export interface SchedulingOptions {
  /**
   * Keep pods of this workload on different nodes (kubernetes.io/hostname).
   * @default SpreadMode.PREFERRED
   */
  readonly nodeSpread?: SpreadMode;
  /**
   * Keep pods of this workload in different zones (topology.kubernetes.io/zone), with maxSkew 1.
   * @default SpreadMode.NONE
   */
  readonly zoneSpread?: SpreadMode;
  /**
   * Tolerations.
   * @default - none
   */
  readonly tolerations?: TaintToleration[];
  /**
   * PriorityClass of the pods.
   * @default - the cluster default priority
   */
  readonly priorityClassName?: string;
  /**
   * Node labels a node must carry.
   * @default - any node
   */
  readonly nodeSelector?: { [key: string]: string };
}

/** Identity the processes run as. Every pod passes Pod Security Standards "restricted" whatever is set here. */
export interface PodSecurityOptions {
  /**
   * Numeric user ID (not 0).
   * @default 1000
   */
  readonly runAsUser?: number;
  /**
   * Numeric group ID.
   * @default - the same as runAsUser
   */
  readonly runAsGroup?: number;
  /**
   * Group that owns mounted volumes.
   * @default - the same as runAsGroup
   */
  readonly fsGroup?: number;
}

/** Options of the headless Service that gives every pod its DNS name. */
export interface HeadlessServiceOptions {
  /**
   * Service name.
   * @default `<name>-headless`
   */
  readonly name?: string;
  /**
   * Publish pods before they are ready (peers must find each other to become ready).
   * @default false
   */
  readonly publishNotReadyAddresses?: boolean;
}

/** Props of StatefulWorkload. */
export interface StatefulWorkloadProps extends StatefulConstructProps {
  /** The containers of every pod. */
  readonly containers: StatefulContainer[];
  /**
   * DNS domain of the cluster.
   * @default cluster.local
   */
  readonly clusterDomain?: string;
  /**
   * Number of pods.
   * @default 1
   */
  readonly replicas?: number;
  /**
   * Ordered one-at-a-time or parallel pod creation and deletion.
   * @default PodManagementPolicy.ORDERED_READY
   */
  readonly podManagementPolicy?: PodManagementPolicy;
  /**
   * Update strategy.
   * @default - a rolling update with partition 0 (`StatefulUpdateStrategy.rollingUpdate()`)
   */
  readonly updateStrategy?: StatefulUpdateStrategy;
  /**
   * Seconds a new pod must be ready before it counts as available.
   * @default - 0
   */
  readonly minReady?: Duration;
  /**
   * Claims stamped out per pod.
   * @default - none
   */
  readonly volumeClaimTemplates?: VolumeClaimTemplate[];
  /**
   * Claim retention on delete and scale-down.
   * @default - Retain / Retain
   */
  readonly pvcRetention?: PvcRetentionPolicy;
  /**
   * Extra pod volumes (config maps, secrets, existing claims).
   * @default - none
   */
  readonly volumes?: Volume[];
  /**
   * Headless Service options.
   * @default - `<name>-headless` with the container ports
   */
  readonly headlessService?: HeadlessServiceOptions;
  /**
   * A PodDisruptionBudget.
   * @default - none
   */
  readonly disruptionBudget?: DisruptionBudget;
  /**
   * User and group of the processes.
   * @default - uid/gid 1000
   */
  readonly security?: PodSecurityOptions;
  /**
   * Time a pod gets to shut down after SIGTERM (0 is refused: a delete would then act as a force delete).
   * @default Duration.seconds(30)
   */
  readonly terminationGracePeriod?: Duration;
  /**
   * Mount the ServiceAccount token.
   * @default false
   */
  readonly automountServiceAccountToken?: boolean;
  /**
   * app.kubernetes.io/name.
   * @default - the StatefulSet name
   */
  readonly appName?: string;
  /**
   * app.kubernetes.io/component.
   * @default - none
   */
  readonly component?: string;
  /**
   * app.kubernetes.io/part-of.
   * @default - none
   */
  readonly partOf?: string;
  /**
   * app.kubernetes.io/version.
   * @default - none
   */
  readonly version?: string;
  /**
   * Extra labels on every object and pod, also added to the selector (they cannot change later).
   * @default - none
   */
  readonly selectorLabels?: { [key: string]: string };
  /**
   * Extra labels on every object and pod, not in the selector.
   * @default - none
   */
  readonly labels?: { [key: string]: string };
}

/** Files from a ConfigMap the workload creates, mounted into its containers. */
export interface ConfigFilesOptions {
  /** File name (ConfigMap key) to content. */
  readonly files: { [file: string]: string };
  /** Where the files appear in the containers (a directory, read-only). */
  readonly mountPath: string;
  /**
   * ConfigMap name.
   * @default `<statefulset name>-<id>` in lower case
   */
  readonly name?: string;
  /**
   * Pod volume name.
   * @default `config-<id>` in lower case
   */
  readonly volumeName?: string;
  /**
   * Containers (app, init or sidecar) that mount the files.
   * @default - every app container added so far
   */
  readonly containers?: string[];
  /**
   * Roll the pods when the files change (a `checksum/<volume>` pod annotation). Turn it off only for files the
   * process re-reads by itself: the kubelet updates a mounted ConfigMap in place within about a minute.
   * @default true
   */
  readonly restartOnChange?: boolean;
  /**
   * Files left out of the checksum: changing them rolls no pod. For files a process re-reads by itself, or that only
   * other pods (a Job) or later starts read; the rest of the files still roll the pods when they change.
   * @default - every file counts
   */
  readonly liveFiles?: string[];
}

/**
 * Where a workload's pods may run, as rendered: for a Job or another pod that must run where they may (the same
 * nodes, priority and pull secrets).
 */
export interface PodPlacement {
  /**
   * Node selector of the pods.
   * @default - none
   */
  readonly nodeSelector?: { [key: string]: string };
  /**
   * Tolerations of the pods.
   * @default - none
   */
  readonly tolerations?: k8s.Toleration[];
  /**
   * Priority class of the pods.
   * @default - none
   */
  readonly priorityClassName?: string;
  /**
   * Image pull secrets of the pods.
   * @default - none
   */
  readonly imagePullSecrets?: k8s.LocalObjectReference[];
}

/** Where a container runs in the pod. */
enum ContainerRole {
  APP = 'app',
  INIT = 'init',
  SIDECAR = 'sidecar',
}

const RESERVED_VOLUME_PREFIX = 'writable-';

/**
 * The stateful core every construct of this library stands on: a headless Service, a StatefulSet
 * with volumeClaimTemplates and claim retention, an optional PodDisruptionBudget, spread rules,
 * and pods that pass Pod Security Standards "restricted".
 */
export class StatefulWorkload extends Construct implements IStatefulConstruct {
  /** The StatefulSet. */
  public readonly statefulSet: k8s.KubeStatefulSet;
  /** The headless Service. */
  public readonly headlessService: k8s.KubeService;
  /** The PodDisruptionBudget, when one was asked for. */
  public readonly podDisruptionBudget?: k8s.KubePodDisruptionBudget;
  /** StatefulSet name. */
  public readonly name: string;
  /** Namespace the DNS names are built with. */
  public readonly namespace: string;
  /** Cluster DNS domain. */
  public readonly clusterDomain: string;
  /** Headless Service name. */
  public readonly headlessServiceName: string;
  /** Number of pods. */
  public readonly replicas: number;
  /** Labels that select this workload's pods. */
  public readonly selectorLabels: { [key: string]: string };
  /** Labels on every object and pod. */
  public readonly labels: { [key: string]: string };
  /** Where the pods may run (node selector, tolerations, priority class, pull secrets), as rendered. */
  public readonly podPlacement: PodPlacement;
  /** The uid, gid and fsGroup the pods run with, defaults applied: for a Job that must read what the pods can. */
  public readonly podSecurity: PodSecurityOptions;

  /**
   * Define the StatefulWorkload in a scope.
   * @param scope the chart or construct to define it in
   * @param id its id, unique within the scope
   * @param props its configuration
   */
  public constructor(scope: Construct, id: string, props: StatefulWorkloadProps) {
    super(scope, id);
    registerCollisionCheck(this);
    required(this, 'props', props);
    required(this, 'containers', props.containers);
    this.name = checkDnsLabel(this, 'name', props.name ?? Names.toDnsLabel(this, { maxLen: 52 }), 52);
    this.namespaceProp = props.namespace;
    const chartNamespace = props.namespace === undefined ? Chart.of(this).namespace : undefined;
    this.namespace = checkDnsLabel(this, 'namespace', props.namespace ?? chartNamespace ?? 'default');
    this.clusterDomain = checkDnsSubdomain(this, 'clusterDomain', props.clusterDomain ?? 'cluster.local');
    this.replicas = checkInteger(this, 'replicas', props.replicas ?? 1, 0);
    this.headlessServiceName = checkDnsLabel(this, 'headlessService.name', props.headlessService?.name ?? `${this.name}-headless`);

    checkLabels(this, 'selectorLabels', props.selectorLabels);
    checkLabels(this, 'labels', props.labels);
    for (const [key, value] of Object.entries(props.podAnnotations ?? {})) this.setPodAnnotation(key, value, 'podAnnotations');
    const appName = props.appName ?? this.name;
    this.selectorLabels = {
      'app.kubernetes.io/name': appName,
      'app.kubernetes.io/instance': this.name,
      ...(props.component ? { 'app.kubernetes.io/component': props.component } : {}),
      ...props.selectorLabels,
    };
    for (const [key, value] of Object.entries(props.labels ?? {})) {
      // the pod template must keep matching the StatefulSet's selector and the Service's
      if (key in this.selectorLabels && this.selectorLabels[key] !== value) {
        throw propError(this, `labels["${key}"]`, value, `would override the selector label ${key}=${this.selectorLabels[key]}: the pods would stop matching their StatefulSet and Services; set it through selectorLabels (or appName/component) instead`);
      }
    }
    this.labels = {
      ...this.selectorLabels,
      ...(props.partOf ? { 'app.kubernetes.io/part-of': props.partOf } : {}),
      ...(props.version ? { 'app.kubernetes.io/version': props.version } : {}),
      'app.kubernetes.io/managed-by': 'cdk8s',
      ...props.labels,
    };
    checkLabels(this, 'labels', this.labels);
    for (const [key, value] of Object.entries(props.podLabels ?? {})) this.setPodLabel('podLabels', key, value);
    const imagePullSecrets = (props.imagePullSecrets ?? []).map((secret, i) => ({ name: checkDnsSubdomain(this, `imagePullSecrets[${i}]`, secret) }));
    const metadata = (name: string) => ({
      name,
      namespace: props.namespace,
      labels: this.labels,
    });

    if (props.containers.length === 0) {
      throw propError(this, 'containers', [], 'must list at least one container');
    }
    const claimTemplates = (props.volumeClaimTemplates ?? []).map((t, i) => this.renderClaimTemplate(t, i));
    for (const [i, t] of claimTemplates.entries()) {
      if (this.volumeNames.has(t.metadata!.name!)) throw propError(this, `volumeClaimTemplates[${i}].name`, t.metadata!.name, 'must be unique: two claim templates of one name would give every pod two claims of one name');
      this.volumeNames.add(t.metadata!.name!);
    }
    for (const v of props.volumes ?? []) this.acceptVolume(v, 'volumes');
    for (const c of props.containers) this.acceptContainer(c, 'containers', ContainerRole.APP);

    const sec = props.security ?? {};
    const runAsUser = checkInteger(this, 'security.runAsUser', sec.runAsUser ?? 1000, 1, 2147483647);
    const runAsGroup = checkInteger(this, 'security.runAsGroup', sec.runAsGroup ?? runAsUser, 0, 2147483647);
    const fsGroup = checkInteger(this, 'security.fsGroup', sec.fsGroup ?? runAsGroup, 0, 2147483647);
    this.podSecurity = { runAsUser, runAsGroup, fsGroup };

    const grace = props.terminationGracePeriod ?? Duration.seconds(30);
    const terminationGracePeriodSeconds = gracePeriodSeconds(this, 'terminationGracePeriod', grace);

    if (props.podManagementPolicy !== undefined) checkEnum(this, 'podManagementPolicy', props.podManagementPolicy, PodManagementPolicy, 'PodManagementPolicy');
    if (props.serviceAccountName !== undefined) checkDnsSubdomain(this, 'serviceAccountName', props.serviceAccountName);
    const strategy = props.updateStrategy ?? StatefulUpdateStrategy.rollingUpdate();
    if (strategy.partition !== undefined) {
      checkInteger(this, 'updateStrategy.partition', strategy.partition, 0, this.replicas);
    }
    const retention = props.pvcRetention ?? {};
    if (retention.whenDeleted !== undefined) checkEnum(this, 'pvcRetention.whenDeleted', retention.whenDeleted, PvcRetentionAction, 'PvcRetentionAction');
    if (retention.whenScaled !== undefined) checkEnum(this, 'pvcRetention.whenScaled', retention.whenScaled, PvcRetentionAction, 'PvcRetentionAction');

    const scheduling = props.scheduling ?? {};
    if (scheduling.priorityClassName !== undefined) checkDnsSubdomain(this, 'scheduling.priorityClassName', scheduling.priorityClassName);
    for (const [key, value] of Object.entries(scheduling.nodeSelector ?? {})) {
      checkQualifiedName(this, 'scheduling.nodeSelector key', key);
      checkLabelValue(this, `scheduling.nodeSelector["${key}"]`, value);
    }
    const nodeSpread = checkEnum(this, 'scheduling.nodeSpread', scheduling.nodeSpread ?? SpreadMode.PREFERRED, SpreadMode, 'SpreadMode');
    const affinity = this.renderAffinity(nodeSpread);
    const zoneSpread = checkEnum(this, 'scheduling.zoneSpread', scheduling.zoneSpread ?? SpreadMode.NONE, SpreadMode, 'SpreadMode');
    const tolerations = (scheduling.tolerations ?? []).map((t, i) => this.renderToleration(t, i));

    this.podPlacement = {
      // a plain copy: a map without prototype (Object.create(null), some language bindings) breaks serialization
      nodeSelector: scheduling.nodeSelector === undefined ? undefined : { ...scheduling.nodeSelector },
      tolerations: tolerations.length > 0 ? tolerations : undefined,
      priorityClassName: scheduling.priorityClassName,
      imagePullSecrets: imagePullSecrets.length > 0 ? imagePullSecrets : undefined,
    };

    const minReadySeconds = props.minReady ? wholeSeconds(this, 'minReady', props.minReady, 0) : undefined;

    this.headlessService = new k8s.KubeService(this, 'Headless', {
      metadata: metadata(this.headlessServiceName),
      spec: {
        clusterIp: 'None',
        publishNotReadyAddresses: props.headlessService?.publishNotReadyAddresses ?? false,
        selector: this.selectorLabels,
        // a Service without ports is valid only when headless; it still gives pods their DNS records
        ports: Lazy.any({
          produce: () => (this.portNames.size === 0 ? undefined : [...this.portNames.entries()].map(([name, port]) => ({
            name,
            port,
            targetPort: k8s.IntOrString.fromString(name),
            protocol: this.portProtocols.get(name),
          }))),
        }),
      },
    });

    this.statefulSet = new k8s.KubeStatefulSet(this, 'Resource', {
      metadata: metadata(this.name),
      spec: {
        serviceName: this.headlessServiceName,
        replicas: this.replicas,
        podManagementPolicy: props.podManagementPolicy ?? PodManagementPolicy.ORDERED_READY,
        updateStrategy: strategy.type === 'RollingUpdate'
          ? { type: 'RollingUpdate', rollingUpdate: { partition: strategy.partition } }
          : { type: 'OnDelete' },
        minReadySeconds,
        persistentVolumeClaimRetentionPolicy: {
          whenDeleted: retention.whenDeleted ?? PvcRetentionAction.RETAIN,
          whenScaled: retention.whenScaled ?? PvcRetentionAction.RETAIN,
        },
        selector: { matchLabels: this.selectorLabels },
        template: {
          metadata: {
            labels: Lazy.any({ produce: () => ({ ...this.labels, ...this.podLabels }) }),
            annotations: Lazy.any({ produce: () => (Object.keys(this.podAnnotations).length > 0 ? { ...this.podAnnotations } : undefined) }),
          },
          spec: {
            serviceAccountName: props.serviceAccountName,
            imagePullSecrets: this.podPlacement.imagePullSecrets,
            automountServiceAccountToken: props.automountServiceAccountToken ?? false,
            // stateful peers find each other by DNS; service env vars only grow with the namespace
            enableServiceLinks: false,
            terminationGracePeriodSeconds,
            priorityClassName: this.podPlacement.priorityClassName,
            nodeSelector: this.podPlacement.nodeSelector,
            affinity,
            topologySpreadConstraints: zoneSpread === SpreadMode.NONE ? undefined : [{
              maxSkew: 1,
              topologyKey: 'topology.kubernetes.io/zone',
              whenUnsatisfiable: zoneSpread === SpreadMode.REQUIRED ? 'DoNotSchedule' : 'ScheduleAnyway',
              labelSelector: { matchLabels: this.selectorLabels },
            }],
            tolerations: this.podPlacement.tolerations,
            securityContext: restrictedPodSecurityContext(runAsUser, runAsGroup, fsGroup),
            initContainers: Lazy.any({ produce: () => (this.initContainers.length > 0 ? this.initContainers.map((c) => ({ ...c })) : undefined) }),
            containers: Lazy.any({ produce: () => this.containers.map((c) => ({ ...c })) }),
            volumes: Lazy.any({ produce: () => (this.podVolumes.length > 0 ? [...this.podVolumes] : undefined) }),
          },
        },
        volumeClaimTemplates: claimTemplates.length > 0 ? claimTemplates : undefined,
      },
    });

    if (props.disruptionBudget) {
      this.podDisruptionBudget = this.renderDisruptionBudget(props.disruptionBudget, metadata(this.name));
    }
  }

  /**
   * Add an annotation to the pod template (for example a checksum that rolls the pods when a config changes).
   * @param key the annotation key
   * @param value the annotation value
   */
  public addPodAnnotation(key: string, value: string): void {
    this.setPodAnnotation(key, value, 'addPodAnnotation');
  }

  private setPodAnnotation(key: string, value: string, prop: string): void {
    checkQualifiedName(this, `${prop} key`, key);
    if (typeof value !== 'string') throw propError(this, `${prop}["${key}"]`, value, 'must be a string');
    this.podAnnotations[key] = value;
    const total = Object.entries(this.podAnnotations).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
    if (total > 256 * 1024) throw propError(this, `${prop}["${key}"]`, `${value.slice(0, 40)}...`, `makes the pod annotations ${total} bytes; the API server accepts at most 262144`);
  }

  /**
   * DNS name of the pod with this ordinal, through the headless Service.
   * @param ordinal the pod's ordinal, from 0
   */
  public podDnsName(ordinal: number): string {
    return `${this.name}-${ordinal}.${this.headlessServiceName}.${this.namespace}.svc.${this.clusterDomain}`;
  }

  /** DNS names of every pod. */
  public get podDnsNames(): string[] {
    return Array.from({ length: this.replicas }, (_, i) => this.podDnsName(i));
  }

  /** This workload: the core every construct of the library exposes as `workload`. */
  public get workload(): StatefulWorkload {
    return this;
  }

  /** DNS name of the headless Service. */
  public get headlessServiceDnsName(): string {
    return `${this.headlessServiceName}.${this.namespace}.svc.${this.clusterDomain}`;
  }

  private readonly portProtocols = new Map<string, string | undefined>();
  private readonly podAnnotations: { [key: string]: string } = {};

  /**
   * Add an app container to every pod. It is validated like the `containers` prop, runs with the restricted
   * security context, and its ports join the headless Service. Volumes it mounts must exist already.
   * @param container the container
   */
  public addContainer(container: StatefulContainer): void {
    this.acceptContainer(container, 'addContainer', ContainerRole.APP);
  }

  /**
   * Add an init container: init containers run one after another, each to completion, before the app containers
   * start (for example to prepare a volume). It gets the restricted security context; it cannot have probes,
   * ports or a preStop command.
   * @param container the container
   */
  public addInitContainer(container: StatefulContainer): void {
    this.acceptContainer(container, 'addInitContainer', ContainerRole.INIT);
  }

  /**
   * Add a sidecar: a container that starts before the app containers and runs beside them for the pod's life (a
   * native sidecar, an init container with restartPolicy Always: Kubernetes 1.29 or later). It gets the restricted
   * security context, may have probes, and its ports join the headless Service.
   * @param container the container
   */
  public addSidecar(container: StatefulContainer): void {
    this.acceptContainer(container, 'addSidecar', ContainerRole.SIDECAR);
  }

  /**
   * Add an environment variable to a container (app, init or sidecar).
   * @param containerName the container's name
   * @param name the variable's name
   * @param value its value
   */
  public addEnv(containerName: string, name: string, value: EnvValue): void {
    const where = `addEnv(${JSON.stringify(containerName)})`;
    const container = [...this.containers, ...this.initContainers].find((c) => c.name === containerName);
    if (!container) throw propError(this, `${where} containerName`, containerName, `must name a container of the pod (known: ${[...this.containerNames].join(', ')})`);
    const [variable] = this.renderEnv(where, { [name]: value });
    const env = container.env ?? [];
    if (env.some((e) => e.name === name)) throw propError(this, `${where} name`, name, 'is already set in this container');
    (container as { env?: k8s.EnvVar[] }).env = [...env, variable];
  }

  /**
   * Add a pod volume (a ConfigMap, Secret, emptyDir, existing claim, ...): only the volume types Pod Security
   * Standards "restricted" accepts. Add it before a container that mounts it.
   * @param volume the volume
   */
  public addVolume(volume: Volume): void {
    this.acceptVolume(volume, 'addVolume');
  }

  /**
   * Add a label to the pods only (not to the selector, the Services or the other objects).
   * @param key the label key
   * @param value the label value
   */
  public addPodLabel(key: string, value: string): void {
    this.setPodLabel('addPodLabel', key, value);
  }

  private setPodLabel(prop: string, key: string, value: string): void {
    checkQualifiedName(this, `${prop} key`, key);
    checkLabelValue(this, `${prop}["${key}"]`, value);
    if (key in this.labels) {
      throw propError(this, `${prop}["${key}"]`, value, `would override the label ${key}=${this.labels[key]} that every object of the workload carries${key in this.selectorLabels ? ' (a selector label: the pods would leave their StatefulSet and Services)' : ''}`);
    }
    this.podLabels[key] = value;
  }

  /**
   * Mount files from a ConfigMap the workload creates, as one building block: the ConfigMap (`<name>-<id>`, lower
   * case), a pod volume, a read-only mount in each named container, and a `checksum/<volume>` pod annotation, so that
   * pods roll when the files change.
   * @param id construct id of the ConfigMap, unique within the workload
   * @param options the files and where they go
   */
  public addConfigFiles(id: string, options: ConfigFilesOptions): k8s.KubeConfigMap {
    const where = `addConfigFiles(${JSON.stringify(id)})`;
    const files = required(this, `${where}.files`, options.files);
    const names = Object.keys(files);
    if (names.length === 0) throw propError(this, `${where}.files`, files, 'must hold at least one file');
    for (const f of names) {
      if (!/^[-._a-zA-Z0-9]+$/.test(f) || f.length > 253 || f === '.' || f === '..') {
        throw propError(this, `${where}.files`, f, 'must be a ConfigMap key: one or more of [-._a-zA-Z0-9], at most 253 characters');
      }
      if (typeof files[f] !== 'string') throw propError(this, `${where}.files["${f}"]`, files[f], 'must be a string');
    }
    const configMapName = checkDnsSubdomain(this, `${where}.name`, options.name ?? `${this.name}-${id.toLowerCase()}`);
    const volumeName = checkDnsLabel(this, `${where}.volumeName`, options.volumeName ?? `config-${id.toLowerCase()}`);
    const mountPath = required(this, `${where}.mountPath`, options.mountPath);
    if (!mountPath.startsWith('/')) throw propError(this, `${where}.mountPath`, mountPath, 'must be an absolute path');
    const targets = options.containers ?? this.containers.map((c) => c.name);
    const configMap = new k8s.KubeConfigMap(this, id, {
      metadata: { name: configMapName, namespace: this.namespaceProp, labels: this.labels },
      data: { ...files },
    });
    // listed before the StatefulSet in the manifest, so that a first apply creates it before any pod mounts it
    this.statefulSet.node.addDependency(configMap);
    this.acceptKubeVolume({ name: volumeName, configMap: { name: configMapName } }, `${where}.volumeName`);
    for (const target of targets) {
      const container = [...this.containers, ...this.initContainers].find((c) => c.name === target);
      if (!container) throw propError(this, `${where}.containers`, target, `must name a container of the pod (known: ${[...this.containerNames].join(', ')})`);
      const mounts = container.volumeMounts ?? [];
      if (mounts.some((m) => m.mountPath === mountPath)) throw propError(this, `${where}.mountPath`, mountPath, `is already a mount path of container ${target}`);
      (container as { volumeMounts?: k8s.VolumeMount[] }).volumeMounts = [...mounts, { name: volumeName, mountPath, readOnly: true }];
    }
    const live = new Set(options.liveFiles ?? []);
    for (const f of live) {
      if (!Object.prototype.hasOwnProperty.call(files, f)) throw propError(this, `${where}.liveFiles`, f, `must name one of the files (${names.join(', ')})`);
    }
    if ((options.restartOnChange ?? true) && live.size < names.length) {
      const counted = Object.fromEntries(Object.entries(files).filter(([f]) => !live.has(f)));
      this.setPodAnnotation(`checksum/${volumeName}`, createHash('sha256').update(JSON.stringify(counted)).digest('hex'), where);
    }
    return configMap;
  }

  /** The namespace prop as given (undefined: the chart's namespace applies). */
  private namespaceProp?: string;
  private readonly containers: k8s.Container[] = [];
  private readonly initContainers: k8s.Container[] = [];
  private readonly containerNames = new Set<string>();
  private readonly podVolumes: k8s.Volume[] = [];
  private readonly volumeNames = new Set<string>();
  private readonly portNames = new Map<string, number>();
  private readonly podLabels: { [key: string]: string } = {};

  private acceptContainer(c: StatefulContainer, prop: string, role: ContainerRole): void {
    required(this, prop, c);
    checkDnsLabel(this, `${prop}[].name`, required(this, `${prop}[].name`, c.name));
    required(this, `${prop}[${c.name}].image`, c.image);
    if (this.containerNames.has(c.name)) throw propError(this, `${prop}[].name`, c.name, 'must be unique within the pod (app, init and sidecar containers share one namespace of names)');
    if (role === ContainerRole.INIT) {
      const unsupported = (['liveness', 'readiness', 'startup', 'ports', 'preStop'] as const).filter((k) => c[k] !== undefined);
      if (unsupported.length > 0) {
        throw propError(this, `${prop}[${c.name}].${unsupported[0]}`, c[unsupported[0]], 'is not available on an init container, which runs to completion before the pod starts (the API server rejects probes and lifecycle hooks there); use addSidecar for a container that runs beside the app');
      }
    }
    const rendered = this.renderContainer(c, prop);
    this.containerNames.add(c.name);
    if (role === ContainerRole.APP) this.containers.push(rendered);
    else this.initContainers.push(role === ContainerRole.SIDECAR ? { ...rendered, restartPolicy: 'Always' } : rendered);
  }

  private acceptVolume(v: Volume, prop: string): void {
    required(this, prop, v);
    this.acceptKubeVolume(v._toKube(), prop);
  }

  private acceptKubeVolume(kube: k8s.Volume, prop: string): void {
    const allowed = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];
    const kinds = Object.keys(kube).filter((k) => k !== 'name' && (kube as any)[k] !== undefined);
    const forbidden = kinds.filter((k) => !allowed.includes(k));
    if (forbidden.length > 0) {
      throw propError(this, prop, kube.name, `uses ${forbidden.join(', ')}, which Pod Security Standards "restricted" forbids; accepted volume types: ${allowed.join(', ')}`);
    }
    if (this.volumeNames.has(kube.name)) throw propError(this, prop, kube.name, 'clashes with another volume or claim template of the same name');
    this.volumeNames.add(kube.name);
    this.podVolumes.push(kube);
  }

  private renderEnv(where: string, env: { [name: string]: EnvValue }): k8s.EnvVar[] {
    return Object.entries(env).map(([name, value]) => {
      if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(name)) {
        throw propError(this, `${where}.env`, name, 'must be an environment variable name ([-._a-zA-Z][-._a-zA-Z0-9]*)');
      }
      if (value === undefined || value === null) throw propError(this, `${where}.env["${name}"]`, value, 'must be an EnvValue (EnvValue.fromValue, fromSecretValue, fromFieldRef, ...)');
      return { name, value: value.value, valueFrom: value.valueFrom };
    });
  }

  private renderContainer(c: StatefulContainer, prop: string): k8s.Container {
    const where = `${prop}[${c.name}]`;
    const volumeNames = this.volumeNames;
    const podVolumes = this.podVolumes;
    const portNames = this.portNames;
    if (c.image.trim() === '' || /\s/.test(c.image)) {
      throw propError(this, `${where}.image`, c.image, 'must be an image reference such as "redis:7.4.2"');
    }
    if (c.imagePullPolicy !== undefined) checkEnum(this, `${where}.imagePullPolicy`, c.imagePullPolicy, ImagePullPolicy, 'ImagePullPolicy');
    const ports = (c.ports ?? []).map((p) => {
      if (p.protocol !== undefined) checkEnum(this, `${where}.ports[${p.name}].protocol`, p.protocol, Protocol, 'Protocol');
      if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(p.name) || p.name.length > 15 || !/[a-z]/.test(p.name)) {
        throw propError(this, `${where}.ports[].name`, p.name, 'must be an IANA service name: at most 15 lower-case letters, digits and \'-\', with at least one letter');
      }
      checkPort(this, `${where}.ports[${p.name}].port`, p.port);
      if (portNames.has(p.name)) throw propError(this, `${where}.ports[].name`, p.name, 'must be unique within the pod');
      for (const [otherName, otherPort] of portNames) {
        if (otherPort === p.port && this.portProtocols.get(otherName) === (p.protocol ?? Protocol.TCP)) {
          throw propError(this, `${where}.ports[${p.name}].port`, p.port, `clashes with port "${otherName}" of the same pod`);
        }
      }
      portNames.set(p.name, p.port);
      this.portProtocols.set(p.name, p.protocol ?? Protocol.TCP);
      return { name: p.name, containerPort: p.port, protocol: p.protocol ?? Protocol.TCP };
    });

    const mounts: k8s.VolumeMount[] = (c.mounts ?? []).map((m) => {
      if (!volumeNames.has(m.volume)) {
        throw propError(this, `${where}.mounts[].volume`, m.volume, `must name a claim template or pod volume (known: ${[...volumeNames].join(', ') || 'none'})`);
      }
      if (!m.path.startsWith('/')) throw propError(this, `${where}.mounts[].path`, m.path, 'must be an absolute path');
      if (m.subPath !== undefined && (m.subPath === '' || m.subPath.startsWith('/') || m.subPath.split('/').includes('..'))) {
        throw propError(this, `${where}.mounts[${m.volume}].subPath`, m.subPath, 'must be a relative path inside the volume, without ".." (the API server rejects one that escapes it)');
      }
      return { name: m.volume, mountPath: m.path, readOnly: m.readOnly, subPath: m.subPath };
    });
    for (const [i, path] of (c.writablePaths ?? []).entries()) {
      if (!path.startsWith('/')) throw propError(this, `${where}.writablePaths`, path, 'must be an absolute path');
      const volumeName = `${RESERVED_VOLUME_PREFIX}${c.name}-${i}`.slice(0, 63).replace(/-+$/, '');
      podVolumes.push({ name: volumeName, emptyDir: {} });
      mounts.push({ name: volumeName, mountPath: path });
    }
    const mountPaths = new Set<string>();
    for (const m of mounts) {
      if (mountPaths.has(m.mountPath)) throw propError(this, `${where}.mounts`, m.mountPath, 'mounts two volumes at the same path');
      mountPaths.add(m.mountPath);
    }

    const env = this.renderEnv(where, c.env ?? {});

    return {
      name: c.name,
      image: c.image,
      imagePullPolicy: c.imagePullPolicy ?? ImagePullPolicy.IF_NOT_PRESENT,
      command: c.command,
      args: c.args,
      env: env.length > 0 ? env : undefined,
      ports: ports.length > 0 ? ports : undefined,
      resources: this.renderResources(where, c.resources),
      livenessProbe: c.liveness?._toKube(this, `${where}.liveness`, ProbeKind.LIVENESS),
      readinessProbe: c.readiness?._toKube(this, `${where}.readiness`, ProbeKind.READINESS),
      startupProbe: c.startup?._toKube(this, `${where}.startup`, ProbeKind.STARTUP),
      lifecycle: c.preStop ? { preStop: { exec: { command: this.checkCommand(`${where}.preStop`, c.preStop) } } } : undefined,
      volumeMounts: mounts.length > 0 ? mounts : undefined,
      securityContext: restrictedContainerSecurityContext(),
    };
  }

  private checkCommand(prop: string, command: string[]): string[] {
    if (command.length === 0 || command[0].trim() === '') throw propError(this, prop, command, 'must name a command to run (an empty exec command is rejected by the API server)');
    return command;
  }

  private renderResources(where: string, r: ContainerResources | undefined): k8s.ResourceRequirements | undefined {
    if (!r) return undefined;
    const requests: { [key: string]: k8s.Quantity } = {};
    const limits: { [key: string]: k8s.Quantity } = {};
    const cpu = (value: string, prop: string) => {
      if (!/^([0-9]+m|[0-9]+(\.[0-9]{1,3})?)$/.test(value) || Number.parseFloat(value) <= 0) {
        throw propError(this, prop, value, 'must be a positive CPU amount such as Cpu.millis(500) or Cpu.units(1)');
      }
      return k8s.Quantity.fromString(value);
    };
    if (r.cpu?.request) requests.cpu = cpu(r.cpu.request.amount, `${where}.resources.cpu.request`);
    if (r.cpu?.limit) limits.cpu = cpu(r.cpu.limit.amount, `${where}.resources.cpu.limit`);
    if (r.memory?.request) requests.memory = k8s.Quantity.fromString(sizeQuantity(this, `${where}.resources.memory.request`, r.memory.request));
    if (r.memory?.limit) limits.memory = k8s.Quantity.fromString(sizeQuantity(this, `${where}.resources.memory.limit`, r.memory.limit));
    if (r.ephemeralStorage?.request) requests['ephemeral-storage'] = k8s.Quantity.fromString(sizeQuantity(this, `${where}.resources.ephemeralStorage.request`, r.ephemeralStorage.request));
    if (r.ephemeralStorage?.limit) limits['ephemeral-storage'] = k8s.Quantity.fromString(sizeQuantity(this, `${where}.resources.ephemeralStorage.limit`, r.ephemeralStorage.limit));
    const pairs: Array<[string, number | undefined, number | undefined]> = [
      ['cpu', r.cpu?.request && millicores(r.cpu.request.amount), r.cpu?.limit && millicores(r.cpu.limit.amount)],
      ['memory', r.memory?.request?.toKibibytes(), r.memory?.limit?.toKibibytes()],
      ['ephemeralStorage', r.ephemeralStorage?.request?.toKibibytes(), r.ephemeralStorage?.limit?.toKibibytes()],
    ];
    for (const [name, request, limit] of pairs) {
      if (request !== undefined && limit !== undefined && request > limit) {
        throw propError(this, `${where}.resources.${name}.request`, request, `must not exceed the limit (${limit}); the API server rejects a request above its limit`);
      }
    }
    return {
      requests: Object.keys(requests).length > 0 ? requests : undefined,
      limits: Object.keys(limits).length > 0 ? limits : undefined,
    };
  }

  private renderClaimTemplate(t: VolumeClaimTemplate, i: number): k8s.KubePersistentVolumeClaimProps {
    checkDnsLabel(this, `volumeClaimTemplates[${i}].name`, t.name);
    if (t.name.startsWith(RESERVED_VOLUME_PREFIX)) {
      throw propError(this, `volumeClaimTemplates[${i}].name`, t.name, `must not start with "${RESERVED_VOLUME_PREFIX}" (reserved for writable paths)`);
    }
    const accessModes = t.accessModes ?? [PersistentVolumeAccessMode.READ_WRITE_ONCE];
    for (const m of accessModes) checkEnum(this, `volumeClaimTemplates[${i}].accessModes`, m, PersistentVolumeAccessMode, 'PersistentVolumeAccessMode');
    if (accessModes.length === 0) throw propError(this, `volumeClaimTemplates[${i}].accessModes`, accessModes, 'must list at least one access mode');
    if (accessModes.includes(PersistentVolumeAccessMode.READ_WRITE_ONCE_POD) && accessModes.length > 1) {
      throw propError(this, `volumeClaimTemplates[${i}].accessModes`, accessModes, 'ReadWriteOncePod cannot be combined with other access modes');
    }
    return {
      // claim templates cannot change after creation, so only the stable selector labels go on them
      metadata: { name: t.name, labels: this.selectorLabels },
      spec: {
        accessModes,
        storageClassName: t.storageClass === undefined ? undefined : checkDnsSubdomain(this, `volumeClaimTemplates[${i}].storageClass`, t.storageClass.storageClassName),
        resources: { requests: { storage: k8s.Quantity.fromString(sizeQuantity(this, `volumeClaimTemplates[${i}].size`, t.size)) } },
      },
    };
  }

  private renderAffinity(nodeSpread: SpreadMode): k8s.Affinity | undefined {
    const term = { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: this.selectorLabels } };
    switch (nodeSpread) {
      case SpreadMode.NONE:
        return undefined;
      case SpreadMode.REQUIRED:
        return { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } };
      default:
        return { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] } };
    }
  }

  private renderToleration(t: TaintToleration, i: number): k8s.Toleration {
    const prop = `scheduling.tolerations[${i}]`;
    checkQualifiedName(this, `${prop}.key`, required(this, `${prop}.key`, t.key));
    if (t.value !== undefined) checkLabelValue(this, `${prop}.value`, t.value);
    if (t.effect !== undefined) checkEnum(this, `${prop}.effect`, t.effect, TaintEffect, 'TaintEffect');
    if (t.tolerationSeconds !== undefined && t.effect !== TaintEffect.NO_EXECUTE) {
      throw propError(this, `${prop}.tolerationSeconds`, t.tolerationSeconds, 'applies only to effect TaintEffect.NO_EXECUTE (the API server rejects it otherwise)');
    }
    return {
      key: t.key,
      operator: t.value === undefined ? 'Exists' : 'Equal',
      value: t.value,
      effect: t.effect,
      tolerationSeconds: t.tolerationSeconds === undefined ? undefined : wholeSeconds(this, `${prop}.tolerationSeconds`, t.tolerationSeconds, 0),
    };
  }

  private renderDisruptionBudget(budget: DisruptionBudget, metadata: k8s.ObjectMeta): k8s.KubePodDisruptionBudget {
    if (budget.options.unhealthyPodEvictionPolicy !== undefined) {
      checkEnum(this, 'disruptionBudget.unhealthyPodEvictionPolicy', budget.options.unhealthyPodEvictionPolicy, UnhealthyPodEvictionPolicy, 'UnhealthyPodEvictionPolicy');
    }
    const max = budget.maxUnavailableCount;
    const min = budget.minAvailableCount;
    if (max !== undefined) checkInteger(this, 'disruptionBudget.maxUnavailable', max, 0, Math.max(this.replicas, 1));
    if (min !== undefined) checkInteger(this, 'disruptionBudget.minAvailable', min, 0, this.replicas);
    return new k8s.KubePodDisruptionBudget(this, 'Budget', {
      metadata,
      spec: {
        selector: { matchLabels: this.selectorLabels },
        maxUnavailable: max === undefined ? undefined : k8s.IntOrString.fromNumber(max),
        minAvailable: min === undefined ? undefined : k8s.IntOrString.fromNumber(min),
        unhealthyPodEvictionPolicy: budget.options.unhealthyPodEvictionPolicy,
      },
    });
  }
}

function millicores(amount: string): number {
  return amount.endsWith('m') ? Number.parseInt(amount, 10) : Math.round(Number.parseFloat(amount) * 1000);
}
