using Kfci.Configuration;
using Kfci.Prow;

namespace Kfci.Runs;

/// <summary>Where a run's results are in the results store: what <c>kfci runs logs</c> and the dashboard read logs from.</summary>
public static class RunResultsLocation
{
    /// <summary>
    /// The store-relative directory of a run: <c>gs://bucket/&lt;dir&gt;</c> → <c>&lt;dir&gt;</c>; a path under the local
    /// results directory → its relative path; without a results path, Prow's layout for the run's job.
    /// </summary>
    /// <exception cref="FormatException">The run has no results path and a job type that is not Prow's.</exception>
    public static string PrefixOf(RunRecord run, Func<string, string?> getEnv)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(getEnv);
        if (run.ResultsPath is { Length: > 0 } path)
        {
            if (path.StartsWith("gs://", StringComparison.Ordinal) && path.IndexOf('/', 5) is var slash and > 0)
            {
                return path[(slash + 1)..].TrimEnd('/');
            }

            if (getEnv(KfciEnvironment.ResultsDirectory) is { Length: > 0 } root
                && Path.GetRelativePath(Path.GetFullPath(root), Path.GetFullPath(path)) is var relative
                && !relative.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(relative))
            {
                return relative.Replace(Path.DirectorySeparatorChar, '/').TrimEnd('/');
            }
        }

        if (!JobTypes.TryParse(run.JobType, out var type))
        {
            throw new FormatException($"run {run.RunId} has job type '{run.JobType}', which is not Prow's");
        }

        var repo = run.Repo?.Split('/', 2);
        return ResultsLayout.FromEnvironment(getEnv).BuildDirectory(type, run.JobName, run.BuildId, repo?[0], repo is { Length: 2 } ? repo[1] : null, run.PullNumber);
    }
}
