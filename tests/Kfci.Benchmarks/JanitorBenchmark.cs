using System.Diagnostics;
using System.Globalization;
using Kfci.Http;
using Kfci.Janitor;
using Kfci.Janitor.Gcp;
using Kfci.Testing.Gcp;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kfci.Benchmarks;

/// <summary>
/// A full sweep of a generated inventory on the GCP fake with simulated latency on every API call: kfci's sweep
/// (parallel deletes within a type, types in order, per-API rate limit) beside a one-at-a-time sweep of the same
/// inventory, the way the old tools deleted (one call, wait for its operation, next). Both re-seed the fake first.
/// </summary>
internal static class JanitorBenchmark
{
    internal sealed record Settings(int Resources, int LatencyMs, int Runs, int Parallelism, int Rate, bool Baseline)
    {
        public static Settings Parse(string[] args)
        {
            var settings = new Settings(10_000, 20, 3, 32, 1000, true);
            for (var i = 0; i < args.Length; i++)
            {
                settings = args[i] switch
                {
                    "--resources" => settings with { Resources = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                    "--latency-ms" => settings with { LatencyMs = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                    "--runs" => settings with { Runs = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                    "--parallelism" => settings with { Parallelism = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                    "--rate" => settings with { Rate = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                    "--no-baseline" => settings with { Baseline = false },
                    _ => throw new ArgumentException($"unknown option {args[i]}"),
                };
            }

            return settings;
        }
    }

    private sealed record Sample(TimeSpan Duration, int Calls, int Deletes, int Planned, int Listed, string Outcome);

    public static async Task<int> RunAsync(Settings settings)
    {
        var now = DateTimeOffset.UtcNow;
        // Workflows and namespaces live in the Kubernetes fake: generate enough to leave `Resources` GCP ones.
        var inventory = FakeGcpInventory.Generate(settings.Resources * 17 / 15 + 1, now)
            .Where(r => r.Type is not (ResourceType.Workflow or ResourceType.Namespace)).Take(settings.Resources).ToList();
        Console.WriteLine($"janitor sweep: {inventory.Count} GCP resources, {settings.LatencyMs} ms per API call, operations done after one poll");
        Console.WriteLine($"kfci: parallelism {settings.Parallelism} per type, {settings.Rate} deletes/s per API; median of {settings.Runs} runs");

        var samples = new List<Sample>();
        for (var run = 0; run < settings.Runs; run++)
        {
            samples.Add(await SweepOnceAsync(inventory, now, settings, settings.Parallelism));
            Print($"kfci run {run + 1}", samples[^1]);
        }

        var ordered = samples.OrderBy(s => s.Duration).ToList();
        var median = ordered[ordered.Count / 2];
        Print("kfci median", median);
        if (settings.Baseline)
        {
            var baseline = await SweepOnceAsync(inventory, now, settings, parallelism: 1);
            Print("one-at-a-time", baseline);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"speed-up: {baseline.Duration / median.Duration:0.0}x (target >= 10x); kfci median {median.Duration.TotalSeconds:0.0} s (target <= 30 s)"));
        }

        return 0;
    }

    private static async Task<Sample> SweepOnceAsync(IReadOnlyList<CloudResource> inventory, DateTimeOffset now, Settings settings, int parallelism)
    {
        await using var gcp = await FakeGcpServer.StartAsync();
        gcp.Seed(inventory);
        gcp.Latency = TimeSpan.FromMilliseconds(settings.LatencyMs);
        var endpoints = GcpEndpoints.SingleServer(gcp.BaseAddress);
        // The fake finishes an operation at its first read, so poll as soon as a round trip allows.
        var polling = new OperationPolling { Interval = TimeSpan.FromMilliseconds(settings.LatencyMs) };
        var apis = new IResourceApi[]
        {
            new ComputeApi(endpoints.Compute.CreateClient(), polling),
            new ContainerApi(endpoints.Container.CreateClient(), polling),
            new DeploymentManagerApi(endpoints.DeploymentManager.CreateClient(), polling),
            new IamApi(endpoints.Iam.CreateClient()),
        };
        var config = JanitorConfig.Default with { Projects = ["kubeflow-ci"], TestCluster = "kubeflow-testing", Zones = ["us-east1-b", "us-east1-c", "us-east1-d", "us-central1-a"], Regions = ["us-east1", "us-central1"] };
        using var sweeper = new Sweeper(apis, new InMemorySweepStore(), new FixedStart(now), NullLogger<Sweeper>.Instance,
            new SweepOptions { Parallelism = parallelism, DeletesPerSecond = settings.Rate });
        var clock = Stopwatch.StartNew();
        var report = await sweeper.SweepAsync($"bench-{parallelism}", config, CancellationToken.None);
        clock.Stop();
        return new Sample(clock.Elapsed, gcp.Requests.Count, report.Deleted, report.Planned, report.Types.Sum(t => t.Listed), report.Outcome);
    }

    private static void Print(string label, Sample sample) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{label,-16} {sample.Duration.TotalSeconds,7:0.0} s  {sample.Calls,6} API calls  listed {sample.Listed}  deleted {sample.Deletes}/{sample.Planned}  {sample.Outcome}"));

    /// <summary>The clock the inventory was generated at, running on from there: ages stay as generated.</summary>
    private sealed class FixedStart(DateTimeOffset start) : TimeProvider
    {
        private readonly Stopwatch _elapsed = Stopwatch.StartNew();

        public override DateTimeOffset GetUtcNow() => start + _elapsed.Elapsed;
    }
}
