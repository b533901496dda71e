namespace Kfci.Prow;

/// <summary>Prow's <c>path_strategy</c>: how the repository appears in presubmit result paths.</summary>
public enum PathStrategy
{
    /// <summary>Always <c>org_repo</c>.</summary>
    Explicit,

    /// <summary>Nothing for the default org and repo, <c>repo</c> for the default org, else <c>org_repo</c>.</summary>
    Legacy,

    /// <summary>Nothing for the default org and repo, else <c>org_repo</c>.</summary>
#pragma warning disable CA1720 // Prow's own name for the strategy
    Single,
#pragma warning restore CA1720
}

/// <summary>
/// Where Prow's tools (Spyglass, Gubernator, TestGrid) look for a build's results in the bucket, as pod-utilities
/// lay them out: <c>logs/&lt;job&gt;/&lt;build&gt;</c>, <c>pr-logs/pull/&lt;seg&gt;/&lt;pr&gt;/&lt;job&gt;/&lt;build&gt;</c>,
/// <c>pr-logs/pull/batch/&lt;job&gt;/&lt;build&gt;</c>, each under an optional prefix. Shared by the Trigger (links and
/// the workflows' artifact location) and the Uploader (what it writes).
/// </summary>
/// <param name="Strategy">Prow's path strategy.</param>
/// <param name="DefaultOrg">Prow's <c>default_org</c> (legacy and single only).</param>
/// <param name="DefaultRepo">Prow's <c>default_repo</c> (legacy and single only).</param>
/// <param name="Prefix">Prow's <c>path_prefix</c>, without slashes at either end; empty for none.</param>
public sealed record ResultsLayout(PathStrategy Strategy = PathStrategy.Explicit, string? DefaultOrg = null, string? DefaultRepo = null, string Prefix = "")
{
    public static ResultsLayout Default { get; } = new();

    /// <summary>From <c>KFCI_PATH_STRATEGY</c>, <c>KFCI_DEFAULT_ORG</c>, <c>KFCI_DEFAULT_REPO</c>.</summary>
    /// <exception cref="InvalidOperationException">An unknown strategy.</exception>
    public static ResultsLayout FromEnvironment(Func<string, string?>? getEnv = null)
    {
        getEnv ??= Environment.GetEnvironmentVariable;
        var strategy = getEnv(Configuration.KfciEnvironment.PathStrategy) switch
        {
            null or "" or "explicit" => PathStrategy.Explicit,
            "legacy" => PathStrategy.Legacy,
            "single" => PathStrategy.Single,
            var other => throw new InvalidOperationException(
                $"{Configuration.KfciEnvironment.PathStrategy} must be explicit, legacy or single, not '{other}'"),
        };
        return new ResultsLayout(strategy, Empty(getEnv(Configuration.KfciEnvironment.DefaultOrg)), Empty(getEnv(Configuration.KfciEnvironment.DefaultRepo)));
    }

    /// <summary>The build directory (no trailing slash) of a build.</summary>
    /// <param name="type">The job type.</param>
    /// <param name="jobName">Prow's job name.</param>
    /// <param name="buildId">The build id.</param>
    /// <param name="org">The org of the code under test (presubmits).</param>
    /// <param name="repo">The repo of the code under test (presubmits).</param>
    /// <param name="pullNumber">The (first) pull request number (presubmits).</param>
    public string BuildDirectory(JobType type, string jobName, string buildId, string? org, string? repo, int? pullNumber)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobName);
        ArgumentException.ThrowIfNullOrEmpty(buildId);
        var path = type switch
        {
            JobType.Presubmit => Join("pr-logs/pull", RepoSegment(
                org ?? throw new ArgumentException("a presubmit needs its org", nameof(org)),
                repo ?? throw new ArgumentException("a presubmit needs its repo", nameof(repo))),
                (pullNumber ?? throw new ArgumentException("a presubmit needs its pull number", nameof(pullNumber))).ToString(System.Globalization.CultureInfo.InvariantCulture),
                jobName, buildId),
            JobType.Batch => Join("pr-logs/pull/batch", jobName, buildId),
            _ => Join("logs", jobName, buildId),
        };
        return Join(Prefix, path);
    }

    /// <summary>The presubmit alias <c>pr-logs/directory/&lt;job&gt;/&lt;build&gt;.txt</c>.</summary>
    public string PresubmitAlias(string jobName, string buildId) => Join(Prefix, "pr-logs/directory", jobName, buildId + ".txt");

    /// <summary>Every <c>latest-build.txt</c> Prow writes for a build of this type (its content is the build id).</summary>
    public IReadOnlyList<string> LatestBuildFiles(JobType type, string jobName, string? org, string? repo, int? pullNumber) => type switch
    {
        JobType.Presubmit =>
        [
            Join(Prefix, "pr-logs/directory", jobName, "latest-build.txt"),
            Join(Prefix, "pr-logs/pull", RepoSegment(org!, repo!), pullNumber!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), jobName, "latest-build.txt"),
        ],
        JobType.Batch => [Join(Prefix, "pr-logs/directory", jobName, "latest-build.txt")],
        _ => [Join(Prefix, "logs", jobName, "latest-build.txt")],
    };

    /// <summary>The repository part of a presubmit path; empty when the strategy omits it.</summary>
    public string RepoSegment(string org, string repo)
    {
        var isDefaultOrg = string.Equals(org, DefaultOrg, StringComparison.Ordinal);
        var isDefault = isDefaultOrg && string.Equals(repo, DefaultRepo, StringComparison.Ordinal);
        var full = $"{org}_{repo.Replace('/', '_')}";
        return Strategy switch
        {
            PathStrategy.Legacy when isDefault => "",
            PathStrategy.Legacy when isDefaultOrg => repo.Replace('/', '_'),
            PathStrategy.Single when isDefault => "",
            _ => full,
        };
    }

    private static string Join(params string[] parts) => string.Join('/', parts.Where(p => p.Length > 0));

    private static string? Empty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
