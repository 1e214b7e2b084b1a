"""The constructs from Python, the way a platform team uses them: the README examples, subclasses, the failover
budget, escape hatches and bad input."""
import json

import jsii
import pytest
# cdk8s.Testing through its module: pytest would collect a class named Testing imported into a test module
import cdk8s
from cdk8s import ApiObject, App, Chart, Duration, JsonPatch, Size
from cdk8s_plus_28 import PodManagementPolicy, k8s
from constructs import Construct

from cdk8s_stateful import (
    AzureDiskSku,
    ContainerMount,
    StatefulContainerPort,
    DisruptionBudget,
    EbsVolumeType,
    FailoverAction,
    FailoverControllerOptions,
    FailoverTargets,
    GcePdType,
    IStorageClass,
    MaxMemoryPolicy,
    PlacementCenter,
    PlacementCenterRollout,
    PodSecurityOptions,
    StatefulProbe,
    RedisAuthOptions,
    RedisCluster,
    RedisMetricsOptions,
    RedisNetworkPolicyOptions,
    RedisPersistenceVolumeOptions,
    RwopStatefulApp,
    SchedulingOptions,
    SpreadMode,
    StatefulContainer,
    StatefulUpdateStrategy,
    StatefulWorkload,
    StorageClass,
    StorageProvisioner,
    VolumeClaimTemplate,
)

from conftest import typescript, typescript_error


def manifests(chart):
    return cdk8s.Testing.synth(chart)


def find(objects, kind, name=None):
    found = [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    assert len(found) == 1, f"{kind} {name}: {len(found)} found"
    return found[0]


def rwop_app(chart, **props):
    # the README's RwopStatefulApp example
    fast = StorageClass(chart, "Fast",
        name="fast-rwop",
        provisioner=StorageProvisioner.aws_ebs(iops=6000, throughput=250),
    )
    return RwopStatefulApp(chart, "Db", **{
        "name": "orders-db",
        # the README's chart has namespace "apps"; the automation needs one at synth
        "namespace": "apps",
        "image": "docker.io/library/postgres:16.4",
        "ports": [StatefulContainerPort(name="postgres", port=5432)],
        "storage_class": fast,
        "storage_size": Size.gibibytes(50),
        "mount_path": "/var/lib/postgresql/data",
        "writable_paths": ["/tmp", "/var/run/postgresql"],
        "security": PodSecurityOptions(run_as_user=999),
        "liveness": StatefulProbe.from_command(["pg_isready", "-h", "127.0.0.1", "-p", "5432"]),
        "scheduling": SchedulingOptions(priority_class_name="stateful-critical"),
        "failover_targets": FailoverTargets(hung_process=Duration.seconds(60), node_loss=Duration.minutes(3)),
        "node_loss_automation": FailoverControllerOptions(acknowledge_nodes_are_fenced=True),
        **props,
    })


class TestReadmeExamples:
    def test_rwop_stateful_app(self):
        chart = cdk8s.Testing.chart()
        db = rwop_app(chart)
        objects = manifests(chart)
        sts = find(objects, "StatefulSet", "orders-db")
        assert sts["spec"]["replicas"] == 1
        assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["accessModes"] == ["ReadWriteOncePod"]
        assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] == "fast-rwop"
        assert find(objects, "StorageClass", "fast-rwop")["parameters"]["iops"] == "6000"
        assert db.claim_name == "data-orders-db-0"
        assert find(objects, "Deployment", "orders-db-failover")["spec"]["replicas"] == 2

    def test_the_failover_budget_reads_like_the_readme_table(self):
        chart = cdk8s.Testing.chart()
        budget = rwop_app(chart).failover_budget
        assert budget.hung_process.worst_case_seconds == 44
        assert budget.hung_process.bounded is True
        assert budget.node_loss_without_automation.bounded is False
        assert budget.node_loss_without_automation.worst_case_seconds is None
        assert budget.node_loss_with_automation.worst_case_seconds == 70
        terms = [(t.name, t.seconds) for t in budget.node_loss_with_automation.terms]
        assert terms[0] == ("heartbeat silence", 30)
        assert sum(seconds for _, seconds in terms) == 70
        assert json.loads(budget.to_json()) == {
            "hungProcessSeconds": 44, "nodeLossWithoutAutomationSeconds": "unbounded", "nodeLossWithAutomationSeconds": 70,
        }
        sts = find(manifests(chart), "StatefulSet", "orders-db")
        assert sts["metadata"]["annotations"]["stateful.cdk8s.io/failover-budget"] == budget.to_json()

    def test_the_budget_markdown_is_the_typescript_one(self):
        budget = rwop_app(cdk8s.Testing.chart()).failover_budget
        assert budget.to_markdown() == typescript("""
          const chart = cdk8s.Testing.chart();
          const app = new lib.RwopStatefulApp(chart, 'Db', { image: 'docker.io/library/postgres:16.4',
            namespace: 'apps', ports: [{ name: 'postgres', port: 5432 }], storageSize: cdk8s.Size.gibibytes(50),
            liveness: lib.StatefulProbe.fromCommand(['pg_isready', '-h', '127.0.0.1', '-p', '5432']),
            nodeLossAutomation: { acknowledgeNodesAreFenced: true } });
          process.stdout.write(app.failoverBudget.toMarkdown());
        """)
        assert (
            budget.node_loss_with_automation.worst_case_seconds is not None
            and "| Node lost, failover controller on | 70 s |" in budget.to_markdown()
        )

    def test_automation_off_leaves_the_scenario_unset(self):
        app = RwopStatefulApp(cdk8s.Testing.chart(), "App", image="postgres:16.4", ports=[StatefulContainerPort(name="pg", port=5432)])
        assert app.failover_budget.node_loss_with_automation is None
        assert app.failover_controller is None

    def test_redis_cluster(self):
        app = App()
        chart = Chart(app, "cache", namespace="cache")
        redis = RedisCluster(chart, "Redis",
            name="redis",
            shards=3,
            replicas_per_shard=1,
            persistence=RedisPersistenceVolumeOptions(
                size=Size.gibibytes(8), storage_provisioner=StorageProvisioner.linstor(placement_count=2),
            ),
            max_memory=Size.mebibytes(768),
            max_memory_policy=MaxMemoryPolicy.ALLKEYS_LRU,
            auth=RedisAuthOptions(existing_secret="redis-auth", existing_secret_password_key="password"),
            network_policy=RedisNetworkPolicyOptions(allowed_client_labels={"redis-client": "true"}),
            metrics=RedisMetricsOptions(service_monitor=True),
        )
        assert redis.client_service_dns_name == "redis.cache.svc.cluster.local"
        assert redis.cluster_nodes[0] == "redis-0.redis-headless.cache.svc.cluster.local:6379"
        assert len(redis.cluster_nodes) == 6
        objects = manifests(chart)
        assert find(objects, "StatefulSet", "redis")["spec"]["replicas"] == 6
        assert find(objects, "ServiceMonitor")["metadata"]["name"] == "redis"
        assert "maxmemory-policy allkeys-lru" in find(objects, "ConfigMap", "redis-config")["data"]["redis.conf"]

    def test_placement_center(self):
        chart = Chart(App(), "robustmq", namespace="robustmq")
        pc = PlacementCenter(chart, "PlacementCenter")
        assert pc.peer_addresses[0] == "placement-center-0.placement-center-headless.robustmq.svc.cluster.local:1228"
        assert 'roles = [ "meta", "engine" ]' in pc.toml_config
        assert [phase.partition for phase in PlacementCenter.staged_rollout(3)] == [2, 1, 0]
        assert pc.raft_node_id(2) == 3

    def test_placement_center_canary_and_additional_config(self):
        chart = Chart(App(), "robustmq", namespace="robustmq")
        pc = PlacementCenter(chart, "PlacementCenter",
            rollout=PlacementCenterRollout.canary(1),
            additional_config={"meta_runtime": {"heartbeat_timeout_ms": 30000}},
        )
        assert pc.partition == 2
        assert "[meta_runtime]\nheartbeat_timeout_ms = 30000" in pc.toml_config

    def test_storage_class_provisioners(self):
        chart = cdk8s.Testing.chart()
        StorageClass(chart, "Ssd", name="ssd",
            provisioner=StorageProvisioner.aws_ebs(type=EbsVolumeType.GP3, iops=3000, throughput=125))
        StorageClass(chart, "Gce", name="gce", provisioner=StorageProvisioner.gce_pd(type=GcePdType.PD_SSD, regional=True))
        StorageClass(chart, "Azure", name="azure", provisioner=StorageProvisioner.azure_disk(sku_name=AzureDiskSku.PREMIUM_ZRS))
        StorageClass(chart, "Linstor", name="linstor-r2", provisioner=StorageProvisioner.linstor(placement_count=2))
        StorageClass(chart, "Manila", name="manila-nfs", provisioner=StorageProvisioner.openstack_manila(share_type="default"))
        StorageClass(chart, "Local", name="local", provisioner=StorageProvisioner.custom("rancher.io/local-path"))
        objects = manifests(chart)
        ssd = find(objects, "StorageClass", "ssd")
        assert (ssd["provisioner"], ssd["parameters"]["type"], ssd["parameters"]["iops"], ssd["parameters"]["throughput"]) \
            == ("ebs.csi.aws.com", "gp3", "3000", "125")
        assert ssd["reclaimPolicy"] == "Retain"
        assert find(objects, "StorageClass", "gce")["provisioner"] == "pd.csi.storage.gke.io"
        assert find(objects, "StorageClass", "azure")["parameters"]["skuName"] == "Premium_ZRS"
        assert find(objects, "StorageClass", "local")["provisioner"] == "rancher.io/local-path"
        assert StorageClass.from_storage_class_name("existing-class").storage_class_name == "existing-class"

    def test_stateful_workload(self):
        chart = Chart(App(), "web", namespace="web")
        workload = StatefulWorkload(chart, "Web",
            name="web",
            replicas=3,
            containers=[StatefulContainer(
                name="web", image="nginx:1.27",
                ports=[StatefulContainerPort(name="http", port=8080)],
                readiness=StatefulProbe.from_http_get("/ready", port=8080),
                mounts=[ContainerMount(volume="data", path="/data")],
                writable_paths=["/tmp"],
            )],
            volume_claim_templates=[VolumeClaimTemplate(
                name="data", size=Size.gibibytes(10), storage_class=StorageClass.from_storage_class_name("linstor-r2"),
            )],
            pod_management_policy=PodManagementPolicy.ORDERED_READY,
            update_strategy=StatefulUpdateStrategy.rolling_update(partition=0),
            disruption_budget=DisruptionBudget.max_unavailable(1),
            scheduling=SchedulingOptions(node_spread=SpreadMode.PREFERRED, zone_spread=SpreadMode.PREFERRED),
        )
        assert workload.pod_dns_name(0) == "web-0.web-headless.web.svc.cluster.local"
        assert workload.pod_dns_names == [f"web-{i}.web-headless.web.svc.cluster.local" for i in range(3)]
        objects = manifests(chart)
        assert find(objects, "StatefulSet", "web")["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] == "linstor-r2"
        assert find(objects, "PodDisruptionBudget")["spec"]["maxUnavailable"] == 1

    def test_escape_hatches(self):
        chart = cdk8s.Testing.chart()
        db = rwop_app(chart)
        ApiObject.of(db.workload.stateful_set).add_json_patch(JsonPatch.add("/spec/revisionHistoryLimit", 5))
        db.workload.headless_service.metadata.add_annotation("example.com/owner", "platform")
        objects = manifests(chart)
        assert find(objects, "StatefulSet", "orders-db")["spec"]["revisionHistoryLimit"] == 5
        assert find(objects, "Service", "orders-db-headless")["metadata"]["annotations"]["example.com/owner"] == "platform"


class HouseRedis(RedisCluster):
    """A platform team's Redis: house defaults, one extra object, and a method of its own."""

    def __init__(self, scope: Construct, id: str, *, team: str):
        super().__init__(scope, id,
            name=f"{team}-redis",
            shards=3,
            replicas_per_shard=1,
            max_memory_policy=MaxMemoryPolicy.ALLKEYS_LRU,
            auth=RedisAuthOptions(existing_secret=f"{team}-redis-auth"),
        )
        self.team = team
        self.workload.stateful_set.metadata.add_label("example.com/team", team)
        k8s.KubeConfigMap(self, "ClientConfig", metadata=k8s.ObjectMeta(name=f"{team}-redis-client"),
                          data={"REDIS_NODES": ",".join(self.cluster_nodes)})

    def connection_url(self) -> str:
        return f"redis://{self.client_service_dns_name}:6379"


class SharedDiskApp(RwopStatefulApp):
    """A subclass of the single-writer app that fixes the storage and adds a pod annotation through the core."""

    def __init__(self, scope: Construct, id: str, *, image: str):
        super().__init__(scope, id, image=image, ports=[StatefulContainerPort(name="pg", port=5432)], storage_size=Size.gibibytes(5))
        self.workload.add_pod_annotation("example.com/backup", "nightly")


@jsii.implements(IStorageClass)
class ClusterDefaultClass:
    """A StorageClass reference written in Python: the constructs accept any IStorageClass."""

    @property
    def storage_class_name(self) -> str:
        return "platform-default"


class TestSubclassing:
    def test_a_python_subclass_of_redis_cluster(self):
        chart = Chart(App(), "payments", namespace="payments")
        redis = HouseRedis(chart, "Redis", team="payments")
        assert isinstance(redis, RedisCluster)
        assert redis.connection_url() == "redis://payments-redis.payments.svc.cluster.local:6379"
        objects = manifests(chart)
        sts = find(objects, "StatefulSet", "payments-redis")
        assert sts["metadata"]["labels"]["example.com/team"] == "payments"
        assert find(objects, "ConfigMap", "payments-redis-client")["data"]["REDIS_NODES"].count(":6379") == 6
        assert sts["spec"]["template"]["spec"]["volumes"] is not None

    def test_a_python_subclass_of_rwop_stateful_app(self):
        chart = cdk8s.Testing.chart()
        app = SharedDiskApp(chart, "Db", image="postgres:16.4")
        # its TCP liveness check cannot see a hung process
        assert app.failover_budget.hung_process.bounded is False
        sts = find(manifests(chart), "StatefulSet")
        assert sts["spec"]["template"]["metadata"]["annotations"]["example.com/backup"] == "nightly"

    def test_a_storage_class_implemented_in_python(self):
        chart = cdk8s.Testing.chart()
        RwopStatefulApp(chart, "Db", image="postgres:16.4", ports=[StatefulContainerPort(name="pg", port=5432)],
                        storage_class=ClusterDefaultClass())
        sts = find(manifests(chart), "StatefulSet")
        assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] == "platform-default"


class TestBadInput:
    def test_a_constructor_error_reaches_python_with_the_typescript_message(self):
        expected = typescript_error("""
          const chart = new cdk8s.Chart(cdk8s.Testing.app(), 'chart');
          new lib.RwopStatefulApp(chart, 'Db', { image: 'postgres:16.4', replicas: 2 });
        """)
        chart = Chart(cdk8s.Testing.app(), "chart")
        with pytest.raises(RuntimeError) as error:
            RwopStatefulApp(chart, "Db", image="postgres:16.4", replicas=2)
        assert str(error.value) == expected
        assert expected.startswith("chart/Db: invalid replicas (2): must be 1")

    def test_a_placement_center_quorum_error_has_the_typescript_message(self):
        expected = typescript_error("""
          new lib.PlacementCenter(new cdk8s.Chart(cdk8s.Testing.app(), 'mq', { namespace: 'mq' }), 'Pc', { replicas: 4 });
        """)
        with pytest.raises(RuntimeError) as error:
            PlacementCenter(Chart(cdk8s.Testing.app(), "mq", namespace="mq"), "Pc", replicas=4)
        assert str(error.value) == expected

    def test_a_synth_time_validation_error_has_the_typescript_message(self):
        expected = typescript_error("""
          const app = cdk8s.Testing.app();
          const chart = new cdk8s.Chart(app, 'chart', { namespace: 'apps' });
          new lib.RwopStatefulApp(chart, 'Db', { image: 'postgres:16.4', ports: [{ name: 'pg', port: 5432 }],
            failoverTargets: { hungProcess: cdk8s.Duration.seconds(20) } });
          app.synth();
        """)
        app = cdk8s.Testing.app()
        chart = Chart(app, "chart", namespace="apps")
        RwopStatefulApp(chart, "Db", image="postgres:16.4", ports=[StatefulContainerPort(name="pg", port=5432)],
                        failover_targets=FailoverTargets(hung_process=Duration.seconds(20)))
        with pytest.raises(RuntimeError) as error:
            app.synth()
        assert expected in str(error.value)
        assert "failoverTargets.hungProcess is 20 s but the settings promise no bound" in str(error.value)

    def test_a_wrong_type_is_refused_before_it_reaches_the_library(self):
        with pytest.raises(TypeError):
            RwopStatefulApp(cdk8s.Testing.chart(), "Db", image="postgres:16.4", replicas="two")

    def test_the_automation_needs_the_acknowledgement(self):
        expected = typescript_error("""
          new lib.RwopStatefulApp(new cdk8s.Chart(cdk8s.Testing.app(), 'c', { namespace: 'apps' }), 'Db', {
            image: 'postgres:16.4', ports: [{ name: 'pg', port: 5432 }],
            nodeLossAutomation: { acknowledgeNodesAreFenced: false, action: 'force-delete-pod' } });
        """)
        with pytest.raises(RuntimeError) as error:
            RwopStatefulApp(Chart(cdk8s.Testing.app(), "c", namespace="apps"), "Db", image="postgres:16.4",
                            ports=[StatefulContainerPort(name="pg", port=5432)],
                            node_loss_automation=FailoverControllerOptions(
                                acknowledge_nodes_are_fenced=False, action=FailoverAction.FORCE_DELETE_POD))
        assert str(error.value) == expected
