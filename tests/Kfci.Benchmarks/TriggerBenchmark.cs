using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Kfci.Kubernetes;
using Kfci.Prow;
using Kfci.Runs;
using Kfci.Testing;
using Kfci.Testing.Kubernetes;
using Kfci.Testing.Trigger;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Kfci.Benchmarks;

/// <summary>
/// Events through the Pub/Sub emulator's push subscription into the Trigger (Firestore emulator, Kubernetes fake,
/// a local git repository), published at a steady rate: throughput and publish → workflow-created latency. The floor
/// is the same emulator pushing the same events to a handler that only answers 204 (publish → request received).
/// </summary>
internal static class TriggerBenchmark
{
    internal sealed record Settings(int Events, int Rate)
    {
        public static Settings Parse(string[] args)
        {
            var settings = new Settings(1000, 100);
            for (var i = 0; i < args.Length; i++)
            {
                settings = args[i] switch
                {
                    "--events" => settings with { Events = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                    "--rate" => settings with { Rate = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                    _ => throw new ArgumentException($"unknown option {args[i]}"),
                };
            }

            return settings;
        }
    }

    private const string Config = "workflows:\n- name: e2e\n  workflow: testing/e2e.yaml\n";

    private const string Workflow = "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  generateName: e2e-\nspec:\n  entrypoint: main\n  templates:\n  - name: main\n    container:\n      image: alpine\n      command: [echo, hi]\n";

    public static async Task<int> RunAsync(Settings settings)
    {
        var emulators = new EmulatorFixture();
        await emulators.InitializeAsync();
        try
        {
            var floor = await FloorAsync(emulators, settings);
            var trigger = await TriggerAsync(emulators, settings);
            Console.WriteLine($"{"",-34} {"events/s",9} {"p50 ms",8} {"p99 ms",8} {"max ms",8}");
            Print("floor (emulator push → 204)", floor);
            Print("trigger (publish → workflow)", trigger);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio trigger/floor: throughput {trigger.Rate / floor.Rate:F2}, p50 {trigger.P50 / floor.P50:F1}x, p99 {trigger.P99 / floor.P99:F1}x"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"targets: >= 100 events/s {(trigger.Rate >= 100 ? "met" : "MISSED")}; p99 <= 250 ms {(trigger.P99 <= 250 ? "met" : "MISSED")}"));
            return 0;
        }
        finally
        {
            await emulators.DisposeAsync();
        }
    }

    private sealed record Result(double Rate, double P50, double P99, double Max);

    private static void Print(string name, Result r) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-34} {r.Rate,9:F1} {r.P50,8:F1} {r.P99,8:F1} {r.Max,8:F1}"));

    private static string Event(string sha, int i) => new JsonObject
    {
        ["status"] = "triggered",
        ["gcs_path"] = $"gs://bucket/logs/bench-postsubmit/{1000 + i}",
        ["refs"] = new JsonArray(new JsonObject { ["org"] = "kubeflow", ["repo"] = "bench", ["base_ref"] = "master", ["base_sha"] = sha }),
        ["job_type"] = "postsubmit",
        ["job_name"] = "bench-postsubmit",
    }.ToJsonString();

    private static async Task<Result> TriggerAsync(EmulatorFixture emulators, Settings settings)
    {
        await using var stack = await TriggerStack.StartAsync(emulators);
        var repository = stack.CreateRepository("kubeflow", "bench");
        repository.Write("README.md", "bench\n");
        repository.Commit("initial");
        repository.Write("prow_config.yaml", Config);
        repository.Write("testing/e2e.yaml", Workflow);
        var sha = repository.Commit("tests");

        var published = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var created = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        using var stop = new CancellationTokenSource();
        var watch = Task.Run(async () =>
        {
            try
            {
                await foreach (var change in stack.Kubernetes.WatchChangesAsync(FakeResource.Workflows, TriggerStack.Namespace, stop.Token))
                {
                    if (change.Type == "ADDED" && change.Resource.Labels.GetValueOrDefault(WorkflowLabels.RunId) is { } runId)
                    {
                        created.TryAdd(runId, Stopwatch.GetTimestamp());
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        });

        var result = await PaceAsync(settings, i => new RunIdentity("bench-postsubmit", (1000 + i).ToString(CultureInfo.InvariantCulture)).RunId,
            (i, key) => PublishTimedAsync(stack, Event(sha, i), key, published), published, created);
        await stop.CancelAsync();
        await watch;
        return result;
    }

    private static async Task<Result> FloorAsync(EmulatorFixture emulators, Settings settings)
    {
        var received = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.Run(async context =>
        {
            var envelope = await JsonNode.ParseAsync(context.Request.Body);
            var data = Convert.FromBase64String(envelope!["message"]!["data"]!.GetValue<string>());
            var key = JsonNode.Parse(data)!["gcs_path"]!.GetValue<string>();
            received.TryAdd(key, Stopwatch.GetTimestamp());
            context.Response.StatusCode = StatusCodes.Status204NoContent;
        });
        await app.StartAsync();
        try
        {
            await using var stack = await TriggerStack.StartAsync(emulators, pushEndpoint: new Uri(app.Urls.First() + "/"));
            var published = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
            return await PaceAsync(settings, i => $"gs://bucket/logs/bench-postsubmit/{1000 + i}",
                (i, key) => PublishTimedAsync(stack, Event("0123456789abcdef0123456789abcdef01234567", i), key, published), published, received);
        }
        finally
        {
            await app.DisposeAsync();
        }
    }

    private static async Task PublishTimedAsync(TriggerStack stack, string json, string key, ConcurrentDictionary<string, long> published)
    {
        published[key] = Stopwatch.GetTimestamp();
        await stack.PublishAsync(json);
    }

    /// <summary>Publishes event i at i/rate seconds (open loop), waits until every key arrived, and summarises.</summary>
    private static async Task<Result> PaceAsync(
        Settings settings, Func<int, string> keyOf, Func<int, string, Task> publish, ConcurrentDictionary<string, long> published, ConcurrentDictionary<string, long> arrived)
    {
        var start = Stopwatch.GetTimestamp();
        var sends = new List<Task>();
        for (var i = 0; i < settings.Events; i++)
        {
            var due = TimeSpan.FromSeconds((double)i / settings.Rate) - Stopwatch.GetElapsedTime(start);
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due);
            }

            sends.Add(publish(i, keyOf(i)));
        }

        await Task.WhenAll(sends);
        var deadline = Stopwatch.StartNew();
        while (arrived.Count < settings.Events && deadline.Elapsed < TimeSpan.FromMinutes(3))
        {
            await Task.Delay(20);
        }

        var latencies = Enumerable.Range(0, settings.Events).Select(keyOf)
            .Where(k => arrived.ContainsKey(k) && published.ContainsKey(k))
            .Select(k => Stopwatch.GetElapsedTime(published[k], arrived[k]).TotalMilliseconds)
            .Order().ToList();
        if (latencies.Count < settings.Events)
        {
            Console.Error.WriteLine($"only {latencies.Count} of {settings.Events} events arrived");
        }

        var last = arrived.Values.DefaultIfEmpty(start).Max();
        var seconds = Stopwatch.GetElapsedTime(start, last).TotalSeconds;
        return new Result(latencies.Count / seconds, Percentile(latencies, 0.50), Percentile(latencies, 0.99), latencies.LastOrDefault());
    }

    private static double Percentile(List<double> sorted, double q) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];
}
