/**
 * An etcd cluster built the way docs/extending.md describes: only on the library's public API (the package
 * index), as a platform team would write it in its own repository.
 */
import { Duration, Names, Size } from 'cdk8s';
import { ContainerResources, Cpu, EnvValue, PodManagementPolicy } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { DisruptionBudget, IStorageClass, SpreadMode, StatefulConstruct, StatefulConstructProps, StatefulProbe, StatefulWorkload } from '../../src';

/** Props of EtcdCluster: the library's shared props (name, namespace, scheduling, pod metadata, ...) and its own. */
export interface EtcdClusterProps extends StatefulConstructProps {
  /** Members: 3, 5 or 7 (a Raft quorum needs an odd number). @default 3 */
  readonly replicas?: number;
  /** etcd image, pinned. @default "gcr.io/etcd-development/etcd:v3.7.3" */
  readonly image?: string;
  /** Size of each member's claim. @default Size.gibibytes(8) */
  readonly storageSize?: Size;
  /** StorageClass of the claims. @default - the cluster's default class */
  readonly storageClass?: IStorageClass;
  /** Cluster DNS domain. @default cluster.local */
  readonly clusterDomain?: string;
  /** Resources of each member. @default - requests 100m CPU / 512 MiB, memory limit 2 GiB */
  readonly resources?: ContainerResources;
}

export const ETCD_CLIENT_PORT = 2379;
export const ETCD_PEER_PORT = 2380;
export const ETCD_METRICS_PORT = 2381;
export const ETCD_DATA_DIR = '/var/lib/etcd';

/**
 * A static etcd cluster: every member knows every peer by its stable DNS name from the first start
 * (--initial-cluster), so members start in parallel; data on one claim per member; one member down at a time.
 */
export class EtcdCluster extends StatefulConstruct {
  public readonly workload: StatefulWorkload;
  /** Client URLs of every member, for `--endpoints`. */
  public readonly clientUrls: string[];

  public constructor(scope: Construct, id: string, props: EtcdClusterProps = {}) {
    super(scope, id);
    const replicas = props.replicas ?? 3;
    if (![3, 5, 7].includes(replicas)) {
      throw new Error(`${this.node.path}: invalid replicas (${replicas}): must be 3, 5 or 7 (an odd number of members keeps a Raft quorum through one or more failures)`);
    }
    const name = props.name ?? Names.toDnsLabel(this, { maxLen: 52 });
    const clusterDomain = props.clusterDomain ?? 'cluster.local';
    // per-pod values come from the downward API through $(VAR), which the kubelet expands in args
    const host = (pod: string) => `${pod}.${name}-headless.$(POD_NAMESPACE).svc.${clusterDomain}`;
    const initialCluster = Array.from({ length: replicas }, (_, i) => `${name}-${i}=http://${host(`${name}-${i}`)}:${ETCD_PEER_PORT}`).join(',');
    this.workload = new StatefulWorkload(this, 'Workload', {
      // the shared props go to the core as they are: it validates them
      namespace: props.namespace,
      podLabels: props.podLabels,
      podAnnotations: props.podAnnotations,
      imagePullSecrets: props.imagePullSecrets,
      serviceAccountName: props.serviceAccountName,
      name,
      clusterDomain,
      replicas,
      appName: 'etcd',
      component: 'kv',
      // the members of a new cluster wait for each other: none is ready alone
      podManagementPolicy: PodManagementPolicy.PARALLEL,
      headlessService: { publishNotReadyAddresses: true },
      containers: [{
        name: 'etcd',
        image: props.image ?? 'gcr.io/etcd-development/etcd:v3.7.3',
        command: ['etcd'],
        args: [
          '--name=$(POD_NAME)',
          `--data-dir=${ETCD_DATA_DIR}/data`,
          `--listen-peer-urls=http://0.0.0.0:${ETCD_PEER_PORT}`,
          `--listen-client-urls=http://0.0.0.0:${ETCD_CLIENT_PORT}`,
          `--listen-metrics-urls=http://0.0.0.0:${ETCD_METRICS_PORT}`,
          `--advertise-client-urls=http://${host('$(POD_NAME)')}:${ETCD_CLIENT_PORT}`,
          `--initial-advertise-peer-urls=http://${host('$(POD_NAME)')}:${ETCD_PEER_PORT}`,
          `--initial-cluster=${initialCluster}`,
          `--initial-cluster-token=${name}`,
          '--initial-cluster-state=new',
        ],
        env: {
          POD_NAME: EnvValue.fromFieldRef('metadata.name' as any),
          POD_NAMESPACE: EnvValue.fromFieldRef('metadata.namespace' as any),
        },
        ports: [{ name: 'client', port: ETCD_CLIENT_PORT }, { name: 'peer', port: ETCD_PEER_PORT }, { name: 'metrics', port: ETCD_METRICS_PORT }],
        // etcd serves /livez and /readyz on its metrics listener
        liveness: StatefulProbe.fromHttpGet('/livez', { port: ETCD_METRICS_PORT, period: Duration.seconds(10), failureThreshold: 3 }),
        readiness: StatefulProbe.fromHttpGet('/readyz', { port: ETCD_METRICS_PORT, period: Duration.seconds(5) }),
        startup: StatefulProbe.fromHttpGet('/livez', { port: ETCD_METRICS_PORT, period: Duration.seconds(5), failureThreshold: 60 }),
        mounts: [{ volume: 'data', path: ETCD_DATA_DIR }],
        resources: props.resources ?? { cpu: { request: Cpu.millis(100) }, memory: { request: Size.mebibytes(512), limit: Size.gibibytes(2) } },
      }],
      volumeClaimTemplates: [{ name: 'data', size: props.storageSize ?? Size.gibibytes(8), storageClass: props.storageClass }],
      disruptionBudget: DisruptionBudget.maxUnavailable(1),
      scheduling: { nodeSpread: SpreadMode.PREFERRED, ...props.scheduling },
    });
    // escape hatches reach the StatefulSet, as on the library's own constructs
    this.node.defaultChild = this.workload.statefulSet;
    this.clientUrls = this.workload.podDnsNames.map((dns) => `http://${dns}:${ETCD_CLIENT_PORT}`);
  }
}
