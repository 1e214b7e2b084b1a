import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Duration } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import {
  checkSettings, ControllerSettings, HEALTH_PATH, HEALTH_PORT, heartbeatDetectionSeconds, leaseTakeoverSeconds, NODE_LEASE_NAMESPACE, settingsEnv,
} from './failover/contract';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from './security';
import { checkDnsLabel, checkInteger, clusterScoped, propError, wholeSeconds } from './validation';

/** What the failover controller does to a lost node and the pod on it. */
export enum FailoverAction {
  /** Taint the node node.kubernetes.io/out-of-service (volume force-detached at once), then force-delete the pod. */
  TAINT_AND_FORCE_DELETE = 'taint-out-of-service,force-delete-pod',
  /** Only taint the node; PodGC then force-deletes the pod within its period. */
  TAINT_OUT_OF_SERVICE = 'taint-out-of-service',
  /** Only force-delete the pod; the volume still waits for the 6-minute detach timeout. */
  FORCE_DELETE_POD = 'force-delete-pod',
}

/** The Node.js image the controller runs on by default: an LTS release line, pinned to a patch release. */
export const FAILOVER_CONTROLLER_DEFAULT_IMAGE = 'node:24.11.1-alpine3.22';

/** The pod template annotation with the SHA-256 of the controller program, so a new program rolls the Deployment. */
export const FAILOVER_PROGRAM_CHECKSUM_ANNOTATION = 'checksum/program';

/** Settings of the node-loss failover controller. */
export interface FailoverControllerOptions {
  /**
   * Must be true: you confirm that a node whose kubelet has been silent for heartbeatThreshold, or that has been
   * NotReady for notReadyThreshold, is really powered off or fenced (by your platform, a fencing operator or a storage
   * quorum). Tainting a node that still runs the old pod lets two writers reach the same data.
   */
  readonly acknowledgeNodesAreFenced: boolean;
  /**
   * What to do to a lost node.
   * @default FailoverAction.TAINT_AND_FORCE_DELETE
   */
  readonly action?: FailoverAction;
  /**
   * Act on the silence of the node's kubelet heartbeat (its Lease in kube-node-lease) instead of waiting for the
   * node lifecycle controller to mark the node NotReady (node-monitor-grace-period, 50 s by default). Needs read
   * access to kube-node-lease, which the construct grants.
   * @default true
   */
  readonly heartbeatDetection?: boolean;
  /**
   * How long the node's heartbeat Lease must go unrenewed before the controller acts (kubelets renew every 10 s by
   * default; at least 15 s). Half of the nodes or more silent at once is treated as a control-plane or network
   * problem, and only the NotReady fallback applies then.
   * @default Duration.seconds(30)
   */
  readonly heartbeatThreshold?: Duration;
  /**
   * The fallback: how long the pod's node must be NotReady before the controller acts.
   * @default Duration.seconds(30)
   */
  readonly notReadyThreshold?: Duration;
  /**
   * How often the controller checks.
   * @default Duration.seconds(2)
   */
  readonly checkInterval?: Duration;
  /**
   * Controller replicas; one is active at a time through a Lease.
   * @default 2
   */
  readonly replicas?: number;
  /**
   * Node.js image that runs the controller program (any Node.js 18 or later; pin a digest with
   * "node:24.11.1-alpine3.22@sha256:...").
   * @default "node:24.11.1-alpine3.22"
   */
  readonly image?: string;
  /**
   * PriorityClass of the controller pods, so a full node cannot keep them Pending while they are needed.
   * @default - the app's priorityClassName, else none
   */
  readonly priorityClassName?: string;
  /**
   * Lease duration of the leader election.
   * @default Duration.seconds(15)
   */
  readonly leaseDuration?: Duration;
  /**
   * The leader steps down when it cannot renew within this time.
   * @default Duration.seconds(10)
   */
  readonly renewDeadline?: Duration;
  /**
   * Interval of lease renewals and acquisition attempts.
   * @default Duration.seconds(2)
   */
  readonly retryPeriod?: Duration;
  /**
   * Log what would be done without doing it.
   * @default false
   */
  readonly dryRun?: boolean;
}

/** Props of FailoverController. */
export interface FailoverControllerProps extends FailoverControllerOptions {
  /** Name of the controller's namespaced objects. */
  readonly name: string;
  /** Namespace of the watched pod and of the controller. */
  readonly namespace: string;
  /** The one pod the controller watches and may force-delete. */
  readonly podName: string;
  /** Labels the watched pod must carry before the controller touches it. */
  readonly podSelector: { [key: string]: string };
  /**
   * Labels of the controller's objects.
   * @default - app.kubernetes.io labels derived from name
   */
  readonly labels?: { [key: string]: string };
}

/** Which prop each controller setting comes from, for errors. */
const SETTING_PROPS: { [setting: string]: string } = {
  notReadyThresholdSeconds: 'notReadyThreshold',
  heartbeatThresholdSeconds: 'heartbeatThreshold',
  checkIntervalSeconds: 'checkInterval',
  leaseDurationSeconds: 'leaseDuration',
  renewDeadlineSeconds: 'renewDeadline',
  retryPeriodSeconds: 'retryPeriod',
  watchedPod: 'podName',
  podSelector: 'podSelector',
  leaseName: 'name',
  taint: 'action',
};

let programSource: string | undefined;
/**
 * The bundled controller program (built from src/failover/program by scripts/bundle-controller.js), read once per
 * process: lib/assets/ is next to lib/src/ in the package, and under lib/ when running from src/.
 */
function controllerProgram(): string {
  if (programSource === undefined) {
    const candidates = [path.join(__dirname, '..', 'assets'), path.join(__dirname, '..', 'lib', 'assets')];
    const dir = candidates.find((d) => fs.existsSync(path.join(d, 'failover-controller.js')));
    if (dir === undefined) throw new Error(`failover-controller.js not found in ${candidates.join(' or ')}: run "npm run build" (or node scripts/bundle-controller.js)`);
    programSource = fs.readFileSync(path.join(dir, 'failover-controller.js'), 'utf-8');
  }
  return programSource;
}

/**
 * A small controller, single-active through a Lease, that fails a StatefulSet pod over from a lost node:
 * it taints the node node.kubernetes.io/out-of-service and force-deletes the pod.
 *
 * It detects a lost node by the silence of its kubelet heartbeat Lease (heartbeatThreshold) or, as a fallback, by
 * its NotReady condition (notReadyThreshold). Its replicas never constrain where the app runs: they prefer other
 * nodes than each other and the app, and if the leader dies with the app's node the standby takes the Lease over.
 */
export class FailoverController extends Construct {
  /** The controller Deployment. */
  public readonly deployment: k8s.KubeDeployment;
  /** Lets voluntary disruptions (node drains) take one controller replica at a time. */
  public readonly podDisruptionBudget: k8s.KubePodDisruptionBudget;
  /** The ServiceAccount it runs as. */
  public readonly serviceAccount: k8s.KubeServiceAccount;
  /** ConfigMap holding the controller program. */
  public readonly configMap: k8s.KubeConfigMap;
  /** Namespaced permissions: get and delete the watched pod, its own Lease. */
  public readonly role: k8s.KubeRole;
  /** Cluster permissions (read and taint nodes). */
  public readonly clusterRole: k8s.KubeClusterRole;
  /**
   * Read access to the kubelet heartbeat Leases in kube-node-lease.
   * @default - not set when heartbeat detection is off
   */
  public readonly nodeLeaseReader?: k8s.KubeRole;
  /** Name of the Lease used for leader election. */
  public readonly leaseName: string;
  /** Effective notReadyThreshold in seconds. */
  public readonly notReadyThresholdSeconds: number;
  /** Effective heartbeatThreshold in seconds (0 when heartbeat detection is off). */
  public readonly heartbeatThresholdSeconds: number;
  /** Effective checkInterval in seconds. */
  public readonly checkIntervalSeconds: number;
  /**
   * Worst case from a node's last heartbeat to the controller acting on its silence, in seconds: heartbeatThreshold
   * plus up to two checks (the renewal is seen up to one check late, the silence acted on at the next check).
   * @default - not set when heartbeat detection is off
   */
  public readonly heartbeatDetectionSeconds?: number;
  /**
   * Worst case for a standby to take over when the leader dies (with the app's node, say), in seconds: leaseDuration
   * plus a retryPeriod with its 20 % jitter plus one check. Every replica times the heartbeats, so this runs in
   * parallel with the detection rather than after it.
   */
  public readonly leaseTakeoverSeconds: number;
  /** Effective leaseDuration in seconds. */
  public readonly leaseDurationSeconds: number;
  /** Effective retryPeriod in seconds. */
  public readonly retryPeriodSeconds: number;
  /** Effective action. */
  public readonly action: FailoverAction;

  /**
   * Define the FailoverController in a scope.
   * @param scope the chart or construct to define it in
   * @param id its id, unique within the scope
   * @param props its configuration
   */
  public constructor(scope: Construct, id: string, props: FailoverControllerProps) {
    super(scope, id);
    if (props.acknowledgeNodesAreFenced !== true) {
      throw propError(this, 'acknowledgeNodesAreFenced', props.acknowledgeNodesAreFenced,
        'must be true to enable node-loss automation: the out-of-service taint and force delete are only safe when a silent or NotReady node is really powered off or fenced; otherwise two pods could write the same volume');
    }
    const name = checkDnsLabel(this, 'name', props.name, 52);
    const namespace = checkDnsLabel(this, 'namespace', props.namespace);
    const actions = Object.values(FailoverAction) as string[];
    if (props.action !== undefined && !actions.includes(props.action)) {
      throw propError(this, 'action', props.action, `must be one of FailoverAction (${actions.map((a) => JSON.stringify(a)).join(', ')})`);
    }
    this.action = props.action ?? FailoverAction.TAINT_AND_FORCE_DELETE;
    const heartbeat = props.heartbeatDetection ?? true;
    if (!heartbeat && props.heartbeatThreshold !== undefined) {
      throw propError(this, 'heartbeatThreshold', props.heartbeatThreshold, 'has no effect with heartbeatDetection false: drop one of the two');
    }
    const settings: ControllerSettings = {
      watchedPod: props.podName,
      podSelector: props.podSelector,
      leaseName: name,
      taint: this.action !== FailoverAction.FORCE_DELETE_POD,
      forceDelete: this.action !== FailoverAction.TAINT_OUT_OF_SERVICE,
      notReadyThresholdSeconds: wholeSeconds(this, 'notReadyThreshold', props.notReadyThreshold ?? Duration.seconds(30), 0),
      heartbeatThresholdSeconds: heartbeat ? wholeSeconds(this, 'heartbeatThreshold', props.heartbeatThreshold ?? Duration.seconds(30), 0) : 0,
      checkIntervalSeconds: wholeSeconds(this, 'checkInterval', props.checkInterval ?? Duration.seconds(2), 0),
      leaseDurationSeconds: wholeSeconds(this, 'leaseDuration', props.leaseDuration ?? Duration.seconds(15), 0),
      renewDeadlineSeconds: wholeSeconds(this, 'renewDeadline', props.renewDeadline ?? Duration.seconds(10), 0),
      retryPeriodSeconds: wholeSeconds(this, 'retryPeriod', props.retryPeriod ?? Duration.seconds(2), 0),
      dryRun: props.dryRun ?? false,
    };
    const problem = checkSettings(settings)[0];
    if (problem) {
      const prop = SETTING_PROPS[problem.setting];
      const original = (props as unknown as { [key: string]: unknown })[prop];
      throw propError(this, prop, original ?? problem.value, problem.accepted);
    }
    this.notReadyThresholdSeconds = settings.notReadyThresholdSeconds;
    this.heartbeatThresholdSeconds = settings.heartbeatThresholdSeconds;
    this.checkIntervalSeconds = settings.checkIntervalSeconds;
    this.heartbeatDetectionSeconds = heartbeat ? heartbeatDetectionSeconds(settings) : undefined;
    this.leaseTakeoverSeconds = leaseTakeoverSeconds(settings);
    this.leaseDurationSeconds = settings.leaseDurationSeconds;
    this.retryPeriodSeconds = settings.retryPeriodSeconds;
    const replicas = checkInteger(this, 'replicas', props.replicas ?? 2, 1, 5);
    const image = props.image ?? FAILOVER_CONTROLLER_DEFAULT_IMAGE;
    if (image.trim() === '' || /\s/.test(image)) throw propError(this, 'image', image, `must be an image reference such as "${FAILOVER_CONTROLLER_DEFAULT_IMAGE}"`);
    if (props.priorityClassName !== undefined) checkDnsLabel(this, 'priorityClassName', props.priorityClassName, 253);

    this.leaseName = name;
    const labels = props.labels ?? {
      'app.kubernetes.io/name': 'failover-controller',
      'app.kubernetes.io/instance': name,
      'app.kubernetes.io/component': 'failover-controller',
      'app.kubernetes.io/managed-by': 'cdk8s',
    };
    const metadata = { name, namespace, labels };
    const subjects = [{ kind: 'ServiceAccount', name, namespace }];

    this.serviceAccount = new k8s.KubeServiceAccount(this, 'ServiceAccount', { metadata, automountServiceAccountToken: false });
    this.role = new k8s.KubeRole(this, 'Role', {
      metadata,
      rules: [
        // only the watched pod: a controller that can force-delete must not be able to touch anything else
        { apiGroups: [''], resources: ['pods'], resourceNames: [props.podName], verbs: ['get', 'delete'] },
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [this.leaseName], verbs: ['get', 'update'] },
      ],
    });
    new k8s.KubeRoleBinding(this, 'RoleBinding', {
      metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects,
    });
    // Node names are only known at failure time, so node access cannot be narrowed by resourceNames. The name joins
    // namespace and name with ".", which neither can contain (both are DNS labels), so two apps can never share a ClusterRole; a dotted name is a DNS subdomain, which every validator accepts.
    const clusterName = `cdk8s-stateful.failover.${namespace}.${name}`;
    this.clusterRole = new k8s.KubeClusterRole(this, 'ClusterRole', {
      metadata: { name: clusterName, labels },
      rules: [{ apiGroups: [''], resources: ['nodes'], verbs: settings.taint ? ['get', 'patch'] : ['get'] }],
    });
    clusterScoped(this.clusterRole);
    const clusterRoleBinding = new k8s.KubeClusterRoleBinding(this, 'ClusterRoleBinding', {
      metadata: { name: clusterName, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterName },
      subjects,
    });
    clusterScoped(clusterRoleBinding);
    if (heartbeat) {
      // read-only, and only the heartbeat Leases: a Role in kube-node-lease instead of leases in every namespace
      const leaseReaderName = `cdk8s-stateful.failover.${namespace}.${name}`;
      this.nodeLeaseReader = new k8s.KubeRole(this, 'NodeLeaseReader', {
        metadata: { name: leaseReaderName, namespace: NODE_LEASE_NAMESPACE, labels },
        rules: [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list'] }],
      });
      new k8s.KubeRoleBinding(this, 'NodeLeaseReaderBinding', {
        metadata: { name: leaseReaderName, namespace: NODE_LEASE_NAMESPACE, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: leaseReaderName },
        subjects,
      });
    }
    const program = controllerProgram();
    this.configMap = new k8s.KubeConfigMap(this, 'Program', { metadata, data: { 'controller.js': program } });

    const controllerLabels = { ...labels };
    this.deployment = new k8s.KubeDeployment(this, 'Deployment', {
      metadata,
      spec: {
        replicas,
        selector: { matchLabels: controllerLabels },
        template: {
          metadata: {
            labels: controllerLabels,
            annotations: { [FAILOVER_PROGRAM_CHECKSUM_ANNOTATION]: createHash('sha256').update(program).digest('hex') },
          },
          spec: {
            serviceAccountName: name,
            automountServiceAccountToken: true,
            priorityClassName: props.priorityClassName,
            securityContext: restrictedPodSecurityContext(1000, 1000),
            // Preferences only: a required rule against the app would be symmetric and keep the app's replacement
            // off every node that runs a controller replica.
            affinity: {
              podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                  { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: controllerLabels } } },
                  { weight: 50, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: props.podSelector } } },
                ],
              },
            },
            topologySpreadConstraints: [{
              maxSkew: 1,
              topologyKey: 'topology.kubernetes.io/zone',
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: controllerLabels },
            }],
            tolerations: [
              // the standby must survive while the watched node is down; it only needs the API server
              { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 },
              { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 },
            ],
            containers: [{
              name: 'controller',
              image,
              imagePullPolicy: 'IfNotPresent',
              command: ['node', '/opt/failover/controller.js'],
              env: [
                { name: 'NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                ...settingsEnv(settings),
                { name: 'HEALTH_PORT', value: String(HEALTH_PORT) },
              ],
              ports: [{ name: 'health', containerPort: HEALTH_PORT }],
              // restarts a replica whose checks stopped completing (a hung request, a stuck loop); its Lease then expires
              livenessProbe: {
                httpGet: { path: HEALTH_PATH, port: k8s.IntOrString.fromString('health') },
                periodSeconds: 10,
                timeoutSeconds: 2,
                failureThreshold: 3,
              },
              resources: {
                requests: { cpu: k8s.Quantity.fromString('10m'), memory: k8s.Quantity.fromString('48Mi') },
                limits: { memory: k8s.Quantity.fromString('128Mi') },
              },
              securityContext: restrictedContainerSecurityContext(),
              volumeMounts: [{ name: 'program', mountPath: '/opt/failover', readOnly: true }],
            }],
            volumes: [{ name: 'program', configMap: { name } }],
          },
        },
      },
    });
    // parallel drains must not evict every replica at once and leave a node loss without a controller
    this.podDisruptionBudget = new k8s.KubePodDisruptionBudget(this, 'Budget', {
      metadata,
      spec: { selector: { matchLabels: controllerLabels }, maxUnavailable: k8s.IntOrString.fromNumber(1) },
    });
  }
}
