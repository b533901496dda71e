using System.Text.Json;
using System.Text.Json.Serialization;
using Kfci.Prow;
using Kfci.PubSub;
using Kfci.Runs;

namespace Kfci.Cli.OnCall;

/// <summary>
/// A Prow <c>sub</c>-style request to run a job: the JSON Prow's <c>sub</c> reads from Pub/Sub
/// (<c>{name, refs, envs}</c>) with the attribute <c>prow.k8s.io/pubsub.EventType</c>, exactly what on-call people
/// would publish with <c>gcloud pubsub topics publish prow-events</c>. kfci's Trigger assigns the build id from the
/// message, so the request carries none.
/// </summary>
public sealed record TriggerRequest(JobType Type, string JobName, Refs? Refs, IReadOnlyDictionary<string, string> Envs)
{
    private static readonly JsonSerializerOptions s_json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public string EventType => Type switch
    {
        JobType.Presubmit => ProwEventParser.PresubmitEvent,
        JobType.Postsubmit => ProwEventParser.PostsubmitEvent,
        JobType.Periodic => ProwEventParser.PeriodicEvent,
        _ => throw new InvalidOperationException($"Prow's sub cannot start a {Type.ToProwString()} job; use presubmit, postsubmit or periodic"),
    };

    public OutgoingMessage ToMessage() => new(
        JsonSerializer.SerializeToUtf8Bytes(new Body(JobName, Refs, Envs.Count > 0 ? Envs : null), s_json),
        new Dictionary<string, string>(StringComparer.Ordinal) { [ProwEventParser.EventTypeAttribute] = EventType });

    /// <summary>The same job at the same commit as an earlier run (its <c>JOB_SPEC</c>), for a new build.</summary>
    /// <exception cref="FormatException">The run's job spec is not Prow JSON.</exception>
    public static TriggerRequest Replay(RunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (!JobTypes.TryParse(run.JobType, out var type))
        {
            throw new FormatException($"run {run.RunId} has job type '{run.JobType}', which is not Prow's");
        }

        SpecJson? spec;
        try
        {
            spec = JsonSerializer.Deserialize<SpecJson>(run.JobSpec, s_json);
        }
        catch (JsonException e)
        {
            throw new FormatException($"run {run.RunId} has a job spec that is not JSON: {e.Message}", e);
        }

        var refs = spec?.Refs ?? (spec?.ExtraRefs is { Count: > 0 } extra ? extra[0] : null);
        return new TriggerRequest(type, run.JobName, refs, run.Envs);
    }

    private sealed record Body(
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("refs")] Refs? Refs,
        [property: JsonPropertyName("envs")] IReadOnlyDictionary<string, string>? Envs);

    private sealed record SpecJson(
        [property: JsonPropertyName("refs")] Refs? Refs,
        [property: JsonPropertyName("extra_refs")] IReadOnlyList<Refs>? ExtraRefs);
}

/// <summary>A published trigger request: its message id, and a time before it was published.</summary>
public sealed record PublishedRequest(string MessageId, DateTimeOffset PublishedAfter);

/// <summary>Publishes trigger requests and finds the run the Trigger made of each.</summary>
public static class RunStarter
{
    /// <summary>
    /// How far the Trigger's clock may be behind this machine's. Runs created earlier than that before the publish are
    /// not this message's, whatever their message id says.
    /// </summary>
    private static readonly TimeSpan s_clockSkew = TimeSpan.FromSeconds(5);

    /// <summary>Publishes <paramref name="request"/> to <c>prow-events</c>.</summary>
    public static async Task<PublishedRequest> PublishAsync(PubSubClient pubSub, TriggerRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pubSub);
        ArgumentNullException.ThrowIfNull(request);
        var before = DateTimeOffset.UtcNow;
        var ids = await pubSub.PublishAsync(KfciTopics.ProwEvents, [request.ToMessage()], cancellationToken);
        return new PublishedRequest(ids[0], before);
    }

    /// <summary>
    /// The run the Trigger recorded for <paramref name="published"/>'s message (<see cref="RunRecord.EventId"/>), polling
    /// the job's newest runs until <paramref name="timeout"/>; null when none appeared. The build id depends on the
    /// publish time, which a publish does not return, so the run is found by the message id instead of computed. Only
    /// runs created after the publish count: the Pub/Sub emulator numbers messages from 1 again each time it starts,
    /// while the local stack keeps its runs, so an older run can carry the same message id.
    /// </summary>
    public static async Task<RunRecord?> WaitForRunAsync(IRunStore runs, string jobName, PublishedRequest published, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(published);
        var deadline = DateTimeOffset.UtcNow + timeout;
        var notBefore = published.PublishedAfter - s_clockSkew;
        while (true)
        {
            var recent = await runs.ListAsync(new RunQuery(JobName: jobName, Limit: 20), cancellationToken);
            if (recent.FirstOrDefault(r => r.EventId == published.MessageId && r.CreatedAt >= notBefore) is { } run)
            {
                return run;
            }

            if (DateTimeOffset.UtcNow >= deadline)
            {
                return null;
            }

            await Task.Delay(250, cancellationToken);
        }
    }
}
