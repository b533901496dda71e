using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Kfci.Prow;
using Kfci.Runs;

namespace Kfci.Functions.Uploader;

/// <summary>The refs of a run's <c>JOB_SPEC</c> (Prow's JobSpec JSON, as <see cref="ProwJobSpec.ToJson"/> writes it).</summary>
public sealed record JobSpecRefs(
    [property: JsonPropertyName("refs")] Refs? Refs,
    [property: JsonPropertyName("extra_refs")] IReadOnlyList<Refs>? ExtraRefs)
{
    /// <summary>The repository under test: <see cref="Refs"/>, else the first extra ref.</summary>
    [JsonIgnore]
    public Refs? Primary => Refs ?? (ExtraRefs is { Count: > 0 } extra ? extra[0] : null);

    /// <summary>Every repository, primary first.</summary>
    [JsonIgnore]
    public IEnumerable<Refs> All => (Refs is null ? [] : new[] { Refs }).Concat(ExtraRefs ?? []);

    /// <exception cref="FormatException">Not a JobSpec.</exception>
    public static JobSpecRefs Parse(string jobSpec)
    {
        try
        {
            return JsonSerializer.Deserialize<JobSpecRefs>(jobSpec) ?? throw new FormatException("the run's JOB_SPEC is JSON null");
        }
        catch (JsonException e)
        {
            throw new FormatException($"the run's JOB_SPEC is not Prow JobSpec JSON: {e.Message}", e);
        }
    }
}

/// <summary>
/// Prow's <c>started.json</c> and <c>finished.json</c> (testgrid <c>metadata/job.go</c>, the format's source of truth) for a
/// kfci run, and its verdict. Pure: everything comes from the run, the workflows and the junit counts.
/// </summary>
public static class ProwMetadata
{
    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true };

    /// <summary>
    /// <c>started.json</c>: <c>timestamp</c> (seconds), <c>node</c>, <c>pull</c> (first pull's number), <c>repos</c>
    /// (<c>org/repo</c> → <c>PULL_REFS</c>), <c>repo-commit</c> and its deprecated twin, <c>metadata</c> with each
    /// workflow's UI link. The same run always gives the same bytes, so a redelivery rewrites an identical object.
    /// </summary>
    public static byte[] Started(RunRecord run, JobSpecRefs refs)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(refs);
        var started = new JsonObject
        {
            ["timestamp"] = (run.StartedAt ?? run.CreatedAt).ToUnixTimeSeconds(),
            ["node"] = "",
        };
        if (refs.Primary?.FirstPull is { } pull)
        {
            started["pull"] = pull.Number.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        var repos = new JsonObject();
        foreach (var r in refs.All)
        {
            repos[$"{r.Org}/{r.Repo}"] = r.ToPullRefs();
        }

        if (repos.Count > 0)
        {
            started["repos"] = repos;
        }

        if (Revision(refs) is { } commit)
        {
            started["repo-commit"] = commit;
            started["repo-version"] = commit;
        }

        var metadata = new JsonObject();
        foreach (var workflow in run.Workflows.Where(w => w.UiLink is not null))
        {
            metadata[$"{workflow.Name}-ui"] = workflow.UiLink;
        }

        started["metadata"] = metadata;
        return JsonSerializer.SerializeToUtf8Bytes(started, s_indented);
    }

    /// <summary>
    /// <c>finished.json</c>: <c>timestamp</c>, <c>passed</c> (always present), <c>result</c>, <c>revision</c>, and
    /// <c>metadata</c> with each workflow's phase and UI link, each step's log link and the run's errors.
    /// </summary>
    public static byte[] Finished(RunRecord run, JobSpecRefs refs, string result, DateTimeOffset at, IReadOnlyDictionary<string, string> extraMetadata)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(refs);
        ArgumentNullException.ThrowIfNull(extraMetadata);
        var metadata = new JsonObject();
        foreach (var workflow in run.Workflows)
        {
            metadata[$"{workflow.Name}-phase"] = workflow.Phase ?? "Unknown";
            if (workflow.UiLink is not null)
            {
                metadata[$"{workflow.Name}-ui"] = workflow.UiLink;
            }
        }

        foreach (var (key, value) in extraMetadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            metadata[key] = value;
        }

        if (run.Errors.Count > 0)
        {
            metadata["kfci-errors"] = string.Join('\n', run.Errors);
        }

        var finished = new JsonObject
        {
            ["timestamp"] = at.ToUnixTimeSeconds(),
            ["passed"] = result == RunResults.Success,
            ["result"] = result,
        };
        if (Revision(refs) is { } revision)
        {
            finished["revision"] = revision;
        }

        finished["metadata"] = metadata;
        return JsonSerializer.SerializeToUtf8Bytes(finished, s_indented);
    }

    /// <summary>
    /// The verdict. ABORTED when Prow aborted the build; FAILURE when a workflow did not succeed, the run recorded an
    /// error, or a junit file reports failures <em>or errors</em> (the old tool looked at failures only); else SUCCESS.
    /// </summary>
    public static string Verdict(RunRecord run, int junitFailures)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (run.AbortedAt is not null)
        {
            return RunResults.Aborted;
        }

        return run.Errors.Count > 0 || junitFailures > 0 || run.Workflows.Any(w => w.Phase != WorkflowPhases.Succeeded)
            ? RunResults.Failure
            : RunResults.Success;
    }

    /// <summary>Reads the verdict back from a <c>finished.json</c> (a crash after writing it); null when unreadable.</summary>
    public static string? ResultOf(Stream finishedJson)
    {
        try
        {
            return JsonNode.Parse(finishedJson)?["result"]?.GetValue<string>();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Prow's <c>GetRevisionFromRefs</c>: the first pull's sha, else the base sha, else the base ref.</summary>
    public static string? Revision(JobSpecRefs refs)
    {
        ArgumentNullException.ThrowIfNull(refs);
        return refs.Primary is not { } primary ? null
            : primary.FirstPull is { Sha.Length: > 0 } pull ? pull.Sha
            : !string.IsNullOrEmpty(primary.BaseSha) ? primary.BaseSha
            : string.IsNullOrEmpty(primary.BaseRef) ? null : primary.BaseRef;
    }
}
