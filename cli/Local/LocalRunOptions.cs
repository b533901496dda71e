using Kfci.Cli.CommandLine;
using Kfci.Cli.Commands;
using Kfci.Cli.OnCall;
using Kfci.Prow;

namespace Kfci.Cli.Local;

/// <summary>What <c>kfci local run</c> was asked, checked before anything starts (bad input exits 2 with one line).</summary>
public sealed record LocalRunOptions
{
    public required string RepoDirectory { get; init; }

    public required JobType JobType { get; init; }

    public string? JobName { get; init; }

    public int? PullNumber { get; init; }

    public string? PullSha { get; init; }

    public string? BaseRef { get; init; }

    public string? BaseSha { get; init; }

    public string? ResultsDirectory { get; init; }

    public bool Json { get; init; }

    /// <summary>
    /// Run it as a Prow-owned build (crier's report, then <c>kfci wait</c> as the job's pod) instead of a kfci-owned one
    /// (a trigger request, as on-call's <c>kfci trigger</c>).
    /// </summary>
    public bool ProwOwned { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(30);

    public static LocalRunOptions Parse(string? repo, string? jobType, string? jobName, string? pullNumber, string? pullSha, string? baseRef, string? baseSha, string? resultsDir, string? format, string? timeoutMinutes, string? owner = null)
    {
        var prowOwned = (owner ?? "kfci") switch
        {
            "kfci" => false,
            "prow" => true,
            var other => throw new CliException($"--owner must be kfci or prow, not '{other}'"),
        };
        var type = OnCallCommands.JobTypeOf(jobType);
        if (type != JobType.Presubmit && (pullNumber is not null || pullSha is not null))
        {
            throw new CliException($"--pull-number and --pull-sha are for presubmits, not {type.ToProwString()} jobs");
        }

        var json = (format ?? "text") switch
        {
            "text" => false,
            "json" => true,
            var other => throw new CliException($"--format must be text or json, not '{other}'"),
        };
        var minutes = CliInputs.Int(timeoutMinutes, "--timeout", 30);
        if (minutes < 1)
        {
            throw new CliException("--timeout must be at least 1 minute");
        }

        return new LocalRunOptions
        {
            RepoDirectory = CliInputs.Required(repo, "--repo DIR"),
            JobType = type,
            JobName = jobName,
            PullNumber = pullNumber is null ? null : OnCallCommands.PositiveInt(pullNumber, "--pull-number"),
            PullSha = pullSha,
            BaseRef = baseRef,
            BaseSha = baseSha,
            ResultsDirectory = resultsDir,
            Json = json,
            ProwOwned = prowOwned,
            Timeout = TimeSpan.FromMinutes(minutes),
        };
    }

    /// <summary>The job's refs with the repository's defaults filled in, as Prow would send them for this job.</summary>
    public async Task<Refs> RefsAsync(LocalRepository repository, string cloneUri, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(repository);
        var current = await repository.CurrentBranchAsync(cancellationToken);
        var refs = new Refs { Org = repository.Name.Org, Repo = repository.Name.Repo, CloneUri = cloneUri };
        switch (JobType)
        {
            case JobType.Presubmit:
                var baseRef = BaseRef ?? await repository.DefaultBranchAsync(cancellationToken);
                var head = await repository.ShaAsync(PullSha ?? "HEAD", cancellationToken);
                return refs with
                {
                    BaseRef = baseRef,
                    BaseSha = await repository.ShaAsync(BaseSha ?? baseRef, cancellationToken),
                    Pulls = [new Pull { Number = PullNumber ?? 1, Sha = head, Author = Environment.UserName, HeadRef = current }],
                };
            default:
                var branch = BaseRef ?? current ?? await repository.DefaultBranchAsync(cancellationToken);
                return refs with { BaseRef = branch, BaseSha = await repository.ShaAsync(BaseSha ?? "HEAD", cancellationToken) };
        }
    }

    /// <summary><c>--job-name</c>, else <c>&lt;repo&gt;-&lt;type&gt;</c>.</summary>
    public string JobNameFor(LocalRepository repository)
    {
        ArgumentNullException.ThrowIfNull(repository);
        return JobName ?? $"{repository.Name.Repo}-{JobType.ToProwString()}";
    }
}
