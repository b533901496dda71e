using Kfci.Runs;

namespace Kfci.Dashboard.Model;

/// <summary>A grid cell's state: a test's result in one build (<see cref="TestOutcomes"/>), <see cref="Flaky"/>, or none.</summary>
public static class CellStates
{
    /// <summary>Failed here, but passed in this build (a retry) or in another build of the same commit.</summary>
    public const string Flaky = "flaky";

    public const string None = "none";
}

/// <summary>A column: one build of the job.</summary>
public sealed record GridBuild(string RunId, string BuildId, DateTimeOffset CreatedAt, string? Commit, string? Result);

/// <summary>One cell: the state, the first failure message, and whether this build is where a test failing now started failing.</summary>
public sealed record GridCell(string State, string? Message, bool FirstFailure);

/// <summary>A row: one test (stable junit name) of one workflow, with a cell per build and its pass rate.</summary>
public sealed record GridRow(string Workflow, string Test, IReadOnlyList<GridCell> Cells, int Passed, int Ran)
{
    /// <summary>True when the newest build that ran the test failed it.</summary>
    public bool FailingNow => Cells.FirstOrDefault(c => c.State != CellStates.None) is { State: TestOutcomes.Fail };

    public double PassRate => Ran == 0 ? 1 : (double)Passed / Ran;
}

/// <summary>
/// TestGrid's picture of a job: rows are tests, columns builds newest first. A test failing now is listed first, and the
/// oldest build of its current streak of failures is marked (where it broke).
/// </summary>
public sealed record JobGrid(IReadOnlyList<GridBuild> Builds, IReadOnlyList<GridRow> Rows)
{
    /// <summary>Builds that succeeded, of those that finished.</summary>
    public (int Passed, int Finished) BuildPassRate =>
        (Builds.Count(b => b.Result == RunResults.Success), Builds.Count(b => b.Result is not null));

    /// <summary>The grid of <paramref name="runs"/> (newest first) from their summaries.</summary>
    public static JobGrid Build(IReadOnlyList<RunRecord> runs, IReadOnlyList<WorkflowTestSummary> summaries)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(summaries);
        var builds = runs.Select(r => new GridBuild(r.RunId, r.BuildId, r.CreatedAt, r.PullSha ?? r.BaseSha, r.Result)).ToList();
        var column = builds.Select((b, i) => (b.RunId, i)).ToDictionary(x => x.RunId, x => x.i, StringComparer.Ordinal);
        var byRow = new Dictionary<(string Workflow, string Test), List<TestCaseResult>?[]>();
        foreach (var summary in summaries)
        {
            if (!column.TryGetValue(summary.RunId, out var index))
            {
                continue;
            }

            foreach (var test in summary.Tests)
            {
                var key = (summary.Workflow, test.Name);
                if (!byRow.TryGetValue(key, out var cells))
                {
                    byRow[key] = cells = new List<TestCaseResult>?[builds.Count];
                }

                (cells[index] ??= []).Add(test);
            }
        }

        var rows = byRow.Select(pair => Row(pair.Key.Workflow, pair.Key.Test, pair.Value, builds))
            .OrderByDescending(r => r.FailingNow)
            .ThenBy(r => r.PassRate)
            .ThenBy(r => r.Workflow, StringComparer.Ordinal)
            .ThenBy(r => r.Test, StringComparer.Ordinal)
            .ToList();
        return new JobGrid(builds, rows);
    }

    private static GridRow Row(string workflow, string test, List<TestCaseResult>?[] results, List<GridBuild> builds)
    {
        // A commit that passed the test somewhere in the window makes its failures flaky, not broken.
        var passedCommits = results.Select((r, i) => (r, i))
            .Where(x => x.r?.Any(t => t.Result == TestOutcomes.Pass) == true && builds[x.i].Commit is not null)
            .Select(x => builds[x.i].Commit!)
            .ToHashSet(StringComparer.Ordinal);
        var cells = new GridCell[results.Length];
        for (var i = 0; i < results.Length; i++)
        {
            cells[i] = Cell(results[i], builds[i].Commit is { } commit && passedCommits.Contains(commit));
        }

        MarkFirstFailure(cells);
        var ran = cells.Count(c => c.State is TestOutcomes.Pass or TestOutcomes.Fail or CellStates.Flaky);
        return new GridRow(workflow, test, cells, cells.Count(c => c.State == TestOutcomes.Pass), ran);
    }

    private static GridCell Cell(List<TestCaseResult>? results, bool commitPassedElsewhere)
    {
        if (results is null || results.Count == 0)
        {
            return new GridCell(CellStates.None, null, false);
        }

        var failure = results.FirstOrDefault(t => t.Result == TestOutcomes.Fail);
        if (failure is null)
        {
            return new GridCell(results.Any(t => t.Result == TestOutcomes.Pass) ? TestOutcomes.Pass : TestOutcomes.Skip, null, false);
        }

        var flaky = commitPassedElsewhere || results.Any(t => t.Result == TestOutcomes.Pass);
        return new GridCell(flaky ? CellStates.Flaky : TestOutcomes.Fail, failure.Message, false);
    }

    /// <summary>Marks the oldest cell of the failure streak that starts at the newest run of a test failing now.</summary>
    private static void MarkFirstFailure(GridCell[] cells)
    {
        var first = -1;
        for (var i = 0; i < cells.Length; i++)
        {
            if (cells[i].State == CellStates.None || cells[i].State == TestOutcomes.Skip)
            {
                continue;
            }

            if (cells[i].State != TestOutcomes.Fail)
            {
                break;
            }

            first = i;
        }

        if (first >= 0)
        {
            cells[first] = cells[first] with { FirstFailure = true };
        }
    }
}
