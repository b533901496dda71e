using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kfci.Prow;

/// <summary>
/// What Prow calls the job spec: which job, which build, and which code. It is the source of the whole Prow job
/// environment (<see cref="ProwJobEnvironment"/>), of the run's identity and of the workflow names.
/// </summary>
/// <param name="Type">The job type.</param>
/// <param name="JobName">Prow's job name (<c>JOB_NAME</c>).</param>
/// <param name="BuildId">The build id (<c>BUILD_ID</c>): Prow's for crier reports, kfci's for trigger events.</param>
/// <param name="Refs">The code under test; null for periodics, whose repositories are all in <paramref name="ExtraRefs"/>.</param>
/// <param name="ExtraRefs">Further repositories; never null.</param>
public sealed record ProwJobSpec(JobType Type, string JobName, string BuildId, Refs? Refs, IReadOnlyList<Refs> ExtraRefs)
{
    private static readonly JsonSerializerOptions s_json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>The run this build is; also where <c>PROW_JOB_ID</c> comes from.</summary>
    public RunIdentity Run => new(JobName, BuildId);

    /// <summary>
    /// <c>PROW_JOB_ID</c>. Prow uses the ProwJob object's name, which neither event carries; kfci uses its run id,
    /// which is just as unique per build and the same on every redelivery.
    /// </summary>
    public string ProwJobId => Run.RunId;

    /// <summary>The repository a kfci run reads its <c>prow_config.yaml</c> from: <see cref="Refs"/>, else the first extra ref; null when there is none.</summary>
    public Refs? PrimaryRefs => Refs ?? (ExtraRefs.Count > 0 ? ExtraRefs[0] : null);

    /// <summary><c>JOB_SPEC</c>: Prow's <c>JobSpec</c> JSON, <c>{"type","job","buildid","prowjobid","refs","extra_refs"}</c>, empty fields omitted.</summary>
    public string ToJson() => JsonSerializer.Serialize(
        new JobSpecJson(Type.ToProwString(), JobName, BuildId, ProwJobId, Refs, ExtraRefs.Count > 0 ? ExtraRefs : null),
        s_json);

    /// <summary>The job spec <see cref="ToJson"/> wrote: what a run records, read back.</summary>
    /// <exception cref="FormatException">Not Prow JobSpec JSON with a known type, a job and a build id.</exception>
    public static ProwJobSpec FromJson(string json)
    {
        JobSpecJson? spec;
        try
        {
            spec = JsonSerializer.Deserialize<JobSpecJson>(json, s_json);
        }
        catch (JsonException e)
        {
            throw new FormatException($"not Prow JobSpec JSON: {e.Message}", e);
        }

        return spec is { Job.Length: > 0, BuildId.Length: > 0 } && JobTypes.TryParse(spec.Type, out var type)
            ? new ProwJobSpec(type, spec.Job, spec.BuildId, spec.Refs, spec.ExtraRefs ?? [])
            : throw new FormatException("not Prow JobSpec JSON: type, job or buildid is missing");
    }

    private sealed record JobSpecJson(
        [property: JsonPropertyName("type")] string Type,
        [property: JsonPropertyName("job")] string Job,
        [property: JsonPropertyName("buildid")] string BuildId,
        [property: JsonPropertyName("prowjobid")] string ProwJobId,
        [property: JsonPropertyName("refs")] Refs? Refs,
        [property: JsonPropertyName("extra_refs")] IReadOnlyList<Refs>? ExtraRefs);
}
