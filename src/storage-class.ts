import { ApiObjectMetadata, Names } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { registerCollisionCheck } from './collisions';
import { checkDnsSubdomain, checkEnum, checkInteger, clusterScoped, propError, required } from './validation';

/** What happens to a dynamically provisioned volume when its claim is deleted. */
export enum ReclaimPolicy {
  /** Keep the volume and its data; an operator deletes it by hand. */
  RETAIN = 'Retain',
  /** Delete the volume (and its data) with the claim. */
  DELETE = 'Delete',
}

/** When a claim gets its volume. */
export enum VolumeBindingMode {
  /** Provision when the first pod using the claim is scheduled, in that pod's zone. */
  WAIT_FOR_FIRST_CONSUMER = 'WaitForFirstConsumer',
  /** Provision as soon as the claim exists. */
  IMMEDIATE = 'Immediate',
}

/** AWS EBS volume types offered by the EBS CSI driver. */
export enum EbsVolumeType {
  /** General purpose SSD (gp3): IOPS and throughput set independently of the size. */
  GP3 = 'gp3',
  /** General purpose SSD of the previous generation (gp2): IOPS grow with the size. */
  GP2 = 'gp2',
  /** Provisioned IOPS SSD (io1). */
  IO1 = 'io1',
  /** Provisioned IOPS SSD with higher durability (io2). */
  IO2 = 'io2',
  /** Throughput-optimized HDD (st1). */
  ST1 = 'st1',
  /** Cold HDD (sc1). */
  SC1 = 'sc1',
}

/** Options of the AWS EBS CSI provisioner (ebs.csi.aws.com). */
export interface AwsEbsOptions {
  /**
   * Volume type.
   * @default EbsVolumeType.GP3
   */
  readonly type?: EbsVolumeType;
  /**
   * Provisioned IOPS (gp3: 3000-16000, io1/io2: 100-256000).
   * @default - the type's baseline (3000 for gp3)
   */
  readonly iops?: number;
  /**
   * Throughput in MiB/s (gp3 only: 125-1000).
   * @default - the type's baseline (125 for gp3)
   */
  readonly throughput?: number;
  /**
   * Encrypt the volume.
   * @default true
   */
  readonly encrypted?: boolean;
  /**
   * KMS key to encrypt with (ARN or alias); needs encrypted.
   * @default - the account's default EBS key
   */
  readonly kmsKeyId?: string;
  /**
   * File system the driver formats the volume with.
   * @default ext4
   */
  readonly fsType?: string;
}

/** GCE persistent disk types. */
export enum GcePdType {
  /** Balanced persistent disk (SSD-backed, cost-efficient). */
  PD_BALANCED = 'pd-balanced',
  /** SSD persistent disk. */
  PD_SSD = 'pd-ssd',
  /** Standard persistent disk (HDD-backed). */
  PD_STANDARD = 'pd-standard',
  /** Extreme persistent disk (provisioned IOPS). */
  PD_EXTREME = 'pd-extreme',
  /** Hyperdisk Balanced. */
  HYPERDISK_BALANCED = 'hyperdisk-balanced',
}

/** Options of the GCE PD CSI provisioner (pd.csi.storage.gke.io). */
export interface GcePdOptions {
  /**
   * Disk type.
   * @default GcePdType.PD_BALANCED
   */
  readonly type?: GcePdType;
  /**
   * Replicate the disk across two zones ("regional-pd").
   * @default false
   */
  readonly regional?: boolean;
  /**
   * Customer-managed encryption key (projects/.../cryptoKeys/...).
   * @default - Google-managed encryption
   */
  readonly diskEncryptionKmsKey?: string;
}

/** Azure managed disk SKUs. */
export enum AzureDiskSku {
  /** Premium SSD, locally redundant. */
  PREMIUM_LRS = 'Premium_LRS',
  /** Premium SSD, zone redundant. */
  PREMIUM_ZRS = 'Premium_ZRS',
  /** Premium SSD v2, locally redundant. */
  PREMIUMV2_LRS = 'PremiumV2_LRS',
  /** Standard SSD, locally redundant. */
  STANDARD_SSD_LRS = 'StandardSSD_LRS',
  /** Standard SSD, zone redundant. */
  STANDARD_SSD_ZRS = 'StandardSSD_ZRS',
  /** Standard HDD, locally redundant. */
  STANDARD_LRS = 'Standard_LRS',
}

/** Options of the Azure Disk CSI provisioner (disk.csi.azure.com). */
export interface AzureDiskOptions {
  /**
   * Disk SKU.
   * @default AzureDiskSku.PREMIUM_LRS
   */
  readonly skuName?: AzureDiskSku;
  /**
   * Host caching mode (None, ReadOnly, ReadWrite).
   * @default - the driver's default (ReadOnly)
   */
  readonly cachingMode?: string;
}

/** Options of the LINSTOR CSI provisioner (linstor.csi.linbit.com). */
export interface LinstorOptions {
  /**
   * Number of replicas DRBD keeps of each volume (a class such as linstor-r2 keeps 2).
   * @default 2
   */
  readonly placementCount?: number;
  /**
   * LINSTOR storage pool to place volumes in.
   * @default - LINSTOR's default pool
   */
  readonly storagePool?: string;
}

/** Options of the OpenStack Manila CSI provisioner (nfs.manila.csi.openstack.org). */
export interface ManilaOptions {
  /** Manila share type. */
  readonly shareType: string;
  /**
   * Share network ID, when the back end needs one.
   * @default - none
   */
  readonly shareNetworkId?: string;
  /**
   * Manila availability zone of the share.
   * @default - Manila's default
   */
  readonly availability?: string;
  /**
   * Namespace of the Secret with OpenStack credentials the driver uses.
   * @default kube-system
   */
  readonly secretNamespace?: string;
  /**
   * Name of that Secret.
   * @default csi-manila-secrets
   */
  readonly secretName?: string;
}

/**
 * Who provisions volumes for a StorageClass, and with which parameters. Build one with a static factory.
 */
export class StorageProvisioner {
  /**
   * AWS EBS through the EBS CSI driver (gp3 iops and throughput need the CSI driver; the in-tree kubernetes.io/aws-ebs cannot set them).
   * @param options volume type, IOPS, throughput, encryption and file system type
   */
  public static awsEbs(options: AwsEbsOptions = {}): StorageProvisioner {
    const type = options.type ?? EbsVolumeType.GP3;
    const params: { [key: string]: string } = { type };
    if (options.iops !== undefined) params.iops = String(options.iops);
    if (options.throughput !== undefined) params.throughput = String(options.throughput);
    params.encrypted = String(options.encrypted ?? true);
    if (options.kmsKeyId !== undefined) params.kmsKeyId = options.kmsKeyId;
    params['csi.storage.k8s.io/fstype'] = options.fsType ?? 'ext4';
    return new StorageProvisioner('ebs.csi.aws.com', params, (scope) => {
      checkEnum(scope, 'provisioner.type', type, EbsVolumeType, 'EbsVolumeType');
      if (options.iops !== undefined) {
        const [min, max] = type === EbsVolumeType.GP3 ? [3000, 16000] : [100, 256000];
        if (![EbsVolumeType.GP3, EbsVolumeType.IO1, EbsVolumeType.IO2].includes(type)) {
          throw propError(scope, 'provisioner.iops', options.iops, `can only be set for gp3, io1 and io2 volumes, not ${type}`);
        }
        checkInteger(scope, 'provisioner.iops', options.iops, min, max);
      }
      if (type === EbsVolumeType.IO1 || type === EbsVolumeType.IO2) {
        if (options.iops === undefined) throw propError(scope, 'provisioner.iops', undefined, `is required for ${type} volumes`);
      }
      if (options.throughput !== undefined) {
        if (type !== EbsVolumeType.GP3) throw propError(scope, 'provisioner.throughput', options.throughput, `can only be set for gp3 volumes, not ${type}`);
        checkInteger(scope, 'provisioner.throughput', options.throughput, 125, 1000);
      }
      if (options.kmsKeyId !== undefined && options.encrypted === false) {
        throw propError(scope, 'provisioner.kmsKeyId', options.kmsKeyId, 'needs encrypted true');
      }
    });
  }

  /**
   * Google Compute Engine persistent disks through the PD CSI driver.
   * @param options disk type, regional replication and encryption key
   */
  public static gcePd(options: GcePdOptions = {}): StorageProvisioner {
    const params: { [key: string]: string } = { type: options.type ?? GcePdType.PD_BALANCED };
    if (options.regional) params['replication-type'] = 'regional-pd';
    if (options.diskEncryptionKmsKey) params['disk-encryption-kms-key'] = options.diskEncryptionKmsKey;
    return new StorageProvisioner('pd.csi.storage.gke.io', params, (scope) => {
      checkEnum(scope, 'provisioner.type', params.type, GcePdType, 'GcePdType');
    });
  }

  /**
   * Azure managed disks through the Azure Disk CSI driver.
   * @param options SKU and host caching mode
   */
  public static azureDisk(options: AzureDiskOptions = {}): StorageProvisioner {
    const params: { [key: string]: string } = { skuName: options.skuName ?? AzureDiskSku.PREMIUM_LRS };
    if (options.cachingMode !== undefined) params.cachingMode = options.cachingMode;
    return new StorageProvisioner('disk.csi.azure.com', params, (scope) => {
      checkEnum(scope, 'provisioner.skuName', params.skuName, AzureDiskSku, 'AzureDiskSku');
      if (options.cachingMode !== undefined && !['None', 'ReadOnly', 'ReadWrite'].includes(options.cachingMode)) {
        throw propError(scope, 'provisioner.cachingMode', options.cachingMode, 'must be None, ReadOnly or ReadWrite');
      }
    });
  }

  /**
   * LINSTOR (DRBD-replicated volumes) through the LINSTOR CSI driver.
   * @param options replica count and storage pool
   */
  public static linstor(options: LinstorOptions = {}): StorageProvisioner {
    const placementCount = options.placementCount ?? 2;
    const params: { [key: string]: string } = { 'linstor.csi.linbit.com/placementCount': String(placementCount) };
    if (options.storagePool !== undefined) params['linstor.csi.linbit.com/storagePool'] = options.storagePool;
    return new StorageProvisioner('linstor.csi.linbit.com', params, (scope) => {
      checkInteger(scope, 'provisioner.placementCount', placementCount, 1, 16);
    });
  }

  /**
   * OpenStack Manila NFS shares through the Manila CSI driver.
   * @param options share type, availability zone, share network and the secret with the credentials
   */
  public static openstackManila(options: ManilaOptions): StorageProvisioner {
    const secretNamespace = options.secretNamespace ?? 'kube-system';
    const secretName = options.secretName ?? 'csi-manila-secrets';
    const params: { [key: string]: string } = { type: options.shareType };
    if (options.shareNetworkId !== undefined) params.shareNetworkID = options.shareNetworkId;
    if (options.availability !== undefined) params.availability = options.availability;
    for (const kind of ['provisioner', 'node-stage', 'node-publish', 'controller-expand']) {
      params[`csi.storage.k8s.io/${kind}-secret-name`] = secretName;
      params[`csi.storage.k8s.io/${kind}-secret-namespace`] = secretNamespace;
    }
    return new StorageProvisioner('nfs.manila.csi.openstack.org', params, (scope) => {
      if (options.shareType.trim() === '') throw propError(scope, 'provisioner.shareType', options.shareType, 'must name a Manila share type');
    });
  }

  /**
   * Any provisioner by name, with its parameters as given.
   * @param provisioner the provisioner name, as the CSI driver registers it
   * @param parameters the StorageClass parameters, passed as given
   */
  public static custom(provisioner: string, parameters: { [key: string]: string } = {}): StorageProvisioner {
    return new StorageProvisioner(provisioner, { ...parameters }, (scope) => {
      if (!/^[A-Za-z0-9]([-A-Za-z0-9_.\/]*[A-Za-z0-9])?$/.test(provisioner) || provisioner.length > 253) {
        throw propError(scope, 'provisioner', provisioner, 'must be a provisioner name such as "ebs.csi.aws.com"');
      }
    });
  }

  private constructor(
    /** The provisioner name written to the StorageClass. */
    public readonly name: string,
    private readonly params: { [key: string]: string },
    private readonly validator?: (scope: Construct) => void,
  ) {}

  /** The parameters written to the StorageClass. */
  public get parameters(): { [key: string]: string } {
    return { ...this.params };
  }

  /** @internal */
  public _validate(scope: Construct): void {
    this.validator?.(scope);
  }
}

/** A StorageClass the constructs can put their claims on: one of ours, or an existing class by name. */
export interface IStorageClass {
  /** Name of the StorageClass. */
  readonly storageClassName: string;
}

/** A topology term that restricts where volumes may be provisioned. */
export interface TopologyRequirement {
  /** Node label key, for example topology.kubernetes.io/zone. */
  readonly key: string;
  /** Accepted values. */
  readonly values: string[];
}

/** Props of StorageClass. */
export interface StorageClassProps {
  /** Who provisions the volumes, with which parameters. */
  readonly provisioner: StorageProvisioner;
  /**
   * Name of the StorageClass.
   * @default - derived from the construct path
   */
  readonly name?: string;
  /**
   * What happens to a volume when its claim is deleted.
   * @default ReclaimPolicy.RETAIN
   */
  readonly reclaimPolicy?: ReclaimPolicy;
  /**
   * When claims get their volumes.
   * @default VolumeBindingMode.WAIT_FOR_FIRST_CONSUMER
   */
  readonly volumeBindingMode?: VolumeBindingMode;
  /**
   * Allow growing a claim by editing its size.
   * @default true
   */
  readonly allowVolumeExpansion?: boolean;
  /**
   * Mount options for the volumes (for example "nfsvers=4.1").
   * @default - none
   */
  readonly mountOptions?: string[];
  /**
   * Where volumes may be provisioned (all terms must match).
   * @default - anywhere the provisioner can
   */
  readonly allowedTopologies?: TopologyRequirement[];
  /**
   * Mark this class as the cluster default (storageclass.kubernetes.io/is-default-class).
   * @default false
   */
  readonly isDefault?: boolean;
}

/**
 * A StorageClass with safe defaults for stateful data: volumes are retained when claims go away and
 * provisioned in the zone where the pod lands.
 */
export class StorageClass extends Construct implements IStorageClass {
  /**
   * Refer to a StorageClass that already exists in the cluster.
   * @param name the name of the existing StorageClass
   */
  public static fromStorageClassName(name: string): IStorageClass {
    return { storageClassName: name };
  }

  /** The generated Kubernetes object. */
  public readonly apiObject: k8s.KubeStorageClass;
  /** Name of the StorageClass. */
  public readonly storageClassName: string;
  /** Reclaim policy in force. */
  public readonly reclaimPolicy: ReclaimPolicy;

  /**
   * Define the StorageClass in a scope.
   * @param scope the chart or construct to define it in
   * @param id its id, unique within the scope
   * @param props its configuration
   */
  public constructor(scope: Construct, id: string, props: StorageClassProps) {
    super(scope, id);
    registerCollisionCheck(this);
    required(this, 'provisioner', props?.provisioner)._validate(this);
    if (props.reclaimPolicy !== undefined) checkEnum(this, 'reclaimPolicy', props.reclaimPolicy, ReclaimPolicy, 'ReclaimPolicy');
    if (props.volumeBindingMode !== undefined) checkEnum(this, 'volumeBindingMode', props.volumeBindingMode, VolumeBindingMode, 'VolumeBindingMode');
    this.storageClassName = checkDnsSubdomain(this, 'name', props.name ?? Names.toDnsLabel(this));
    this.reclaimPolicy = props.reclaimPolicy ?? ReclaimPolicy.RETAIN;
    for (const [i, term] of (props.allowedTopologies ?? []).entries()) {
      if (term.values.length === 0) {
        throw propError(this, `allowedTopologies[${i}].values`, term.values, `must list at least one value for key ${term.key}`);
      }
    }
    for (const option of props.mountOptions ?? []) {
      if (option.trim() === '' || /\s/.test(option)) {
        throw propError(this, 'mountOptions', option, 'each mount option must be one non-empty word without spaces (for example "nfsvers=4.1")');
      }
    }
    const metadata: ApiObjectMetadata = {
      name: this.storageClassName,
      annotations: props.isDefault ? { 'storageclass.kubernetes.io/is-default-class': 'true' } : undefined,
    };
    const parameters = props.provisioner.parameters;
    this.apiObject = new k8s.KubeStorageClass(this, 'Resource', {
      metadata,
      provisioner: props.provisioner.name,
      parameters: Object.keys(parameters).length > 0 ? parameters : undefined,
      reclaimPolicy: this.reclaimPolicy,
      volumeBindingMode: props.volumeBindingMode ?? VolumeBindingMode.WAIT_FOR_FIRST_CONSUMER,
      allowVolumeExpansion: props.allowVolumeExpansion ?? true,
      mountOptions: props.mountOptions,
      allowedTopologies: props.allowedTopologies && props.allowedTopologies.length > 0
        ? [{ matchLabelExpressions: props.allowedTopologies.map((t) => ({ key: t.key, values: t.values })) }]
        : undefined,
    });
    clusterScoped(this.apiObject);
  }
}
