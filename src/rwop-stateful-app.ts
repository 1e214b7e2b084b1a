import { Chart, Duration, Names, Size } from 'cdk8s';
import { PersistentVolumeAccessMode, PersistentVolumeClaim, TaintEffect, Volume } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { FailoverBudget } from './failover-budget';
import { FailoverController, FailoverControllerOptions, FailoverAction } from './failover-controller';
import { StatefulProbe, ProbeKind, ProbeTimings } from './probe';
import { IStorageClass } from './storage-class';
import { StatefulConstruct, StatefulConstructProps } from './stateful-construct';
import { DisruptionBudget, PodSecurityOptions, SpreadMode, StatefulContainerOptions, StatefulWorkload } from './stateful-workload';
import { checkDnsLabel, gracePeriodSeconds, propError, required, sizeQuantity, wholeSeconds } from './validation';

/** Cluster timings the failover budget depends on. */
export interface ClusterTimings {
  /**
   * kube-controller-manager --node-monitor-grace-period: silence before a node is marked NotReady.
   * @default Duration.seconds(50) (the default from Kubernetes 1.32; 40 s before)
   */
  readonly nodeMonitorGracePeriod?: Duration;
  /**
   * kube-controller-manager --node-monitor-period.
   * @default Duration.seconds(5)
   */
  readonly nodeMonitorPeriod?: Duration;
  /**
   * Time to attach and mount the volume on the new node (depends on the storage).
   * @default Duration.seconds(15)
   */
  readonly volumeAttach?: Duration;
  /**
   * maxWaitForUnmountDuration of the attach/detach controller.
   * @default Duration.minutes(6)
   */
  readonly maxWaitForUnmount?: Duration;
  /**
   * PodGC period.
   * @default Duration.seconds(20)
   */
  readonly podGcPeriod?: Duration;
  /**
   * StatefulSet controller and scheduler time to recreate and place the pod.
   * @default Duration.seconds(2)
   */
  readonly reschedule?: Duration;
}

/** Recovery times the settings must be able to promise; synth fails when they cannot. */
export interface FailoverTargets {
  /**
   * Worst-case recovery of a hung process on a healthy node.
   * @default - no target
   */
  readonly hungProcess?: Duration;
  /**
   * Worst-case recovery from the loss of the pod's node.
   * @default - no target
   */
  readonly nodeLoss?: Duration;
}

/** Props of RwopStatefulApp. */
export interface RwopStatefulAppProps extends StatefulConstructProps, StatefulContainerOptions {
  /**
   * Number of pods. Only 1 is accepted: a ReadWriteOncePod volume has one writer.
   * @default 1
   */
  readonly replicas?: number;
  /**
   * Access mode of the data volume. Only ReadWriteOncePod is accepted.
   * @default PersistentVolumeAccessMode.READ_WRITE_ONCE_POD
   */
  readonly accessMode?: PersistentVolumeAccessMode;
  /**
   * Size of the data volume claim (claim template `data`).
   * @default Size.gibibytes(10)
   */
  readonly storageSize?: Size;
  /**
   * StorageClass of the data claim (a CSI class: ReadWriteOncePod needs CSI).
   * @default - the cluster default
   */
  readonly storageClass?: IStorageClass;
  /**
   * Use this existing ReadWriteOncePod claim instead of a claim template.
   * @default - a claim template `data` per pod
   */
  readonly existingClaim?: string;
  /**
   * Where the data volume is mounted.
   * @default /data
   */
  readonly mountPath?: string;
  /**
   * Extra pod volumes.
   * @default - none
   */
  readonly volumes?: Volume[];
  /**
   * Paths that get a writable emptyDir (the root file system is read-only).
   * @default ["/tmp"]
   */
  readonly writablePaths?: string[];
  /**
   * Liveness probe. Unset timings take the fast-detection defaults: period 5 s, timeout 1 s,
   * failureThreshold 2, probe-level terminationGracePeriod 5 s.
   * @default - TCP check of the first port with those timings; none without ports. A TCP check catches a process that
   * stops listening but not one that hangs (the kernel answers for it), so the hung-process budget is then unbounded:
   * give an exec, HTTP or gRPC check when it matters
   */
  readonly liveness?: StatefulProbe;
  /**
   * Readiness probe. Unset timings: period 5 s, timeout 1 s, failureThreshold 2.
   * @default - the liveness check with those timings
   */
  readonly readiness?: StatefulProbe;
  /**
   * Startup probe, so a slow start is not killed by liveness. Unset timings: period 2 s, failureThreshold 150 (5 minutes).
   * @default - the liveness check with those timings
   */
  readonly startup?: StatefulProbe;
  /**
   * Pod termination grace period (0 is refused).
   * @default Duration.seconds(30)
   */
  readonly terminationGracePeriod?: Duration;
  /**
   * tolerationSeconds for node.kubernetes.io/not-ready and unreachable: how long the pod stays bound to a failed node
   * before it is marked for deletion.
   * @default Duration.seconds(30)
   */
  readonly nodeLossToleration?: Duration;
  /**
   * User and group of the process.
   * @default - uid/gid 1000
   */
  readonly security?: PodSecurityOptions;
  /**
   * PodDisruptionBudget (for one replica, maxUnavailable 0 blocks node drains until someone moves the app).
   * @default - none
   */
  readonly disruptionBudget?: DisruptionBudget;
  /**
   * How long the app takes from container start to serving, for the failover budget.
   * @default Duration.seconds(10)
   */
  readonly expectedStartTime?: Duration;
  /**
   * Cluster timings for the failover budget.
   * @default - Kubernetes defaults
   */
  readonly clusterTimings?: ClusterTimings;
  /**
   * Recovery times to enforce at synth.
   * @default - none
   */
  readonly failoverTargets?: FailoverTargets;
  /**
   * Node-loss automation: a leader-elected controller that taints a fenced node out-of-service and force-deletes the pod.
   * @default - off
   */
  readonly nodeLossAutomation?: FailoverControllerOptions;
}

const FAST_LIVENESS: ProbeTimings = {
  period: Duration.seconds(5),
  timeout: Duration.seconds(1),
  failureThreshold: 2,
  terminationGracePeriod: Duration.seconds(5),
};
const FAST_READINESS: ProbeTimings = { period: Duration.seconds(5), timeout: Duration.seconds(1), failureThreshold: 2 };
const PATIENT_STARTUP: ProbeTimings = { period: Duration.seconds(2), timeout: Duration.seconds(1), failureThreshold: 150 };

/** The taints the node lifecycle controller puts on a lost node; their tolerations are nodeLossToleration. */
const NODE_LOSS_TAINTS = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'];

/** The annotation on the StatefulSet that records the computed failover budget. */
export const FAILOVER_BUDGET_ANNOTATION = 'stateful.cdk8s.io/failover-budget';

/**
 * A single-writer stateful app on a ReadWriteOncePod volume, tuned so a replacement pod takes the volume over
 * as fast as is safe, with the worst-case recovery time its settings can promise.
 */
export class RwopStatefulApp extends StatefulConstruct {
  /** The stateful core (StatefulSet, headless Service, optional budget). */
  public readonly workload: StatefulWorkload;
  /** The failover controller, when node-loss automation is on. */
  public readonly failoverController?: FailoverController;
  /** Worst-case recovery times computed from the settings. */
  public readonly failoverBudget: FailoverBudget;
  /** Name of the data claim of pod 0 (`data-<name>-0`, or the existing claim). */
  public readonly claimName: string;

  /**
   * Define the RwopStatefulApp in a scope.
   * @param scope the chart or construct to define it in
   * @param id its id, unique within the scope
   * @param props its configuration
   */
  public constructor(scope: Construct, id: string, props: RwopStatefulAppProps) {
    super(scope, id);
    required(this, 'image', props?.image);
    const scheduling = props.scheduling ?? {};
    for (const [i, t] of (scheduling.tolerations ?? []).entries()) {
      if (NODE_LOSS_TAINTS.includes(t.key)) {
        throw propError(this, `scheduling.tolerations[${i}].key`, t.key, 'is tolerated already, for nodeLossToleration (30 s by default): set nodeLossToleration instead of a second toleration that the scheduler would combine with it');
      }
    }
    // checked here so that the error names this prop, not the claim template it becomes
    if (props.storageSize !== undefined) sizeQuantity(this, 'storageSize', props.storageSize);
    if (props.replicas !== undefined && props.replicas !== 1) {
      throw propError(this, 'replicas', props.replicas, 'must be 1: a ReadWriteOncePod volume can be used by one pod only, so a second replica could never start');
    }
    if (props.accessMode !== undefined && props.accessMode !== PersistentVolumeAccessMode.READ_WRITE_ONCE_POD) {
      throw propError(this, 'accessMode', props.accessMode, 'must be ReadWriteOncePod (PersistentVolumeAccessMode.READ_WRITE_ONCE_POD); this construct exists to guarantee a single writer');
    }
    if (props.existingClaim !== undefined) {
      checkDnsLabel(this, 'existingClaim', props.existingClaim, 253);
      if (props.storageSize !== undefined) {
        throw propError(this, 'storageSize', props.storageSize, 'cannot be combined with existingClaim: the existing claim already has its size');
      }
      if (props.storageClass !== undefined) {
        throw propError(this, 'storageClass', props.storageClass.storageClassName, 'cannot be combined with existingClaim: the existing claim already has its class');
      }
    }
    const mountPath = props.mountPath ?? '/data';
    const firstPort = props.ports?.[0]?.port;

    const baseCheck = props.liveness ?? (firstPort !== undefined ? StatefulProbe.fromTcpSocket({ port: firstPort }) : undefined);
    const liveness = baseCheck?.withDefaults(FAST_LIVENESS);
    // readiness and startup default to the liveness check, never to its timings
    const readiness = (props.readiness ?? baseCheck?.reuseCheck({}))?.withDefaults(FAST_READINESS);
    const startup = (props.startup ?? baseCheck?.reuseCheck({}))?.withDefaults(PATIENT_STARTUP);
    const resolvedLiveness = liveness?.resolve(this, 'liveness', ProbeKind.LIVENESS);
    const resolvedReadiness = readiness?.resolve(this, 'readiness', ProbeKind.READINESS);
    const resolvedStartup = startup?.resolve(this, 'startup', ProbeKind.STARTUP);

    const toleration = props.nodeLossToleration ?? Duration.seconds(30);
    const tolerationSeconds = wholeSeconds(this, 'nodeLossToleration', toleration, 0);
    const grace = props.terminationGracePeriod ?? Duration.seconds(30);
    const graceSeconds = gracePeriodSeconds(this, 'terminationGracePeriod', grace);

    const name = checkDnsLabel(this, 'name', props.name ?? Names.toDnsLabel(this, { maxLen: 52 }), 52);
    this.workload = new StatefulWorkload(this, 'Workload', {
      name,
      namespace: props.namespace,
      podLabels: props.podLabels,
      podAnnotations: props.podAnnotations,
      imagePullSecrets: props.imagePullSecrets,
      serviceAccountName: props.serviceAccountName,
      replicas: 1,
      containers: [{
        name: 'app',
        image: props.image,
        imagePullPolicy: props.imagePullPolicy,
        command: props.command,
        args: props.args,
        env: props.env,
        ports: props.ports,
        resources: props.resources,
        liveness,
        readiness,
        startup,
        preStop: props.preStop,
        mounts: [{ volume: 'data', path: mountPath }, ...(props.mounts ?? [])],
        writablePaths: props.writablePaths ?? ['/tmp'],
      }],
      volumeClaimTemplates: props.existingClaim === undefined ? [{
        name: 'data',
        size: props.storageSize ?? Size.gibibytes(10),
        accessModes: [PersistentVolumeAccessMode.READ_WRITE_ONCE_POD],
        storageClass: props.storageClass,
      }] : undefined,
      volumes: [
        ...(props.existingClaim !== undefined ? [Volume.fromPersistentVolumeClaim(this, 'ExistingClaimVolume', PersistentVolumeClaim.fromClaimName(this, 'ExistingClaim', props.existingClaim), { name: 'data' })] : []),
        ...(props.volumes ?? []),
      ],
      terminationGracePeriod: grace,
      scheduling: {
        // one pod: nothing to spread, unless asked for
        nodeSpread: SpreadMode.NONE,
        ...scheduling,
        tolerations: [
          ...NODE_LOSS_TAINTS.map((key) => ({ key, effect: TaintEffect.NO_EXECUTE, tolerationSeconds: toleration })),
          ...(scheduling.tolerations ?? []),
        ],
      },
      security: props.security,
      disruptionBudget: props.disruptionBudget,
    });
    // escape hatches (ApiObject.of(x.node.defaultChild).addJsonPatch(...)) reach the StatefulSet, as on every construct of the library
    this.node.defaultChild = this.workload.statefulSet;
    this.claimName = props.existingClaim ?? `data-${this.workload.name}-0`;

    if (props.nodeLossAutomation) {
      // The controller's bindings must name its ServiceAccount's namespace, so it cannot follow an unset one the way
      // the app's own objects do (kubectl's current namespace at apply time).
      const namespace = props.namespace ?? Chart.of(this).namespace;
      // (the fencing acknowledgement is the first thing the controller checks, and the more important message)
      if (namespace === undefined && props.nodeLossAutomation.acknowledgeNodesAreFenced === true) {
        throw propError(this, 'namespace', undefined,
          'must be known at synth when nodeLossAutomation is on: set this prop or the chart\'s namespace (the controller\'s ClusterRoleBinding and node-lease RoleBinding must name the namespace of its ServiceAccount)');
      }
      this.failoverController = new FailoverController(this, 'Failover', {
        ...props.nodeLossAutomation,
        priorityClassName: props.nodeLossAutomation.priorityClassName ?? scheduling.priorityClassName,
        name: `${this.workload.name}-failover`.slice(0, 52).replace(/-+$/, ''),
        namespace: namespace ?? '',
        podName: `${this.workload.name}-0`,
        podSelector: this.workload.selectorLabels,
      });
    }

    const timings = props.clusterTimings ?? {};
    const seconds = (prop: string, d: Duration | undefined, min: number) => (d === undefined ? undefined : wholeSeconds(this, `clusterTimings.${prop}`, d, min));
    const fc = this.failoverController;
    this.failoverBudget = FailoverBudget._compute({
      liveness: resolvedLiveness,
      livenessNeedsAnswerFromProcess: liveness?._needsAnswerFromProcess(),
      readiness: resolvedReadiness,
      startup: resolvedStartup,
      podGraceSeconds: graceSeconds,
      appStartSeconds: wholeSeconds(this, 'expectedStartTime', props.expectedStartTime ?? Duration.seconds(10), 0),
      nodeLossTolerationSeconds: tolerationSeconds,
      cluster: {
        nodeMonitorGracePeriodSeconds: seconds('nodeMonitorGracePeriod', timings.nodeMonitorGracePeriod, 1),
        nodeMonitorPeriodSeconds: seconds('nodeMonitorPeriod', timings.nodeMonitorPeriod, 1),
        volumeAttachSeconds: seconds('volumeAttach', timings.volumeAttach, 0),
        maxWaitForUnmountSeconds: seconds('maxWaitForUnmount', timings.maxWaitForUnmount, 0),
        podGcPeriodSeconds: seconds('podGcPeriod', timings.podGcPeriod, 1),
        rescheduleSeconds: seconds('reschedule', timings.reschedule, 0),
      },
      automation: fc ? {
        thresholdSeconds: fc.notReadyThresholdSeconds,
        checkIntervalSeconds: fc.checkIntervalSeconds,
        heartbeatThresholdSeconds: fc.heartbeatThresholdSeconds,
        heartbeatDetectionSeconds: fc.heartbeatDetectionSeconds,
        leaseDurationSeconds: fc.leaseDurationSeconds,
        retryPeriodSeconds: fc.retryPeriodSeconds,
        leaseTakeoverSeconds: fc.leaseTakeoverSeconds,
        taint: fc.action !== FailoverAction.FORCE_DELETE_POD,
        forceDelete: fc.action !== FailoverAction.TAINT_OUT_OF_SERVICE,
      } : undefined,
    });
    this.workload.statefulSet.metadata.addAnnotation(FAILOVER_BUDGET_ANNOTATION, this.failoverBudget.toJson());

    const targets = props.failoverTargets ?? {};
    const hungTarget = targets.hungProcess ? wholeSeconds(this, 'failoverTargets.hungProcess', targets.hungProcess, 1) : undefined;
    const nodeTarget = targets.nodeLoss ? wholeSeconds(this, 'failoverTargets.nodeLoss', targets.nodeLoss, 1) : undefined;
    this.node.addValidation({
      validate: () => {
        const errors: string[] = [];
        const budget = this.failoverBudget;
        if (hungTarget !== undefined) {
          const s = budget.hungProcess;
          if (s.worstCaseSeconds === undefined || s.worstCaseSeconds > hungTarget) {
            errors.push(`${this.node.path}: failoverTargets.hungProcess is ${hungTarget} s but the settings promise ${describe(s)}; `
              + (s.bounded ? 'lower liveness period/failureThreshold/terminationGracePeriod, the startup/readiness periods or expectedStartTime, or raise the target'
                : 'give liveness an exec, HTTP or gRPC check the process answers itself (for example StatefulProbe.fromCommand([...])): '
                  + 'a TCP connect, the default, passes for a stopped or deadlocked process'));
          }
        }
        if (nodeTarget !== undefined) {
          const s = budget.nodeLossWithAutomation ?? budget.nodeLossWithoutAutomation;
          if (s.worstCaseSeconds === undefined || s.worstCaseSeconds > nodeTarget) {
            errors.push(`${this.node.path}: failoverTargets.nodeLoss is ${nodeTarget} s but the settings promise ${describe(s)}; `
              + (budget.nodeLossWithAutomation ? 'lower nodeLossAutomation.heartbeatThreshold/notReadyThreshold/checkInterval or the probe periods, or raise the target'
                : 'node loss recovery is unbounded without nodeLossAutomation (or a fencing operator), so enable it or drop the target'));
          }
        }
        return errors;
      },
    });
  }

  /** Name of the StatefulSet. */
  public get name(): string {
    return this.workload.name;
  }
}

function describe(s: { worstCaseSeconds?: number; terms: { name: string; seconds: number }[]; note: string }): string {
  if (s.worstCaseSeconds === undefined) return `no bound (${s.note})`;
  return `${s.worstCaseSeconds} s (${s.terms.map((t) => `${t.name} ${t.seconds}`).join(' + ')})`;
}
