namespace Kfci.Prow;

/// <summary>Which of the two kinds of message on the <c>prow-events</c> topic an event was.</summary>
public enum ProwEventKind
{
    /// <summary>Crier's Pub/Sub <c>ReportMessage</c>: a state transition of a ProwJob that Prow runs.</summary>
    CrierReport,

    /// <summary>A <c>sub</c>-style request to run a job (attribute <c>prow.k8s.io/pubsub.EventType</c>).</summary>
    TriggerRequest,
}

/// <summary>A validated Prow event: the job it is about and, for crier reports, the state it reached.</summary>
public sealed record ProwEvent
{
    public required ProwEventKind Kind { get; init; }

    public required ProwJobSpec Job { get; init; }

    /// <summary>The state crier reported; null for trigger requests.</summary>
    public ProwJobState? State { get; init; }

    /// <summary>Crier's <c>message</c> (the ProwJob's description, shortened); null when absent.</summary>
    public string? Message { get; init; }

    /// <summary>Crier's <c>url</c> and <c>gcs_path</c>; null when absent or empty.</summary>
    public string? Url { get; init; }

    public string? GcsPath { get; init; }

    /// <summary>Trigger requests' <c>envs</c>: extra environment variables for the job. Empty, never null.</summary>
    public IReadOnlyDictionary<string, string> Envs { get; init; } = new Dictionary<string, string>();

    /// <summary>Trigger requests' <c>labels</c> and <c>annotations</c>. Empty, never null.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    public IReadOnlyDictionary<string, string> Annotations { get; init; } = new Dictionary<string, string>();

    public RunIdentity Run => Job.Run;
}
