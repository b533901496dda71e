using System.Globalization;
using Kfci.Runs;

namespace Kfci.Functions.Uploader.GitHub;

/// <summary>The commit status a kfci-owned pull-request run shows on GitHub, from the run (pure).</summary>
public static class RunStatuses
{
    /// <summary>
    /// The status of <paramref name="run"/> in <paramref name="state"/>; null when the run reports nothing: a Prow-owned
    /// build (Prow reports it), or no pull request head to put it on.
    /// </summary>
    /// <param name="run">The run.</param>
    /// <param name="state">The state to show.</param>
    /// <param name="description">The line to show with it.</param>
    /// <param name="urlTemplate">The link's template: <c>{path}</c> (the build folder in the bucket), <c>{job}</c>, <c>{build}</c>, <c>{run}</c>; null for no link.</param>
    /// <param name="buildDirectory">The build folder's path in the bucket.</param>
    public static CommitStatus? For(RunRecord run, CommitStatusState state, string description, string? urlTemplate, string buildDirectory)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (run.IsProwOwned || run.PullSha is not { Length: > 0 } sha || run.Repo?.Split('/') is not [var owner, var repository])
        {
            return null;
        }

        var url = urlTemplate?
            .Replace("{path}", buildDirectory, StringComparison.Ordinal)
            .Replace("{job}", Uri.EscapeDataString(run.JobName), StringComparison.Ordinal)
            .Replace("{build}", Uri.EscapeDataString(run.BuildId), StringComparison.Ordinal)
            .Replace("{run}", run.RunId, StringComparison.Ordinal);
        return new CommitStatus(owner, repository, sha, run.JobName, state, description, url is null ? null : new Uri(url, UriKind.Absolute));
    }

    /// <summary>What the submitted run shows: pending, with how many workflows run.</summary>
    public static string Submitted(RunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return string.Create(CultureInfo.InvariantCulture, $"kfci is running {run.Workflows.Count} workflow{(run.Workflows.Count == 1 ? "" : "s")}");
    }

    /// <summary>The final state and line: "3 of 4 workflows passed, 2 tests failed"; error when aborted or nothing could run.</summary>
    /// <param name="run">The completed run.</param>
    /// <param name="result">Its verdict (<see cref="RunResults"/>).</param>
    /// <param name="testsFailed">Failures and errors in the junit reports; null when not counted in this delivery.</param>
    public static (CommitStatusState State, string Description) Final(RunRecord run, string result, int? testsFailed)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (result == RunResults.Aborted)
        {
            return (CommitStatusState.Error, "aborted");
        }

        if (run.Workflows.Count == 0 && run.Errors.Count > 0)
        {
            return (CommitStatusState.Error, "kfci could not run it: " + run.Errors[0].ReplaceLineEndings(" "));
        }

        var passed = run.Workflows.Count(w => w.Phase == WorkflowPhases.Succeeded);
        var line = string.Create(CultureInfo.InvariantCulture, $"{passed} of {run.Workflows.Count} workflows passed");
        if (testsFailed is { } failed)
        {
            line += string.Create(CultureInfo.InvariantCulture, $", {failed} test{(failed == 1 ? "" : "s")} failed");
        }

        if (run.Errors.Count > 0)
        {
            line += string.Create(CultureInfo.InvariantCulture, $", {run.Errors.Count} error{(run.Errors.Count == 1 ? "" : "s")}");
        }

        return (result == RunResults.Success ? CommitStatusState.Success : CommitStatusState.Failure, line);
    }
}
