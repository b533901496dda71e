using System.Runtime.InteropServices;
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
        var column = new Dictionary<string, int>(builds.Count, StringComparer.Ordinal);
        for (var i = 0; i < builds.Count; i++)
        {
            column.TryAdd(builds[i].RunId, i);
        }

        var byRow = new Dictionary<(string Workflow, string Test), RowResults>();
        foreach (var summary in summaries)
        {
            if (!column.TryGetValue(summary.RunId, out var index))
            {
                continue;
            }

            foreach (var test in summary.Tests)
            {
                ref var row = ref CollectionsMarshal.GetValueRefOrAddDefault(byRow, (summary.Workflow, test.Name), out _);
                (row ??= new RowResults(builds.Count)).Add(index, test);
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

    private static GridRow Row(string workflow, string test, RowResults results, List<GridBuild> builds)
    {
        // A commit that passed the test somewhere in the window makes its failures flaky, not broken.
        var passedCommits = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < builds.Count; i++)
        {
            if (results.Passed(i) && builds[i].Commit is { } commit)
            {
                passedCommits.Add(commit);
            }
        }

        var cells = new GridCell[builds.Count];
        int passed = 0, ran = 0;
        for (var i = 0; i < cells.Length; i++)
        {
            cells[i] = results.Cell(i, builds[i].Commit is { } commit && passedCommits.Contains(commit));
            passed += cells[i].State == TestOutcomes.Pass ? 1 : 0;
            ran += cells[i].State is TestOutcomes.Pass or TestOutcomes.Fail or CellStates.Flaky ? 1 : 0;
        }

        MarkFirstFailure(cells);
        return new GridRow(workflow, test, cells, passed, ran);
    }

    /// <summary>One test's results by build: which outcomes a build had (retries give several) and its first failure's message.</summary>
    private sealed class RowResults(int builds)
    {
        private const byte Pass = 1;
        private const byte Fail = 2;
        private const byte Skip = 4;

        // Shared: most cells carry nothing of their own, and a grid of 200 builds × 1,000 tests has 200,000 of them.
        private static readonly GridCell s_none = new(CellStates.None, null, false);
        private static readonly GridCell s_pass = new(TestOutcomes.Pass, null, false);
        private static readonly GridCell s_skip = new(TestOutcomes.Skip, null, false);

        private readonly byte[] _outcomes = new byte[builds];
        private readonly string?[] _messages = new string?[builds];

        public void Add(int build, TestCaseResult test)
        {
            var outcome = test.Result switch
            {
                TestOutcomes.Pass => Pass,
                TestOutcomes.Skip => Skip,
                _ => Fail,
            };
            if (outcome == Fail && (_outcomes[build] & Fail) == 0)
            {
                _messages[build] = test.Message;
            }

            _outcomes[build] |= outcome;
        }

        public bool Passed(int build) => (_outcomes[build] & Pass) != 0;

        public GridCell Cell(int build, bool commitPassedElsewhere)
        {
            var outcomes = _outcomes[build];
            if (outcomes == 0)
            {
                return s_none;
            }

            if ((outcomes & Fail) == 0)
            {
                return (outcomes & Pass) != 0 ? s_pass : s_skip;
            }

            var flaky = commitPassedElsewhere || (outcomes & Pass) != 0;
            return new GridCell(flaky ? CellStates.Flaky : TestOutcomes.Fail, _messages[build], false);
        }
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
