import { Testing } from 'cdk8s';
import {
  AzureDiskSku, EbsVolumeType, GcePdType, ReclaimPolicy, StorageClass, StorageClassProps, StorageProvisioner, VolumeBindingMode,
} from '../src';
import { synthValid } from './support/validate';

function synth(props: StorageClassProps) {
  const chart = Testing.chart();
  const sc = new StorageClass(chart, 'sc', props);
  const [manifest] = synthValid(chart);
  return { sc, manifest };
}

describe('StorageClass', () => {
  test('defaults keep data: Retain, WaitForFirstConsumer, expansion allowed; gp3 through the EBS CSI driver', () => {
    const { manifest, sc } = synth({ name: 'ssd', provisioner: StorageProvisioner.awsEbs({ iops: 3000, throughput: 125 }) });
    expect(manifest).toEqual({
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'ssd' },
      provisioner: 'ebs.csi.aws.com',
      parameters: { 'type': 'gp3', 'iops': '3000', 'throughput': '125', 'encrypted': 'true', 'csi.storage.k8s.io/fstype': 'ext4' },
      reclaimPolicy: 'Retain',
      volumeBindingMode: 'WaitForFirstConsumer',
      allowVolumeExpansion: true,
    });
    expect(sc.storageClassName).toBe('ssd');
  });

  test('every option changes the output', () => {
    const { manifest } = synth({
      name: 'fast', provisioner: StorageProvisioner.awsEbs({ type: EbsVolumeType.IO2, iops: 10000, encrypted: true, kmsKeyId: 'alias/data', fsType: 'xfs' }),
      reclaimPolicy: ReclaimPolicy.DELETE, volumeBindingMode: VolumeBindingMode.IMMEDIATE, allowVolumeExpansion: false,
      mountOptions: ['noatime'], allowedTopologies: [{ key: 'topology.kubernetes.io/zone', values: ['eu-west-1a', 'eu-west-1b'] }], isDefault: true,
    });
    expect(manifest).toMatchSnapshot();
    expect(manifest.metadata.annotations).toEqual({ 'storageclass.kubernetes.io/is-default-class': 'true' });
    expect(manifest.parameters).toMatchObject({ type: 'io2', iops: '10000', kmsKeyId: 'alias/data', 'csi.storage.k8s.io/fstype': 'xfs' });
    expect(manifest.reclaimPolicy).toBe('Delete');
    expect(manifest.volumeBindingMode).toBe('Immediate');
    expect(manifest.allowVolumeExpansion).toBe(false);
    expect(manifest.mountOptions).toEqual(['noatime']);
    expect(manifest.allowedTopologies).toEqual([{ matchLabelExpressions: [{ key: 'topology.kubernetes.io/zone', values: ['eu-west-1a', 'eu-west-1b'] }] }]);
  });

  test.each([
    ['gcePd', StorageProvisioner.gcePd({ type: GcePdType.PD_SSD, regional: true, diskEncryptionKmsKey: 'projects/p/keys/k' }), 'pd.csi.storage.gke.io',
      { 'type': 'pd-ssd', 'replication-type': 'regional-pd', 'disk-encryption-kms-key': 'projects/p/keys/k' }],
    ['azureDisk', StorageProvisioner.azureDisk({ skuName: AzureDiskSku.PREMIUMV2_LRS, cachingMode: 'None' }), 'disk.csi.azure.com', { skuName: 'PremiumV2_LRS', cachingMode: 'None' }],
    ['linstor (linstor-r2)', StorageProvisioner.linstor({ storagePool: 'ssd-pool' }), 'linstor.csi.linbit.com',
      { 'linstor.csi.linbit.com/placementCount': '2', 'linstor.csi.linbit.com/storagePool': 'ssd-pool' }],
    ['custom', StorageProvisioner.custom('rancher.io/local-path', { nodePath: '/mnt' }), 'rancher.io/local-path', { nodePath: '/mnt' }],
  ])('%s provisioner', (_name, provisioner, name, parameters) => {
    const { manifest } = synth({ provisioner });
    expect(manifest.provisioner).toBe(name);
    expect(manifest.parameters).toEqual(parameters);
  });

  test('OpenStack Manila (manila-nfs) wires the driver secrets for every stage', () => {
    const { manifest } = synth({ name: 'manila-nfs', provisioner: StorageProvisioner.openstackManila({ shareType: 'default', shareNetworkId: 'net-1' }) });
    expect(manifest.provisioner).toBe('nfs.manila.csi.openstack.org');
    expect(manifest.parameters).toMatchObject({
      'type': 'default', 'shareNetworkID': 'net-1',
      'csi.storage.k8s.io/node-publish-secret-name': 'csi-manila-secrets', 'csi.storage.k8s.io/node-publish-secret-namespace': 'kube-system',
    });
  });

  test('custom provisioner without parameters renders no parameters; name is derived from the path', () => {
    const { manifest } = synth({ provisioner: StorageProvisioner.custom('example.com/csi') });
    expect(manifest.parameters).toBeUndefined();
    expect(manifest.metadata.name).toMatch(/^test-sc-[0-9a-f]{8}$/);
  });

  test('fromStorageClassName refers to an existing class', () => {
    expect(StorageClass.fromStorageClassName('linstor-r2').storageClassName).toBe('linstor-r2');
  });

  test.each([
    ['gp3 iops too low', StorageProvisioner.awsEbs({ iops: 100 }), /invalid provisioner.iops \(100\): must be a whole number 3000 to 16000/],
    ['iops on gp2', StorageProvisioner.awsEbs({ type: EbsVolumeType.GP2, iops: 3000 }), /invalid provisioner.iops \(3000\): can only be set for gp3, io1 and io2 volumes, not gp2/],
    ['io2 without iops', StorageProvisioner.awsEbs({ type: EbsVolumeType.IO2 }), /invalid provisioner.iops \(unset\): is required for io2 volumes/],
    ['throughput on io1', StorageProvisioner.awsEbs({ type: EbsVolumeType.IO1, iops: 1000, throughput: 200 }), /invalid provisioner.throughput \(200\): can only be set for gp3 volumes, not io1/],
    ['throughput too high', StorageProvisioner.awsEbs({ throughput: 2000 }), /invalid provisioner.throughput \(2000\): must be a whole number 125 to 1000/],
    ['kms without encryption', StorageProvisioner.awsEbs({ encrypted: false, kmsKeyId: 'k' }), /invalid provisioner.kmsKeyId \("k"\): needs encrypted true/],
    ['azure caching', StorageProvisioner.azureDisk({ cachingMode: 'Sometimes' }), /invalid provisioner.cachingMode \("Sometimes"\): must be None, ReadOnly or ReadWrite/],
    ['linstor placement 0', StorageProvisioner.linstor({ placementCount: 0 }), /invalid provisioner.placementCount \(0\): must be a whole number 1 to 16/],
    ['manila empty share type', StorageProvisioner.openstackManila({ shareType: ' ' }), /invalid provisioner.shareType \(" "\): must name a Manila share type/],
    ['custom bad name', StorageProvisioner.custom('not a provisioner'), /invalid provisioner \("not a provisioner"\): must be a provisioner name/],
  ])('bad provisioner: %s', (_name, provisioner, message) => {
    expect(() => synth({ provisioner })).toThrow(message);
  });

  test('bad class settings name the prop', () => {
    const p = StorageProvisioner.custom('example.com/csi');
    expect(() => synth({ provisioner: p, name: 'Fast_SSD' })).toThrow(/test\/sc: invalid name \("Fast_SSD"\): must be a DNS subdomain/);
    expect(() => synth({ provisioner: p, mountOptions: ['a b'] })).toThrow(/invalid mountOptions \("a b"\): each mount option must be one non-empty word/);
    expect(() => synth({ provisioner: p, allowedTopologies: [{ key: 'topology.kubernetes.io/zone', values: [] }] }))
      .toThrow(/invalid allowedTopologies\[0\].values \(\[\]\): must list at least one value/);
  });
});
