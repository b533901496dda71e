using System.Text.Json;
using System.Text.Json.Serialization;
using Kfci.PubSub;

namespace Kfci.Runs;

/// <summary>The kinds of message kfci's functions send each other (see ARCHITECTURE.md).</summary>
public static class RunEventTypes
{
    public const string Submitted = "run.submitted";
    public const string Completed = "run.completed";
    public const string Finished = "run.finished";
}

/// <summary>
/// A message of kfci's chain: which run, and what happened to it. Small on purpose: the run document in
/// Firestore is the truth, and a consumer reads it; the message only says which one to read. Carried as JSON
/// data with the attributes <c>kfci.event</c> and <c>kfci.runId</c> (so subscriptions can filter).
/// </summary>
public sealed record RunEvent
{
    public const string EventAttribute = "kfci.event";
    public const string RunIdAttribute = "kfci.runId";

    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>One of <see cref="RunEventTypes"/>.</summary>
    public required string Event { get; init; }

    public required string RunId { get; init; }

    public required string JobName { get; init; }

    public required string BuildId { get; init; }

    public required string JobType { get; init; }

    /// <summary><c>run.finished</c> only: the verdict (<see cref="RunResults"/>).</summary>
    public string? Result { get; init; }

    /// <summary><c>run.finished</c> only: where the results are (<c>gs://…</c>).</summary>
    public string? ResultsPath { get; init; }

    public static RunEvent For(string eventType, RunRecord run) => new()
    {
        Event = eventType,
        RunId = run.RunId,
        JobName = run.JobName,
        BuildId = run.BuildId,
        JobType = run.JobType,
        Result = eventType == RunEventTypes.Finished ? run.Result : null,
        ResultsPath = eventType == RunEventTypes.Finished ? run.ResultsPath : null,
    };

    public OutgoingMessage ToMessage() => new(
        JsonSerializer.SerializeToUtf8Bytes(this, s_json),
        new Dictionary<string, string>(StringComparer.Ordinal) { [EventAttribute] = Event, [RunIdAttribute] = RunId });

    /// <summary>Parses a message's data.</summary>
    /// <exception cref="FormatException">Not a kfci run event (bad JSON, missing field, or not <paramref name="expectedEvent"/>).</exception>
    public static RunEvent Parse(ReadOnlyMemory<byte> data, string expectedEvent)
    {
        RunEvent? parsed;
        try
        {
            parsed = JsonSerializer.Deserialize<RunEvent>(data.Span, s_json);
        }
        catch (JsonException e)
        {
            throw new FormatException($"not a kfci run event: {e.Message}", e);
        }

        if (parsed is null)
        {
            throw new FormatException("not a kfci run event: the data is JSON null");
        }

        if (parsed.Event != expectedEvent)
        {
            throw new FormatException($"expected a {expectedEvent} event, got '{parsed.Event}'");
        }

        if (!RunIds.IsValid(parsed.RunId))
        {
            throw new FormatException($"run id '{parsed.RunId}' is not a kfci run id");
        }

        return parsed;
    }
}

/// <summary>What a run id may look like: kfci makes them (<c>Kfci.Prow.RunIdentity</c>), so anything else is hostile.</summary>
public static class RunIds
{
    public static bool IsValid(string? runId) =>
        runId is { Length: > 0 and <= 63 } && runId.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-') && runId[0] != '-' && runId[^1] != '-';
}
