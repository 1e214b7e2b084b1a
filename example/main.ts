import { App, Chart, Duration, JsonPatch, Size } from 'cdk8s';
import { Construct } from 'constructs';
import { EnvValue, k8s, Secret, Volume } from 'cdk8s-plus-28';
import { MaxMemoryPolicy, PlacementCenter, RedisCluster, RwopStatefulApp, StatefulProbe, StorageClass, StorageProvisioner } from '../lib/src';

/** The example app: one chart per concern, every construct of the library in use. */
class SingleWriterChart extends Chart {
  public constructor(scope: Construct, id: string) {
    super(scope, id, { namespace: 'apps' });
    // an OpenStack Manila class; ReadWriteOncePod needs a CSI driver
    const manila = new StorageClass(this, 'ManilaNfs', {
      name: 'manila-nfs',
      provisioner: StorageProvisioner.openstackManila({ shareType: 'default' }),
    });
    // a replacement must be able to preempt whatever holds the node it needs
    const priority = new k8s.KubePriorityClass(this, 'Priority', {
      metadata: { name: 'stateful-critical' },
      value: 1000000,
      description: 'Single-writer stateful apps that must take their volume over after a failure.',
    });
    // cluster-scoped: the chart's namespace does not apply
    priority.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
    new RwopStatefulApp(this, 'RwopApp', {
      name: 'rwop-app',
      image: 'docker.io/library/postgres:16.4',
      ports: [{ name: 'postgres', port: 5432 }],
      storageClass: manila,
      storageSize: Size.gibibytes(1),
      mountPath: '/var/lib/postgresql/data',
      // a directory of the volume, not its root: initdb refuses a directory that holds lost+found
      env: {
        PGDATA: EnvValue.fromValue('/var/lib/postgresql/data/pgdata'),
        POSTGRES_PASSWORD_FILE: EnvValue.fromValue('/run/secrets/postgres/password'),
      },
      // the superuser's password, from a Secret the user creates (the image refuses to initdb without one)
      volumes: [Volume.fromSecret(this, 'Auth', Secret.fromSecretName(this, 'AuthSecret', 'rwop-app-auth'), { name: 'auth' })],
      mounts: [{ volume: 'auth', path: '/run/secrets/postgres', readOnly: true }],
      writablePaths: ['/tmp', '/var/run/postgresql'],
      security: { runAsUser: 999 },
      // a check PostgreSQL answers itself: a TCP connect would pass for a hung server
      liveness: StatefulProbe.fromCommand(['pg_isready', '-h', '127.0.0.1', '-p', '5432']),
      scheduling: { priorityClassName: priority.name },
      failoverTargets: { hungProcess: Duration.seconds(60), nodeLoss: Duration.minutes(3) },
      nodeLossAutomation: { acknowledgeNodesAreFenced: true },
    });
  }
}

/** A Redis Cluster on LINSTOR volumes (a two-replica class like linstor-r2), with metrics and a NetworkPolicy. */
class CacheChart extends Chart {
  public constructor(scope: Construct, id: string) {
    super(scope, id, { namespace: 'cache' });
    new RedisCluster(this, 'Redis', {
      name: 'redis',
      shards: 3,
      replicasPerShard: 1,
      persistence: { size: Size.gibibytes(1), storageProvisioner: StorageProvisioner.linstor({ placementCount: 2 }) },
      maxMemory: Size.mebibytes(768),
      maxMemoryPolicy: MaxMemoryPolicy.ALLKEYS_LRU,
      auth: { existingSecret: 'redis-auth', existingSecretPasswordKey: 'password' },
      networkPolicy: { allowedClientLabels: { 'redis-client': 'true' } },
      metrics: { serviceMonitor: true },
    });
  }
}

/** The RobustMQ placement center (the meta service of RobustMQ v0.4.11) with the production guide's settings (3 members, SSD class, staged rollouts). */
class RobustMqChart extends Chart {
  public constructor(scope: Construct, id: string) {
    super(scope, id, { namespace: 'robustmq' });
    new PlacementCenter(this, 'PlacementCenter');
  }
}

const app = new App();
new SingleWriterChart(app, 'single-writer');
new CacheChart(app, 'cache');
new RobustMqChart(app, 'robustmq');
app.synth();
