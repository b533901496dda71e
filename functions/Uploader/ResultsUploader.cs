using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml;
using Kfci.Argo;
using Kfci.Http;
using Kfci.Kubernetes;
using Kfci.Runs;
using Kfci.Storage;
using Microsoft.Extensions.Logging;

namespace Kfci.Functions.Uploader;

/// <summary>
/// What a completed run's upload found: junit failures (steps' own reports), per-step log links for the metadata, and each
/// workflow's test cases under their stable junit names (the dashboard's grid and flakiness read them).
/// </summary>
public sealed record UploadSummary(int JunitFailures, IReadOnlyDictionary<string, string> Metadata)
{
    public IReadOnlyList<WorkflowTestSummary> Tests { get; init; } = [];
}

/// <summary>
/// Writes a run's results into the results store in Prow's layout: <c>started.json</c>; and, once the run completed, per
/// workflow its object, every step's log, a synthesized junit report, the failed steps' pod info and the junit reports the
/// steps wrote, then <c>build-log.txt</c>. Everything is streamed and uploaded in parallel with a bound; each upload is
/// retried on its own when the cluster or the store fails transiently, so one dropped log stream does not redo the rest.
/// <c>finished.json</c> is not written here: the caller writes it last.
/// </summary>
public sealed class ResultsUploader(IResultsStore store, IWorkflowCluster cluster, UploaderSettings settings, ILogger<ResultsUploader> logger)
{
    private static readonly ObjectWriteOptions s_json = new() { ContentType = "application/json" };
    private static readonly ObjectWriteOptions s_text = new() { ContentType = "text/plain; charset=utf-8" };
    private static readonly ObjectWriteOptions s_xml = new() { ContentType = "application/xml" };
    private static readonly ObjectWriteOptions s_yaml = new() { ContentType = "application/yaml" };

    private readonly RetryPolicy _retry = new(settings.Retry);

    public Task WriteStartedAsync(RunRecord run, BuildResults build, CancellationToken cancellationToken) =>
        WriteBytesAsync(build.StartedJson, ProwMetadata.Started(run, build.Refs), s_json, cancellationToken);

    /// <summary>Uploads everything but <c>finished.json</c>; the same run gives the same objects on every call.</summary>
    public async Task<UploadSummary> UploadAsync(RunRecord run, BuildResults build, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(build);
        var workflows = new List<WorkflowResults>();
        foreach (var record in run.Workflows)
        {
            var obj = await cluster.GetWorkflowAsync(record.Namespace, record.Name, cancellationToken);
            workflows.Add(new WorkflowResults(record, obj, obj is null ? [] : WorkflowSteps.Read(obj)));
        }

        var unavailable = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        var failures = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var leftOut = new List<string>();
        var jobs = new List<Func<CancellationToken, Task>>();
        foreach (var workflow in workflows)
        {
            var name = workflow.Record.Name;
            if (workflow.Object is { } obj)
            {
                jobs.Add(token => WriteYamlAsync(build, build.WorkflowYaml(name), obj, token));
            }

            foreach (var step in workflow.Steps)
            {
                jobs.Add(token => UploadStepAsync(build, workflow.Record, step, unavailable, token));
            }

            foreach (var job in await CollectJunitJobsAsync(build, name, failures, leftOut, cancellationToken))
            {
                jobs.Add(job);
            }
        }

        await Parallel.ForEachAsync(
            jobs,
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, settings.Parallelism), CancellationToken = cancellationToken },
            (job, token) => new ValueTask(_retry.ExecuteAsync(async t => await job(t), token).AsTask()));

        // The synthesized reports and the combined log need every step's log outcome, so they come after.
        foreach (var workflow in workflows.Where(w => w.Object is not null))
        {
            var reasons = workflow.Steps.Where(s => unavailable.ContainsKey(Key(workflow.Record.Name, s)))
                .ToDictionary(s => s.NodeId, s => unavailable[Key(workflow.Record.Name, s)], StringComparer.Ordinal);
            await _retry.ExecuteAsync(
                async token =>
                {
                    using var buffer = new MemoryStream();
                    await Junit.WriteAsync(buffer, workflow.Record.StableName, workflow.Record.Name, workflow.Steps, reasons);
                    buffer.Position = 0;
                    await WriteAsync(build, build.SynthesizedJunit(workflow.Record.Name), buffer, s_xml, token);
                },
                cancellationToken);
        }

        await _retry.ExecuteAsync(
            async token =>
            {
                await using var log = new ConcatenatedStream(BuildLogSources(run, build, workflows, unavailable, leftOut));
                await WriteAsync(build, build.BuildLog, log, s_text, token);
            },
            cancellationToken);

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var workflow in workflows)
        {
            foreach (var step in workflow.Steps)
            {
                metadata[$"{workflow.Record.Name}.{step.FileName}-logs"] = LogsLink(workflow.Record.Namespace, step);
            }
        }

        return new UploadSummary(failures.Values.Sum(), metadata)
        {
            Tests = [.. workflows.Where(w => w.Object is not null).Select(w => WorkflowTestSummary.For(run, w.Record, TestCases(build, w.Record.Name, w.Steps)))],
        };
    }

    /// <summary>The cases of the synthesized report, as the grid shows them: the same names, results and messages.</summary>
    private static IEnumerable<TestCaseResult> TestCases(BuildResults build, string workflowName, IReadOnlyList<WorkflowStep> steps)
    {
        var first = steps.Select(s => s.StartedAt).Where(t => t is not null).DefaultIfEmpty(null).Min();
        return steps.Select(step => new TestCaseResult(
            Junit.StableTestName(workflowName, step.DisplayName),
            step.IsFailed ? TestOutcomes.Fail : step.Phase is "Skipped" or "Omitted" ? TestOutcomes.Skip : TestOutcomes.Pass,
            step.Seconds,
            step.IsFailed ? step.Message ?? $"step {step.Phase.ToLowerInvariant()}" : null,
            step.StartedAt is { } start && first is { } zero ? (start - zero).TotalSeconds : null,
            build.StepLog(workflowName, step)[(build.Directory.Length + 1)..]));
    }

    /// <summary>The Cloud Logging query for a step's container, over the step's time range.</summary>
    public string LogsLink(string ns, WorkflowStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        var query = $"""
            resource.type="k8s_container"
            resource.labels.namespace_name="{ns}"
            resource.labels.pod_name="{step.PodName}"
            resource.labels.container_name="main"
            """;
        var link = "https://console.cloud.google.com/logs/query;query=" + Uri.EscapeDataString(query);
        if (step.StartedAt is { } start)
        {
            var end = step.FinishedAt ?? start.AddHours(3);
            link += ";timeRange=" + Uri.EscapeDataString($"{Rfc3339(start.AddMinutes(-1))}/{Rfc3339(end.AddMinutes(5))}");
        }

        return settings.LogsProject is { } project ? $"{link}?project={Uri.EscapeDataString(project)}" : link;
    }

    internal async Task WriteBytesAsync(string path, byte[] bytes, ObjectWriteOptions options, CancellationToken cancellationToken)
    {
        using var content = new MemoryStream(bytes, writable: false);
        await store.WriteAsync(path, content, options, cancellationToken);
    }

    /// <summary>Every write into a build goes through here: kfci never writes a name its build folder does not let it (Prow's files).</summary>
    /// <exception cref="InvalidOperationException">A write outside what kfci owns in this build: a defect, never retried.</exception>
    private Task<StoredObject?> WriteAsync(BuildResults build, string path, Stream content, ObjectWriteOptions? options, CancellationToken cancellationToken) =>
        build.MayWrite(path)
            ? store.WriteAsync(path, content, options, cancellationToken)
            : throw new InvalidOperationException($"kfci does not own {store.Describe(path)} (Prow-owned build: only artifacts/ is kfci's)");

    private async Task WriteYamlAsync(BuildResults build, string path, JsonObject workflow, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await using (var writer = new StreamWriter(buffer, new UTF8Encoding(false), leaveOpen: true))
        {
            YamlText.Write(writer, (JsonObject)SecretRedaction.Redact(workflow)!);
        }

        buffer.Position = 0;
        await WriteAsync(build, path, buffer, s_yaml, cancellationToken);
    }

    /// <summary>A step's log into the store (streamed from the API server) and, for a failed step, its pod info.</summary>
    private async Task UploadStepAsync(BuildResults build, WorkflowRecord workflow, WorkflowStep step, ConcurrentDictionary<string, string> unavailable, CancellationToken cancellationToken)
    {
        var pod = await cluster.GetPodAsync(workflow.Namespace, step.PodName, cancellationToken);
        if (step.IsFailed)
        {
            await WritePodInfoAsync(build, build.PodInfo(workflow.Name, step), workflow.Namespace, step.PodName, pod, cancellationToken);
        }

        if (pod is null)
        {
            unavailable[Key(workflow.Name, step)] = $"pod {step.PodName} no longer exists";
            return;
        }

        Stream log;
        try
        {
            log = await cluster.OpenPodLogAsync(workflow.Namespace, step.PodName, new PodLogOptions { Container = MainContainer(pod) }, cancellationToken);
        }
        catch (ApiException e) when (e.Status is HttpStatusCode.NotFound or HttpStatusCode.BadRequest)
        {
            // 400 is what the API server answers when the container is gone or never started.
            unavailable[Key(workflow.Name, step)] = $"the log of pod {step.PodName} is gone ({(int)e.Status}: {e.Message})";
            return;
        }

        await using (log)
        {
            await WriteAsync(build, build.StepLog(workflow.Name, step), log, s_text, cancellationToken);
        }

        unavailable.TryRemove(Key(workflow.Name, step), out _);
    }

    /// <summary>Prow's <c>podinfo.json</c> shape: <c>{"pod": …, "events": […]}</c>; the pod is null when it was already deleted.</summary>
    private async Task WritePodInfoAsync(BuildResults build, string path, string ns, string podName, JsonObject? pod, CancellationToken cancellationToken)
    {
        var events = new JsonArray();
        await foreach (var e in cluster.ListEventsAsync(ns, podName, cancellationToken))
        {
            events.Add(e.Parent is null ? e : e.DeepClone());
        }

        var info = new JsonObject { ["pod"] = SecretRedaction.Redact(pod), ["events"] = events };
        using var content = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(info), writable: false);
        await WriteAsync(build, path, content, s_json, cancellationToken);
    }

    /// <summary>Why GCS would refuse <paramref name="objectName"/> (control characters, over 1024 bytes, '.' segments), printable; null when it is fine.</summary>
    private static string? UnnameableReason(string objectName)
    {
        try
        {
            ObjectPaths.Validate(objectName);
            return null;
        }
        catch (ArgumentException)
        {
            return "its object name would have control characters, a '.' or '..' segment or more than 1024 bytes";
        }
    }

    /// <summary>A file name fit for a log line: control characters become '?', and it is cut at 200 characters.</summary>
    private static string Printable(string name) =>
        string.Concat(name.Take(200).Select(c => char.IsControl(c) ? '?' : c)) + (name.Length > 200 ? "…" : "");

    /// <summary>
    /// One job per file a workflow's steps wrote under its <c>artifacts_dir</c> on the NFS volume (the local stack's
    /// directory, or the Filestore share the Uploader mounts read-only in the cloud; see <see cref="ArtifactsDirectory"/>
    /// for what is collected): junit reports are counted (by source, so a retried job does not count twice) and kept
    /// under a name of their own, other files under <c>artifacts/&lt;workflow&gt;/</c>. Without a volume, the junit
    /// reports a workflow copied to <c>artifacts/&lt;workflow&gt;/</c> itself are counted and renamed the same way.
    /// </summary>
    private async Task<List<Func<CancellationToken, Task>>> CollectJunitJobsAsync(
        BuildResults build, string workflow, ConcurrentDictionary<string, int> failures, List<string> leftOut, CancellationToken cancellationToken)
    {
        var jobs = new List<Func<CancellationToken, Task>>();
        if (settings.NfsRoot is { } nfs)
        {
            var listing = ArtifactsDirectory.Collect(nfs, workflow, settings.ArtifactLimits);
            foreach (var why in listing.LeftOut)
            {
                logger.LogWarning("Workflow {Workflow}: artifact left out: {Reason}", workflow, why);
                leftOut.Add($"{workflow}: artifact left out: {why}");
            }

            foreach (var file in listing.Files)
            {
                var objectName = Junit.IsReportName(Path.GetFileName(file.RelativePath))
                    ? build.CollectedJunit(workflow, file.RelativePath)
                    : build.WorkflowArtifact(workflow, file.RelativePath);
                if (UnnameableReason(objectName) is { } unnameable)
                {
                    // The code under test chose the file name: one GCS refuses must not fail (and wedge) the whole run.
                    logger.LogWarning("Workflow {Workflow}: artifact left out: {Reason}", workflow, unnameable);
                    leftOut.Add($"{workflow}: artifact left out: {Printable(file.RelativePath)}: {unnameable}");
                    continue;
                }

                if (Junit.IsReportName(Path.GetFileName(file.RelativePath)))
                {
                    jobs.Add(async token =>
                    {
                        failures[file.FullPath] = await CountAsync(ArtifactsDirectory.Open(file), file.FullPath, token);
                        await using var content = ArtifactsDirectory.Open(file);
                        await WriteAsync(build, build.CollectedJunit(workflow, file.RelativePath), content, s_xml, token);
                    });
                }
                else
                {
                    jobs.Add(async token =>
                    {
                        await using var content = ArtifactsDirectory.Open(file);
                        await WriteAsync(build, build.WorkflowArtifact(workflow, file.RelativePath), content, null, token);
                    });
                }
            }

            return jobs;
        }

        // In the cloud the exit handler copied the workflow's artifacts to artifacts/<workflow>/ in the build directory.
        var prefix = build.WorkflowArtifact(workflow, "");
        await foreach (var entry in store.ListAsync(prefix, null, cancellationToken))
        {
            var relative = entry.Name[prefix.Length..];
            if (entry.IsPrefix || !Junit.IsReportName(relative[(relative.LastIndexOf('/') + 1)..]))
            {
                continue;
            }

            jobs.Add(async token =>
            {
                var source = await store.OpenReadAsync(entry.Name, token);
                if (source is null)
                {
                    return;
                }

                failures[entry.Name] = await CountAsync(source, store.Describe(entry.Name), token);
                await using var content = await store.OpenReadAsync(entry.Name, token) ?? Stream.Null;
                await WriteAsync(build, build.CollectedJunit(workflow, relative), content, s_xml, token);
            });
        }

        return jobs;
    }

    /// <summary>A report that is not XML counts as one failure: whatever wrote it broke.</summary>
    private async Task<int> CountAsync(Stream report, string where, CancellationToken cancellationToken)
    {
        await using (report)
        {
            try
            {
                return await Junit.CountFailuresAsync(report, cancellationToken);
            }
            catch (XmlException e)
            {
                logger.LogWarning("Junit report {Report} is not well-formed XML ({Error}); counted as a failure", where, e.Message);
                return 1;
            }
        }
    }

    private IEnumerable<Func<CancellationToken, Task<Stream>>> BuildLogSources(
        RunRecord run, BuildResults build, List<WorkflowResults> workflows, ConcurrentDictionary<string, string> unavailable, IReadOnlyList<string> leftOut)
    {
        var intro = new StringBuilder();
        intro.Append(CultureInfo.InvariantCulture, $"kfci run {run.RunId}: job {run.JobName}, build {run.BuildId}, {workflows.Count} workflow(s)\n");
        foreach (var error in run.Errors)
        {
            intro.Append(CultureInfo.InvariantCulture, $"error: {error}\n");
        }

        foreach (var line in leftOut)
        {
            intro.Append(CultureInfo.InvariantCulture, $"{line}\n");
        }

        yield return ConcatenatedStream.Text(intro.ToString());
        foreach (var workflow in workflows)
        {
            var record = workflow.Record;
            yield return ConcatenatedStream.Text(
                $"\n=== workflow {record.Name}: {record.Phase ?? "Unknown"}, started {Rfc3339(record.StartedAt)}, finished {Rfc3339(record.FinishedAt)}"
                + (record.Message is { Length: > 0 } m ? $": {m}" : "") + " ===\n"
                + (workflow.Object is null ? "(the workflow object is no longer in the cluster: no step logs)\n" : ""));
            foreach (var step in workflow.Steps)
            {
                yield return ConcatenatedStream.Text(
                    $"\n--- {record.Name} / {step.DisplayName} ({step.NodeName}, pod {step.PodName}): {step.Phase}, started {Rfc3339(step.StartedAt)}, finished {Rfc3339(step.FinishedAt)}"
                    + (step.Message is { Length: > 0 } sm ? $": {sm}" : "") + " ---\n");
                if (unavailable.TryGetValue(Key(record.Name, step), out var why))
                {
                    yield return ConcatenatedStream.Text($"(log unavailable: {why})\n");
                    continue;
                }

                var path = build.StepLog(record.Name, step);
                yield return async token => await store.OpenReadAsync(path, token) ?? new MemoryStream(Encoding.UTF8.GetBytes("(log missing from the results store)\n"));
            }
        }
    }

    private static string MainContainer(JsonObject pod) =>
        pod["spec"]?["containers"] is JsonArray containers && containers.Count > 0
            ? containers.Select(c => c?["name"]?.GetValue<string>()).FirstOrDefault(n => n == "main") ?? containers[0]?["name"]?.GetValue<string>() ?? "main"
            : "main";

    private static string Key(string workflow, WorkflowStep step) => $"{workflow}/{step.NodeId}";

    private static string Rfc3339(DateTimeOffset? time) => time?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "-";

    private sealed record WorkflowResults(WorkflowRecord Record, JsonObject? Object, IReadOnlyList<WorkflowStep> Steps);
}
