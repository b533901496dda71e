using System.Globalization;
using Kfci.Firestore;

namespace Kfci.Runs;

/// <summary>
/// Maps <see cref="RunRecord"/> to Firestore fields and back. Times are Firestore timestamps (so the indexes on
/// <c>createdAt</c>/<c>updatedAt</c> order them); absent optional values are not written; unknown fields are
/// ignored on read, so older and newer kfci versions can share a database.
/// </summary>
public static class RunDocument
{
    public const string Collection = "runs";

    /// <summary>The sub-collection of a run's workflow outcomes: <c>runs/{runId}/workflows/{name}</c>.</summary>
    public const string WorkflowsCollection = "workflows";

    /// <summary>The document path of a run.</summary>
    public static string PathOf(string runId) => $"{Collection}/{runId}";

    /// <summary>The document path of one workflow's outcome.</summary>
    public static string WorkflowPathOf(string runId, string workflowName) => $"{PathOf(runId)}/{WorkflowsCollection}/{workflowName}";

    /// <summary>A finished workflow as its own document: the workflow's fields and its run's id (what the collection-group query filters on).</summary>
    public static Dictionary<string, object?> OutcomeFields(string runId, WorkflowRecord workflow)
    {
        var fields = WorkflowFields(workflow);
        fields["runId"] = runId;
        return fields;
    }

    /// <summary>Reads a workflow outcome document.</summary>
    /// <exception cref="FormatException">Not an outcome kfci wrote.</exception>
    public static (string RunId, WorkflowRecord Workflow) ReadOutcome(IReadOnlyDictionary<string, object?> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        try
        {
            return (Str(fields, "runId")!, ReadWorkflow(fields));
        }
        catch (InvalidCastException e)
        {
            throw new FormatException($"workflow outcome document has a mistyped field: {e.Message}", e);
        }
    }

    /// <summary>
    /// The run as readers see it: each workflow of the run document with its outcome from its own document, when one was
    /// recorded (the run document holds outcomes only as of its last state transition), and <c>updatedAt</c> the latest
    /// of the run's and those outcomes' writes. The same instance when nothing adds.
    /// </summary>
    public static RunRecord WithOutcomes(RunRecord run, IReadOnlyDictionary<string, (WorkflowRecord Workflow, DateTimeOffset RecordedAt)> outcomes)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(outcomes);
        var added = run.Workflows
            .Where(w => !w.IsFinished && outcomes.TryGetValue(w.Name, out var o) && o.Workflow.IsFinished)
            .Select(w => outcomes[w.Name])
            .ToDictionary(o => o.Workflow.Name, StringComparer.Ordinal);
        if (added.Count == 0)
        {
            return run;
        }

        var latest = added.Values.Max(o => o.RecordedAt);
        return run with
        {
            Workflows = run.Workflows.Select(w => added.TryGetValue(w.Name, out var o)
                ? w with { Phase = o.Workflow.Phase, Message = o.Workflow.Message, StartedAt = o.Workflow.StartedAt, FinishedAt = o.Workflow.FinishedAt, FailedNodes = o.Workflow.FailedNodes }
                : w).ToList(),
            UpdatedAt = latest > run.UpdatedAt ? latest : run.UpdatedAt,
        };
    }

    public static Dictionary<string, object?> ToFields(RunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var fields = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["runId"] = run.RunId,
            ["jobName"] = run.JobName,
            ["buildId"] = run.BuildId,
            ["jobType"] = run.JobType,
            ["jobSpec"] = run.JobSpec,
            ["envs"] = ToMap(run.Envs),
            ["source"] = run.Source,
            ["owner"] = run.Owner,
            ["state"] = run.State.ToWire(),
            ["createdAt"] = run.CreatedAt,
            ["updatedAt"] = run.UpdatedAt,
            ["plan"] = run.Plan.Select(PlanFields).ToList(),
            ["workflows"] = run.Workflows.Select(WorkflowFields).ToList(),
            ["errors"] = run.Errors.ToList(),
            ["history"] = run.History.Select(HistoryFields).ToList(),
            ["links"] = ToMap(run.Links),
        };
        AddOptional(fields, "repo", run.Repo);
        AddOptional(fields, "baseRef", run.BaseRef);
        AddOptional(fields, "baseSha", run.BaseSha);
        AddOptional(fields, "pullNumber", run.PullNumber is { } n ? (long)n : null);
        AddOptional(fields, "pullSha", run.PullSha);
        AddOptional(fields, "eventId", run.EventId);
        AddOptional(fields, "startedAt", run.StartedAt);
        AddOptional(fields, "deadline", run.Deadline);
        AddOptional(fields, "abortedAt", run.AbortedAt);
        AddOptional(fields, "completedAt", run.CompletedAt);
        AddOptional(fields, "finishedAt", run.FinishedAt);
        AddOptional(fields, "result", run.Result);
        AddOptional(fields, "resultsPath", run.ResultsPath);
        return fields;
    }

    /// <exception cref="FormatException">The document is not a run kfci wrote (a required field is missing or mistyped).</exception>
    public static RunRecord FromFields(IReadOnlyDictionary<string, object?> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        try
        {
            return new RunRecord
            {
                RunId = Str(f, "runId")!,
                JobName = Str(f, "jobName")!,
                BuildId = Str(f, "buildId")!,
                JobType = Str(f, "jobType")!,
                JobSpec = Str(f, "jobSpec")!,
                Repo = Str(f, "repo", required: false),
                BaseRef = Str(f, "baseRef", required: false),
                BaseSha = Str(f, "baseSha", required: false),
                PullNumber = f.TryGetValue("pullNumber", out var pull) && pull is long number ? (int)number : null,
                PullSha = Str(f, "pullSha", required: false),
                Envs = StringMap(f, "envs"),
                Source = Str(f, "source", required: false) ?? "trigger",
                Owner = Str(f, "owner", required: false) ?? BuildOwners.ForSource(Str(f, "source", required: false) ?? "trigger"),
                EventId = Str(f, "eventId", required: false),
                State = RunStates.Parse(Str(f, "state")!),
                CreatedAt = Time(f, "createdAt") ?? throw Missing("createdAt"),
                UpdatedAt = Time(f, "updatedAt") ?? throw Missing("updatedAt"),
                StartedAt = Time(f, "startedAt"),
                Deadline = Time(f, "deadline"),
                AbortedAt = Time(f, "abortedAt"),
                CompletedAt = Time(f, "completedAt"),
                FinishedAt = Time(f, "finishedAt"),
                Plan = Maps(f, "plan").Select(ReadPlan).ToList(),
                Workflows = Maps(f, "workflows").Select(ReadWorkflow).ToList(),
                Errors = List(f, "errors").OfType<string>().ToList(),
                History = Maps(f, "history").Select(ReadHistory).ToList(),
                Result = Str(f, "result", required: false),
                ResultsPath = Str(f, "resultsPath", required: false),
                Links = StringMap(f, "links"),
            };
        }
        catch (InvalidCastException e)
        {
            throw new FormatException($"run document has a mistyped field: {e.Message}", e);
        }
    }

    private static Dictionary<string, object?> PlanFields(PlannedEntry p)
    {
        var fields = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["index"] = (long)p.Index,
            ["name"] = p.Name,
            ["selected"] = p.Selected,
            ["supported"] = p.Supported,
            ["reason"] = p.Reason,
        };
        AddOptional(fields, "workflowName", p.WorkflowName);
        return fields;
    }

    private static PlannedEntry ReadPlan(IReadOnlyDictionary<string, object?> f) => new(
        (int)Long(f, "index"), Str(f, "name")!, Bool(f, "selected"), Bool(f, "supported"), Str(f, "reason")!, Str(f, "workflowName", required: false));

    private static Dictionary<string, object?> WorkflowFields(WorkflowRecord w)
    {
        var fields = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["name"] = w.Name,
            ["namespace"] = w.Namespace,
            ["entryName"] = w.EntryName,
            ["entryIndex"] = (long)w.EntryIndex,
            ["submitted"] = w.Submitted,
            ["failedNodes"] = w.FailedNodes.Select(NodeFields).ToList(),
        };
        AddOptional(fields, "phase", w.Phase);
        AddOptional(fields, "message", w.Message);
        AddOptional(fields, "startedAt", w.StartedAt);
        AddOptional(fields, "finishedAt", w.FinishedAt);
        AddOptional(fields, "uiLink", w.UiLink);
        AddOptional(fields, "testTarget", w.TestTarget);
        return fields;
    }

    private static WorkflowRecord ReadWorkflow(IReadOnlyDictionary<string, object?> f) => new()
    {
        Name = Str(f, "name")!,
        Namespace = Str(f, "namespace")!,
        EntryName = Str(f, "entryName")!,
        EntryIndex = (int)Long(f, "entryIndex"),
        Submitted = Bool(f, "submitted"),
        Phase = Str(f, "phase", required: false),
        Message = Str(f, "message", required: false),
        StartedAt = Time(f, "startedAt"),
        FinishedAt = Time(f, "finishedAt"),
        FailedNodes = Maps(f, "failedNodes").Select(ReadNode).ToList(),
        UiLink = Str(f, "uiLink", required: false),
        TestTarget = Str(f, "testTarget", required: false),
    };

    private static Dictionary<string, object?> NodeFields(FailedNode n)
    {
        var fields = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["id"] = n.Id,
            ["name"] = n.Name,
            ["displayName"] = n.DisplayName,
            ["phase"] = n.Phase,
        };
        AddOptional(fields, "message", n.Message);
        return fields;
    }

    private static FailedNode ReadNode(IReadOnlyDictionary<string, object?> f) =>
        new(Str(f, "id")!, Str(f, "name")!, Str(f, "displayName")!, Str(f, "phase")!, Str(f, "message", required: false));

    private static Dictionary<string, object?> HistoryFields(RunHistoryEntry h)
    {
        var fields = new Dictionary<string, object?>(StringComparer.Ordinal) { ["state"] = h.State.ToWire(), ["at"] = h.At };
        AddOptional(fields, "note", h.Note);
        return fields;
    }

    private static RunHistoryEntry ReadHistory(IReadOnlyDictionary<string, object?> f) =>
        new(RunStates.Parse(Str(f, "state")!), Time(f, "at") ?? throw Missing("history.at"), Str(f, "note", required: false));

    private static void AddOptional(Dictionary<string, object?> fields, string name, object? value)
    {
        if (value is not null)
        {
            fields[name] = value;
        }
    }

    private static Dictionary<string, object?> ToMap(IReadOnlyDictionary<string, string> map) =>
        map.ToDictionary(kv => kv.Key, kv => (object?)kv.Value, StringComparer.Ordinal);

    private static string? Str(IReadOnlyDictionary<string, object?> f, string name, bool required = true) =>
        f.TryGetValue(name, out var value) && value is not null
            ? value as string ?? throw new FormatException($"run field '{name}' is not a string")
            : required ? throw Missing(name) : null;

    private static long Long(IReadOnlyDictionary<string, object?> f, string name) =>
        f.TryGetValue(name, out var value) && value is long number ? number : throw Missing(name);

    private static bool Bool(IReadOnlyDictionary<string, object?> f, string name) =>
        f.TryGetValue(name, out var value) && value is bool flag && flag;

    private static DateTimeOffset? Time(IReadOnlyDictionary<string, object?> f, string name) => f.TryGetValue(name, out var value) ? value switch
    {
        DateTimeOffset t => t,
        string s => DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
        _ => null,
    } : null;

    private static IReadOnlyList<object?> List(IReadOnlyDictionary<string, object?> f, string name) =>
        f.TryGetValue(name, out var value) && value is IReadOnlyList<object?> list ? list : [];

    private static IEnumerable<IReadOnlyDictionary<string, object?>> Maps(IReadOnlyDictionary<string, object?> f, string name) =>
        List(f, name).OfType<IReadOnlyDictionary<string, object?>>();

    private static Dictionary<string, string> StringMap(IReadOnlyDictionary<string, object?> f, string name) =>
        f.TryGetValue(name, out var value) && value is IReadOnlyDictionary<string, object?> map
            ? map.Where(kv => kv.Value is string).ToDictionary(kv => kv.Key, kv => (string)kv.Value!, StringComparer.Ordinal)
            : new Dictionary<string, string>(StringComparer.Ordinal);

    private static FormatException Missing(string name) => new($"run document lacks required field '{name}'");
}
