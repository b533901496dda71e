using System.Diagnostics;
using System.Text.Json.Nodes;
using Kfci.Firestore;
using Kfci.Http;
using Kfci.Janitor;
using Kfci.Janitor.Gcp;
using Kfci.Tests.Infra;
using Kfci.Testing;
using Kfci.Testing.Gcp;
using Kfci.Testing.Hosting;
using Kfci.Testing.Kubernetes;
using Kfci.Tests.Firestore;
using Microsoft.Extensions.Logging;

namespace Kfci.Tests.Janitor;

/// <summary>
/// The janitor against its fakes: the GCP fake and the Kubernetes fake seeded from one generated inventory, the real
/// Firestore emulator for leaks/, sweeps/ and the lease, fast retries and operation polling.
/// </summary>
internal sealed class SweepRig : IAsyncDisposable
{
    private readonly ILoggerFactory _loggers;

    private SweepRig(FakeGcpServer gcp, FakeKubernetesServer kubernetes, FirestoreClient firestore, IReadOnlyList<CloudResource> inventory, ShiftedClock clock)
    {
        Gcp = gcp;
        Kubernetes = kubernetes;
        Firestore = firestore;
        Inventory = inventory;
        Clock = clock;
        Store = new FirestoreSweepStore(firestore);
        _loggers = LoggerFactory.Create(logging => logging.AddProvider(Logs));
        var retry = new RetryOptions { BaseDelay = TimeSpan.FromMilliseconds(2), MaxDelay = TimeSpan.FromMilliseconds(20), MaxRetries = 4 };
        var polling = new OperationPolling { Interval = TimeSpan.FromMilliseconds(5), MaxInterval = TimeSpan.FromMilliseconds(20), Timeout = TimeSpan.FromSeconds(20) };
        var endpoints = GcpEndpoints.SingleServer(gcp.BaseAddress);
        Apis =
        [
            new KubernetesResources(kubernetes.CreateCluster()),
            new ComputeApi(endpoints.Compute.CreateClient(retry), polling, clock),
            new ContainerApi(endpoints.Container.CreateClient(retry), polling, clock),
            new DeploymentManagerApi(endpoints.DeploymentManager.CreateClient(retry), polling, clock),
            new IamApi(endpoints.Iam.CreateClient(retry)),
        ];
        Sweeper = new Sweeper(Apis, Store, clock, _loggers.CreateLogger<Sweeper>(), new SweepOptions { Parallelism = 8, DeletesPerSecond = 1000 });
        Runner = new SweepRunner(Sweeper, Store, clock, _loggers.CreateLogger<SweepRunner>());
    }

    public FakeGcpServer Gcp { get; }

    public FakeKubernetesServer Kubernetes { get; }

    public FirestoreClient Firestore { get; }

    public FirestoreSweepStore Store { get; }

    /// <summary>The inventory as the fakes hold it (namespaces carry the fake's own creation time).</summary>
    public IReadOnlyList<CloudResource> Inventory { get; private set; }

    public ShiftedClock Clock { get; }

    public IReadOnlyList<IResourceApi> Apis { get; }

    public Sweeper Sweeper { get; }

    public SweepRunner Runner { get; }

    public CapturedLogs Logs { get; } = new();

    public static JanitorConfig Config { get; } = JanitorTestConfig.Scoped with { Zones = ["us-east1-b", "us-east1-c", "us-east1-d", "us-central1-a"] };

    public static async Task<SweepRig> StartAsync(EmulatorFixture emulators, int count = 340)
    {
        var now = DateTimeOffset.UtcNow;
        var generated = FakeGcpInventory.Generate(count, now);
        var gcp = await FakeGcpServer.StartAsync();
        gcp.MaxPageSize = 7;
        gcp.Seed(generated);
        var kubernetes = await FakeKubernetesServer.StartAsync(TerraformRbac.Options("janitor", JanitorTestConfig.Scoped.WorkflowNamespaces[0]));
        var rig = new SweepRig(gcp, kubernetes, EmulatorFirestore.NewClient(emulators, "jan"), generated, new ShiftedClock(now));
        await rig.SeedKubernetesAndLeaksAsync();
        return rig;
    }

    /// <summary>What <c>kfci janitor plan</c> decides on the same inventory at the sweep's clock, leaving out types whose API is disabled.</summary>
    public IReadOnlyList<JanitorDecision> ExpectedPlan(JanitorConfig config, params ResourceType[] unlisted) =>
        new JanitorPlanner(config).Plan(
            Inventory.Where(resource => config.Types.Contains(resource.Type) && !unlisted.Contains(resource.Type))
                .Select(resource => resource.Type == ResourceType.ServiceAccount && resource.FirstSeen is null ? resource with { FirstSeen = Clock.GetUtcNow() } : resource),
            Clock.GetUtcNow());

    public async ValueTask DisposeAsync()
    {
        Sweeper.Dispose();
        _loggers.Dispose();
        await Gcp.DisposeAsync();
        await Kubernetes.DisposeAsync();
    }

    private async Task SeedKubernetesAndLeaksAsync()
    {
        var inventory = new List<CloudResource>();
        foreach (var ns in new[] { "kubeflow-test-infra", "default" })
        {
            if (Kubernetes.Get(FakeResource.Namespaces, "", ns) is null)
            {
                Kubernetes.CreateNamespace(ns);
            }

            inventory.Add(new CloudResource(ResourceType.Namespace, ns) { Location = "kubeflow-testing", Created = Clock.GetUtcNow() });
        }

        foreach (var resource in Inventory)
        {
            switch (resource.Type)
            {
                case ResourceType.Namespace:
                    var stored = Kubernetes.CreateNamespace(resource.Name, resource.Labels);
                    inventory.Add(resource with { Created = DateTimeOffset.Parse(stored["metadata"]!["creationTimestamp"]!.ToString(), System.Globalization.CultureInfo.InvariantCulture) });
                    continue;
                case ResourceType.Workflow:
                    Kubernetes.Create(FakeResource.Workflows, resource.Namespace!, new JsonObject
                    {
                        ["metadata"] = new JsonObject { ["name"] = resource.Name, ["labels"] = new JsonObject([.. resource.Labels.Select(p => KeyValuePair.Create<string, JsonNode?>(p.Key, p.Value))]) },
                        ["spec"] = new JsonObject { ["entrypoint"] = "e2e" },
                        ["status"] = new JsonObject { ["phase"] = resource.Status, ["startedAt"] = resource.StartedAt!.Value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture) },
                    });
                    break;
                case ResourceType.ServiceAccount when resource.FirstSeen is { } firstSeen:
                    await Firestore.CreateIfAbsentAsync(FirestoreSweepStore.LeakPath(resource), new Dictionary<string, object?> { ["key"] = resource.Key, ["firstSeen"] = firstSeen });
                    break;
            }

            inventory.Add(resource);
        }

        Inventory = inventory;
    }
}

/// <summary>A clock that starts at a chosen instant and runs at real speed (timers are the system's).</summary>
internal sealed class ShiftedClock(DateTimeOffset start) : TimeProvider
{
    private readonly Stopwatch _elapsed = Stopwatch.StartNew();

    public override DateTimeOffset GetUtcNow() => start + _elapsed.Elapsed;
}
