using System.Text.Json;
using System.Text.Json.Serialization;
using Kfci.Cli.CommandLine;
using Kfci.Prow;

namespace Kfci.Cli.OnCall;

/// <summary>
/// The build a Prow job's decorated pod is running, from the environment Prow gives it (<c>JOB_NAME</c>,
/// <c>BUILD_ID</c>, <c>JOB_TYPE</c>, <c>PROW_JOB_ID</c>, <c>JOB_SPEC</c>), and the kfci run that build is: the Trigger
/// names a crier report's run by (job, build), so the pod derives the same id without asking anyone.
/// </summary>
public sealed record ProwBuild(string JobName, string BuildId, string? JobType, string? ProwJobId, string? PullSha = null)
{
    /// <summary>The kfci run id of this build.</summary>
    public string RunId => new RunIdentity(JobName, BuildId).RunId;

    /// <summary>Reads the build from Prow's variables; <c>JOB_SPEC</c> fills in what the others lack and must agree with them.</summary>
    /// <exception cref="CliException">Not in a Prow job's pod (no job or build), or the variables disagree.</exception>
    public static ProwBuild FromEnvironment(Func<string, string?> getEnv)
    {
        ArgumentNullException.ThrowIfNull(getEnv);
        var spec = Spec(getEnv("JOB_SPEC"));
        var jobName = Agree("JOB_NAME", getEnv("JOB_NAME"), spec?.Job);
        var buildId = Agree("BUILD_ID", getEnv("BUILD_ID"), spec?.BuildId);
        var jobType = Agree("JOB_TYPE", getEnv("JOB_TYPE"), spec?.Type);
        if (jobName is null || buildId is null)
        {
            throw new CliException("JOB_NAME and BUILD_ID (or JOB_SPEC) are not set: kfci wait runs in a Prow job's decorated pod, or with its environment");
        }

        if (!IsName(jobName, 256) || !IsName(buildId, 64))
        {
            throw new CliException($"JOB_NAME '{jobName}' or BUILD_ID '{buildId}' is not a Prow job name and build id");
        }

        if (jobType is not null && !JobTypes.TryParse(jobType, out _))
        {
            throw new CliException($"JOB_TYPE '{jobType}' is not a Prow job type");
        }

        return new ProwBuild(jobName, buildId, jobType, NonEmpty(getEnv("PROW_JOB_ID")) ?? NonEmpty(spec?.ProwJobId), NonEmpty(spec?.Refs?.Pulls is [var first, ..] ? first.Sha : null));
    }

    private static string? Agree(string name, string? variable, string? fromSpec)
    {
        variable = NonEmpty(variable);
        fromSpec = NonEmpty(fromSpec);
        return variable is not null && fromSpec is not null && variable != fromSpec
            ? throw new CliException($"{name} is '{variable}' but JOB_SPEC says '{fromSpec}'")
            : variable ?? fromSpec;
    }

    private static SpecJson? Spec(string? json)
    {
        if (NonEmpty(json) is null)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<SpecJson>(json!);
        }
        catch (JsonException e)
        {
            throw new CliException($"JOB_SPEC is not Prow's JobSpec JSON: {e.Message}");
        }
    }

    private static bool IsName(string text, int max) =>
        text.Length <= max && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private sealed record SpecJson(
        [property: JsonPropertyName("type")] string? Type,
        [property: JsonPropertyName("job")] string? Job,
        [property: JsonPropertyName("buildid")] string? BuildId,
        [property: JsonPropertyName("prowjobid")] string? ProwJobId,
        [property: JsonPropertyName("refs")] SpecRefs? Refs = null);

    private sealed record SpecRefs([property: JsonPropertyName("pulls")] IReadOnlyList<SpecPull>? Pulls);

    private sealed record SpecPull([property: JsonPropertyName("sha")] string? Sha);
}
