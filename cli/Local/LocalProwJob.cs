using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Kfci.Prow;
using Kfci.PubSub;

namespace Kfci.Cli.Local;

/// <summary>
/// A Prow-owned build on the local stack, as Prow would run it: crier's Pub/Sub report of the new ProwJob goes to
/// <c>prow-events</c>, and the job's pod runs <c>kfci wait</c> with the environment Prow's decoration gives it. The
/// build folder is in the local bucket (<see cref="LocalBucket"/>), where Prow's own files would be.
/// </summary>
public sealed record LocalProwJob(JobType Type, string JobName, string BuildId, Refs Refs, string ProwJobId)
{
    private static readonly JsonSerializerOptions s_json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>A new build of <paramref name="jobName"/>, with a Prow-like 19-digit build id and a ProwJob uuid.</summary>
    public static LocalProwJob Create(JobType type, string jobName, Refs refs)
    {
        var prowJobId = Guid.NewGuid().ToString();
        return new LocalProwJob(type, jobName, ProwEventParser.BuildIdFor(prowJobId, DateTimeOffset.UtcNow), refs, prowJobId);
    }

    private ProwJobSpec Spec => Type == JobType.Periodic ? new(Type, JobName, BuildId, null, [Refs]) : new(Type, JobName, BuildId, Refs, []);

    /// <summary>The build's folder in the bucket, as Prow's pod utilities lay it out.</summary>
    public string Directory => ResultsLayout.Default.BuildDirectory(Type, JobName, BuildId, Refs.Org, Refs.Repo, Refs.FirstPull?.Number);

    /// <summary>
    /// Crier's <c>ReportMessage</c> for the ProwJob reaching <paramref name="status"/> (no attributes, as crier sends it).
    /// A <c>triggered</c> report has an empty url and gcs_path, as Prow's does: plank sets the URL only when it schedules
    /// the pod (<c>pending</c>).
    /// </summary>
    public OutgoingMessage CrierReport(string project, string status)
    {
        var scheduled = status != "triggered";
        var gcsPath = scheduled ? LocalBucket.Uri(Directory) : "";
        var report = new Report(
            project,
            KfciTopics.ProwEvents,
            "",
            status,
            scheduled ? $"http://localhost:8080/view/{gcsPath.Replace("gs://", "gs/", StringComparison.Ordinal)}" : "",
            gcsPath,
            [Refs],
            Type.ToProwString(),
            JobName,
            status == "triggered" ? "Job triggered." : null);
        return new OutgoingMessage(JsonSerializer.SerializeToUtf8Bytes(report, s_json), new Dictionary<string, string>(StringComparer.Ordinal));
    }

    /// <summary>What Prow's decorated pod has in its environment (pod-utils' <c>downwardapi</c>).</summary>
    public IReadOnlyDictionary<string, string> PodEnvironment()
    {
        var spec = Spec;
        var environment = new Dictionary<string, string>(ProwJobEnvironment.For(spec), StringComparer.Ordinal)
        {
            ["CI"] = "true",
            ["PROW_JOB_ID"] = ProwJobId,
            ["JOB_SPEC"] = JsonSerializer.Serialize(new JobSpec(Type.ToProwString(), JobName, BuildId, ProwJobId, Type == JobType.Periodic ? null : Refs, Type == JobType.Periodic ? [Refs] : null), s_json),
        };
        return environment;
    }

    /// <summary>Runs <c>kfci wait</c> as the pod would (a separate process with the pod's environment), streaming its output.</summary>
    public async Task<int> RunPodAsync(string kfciHome, TextWriter output, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(typeof(LocalProwJob).Assembly.Location);
        start.ArgumentList.Add("wait");
        foreach (var (name, value) in PodEnvironment())
        {
            start.Environment[name] = value;
        }

        start.Environment[KfciPaths.HomeVariable] = kfciHome;
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start kfci wait");
        var stdout = PumpAsync(process.StandardOutput, output);
        var stderr = PumpAsync(process.StandardError, output);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        await Task.WhenAll(stdout, stderr);
        return process.ExitCode;
    }

    private static async Task PumpAsync(StreamReader reader, TextWriter output)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            await output.WriteLineAsync(line);
        }
    }

    private sealed record Report(
        [property: JsonPropertyName("project")] string Project,
        [property: JsonPropertyName("topic")] string Topic,
        [property: JsonPropertyName("runid")] string RunId,
        [property: JsonPropertyName("status")] string Status,
        [property: JsonPropertyName("url")] string Url,
        [property: JsonPropertyName("gcs_path")] string GcsPath,
        [property: JsonPropertyName("refs")] IReadOnlyList<Refs> Refs,
        [property: JsonPropertyName("job_type")] string JobType,
        [property: JsonPropertyName("job_name")] string JobName,
        [property: JsonPropertyName("message")] string? Message);

    private sealed record JobSpec(
        [property: JsonPropertyName("type")] string Type,
        [property: JsonPropertyName("job")] string Job,
        [property: JsonPropertyName("buildid")] string BuildId,
        [property: JsonPropertyName("prowjobid")] string ProwJobId,
        [property: JsonPropertyName("refs")] Refs? Refs,
        [property: JsonPropertyName("extra_refs")] IReadOnlyList<Refs>? ExtraRefs);
}

/// <summary>The local results directory as a bucket with a name, so paths read like Prow's: <c>gs://kfci-local/...</c>.</summary>
public static class LocalBucket
{
    public const string Name = Kfci.Storage.LocalDirectoryResultsStore.DefaultBucket;

    /// <summary><c>gs://kfci-local/&lt;path&gt;</c>.</summary>
    public static string Uri(string path) => $"gs://{Name}/{path.TrimStart('/')}";
}
