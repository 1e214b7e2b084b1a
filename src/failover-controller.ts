import * as fs from 'fs';
import * as path from 'path';
import { Duration } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
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

/** Settings of the node-loss failover controller. */
export interface FailoverControllerOptions {
  /**
   * Must be true: you confirm that a node that stays NotReady for notReadyThreshold is really powered off or
   * fenced (by your platform, a fencing operator or a storage quorum). Tainting a node that still runs the old
   * pod lets two writers reach the same data.
   */
  readonly acknowledgeNodesAreFenced: boolean;
  /**
   * What to do to a lost node.
   * @default FailoverAction.TAINT_AND_FORCE_DELETE
   */
  readonly action?: FailoverAction;
  /**
   * How long the pod's node must be NotReady before the controller acts.
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
   * Node.js image that runs the controller script.
   * @default "node:20.18.1-alpine3.20"
   */
  readonly image?: string;
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
  /** Name prefix of the controller's objects. */
  readonly name: string;
  /** Namespace of the watched pods (and of the controller). */
  readonly namespace: string;
  /** Labels that select the watched pods. */
  readonly podSelector: { [key: string]: string };
  /**
   * Labels of the controller's objects.
   * @default - app.kubernetes.io labels derived from name
   */
  readonly labels?: { [key: string]: string };
}

let scriptSource: string | undefined;
/** The controller program, read once per process; assets/ sits at the package root, above src/ or lib/src/. */
function controllerScript(): string {
  if (scriptSource === undefined) {
    const candidates = [path.join(__dirname, '..', 'assets'), path.join(__dirname, '..', '..', 'assets')];
    const dir = candidates.find((d) => fs.existsSync(path.join(d, 'failover-controller.js')));
    if (dir === undefined) throw new Error(`failover-controller.js not found in ${candidates.join(' or ')}`);
    scriptSource = fs.readFileSync(path.join(dir, 'failover-controller.js'), 'utf-8');
  }
  return scriptSource;
}

/**
 * A small controller, single-active through a Lease, that fails a StatefulSet pod over from a lost node:
 * it taints the node node.kubernetes.io/out-of-service and force-deletes the pod.
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
  /** Namespaced permissions (pods, the lease). */
  public readonly role: k8s.KubeRole;
  /** Cluster permissions (read and taint nodes). */
  public readonly clusterRole: k8s.KubeClusterRole;
  /** Name of the Lease used for leader election. */
  public readonly leaseName: string;
  /** Effective notReadyThreshold in seconds. */
  public readonly notReadyThresholdSeconds: number;
  /** Effective checkInterval in seconds. */
  public readonly checkIntervalSeconds: number;
  /** Effective action. */
  public readonly action: FailoverAction;

  public constructor(scope: Construct, id: string, props: FailoverControllerProps) {
    super(scope, id);
    if (props.acknowledgeNodesAreFenced !== true) {
      throw propError(this, 'acknowledgeNodesAreFenced', props.acknowledgeNodesAreFenced,
        'must be true to enable node-loss automation: the out-of-service taint and force delete are only safe when a NotReady node is really powered off or fenced; otherwise two pods could write the same volume');
    }
    const name = checkDnsLabel(this, 'name', props.name, 52);
    this.action = props.action ?? FailoverAction.TAINT_AND_FORCE_DELETE;
    this.notReadyThresholdSeconds = wholeSeconds(this, 'notReadyThreshold', props.notReadyThreshold ?? Duration.seconds(30), 0, 3600);
    this.checkIntervalSeconds = wholeSeconds(this, 'checkInterval', props.checkInterval ?? Duration.seconds(2), 1, 300);
    const lease = wholeSeconds(this, 'leaseDuration', props.leaseDuration ?? Duration.seconds(15), 2);
    const renew = wholeSeconds(this, 'renewDeadline', props.renewDeadline ?? Duration.seconds(10), 1);
    const retry = wholeSeconds(this, 'retryPeriod', props.retryPeriod ?? Duration.seconds(2), 1);
    if (renew >= lease) throw propError(this, 'renewDeadline', props.renewDeadline, `must be shorter than leaseDuration (${lease} s)`);
    if (retry >= renew) throw propError(this, 'retryPeriod', props.retryPeriod, `must be shorter than renewDeadline (${renew} s)`);
    const replicas = checkInteger(this, 'replicas', props.replicas ?? 2, 1, 5);
    const image = props.image ?? 'node:20.18.1-alpine3.20';
    if (image.trim() === '' || /\s/.test(image)) throw propError(this, 'image', image, 'must be an image reference such as "node:20.18.1-alpine3.20"');

    this.leaseName = name;
    const labels = props.labels ?? {
      'app.kubernetes.io/name': 'failover-controller',
      'app.kubernetes.io/instance': name,
      'app.kubernetes.io/component': 'failover-controller',
      'app.kubernetes.io/managed-by': 'cdk8s',
    };
    const metadata = { name, namespace: props.namespace, labels };
    const selector = props.podSelector;

    this.serviceAccount = new k8s.KubeServiceAccount(this, 'ServiceAccount', { metadata, automountServiceAccountToken: false });
    this.role = new k8s.KubeRole(this, 'Role', {
      metadata,
      rules: [
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'delete'] },
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [this.leaseName], verbs: ['get', 'update'] },
      ],
    });
    new k8s.KubeRoleBinding(this, 'RoleBinding', {
      metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: props.namespace }],
    });
    // node names are only known at failure time, so node access cannot be narrowed by resourceNames
    const clusterName = `${props.namespace}-${name}`.slice(0, 253);
    this.clusterRole = new k8s.KubeClusterRole(this, 'ClusterRole', {
      metadata: { name: clusterName, labels },
      rules: [{ apiGroups: [''], resources: ['nodes'], verbs: this.action === FailoverAction.FORCE_DELETE_POD ? ['get'] : ['get', 'patch'] }],
    });
    clusterScoped(this.clusterRole);
    const clusterRoleBinding = new k8s.KubeClusterRoleBinding(this, 'ClusterRoleBinding', {
      metadata: { name: clusterName, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterName },
      subjects: [{ kind: 'ServiceAccount', name, namespace: props.namespace }],
    });
    clusterScoped(clusterRoleBinding);
    this.configMap = new k8s.KubeConfigMap(this, 'Program', {
      metadata,
      data: { 'controller.js': controllerScript() },
    });

    const env: { [key: string]: string } = {
      POD_SELECTOR: Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(','),
      NOT_READY_THRESHOLD_SECONDS: String(this.notReadyThresholdSeconds),
      ACTIONS: this.action,
      CHECK_INTERVAL_SECONDS: String(this.checkIntervalSeconds),
      LEASE_NAME: this.leaseName,
      LEASE_DURATION_SECONDS: String(lease),
      RENEW_DEADLINE_SECONDS: String(renew),
      RETRY_PERIOD_SECONDS: String(retry),
      DRY_RUN: String(props.dryRun ?? false),
    };
    const controllerLabels = { ...labels };
    this.deployment = new k8s.KubeDeployment(this, 'Deployment', {
      metadata,
      spec: {
        replicas,
        selector: { matchLabels: controllerLabels },
        template: {
          metadata: { labels: controllerLabels },
          spec: {
            serviceAccountName: name,
            automountServiceAccountToken: true,
            securityContext: restrictedPodSecurityContext(1000, 1000),
            affinity: {
              podAntiAffinity: {
                // the active controller must never share the watched pod's node, or it dies with it
                requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: selector } }],
                preferredDuringSchedulingIgnoredDuringExecution: [{
                  weight: 100,
                  podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: controllerLabels } },
                }],
              },
            },
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
                ...Object.entries(env).map(([k, v]) => ({ name: k, value: v })),
              ],
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
