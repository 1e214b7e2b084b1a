import { App, Chart, Duration, Size } from 'cdk8s';
import { Construct } from 'constructs';
import { RwopStatefulApp, StorageClass, StorageProvisioner } from '../lib';

/** The example app: one chart per concern, every construct of the library in use. */
class SingleWriterChart extends Chart {
  public constructor(scope: Construct, id: string) {
    super(scope, id, { namespace: 'apps' });
    // an OpenStack Manila class; ReadWriteOncePod needs a CSI driver
    const manila = new StorageClass(this, 'ManilaNfs', {
      name: 'manila-nfs',
      provisioner: StorageProvisioner.openstackManila({ shareType: 'default' }),
    });
    new RwopStatefulApp(this, 'RwopApp', {
      name: 'rwop-app',
      image: 'docker.io/library/postgres:16.4',
      ports: [{ name: 'postgres', port: 5432 }],
      storageClass: manila,
      storageSize: Size.gibibytes(1),
      mountPath: '/var/lib/postgresql/data',
      writablePaths: ['/tmp', '/var/run/postgresql'],
      security: { runAsUser: 999 },
      priorityClassName: 'system-cluster-critical',
      failoverTargets: { hungProcess: Duration.seconds(60), nodeLoss: Duration.minutes(3) },
      nodeLossAutomation: { acknowledgeNodesAreFenced: true },
    });
  }
}

const app = new App();
new SingleWriterChart(app, 'single-writer');
app.synth();
