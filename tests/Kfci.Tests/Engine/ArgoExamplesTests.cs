using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Kfci.Cli.Engine;
using Kfci.Kubernetes;
using Kfci.Testing;
using Xunit.Abstractions;

namespace Kfci.Tests.Engine;

/// <summary>
/// Argo's own example workflows (tests/fixtures/argo/examples) on the local engine: every example that uses only
/// supported features and the host's tools runs and must end in the phase its author meant; the rest are listed as
/// skipped with the reason. The table goes to the test output (and to $KFCI_EXAMPLES_REPORT when set).
/// </summary>
public sealed partial class ArgoExamplesTests(ITestOutputHelper output)
{
    private const int MaxSleepSeconds = 5;

    // Examples whose authors meant them to fail (an intentional non-zero exit), by file name.
    private static readonly Dictionary<string, string> s_expectedPhase = new(StringComparer.Ordinal)
    {
        ["exit-handlers.yaml"] = "Failed",
        ["exit-handler-step-level.yaml"] = "Failed",
        ["dag-disable-failFast.yaml"] = "Failed",
        ["retry-conditional.yaml"] = "Failed",
        ["exit-code-output-variable.yaml"] = "Failed",
        ["template-on-exit.yaml"] = "Failed",
        ["timeouts-step.yaml"] = "Failed",
        ["dag-continue-on-fail.yaml"] = "Failed",
        ["pod-gc-strategy.yaml"] = "Failed",
        ["pod-gc-strategy-with-label-selector.yaml"] = "Failed",
    };

    // Examples that run for long by design, in ways the sleep heuristic cannot see.
    private static readonly Dictionary<string, string> s_longRunning = new(StringComparer.Ordinal)
    {
        ["forever.yaml"] = "prints for 1000 s by design",
        ["colored-logs.yaml"] = "prints for 99 s by design",
        ["loops-param-result.yaml"] = "sleeps 20-22 s (seconds computed by a step)",
        ["coinflip-recursive.yaml"] = "recursion of random length (python steps until heads)",
        ["dag-coinflip.yaml"] = "recursion of random length (python steps until heads)",
        ["recursive-for-loop.yaml"] = "recursion of ~20 python steps, too slow for CI on 2 cores",
        ["retry-container.yaml"] = "outcome random (random exit codes, limited retries)",
        ["retry-container-to-completion.yaml"] = "random exit codes retried without limit: unbounded time",
        ["retry-on-error.yaml"] = "outcome random (random exit codes, limited retries)",
        ["retry-script.yaml"] = "outcome random (random exit codes, limited retries)",
        ["retry-with-steps.yaml"] = "outcome random (random exit codes, limited retries)",
        ["resubmit.yaml"] = "outcome random (random failures)",
        ["exit-handler-slack.yaml"] = "needs network access to hooks.slack.com",
    };

    [Fact]
    public async Task Examples_SupportedOnes_EndInTheirAuthorsPhase()
    {
        await using var harness = EngineHarness.Start(maxParallelSteps: 16);
        var rows = new ConcurrentBag<(string File, string Outcome, string Detail)>();
        var runs = new List<Task>();
        foreach (var file in Directory.EnumerateFiles(Fixtures.PathOf("argo/examples"), "*.yaml").Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(file);
            var text = await File.ReadAllTextAsync(file);
            if ((s_longRunning.TryGetValue(name, out var longRunning) ? longRunning : SkipReason(text)) is { } reason)
            {
                rows.Add((name, "skipped", reason));
                continue;
            }

            runs.Add(RunAsync(harness, name, YamlJson.ParseObject(text), rows));
        }

        await Task.WhenAll(runs);
        var table = Table(rows);
        output.WriteLine(table);
        if (Environment.GetEnvironmentVariable("KFCI_EXAMPLES_REPORT") is { Length: > 0 } report)
        {
            await File.WriteAllTextAsync(report, table);
        }

        var wrong = rows.Where(r => r.Outcome == "WRONG").ToList();
        Assert.True(wrong.Count == 0, "examples that ended in the wrong phase:\n" + string.Join('\n', wrong.Select(w => $"{w.File}: {w.Detail}")));
        Assert.True(rows.Count(r => r.Outcome == "ran") >= 20, "fewer than 20 examples ran:\n" + table);
    }

    /// <summary>
    /// All examples run at once and each takes a few seconds alone; the bound is generous because a loaded 2-core
    /// machine (several builds beside the suite) stretched python-step examples past 30 s.
    /// </summary>
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(120);

    private static async Task RunAsync(EngineHarness harness, string file, JsonObject workflow, ConcurrentBag<(string, string, string)> rows)
    {
        var expected = s_expectedPhase.GetValueOrDefault(file, "Succeeded");
        var created = await harness.Engine.CreateWorkflowAsync(EngineHarness.Namespace, workflow, CancellationToken.None);
        JsonObject finished;
        try
        {
            finished = await harness.WaitCompletedAsync(created.Name!, s_patience);
        }
        catch (OperationCanceledException)
        {
            var current = await harness.Engine.GetWorkflowAsync(EngineHarness.Namespace, created.Name!, CancellationToken.None);
            var running = EngineHarness.Nodes(current!).Where(n => n["phase"]?.ToString() is "Running" or "Pending").Select(n => n["name"]?.ToString());
            rows.Add((file, "WRONG", $"did not finish in {s_patience.TotalSeconds:0}s; still running: {string.Join(", ", running)}"));
            await harness.Engine.PatchWorkflowAsync(EngineHarness.Namespace, created.Name!, new JsonObject { ["spec"] = new JsonObject { ["shutdown"] = "Terminate" } }, CancellationToken.None);
            return;
        }

        var phase = finished.Phase;
        var message = finished["status"]?["message"]?.ToString();
        rows.Add(phase == expected
            ? (file, "ran", phase)
            : (file, "WRONG", $"{phase} (expected {expected}): {message}"));
    }

    /// <summary>Why an example is not run, or null: not a Workflow, an unsupported field, a missing host tool, or a long sleep.</summary>
    private static string? SkipReason(string text)
    {
        JsonObject workflow;
        try
        {
            workflow = YamlJson.ParseObject(text);
        }
        catch (FormatException e)
        {
            return $"not parseable: {e.Message}";
        }

        if (workflow["kind"]?.ToString() != "Workflow")
        {
            return $"a {workflow["kind"]}, not a Workflow";
        }

        if (SpecValidator.FindUnsupported(workflow) is { } unsupported)
        {
            return unsupported.Replace("the local engine does not support ", "unsupported: ", StringComparison.Ordinal);
        }

        foreach (var template in (workflow["spec"]?["templates"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if ((template["container"] ?? template["script"]) is not JsonObject container)
            {
                continue;
            }

            var program = (container["command"] as JsonArray)?.FirstOrDefault()?.ToString();
            if (program is null)
            {
                return $"needs the image's entrypoint ({container["image"]}): template '{template["name"]}' has no command";
            }

            if (StepProcess.FindOnPath(program, Environment.GetEnvironmentVariable("PATH")) is null)
            {
                return $"needs tool {program} (image {container["image"]})";
            }
        }

        // A short deadline ends a long sleep: such examples are meant to time out, and do so quickly.
        if (Deadline().Match(text) is { Success: true } deadline && int.Parse(deadline.Groups["s"].Value, System.Globalization.CultureInfo.InvariantCulture) <= 10)
        {
            return null;
        }

        var longest = Sleep().Matches(text).Select(SleepSeconds).DefaultIfEmpty(0).Max();
        return longest > MaxSleepSeconds ? $"sleeps {longest}s" : null;
    }

    private static string Table(IEnumerable<(string File, string Outcome, string Detail)> rows)
    {
        var sorted = rows.OrderBy(r => r.Outcome, StringComparer.Ordinal).ThenBy(r => r.File, StringComparer.Ordinal).ToList();
        var text = new StringBuilder();
        text.AppendLine(System.Globalization.CultureInfo.InvariantCulture,
            $"Argo examples on the local engine: {sorted.Count(r => r.Outcome == "ran")} ran as meant, {sorted.Count(r => r.Outcome == "WRONG")} wrong, {sorted.Count(r => r.Outcome == "skipped")} skipped");
        text.AppendLine();
        text.AppendLine("| example | outcome | phase / reason |");
        text.AppendLine("|---|---|---|");
        foreach (var (file, outcome, detail) in sorted)
        {
            text.AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"| {file} | {outcome} | {detail.Replace("|", "\\|", StringComparison.Ordinal)} |");
        }

        return text.ToString();
    }

    private static int SleepSeconds(Match match) =>
        int.Parse(match.Groups["s"].Value, System.Globalization.CultureInfo.InvariantCulture) * match.Groups["unit"].Value switch
        {
            "m" => 60,
            "h" => 3600,
            "d" => 86400,
            _ => 1,
        };

    [GeneratedRegex(@"sleep\W{0,4}(?<s>\d+)(?<unit>[smhd]?)")]
    private static partial Regex Sleep();

    [GeneratedRegex(@"activeDeadlineSeconds:\s*""?(?<s>\d+)")]
    private static partial Regex Deadline();
}
