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
    /// <param name="Events">Events per measurement.</param>
    /// <param name="Rate">Events per second the emulator is offered (push mode).</param>
    /// <param name="Concurrency">Requests in flight in direct mode (Cloud Run's default concurrency is 80; kfci deploys 40).</param>
    /// <param name="Mode">push (through the emulator), direct (straight to one instance), or both.</param>
    /// <param name="FloorDelayMs">The push floor's handler waits this long before answering: events/s × delay is how many pushes the emulator keeps in flight.</param>
    internal sealed record Settings(int Events, int Rate, int Concurrency = 40, string Mode = "both", int FloorDelayMs = 0)
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
                    "--concurrency" => settings with { Concurrency = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                    "--floor-delay-ms" => settings with { FloorDelayMs = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                    "--mode" => settings with { Mode = args[++i] is "push" or "direct" or "both" ? args[i] : throw new ArgumentException("--mode is push, direct or both") },
                    _ => throw new ArgumentException($"unknown option {args[i]}"),
                };
            }

            return settings;
        }

        public bool Push => Mode is "push" or "both";

        public bool Direct => Mode is "direct" or "both";
    }

    private const string Config = "workflows:\n- name: e2e\n  workflow: testing/e2e.yaml\n";

    private const string Workflow = "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  generateName: e2e-\nspec:\n  entrypoint: main\n  templates:\n  - name: main\n    container:\n      image: alpine\n      command: [echo, hi]\n";

    public static async Task<int> RunAsync(Settings settings)
    {
        var emulators = new EmulatorFixture();
        await emulators.InitializeAsync();
        try
        {
            Console.WriteLine($"{"",-40} {"events/s",9} {"p50 ms",8} {"p99 ms",8} {"max ms",8}");
            if (settings.Push)
            {
                var floor = await FloorAsync(emulators, settings);
                var trigger = await TriggerAsync(emulators, settings);
                Print("floor (emulator push → 204)", floor);
                Print("trigger (publish → workflow)", trigger);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio trigger/floor: throughput {trigger.Rate / floor.Rate:F2}, p50 {trigger.P50 / floor.P50:F1}x, p99 {trigger.P99 / floor.P99:F1}x"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"targets: throughput >= 0.9 of the floor {(trigger.Rate >= 0.9 * floor.Rate ? "met" : "MISSED")}; p50 <= 2x the floor's {(trigger.P50 <= 2 * floor.P50 ? "met" : "MISSED")}"));
            }

            if (settings.Direct)
            {
                var floor = await DirectFloorAsync(settings);
                var trigger = await DirectTriggerAsync(emulators, settings);
                Print($"direct floor (204 handler, {settings.Concurrency} in flight)", floor);
                Print($"direct trigger (one instance, {settings.Concurrency} in flight)", trigger);
            }

            return 0;
        }
        finally
        {
            await emulators.DisposeAsync();
        }
    }

    /// <summary>
    /// One Trigger instance as Cloud Run drives it: <see cref="Settings.Concurrency"/> push requests in flight, each
    /// answered after the event is handled (run recorded, workflow created, run.submitted published); events/s and
    /// request latency.
    /// </summary>
    private static async Task<Result> DirectTriggerAsync(EmulatorFixture emulators, Settings settings)
    {
        await using var stack = await TriggerStack.StartAsync(emulators);
        var sha = CreateBenchRepository(stack);
        using var http = new HttpClient { BaseAddress = stack.Endpoint };

        // Warm up: the first event reads git, JIT-compiles the path and opens the connections.
        await PostAsync(http, Event(sha, -1), 0);
        return await ClosedLoopAsync(settings, i => PostAsync(http, Event(sha, 2 * settings.Events + i), i));
    }

    /// <summary>The same requests to a handler that only answers 204: the host and client's own cost.</summary>
    private static async Task<Result> DirectFloorAsync(Settings settings)
    {
        var app = NoContentHandler(null, TimeSpan.Zero);
        await app.StartAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First() + "/") };
            await PostAsync(http, Event("0123456789abcdef0123456789abcdef01234567", -1), 0);
            return await ClosedLoopAsync(settings, i => PostAsync(http, Event("0123456789abcdef0123456789abcdef01234567", i), i));
        }
        finally
        {
            await app.DisposeAsync();
        }
    }

    private static async Task PostAsync(HttpClient http, string json, int i)
    {
        var envelope = new JsonObject
        {
            ["message"] = new JsonObject
            {
                ["data"] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(json)),
                ["messageId"] = $"direct-{i}",
                ["publishTime"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
                ["attributes"] = new JsonObject(),
            },
            ["subscription"] = "projects/bench/subscriptions/trigger-push",
        };
        using var content = new StringContent(envelope.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(new Uri(string.Empty, UriKind.Relative), content);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"event {i} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    /// <summary>Sends events 0..N-1 from <see cref="Settings.Concurrency"/> workers, each waiting for its answer before the next.</summary>
    private static async Task<Result> ClosedLoopAsync(Settings settings, Func<int, Task> send)
    {
        var latencies = new ConcurrentBag<double>();
        var next = -1;
        var start = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, settings.Concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < settings.Events)
            {
                var sent = Stopwatch.GetTimestamp();
                await send(i);
                latencies.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
            }
        })));
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var sorted = latencies.Order().ToList();
        return new Result(sorted.Count / seconds, Percentile(sorted, 0.50), Percentile(sorted, 0.99), sorted.LastOrDefault());
    }

    private static string CreateBenchRepository(TriggerStack stack)
    {
        var repository = stack.CreateRepository("kubeflow", "bench");
        repository.Write("README.md", "bench\n");
        repository.Commit("initial");
        repository.Write("prow_config.yaml", Config);
        repository.Write("testing/e2e.yaml", Workflow);
        return repository.Commit("tests");
    }

    /// <summary>A handler that reads the push and answers 204, noting each event's arrival when asked to.</summary>
    private static WebApplication NoContentHandler(ConcurrentDictionary<string, long>? received, TimeSpan delay)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.Run(async context =>
        {
            var envelope = await JsonNode.ParseAsync(context.Request.Body);
            var data = Convert.FromBase64String(envelope!["message"]!["data"]!.GetValue<string>());
            var key = JsonNode.Parse(data)!["gcs_path"]!.GetValue<string>();
            received?.TryAdd(key, Stopwatch.GetTimestamp());
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay);
            }

            context.Response.StatusCode = StatusCodes.Status204NoContent;
        });
        return app;
    }

    private sealed record Result(double Rate, double P50, double P99, double Max);

    private static void Print(string name, Result r) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-40} {r.Rate,9:F1} {r.P50,8:F1} {r.P99,8:F1} {r.Max,8:F1}"));

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
        var sha = CreateBenchRepository(stack);

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
        var app = NoContentHandler(received, TimeSpan.FromMilliseconds(settings.FloorDelayMs));
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
