using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Kfci.Cli.Engine;
using Kfci.Kubernetes;

namespace Kfci.Benchmarks;

/// <summary>
/// The local engine's cost per step: a workflow of N sequential steps running <c>true</c> (without volumes, and with
/// a volume, i.e. under bubblewrap), against the baseline of starting <c>true</c> N times directly, in the same run.
/// Reports per-step medians over several runs and the ratio to the baseline.
/// </summary>
internal static class EngineBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var steps = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20;
        const int Runs = 5;
        var home = Directory.CreateTempSubdirectory("kfci-engine-bench-").FullName;
        try
        {
            await using var engine = new LocalWorkflowEngine(EngineOptions.ForHome(home));
            var baseline = new List<double>();
            var plain = new List<double>();
            var sandboxed = new List<double>();
            for (var run = 0; run < Runs; run++)
            {
                baseline.Add(await BaselineAsync(steps) / steps);
                plain.Add(await WorkflowAsync(engine, $"plain-{run}", steps, volume: false) / steps);
                sandboxed.Add(await WorkflowAsync(engine, $"bwrap-{run}", steps, volume: true) / steps);
            }

            var b = Median(baseline);
            Console.WriteLine($"per step over {steps} sequential steps, median of {Runs} runs:");
            Console.WriteLine($"  process start (baseline)   {b,8:F1} ms");
            Console.WriteLine($"  engine step                {Median(plain),8:F1} ms  ({Median(plain) / b:F1}x, overhead {Median(plain) - b:F1} ms)");
            Console.WriteLine($"  engine step with a volume  {Median(sandboxed),8:F1} ms  ({Median(sandboxed) / b:F1}x, overhead {Median(sandboxed) - b:F1} ms)");
            return 0;
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    private static async Task<double> BaselineAsync(int steps)
    {
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < steps; i++)
        {
            using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true })!;
            await process.WaitForExitAsync();
        }

        return clock.Elapsed.TotalMilliseconds;
    }

    private static async Task<double> WorkflowAsync(LocalWorkflowEngine engine, string name, int steps, bool volume)
    {
        var groups = new JsonArray([.. Enumerable.Range(0, steps).Select(i => (JsonNode)new JsonArray(new JsonObject { ["name"] = $"s{i}", ["template"] = "step" }))]);
        var container = new JsonObject { ["image"] = "alpine", ["command"] = new JsonArray("true") };
        if (volume)
        {
            container["volumeMounts"] = new JsonArray(new JsonObject { ["name"] = "nfs", ["mountPath"] = "/mnt/test-data-volume" });
        }

        var workflow = new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = name },
            ["spec"] = new JsonObject
            {
                ["entrypoint"] = "main",
                ["volumes"] = new JsonArray(new JsonObject { ["name"] = "nfs", ["persistentVolumeClaim"] = new JsonObject { ["claimName"] = "nfs-external" } }),
                ["templates"] = new JsonArray(
                    new JsonObject { ["name"] = "main", ["steps"] = groups },
                    new JsonObject { ["name"] = "step", ["container"] = container }),
            },
        };
        var clock = Stopwatch.StartNew();
        await engine.CreateWorkflowAsync("default", workflow, CancellationToken.None);
        while ((await engine.GetWorkflowAsync("default", name, CancellationToken.None))?.Labels.GetValueOrDefault(ArgoNames.CompletedLabel) != "true")
        {
            await Task.Delay(5);
        }

        return clock.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
