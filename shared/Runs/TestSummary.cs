using System.Security.Cryptography;
using System.Text;

namespace Kfci.Runs;

/// <summary>A test's result in a summary: what TestGrid draws as a cell.</summary>
public static class TestOutcomes
{
    public const string Pass = "pass";
    public const string Fail = "fail";
    public const string Skip = "skip";
}

/// <summary>One test case of a build: its stable junit name, result (<see cref="TestOutcomes"/>), seconds and failure message.</summary>
/// <param name="StartSeconds">When a step started, in seconds after its workflow's first step (the run page's timeline); null for other cases.</param>
/// <param name="Log">A step's log, relative to the build's results directory (<c>artifacts/logs/wf/step.log</c>); null when none.</param>
public sealed record TestCaseResult(string Name, string Result, double Seconds, string? Message, double? StartSeconds = null, string? Log = null);

/// <summary>
/// The test results of one workflow of one run, as the Uploader parsed them, with the run's identity copied in so a job's
/// grid or a window's flakiness is one query over the <c>tests</c> collection group (no read of the run documents).
/// </summary>
/// <param name="Workflow">The workflow's stable name (<see cref="WorkflowRecord.StableName"/>): the same in every build.</param>
/// <param name="WorkflowName">The per-build Kubernetes name.</param>
/// <param name="Commit">The commit tested: the pull request's head, else the base.</param>
/// <param name="Omitted">Test cases left out because the summary reached <see cref="TestSummaries.MaxTestsPerWorkflow"/>.</param>
public sealed record WorkflowTestSummary(
    string RunId,
    string JobName,
    string BuildId,
    string Workflow,
    string WorkflowName,
    DateTimeOffset CreatedAt,
    string? Commit,
    string? Repo,
    IReadOnlyList<TestCaseResult> Tests,
    int Omitted = 0)
{
    /// <summary>A workflow's summary for <paramref name="run"/>, its names and messages cut to the stored bounds.</summary>
    public static WorkflowTestSummary For(RunRecord run, WorkflowRecord workflow, IEnumerable<TestCaseResult> tests)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(workflow);
        ArgumentNullException.ThrowIfNull(tests);
        var all = tests.ToList();
        var kept = all.Take(TestSummaries.MaxTestsPerWorkflow)
            .Select(t => t with
            {
                Name = TestSummaries.Cut(t.Name, TestSummaries.MaxNameChars),
                Message = t.Message is null ? null : TestSummaries.Cut(t.Message, TestSummaries.MaxMessageChars),
                Log = t.Log is { Length: > TestSummaries.MaxNameChars } ? null : t.Log,
            })
            .ToList();
        return new WorkflowTestSummary(
            run.RunId, run.JobName, run.BuildId, workflow.StableName, workflow.Name, run.CreatedAt, run.PullSha ?? run.BaseSha, run.Repo, kept, all.Count - kept.Count);
    }
}

/// <summary>
/// Bounds and layout of the stored summaries: <c>runs/{runId}/tests/{workflowKey}-{part}</c>, at most
/// <see cref="TestsPerDocument"/> cases a document. A case holds at most <see cref="MaxNameChars"/> + <see cref="MaxMessageChars"/>
/// characters (4 bytes each in the worst UTF-8 case) and a log path of at most <see cref="MaxNameChars"/> more:
/// 250 × 4 × 1024 ≈ 1.0 MB, just under Firestore's 1 MiB per document with the field names.
/// </summary>
public static class TestSummaries
{
    public const string Collection = "tests";

    public const int TestsPerDocument = 250;

    /// <summary>Cases kept per workflow and build (80 documents); the rest are counted as omitted.</summary>
    public const int MaxTestsPerWorkflow = 20_000;

    public const int MaxNameChars = 256;

    /// <summary>Enough to group failures by message; the full text stays in the junit report in the bucket.</summary>
    public const int MaxMessageChars = 512;

    /// <summary>
    /// A document id for a workflow's part: a hash of the stable name (which may hold '/' or be longer than an id may be),
    /// so the same workflow of a redelivered event lands on the same documents.
    /// </summary>
    public static string DocumentPath(string runId, string workflow, int part) =>
        $"{RunDocument.PathOf(runId)}/{Collection}/{WorkflowKey(workflow)}-{part:D3}";

    /// <summary>A workflow's stable name as a document id: a hash, since the name may hold '/' or be longer than an id may be.</summary>
    public static string WorkflowKey(string workflow) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(workflow)))[..16];

    /// <summary>The run and workflow a stored summary document (a part or a column) belongs to, as its first fields.</summary>
    public static Dictionary<string, object?> IdentityFields(WorkflowTestSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        return new Dictionary<string, object?>
        {
            ["runId"] = summary.RunId,
            ["jobName"] = summary.JobName,
            ["buildId"] = summary.BuildId,
            ["workflow"] = summary.Workflow,
            ["workflowName"] = summary.WorkflowName,
            ["createdAt"] = summary.CreatedAt,
            ["commit"] = summary.Commit,
            ["repo"] = summary.Repo,
            ["omitted"] = summary.Omitted,
        };
    }

    /// <summary>A summary of <paramref name="tests"/> with the identity <see cref="IdentityFields"/> stored in <paramref name="document"/>.</summary>
    public static WorkflowTestSummary FromIdentity(Kfci.Firestore.FirestoreDocument document, IReadOnlyList<TestCaseResult> tests)
    {
        ArgumentNullException.ThrowIfNull(document);
        return new WorkflowTestSummary(
            document.Get<string>("runId"),
            document.Get<string>("jobName"),
            document.Get<string>("buildId"),
            document.Get<string>("workflow"),
            document.TryGet<string>("workflowName", out var workflowName) ? workflowName : "",
            document.Get<DateTimeOffset>("createdAt"),
            document.TryGet<string?>("commit", out var commit) ? commit : null,
            document.TryGet<string?>("repo", out var repo) ? repo : null,
            tests,
            document.TryGet<int>("omitted", out var omitted) ? omitted : 0);
    }

    /// <summary>The text cut to <paramref name="max"/> characters, marked with an ellipsis, never splitting a surrogate pair.</summary>
    public static string Cut(string text, int max)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length <= max)
        {
            return text;
        }

        var end = max - 1;
        if (char.IsHighSurrogate(text[end - 1]))
        {
            end--;
        }

        return string.Concat(text.AsSpan(0, end), "…");
    }
}
