"""The example app in Python: the same charts as example/main.ts, synthesizing the same YAML."""
from cdk8s import App, Chart, Duration, JsonPatch, Size
from cdk8s_plus_28 import EnvValue, Secret, Volume, k8s
from constructs import Construct

from cdk8s_stateful import (
    ContainerMount,
    StatefulContainerPort,
    FailoverControllerOptions,
    FailoverTargets,
    MaxMemoryPolicy,
    PlacementCenter,
    PodSecurityOptions,
    RedisAuthOptions,
    RedisCluster,
    RedisMetricsOptions,
    RedisNetworkPolicyOptions,
    RedisPersistenceVolumeOptions,
    RwopStatefulApp,
    SchedulingOptions,
    StatefulProbe,
    StorageClass,
    StorageProvisioner,
)


class SingleWriterChart(Chart):
    """A single-writer app on a ReadWriteOncePod volume with node-loss automation."""

    def __init__(self, scope: Construct, id: str):
        super().__init__(scope, id, namespace="apps")
        # an OpenStack Manila class; ReadWriteOncePod needs a CSI driver
        manila = StorageClass(self, "ManilaNfs",
            name="manila-nfs",
            provisioner=StorageProvisioner.openstack_manila(share_type="default"),
        )
        # a replacement must be able to preempt whatever holds the node it needs
        priority = k8s.KubePriorityClass(self, "Priority",
            metadata=k8s.ObjectMeta(name="stateful-critical"),
            value=1000000,
            description="Single-writer stateful apps that must take their volume over after a failure.",
        )
        # cluster-scoped: the chart's namespace does not apply
        priority.add_json_patch(JsonPatch.remove("/metadata/namespace"))
        RwopStatefulApp(self, "RwopApp",
            name="rwop-app",
            image="docker.io/library/postgres:16.4",
            ports=[StatefulContainerPort(name="postgres", port=5432)],
            storage_class=manila,
            storage_size=Size.gibibytes(1),
            mount_path="/var/lib/postgresql/data",
            # a directory of the volume, not its root: initdb refuses a directory that holds lost+found
            env={
                "PGDATA": EnvValue.from_value("/var/lib/postgresql/data/pgdata"),
                "POSTGRES_PASSWORD_FILE": EnvValue.from_value("/run/secrets/postgres/password"),
            },
            # the superuser's password, from a Secret the user creates (the image refuses to initdb without one)
            volumes=[Volume.from_secret(self, "Auth", Secret.from_secret_name(self, "AuthSecret", "rwop-app-auth"),
                name="auth")],
            mounts=[ContainerMount(volume="auth", path="/run/secrets/postgres", read_only=True)],
            writable_paths=["/tmp", "/var/run/postgresql"],
            security=PodSecurityOptions(run_as_user=999),
            # a check PostgreSQL answers itself: a TCP connect would pass for a hung server
            liveness=StatefulProbe.from_command(["pg_isready", "-h", "127.0.0.1", "-p", "5432"]),
            scheduling=SchedulingOptions(priority_class_name=priority.name),
            failover_targets=FailoverTargets(hung_process=Duration.seconds(60), node_loss=Duration.minutes(3)),
            node_loss_automation=FailoverControllerOptions(acknowledge_nodes_are_fenced=True),
        )


class CacheChart(Chart):
    """A Redis Cluster on LINSTOR volumes (a two-replica class like linstor-r2), with metrics and a NetworkPolicy."""

    def __init__(self, scope: Construct, id: str):
        super().__init__(scope, id, namespace="cache")
        RedisCluster(self, "Redis",
            name="redis",
            shards=3,
            replicas_per_shard=1,
            persistence=RedisPersistenceVolumeOptions(
                size=Size.gibibytes(1),
                storage_provisioner=StorageProvisioner.linstor(placement_count=2),
            ),
            max_memory=Size.mebibytes(768),
            max_memory_policy=MaxMemoryPolicy.ALLKEYS_LRU,
            auth=RedisAuthOptions(existing_secret="redis-auth", existing_secret_password_key="password"),
            network_policy=RedisNetworkPolicyOptions(allowed_client_labels={"redis-client": "true"}),
            metrics=RedisMetricsOptions(service_monitor=True),
        )


class RobustMqChart(Chart):
    """The RobustMQ placement-center with the production guide's settings (3 members, SSD class, staged rollouts)."""

    def __init__(self, scope: Construct, id: str):
        super().__init__(scope, id, namespace="robustmq")
        PlacementCenter(self, "PlacementCenter")


app = App()
SingleWriterChart(app, "single-writer")
CacheChart(app, "cache")
RobustMqChart(app, "robustmq")
app.synth()
