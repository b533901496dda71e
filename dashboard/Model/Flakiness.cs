using Kfci.Runs;

namespace Kfci.Dashboard.Model;

/// <summary>
/// How flaky a test (or a workflow) was over a window: its failure rate, its <see cref="Flips"/> (a failure between two
/// passes), and <see cref="Recovered"/>: commits that failed it and then passed it (a retry or a re-run of the same code).
/// </summary>
public sealed record FlakinessEntry(string Job, string Workflow, string? Test, int Runs, int Failures, int Flips, int Recovered)
{
    public double FailureRate => Runs == 0 ? 0 : (double)Failures / Runs;

    /// <summary>What the ranking sorts by: evidence of flaking, not of being broken (a test that always fails has none).</summary>
    public int Score => Flips + Recovered;
}

/// <summary>Ranks tests and workflows by flakiness over the summaries of a window.</summary>
public static class Flakiness
{
    /// <summary>Per test, most flaky first (then by failure rate, then name); tests that only skipped are left out.</summary>
    public static IReadOnlyList<FlakinessEntry> ByTest(IReadOnlyList<WorkflowTestSummary> summaries)
    {
        ArgumentNullException.ThrowIfNull(summaries);
        return Rank(summaries
            .SelectMany(s => s.Tests.Where(t => t.Result != TestOutcomes.Skip).Select(t => (Key: (s.JobName, s.Workflow, (string?)t.Name), Summary: s, Failed: t.Result == TestOutcomes.Fail)))
            .GroupBy(x => x.Key)
            .Select(g => Entry(g.Key, g.Select(x => (x.Summary, x.Failed)))));
    }

    /// <summary>Per workflow: a build fails its workflow when any of the workflow's tests failed.</summary>
    public static IReadOnlyList<FlakinessEntry> ByWorkflow(IReadOnlyList<WorkflowTestSummary> summaries)
    {
        ArgumentNullException.ThrowIfNull(summaries);
        return Rank(summaries
            .GroupBy(s => (s.JobName, s.Workflow, (string?)null))
            .Select(g => Entry(g.Key, g.Select(s => (s, s.Tests.Any(t => t.Result == TestOutcomes.Fail))))));
    }

    private static List<FlakinessEntry> Rank(IEnumerable<FlakinessEntry> entries) =>
        [.. entries.OrderByDescending(e => e.Score)
            .ThenByDescending(e => e.FailureRate)
            .ThenBy(e => e.Job, StringComparer.Ordinal)
            .ThenBy(e => e.Workflow, StringComparer.Ordinal)
            .ThenBy(e => e.Test, StringComparer.Ordinal)];

    private static FlakinessEntry Entry((string Job, string Workflow, string? Test) key, IEnumerable<(WorkflowTestSummary Summary, bool Failed)> results)
    {
        // Oldest first; a build's several results (retries) keep their order.
        var ordered = results.OrderBy(r => r.Summary.CreatedAt).ThenBy(r => r.Summary.RunId, StringComparer.Ordinal).ToList();
        return new FlakinessEntry(
            key.Job, key.Workflow, key.Test, ordered.Count, ordered.Count(r => r.Failed), Flips(ordered.Select(r => r.Failed)), Recovered(ordered));
    }

    /// <summary>Pass → fail … fail → pass: each streak of failures with a pass on both sides.</summary>
    public static int Flips(IEnumerable<bool> failedInOrder)
    {
        ArgumentNullException.ThrowIfNull(failedInOrder);
        var flips = 0;
        var passedBefore = false;
        var failing = false;
        foreach (var failed in failedInOrder)
        {
            if (failed)
            {
                failing = passedBefore;
                continue;
            }

            if (failing)
            {
                flips++;
                failing = false;
            }

            passedBefore = true;
        }

        return flips;
    }

    /// <summary>Commits on which the test failed and later passed.</summary>
    private static int Recovered(List<(WorkflowTestSummary Summary, bool Failed)> ordered) =>
        ordered.Where(r => r.Summary.Commit is not null)
            .GroupBy(r => r.Summary.Commit, StringComparer.Ordinal)
            .Count(g => g.SkipWhile(r => !r.Failed).Any(r => !r.Failed));
}
