import { k8s } from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import type { SchedulingOptions, StatefulWorkload } from './stateful-workload';

/**
 * The props every stateful construct of the library accepts (RwopStatefulApp, RedisCluster, PlacementCenter and
 * the core, StatefulWorkload): naming, scheduling and pod metadata, validated once, by the core.
 */
export interface StatefulConstructProps {
  /**
   * StatefulSet name (a DNS label); pods are `<name>-<ordinal>`. Each construct states its maximum length.
   * @default - derived from the construct path
   */
  readonly name?: string;
  /**
   * Namespace of every namespaced object, also part of the pods' DNS names.
   * @default - the chart's namespace, else "default"
   */
  readonly namespace?: string;
  /**
   * Where the pods may run: spread across nodes and zones, tolerations, node selector, priority class.
   * @default - each construct's own spread (see its docs); no tolerations, node selector or priority class
   */
  readonly scheduling?: SchedulingOptions;
  /**
   * Labels on the pods only (not on the selector, the Services or other objects); a label the workload sets on
   * every object is refused.
   * @default - none
   */
  readonly podLabels?: { [key: string]: string };
  /**
   * Annotations on the pod template.
   * @default - none
   */
  readonly podAnnotations?: { [key: string]: string };
  /**
   * Secrets (of type kubernetes.io/dockerconfigjson) the kubelet uses to pull the images.
   * @default - none
   */
  readonly imagePullSecrets?: string[];
  /**
   * ServiceAccount the pods run as.
   * @default - the namespace's default account, without a mounted token
   */
  readonly serviceAccountName?: string;
}

/** What every stateful construct of the library exposes. */
export interface IStatefulConstruct extends IConstruct {
  /** The stateful core: its extension points add containers, sidecars, volumes, env and config files. */
  readonly workload: StatefulWorkload;
  /** The StatefulSet (also `node.defaultChild`). */
  readonly statefulSet: k8s.KubeStatefulSet;
  /** The headless Service that gives every pod its DNS name. */
  readonly headlessService: k8s.KubeService;
  /** The PodDisruptionBudget, when there is one. */
  readonly podDisruptionBudget?: k8s.KubePodDisruptionBudget;
  /** Stable DNS names of every pod, in ordinal order. */
  readonly podDnsNames: string[];
}

/**
 * Base class of the stateful constructs: it implements IStatefulConstruct from `workload`, so a subclass (the
 * library's or a platform team's) only creates its core and keeps it in `workload`.
 */
export abstract class StatefulConstruct extends Construct implements IStatefulConstruct {
  /** The stateful core. */
  public abstract readonly workload: StatefulWorkload;

  /** The StatefulSet (also `node.defaultChild`). */
  public get statefulSet(): k8s.KubeStatefulSet {
    return this.workload.statefulSet;
  }

  /** The headless Service that gives every pod its DNS name. */
  public get headlessService(): k8s.KubeService {
    return this.workload.headlessService;
  }

  /** The PodDisruptionBudget, when there is one. */
  public get podDisruptionBudget(): k8s.KubePodDisruptionBudget | undefined {
    return this.workload.podDisruptionBudget;
  }

  /** Stable DNS names of every pod, in ordinal order. */
  public get podDnsNames(): string[] {
    return this.workload.podDnsNames;
  }
}
