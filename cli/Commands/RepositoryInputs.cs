using Kfci.Cli.CommandLine;
using Kfci.Prow;
using Kfci.ProwConfig;
using Kfci.Sources;

namespace Kfci.Cli.Commands;

/// <summary>
/// <c>kfci plan --repo DIR</c>: the job completed from a local repository (org/repo default to <c>local/&lt;dir&gt;</c>,
/// missing shas to <c>HEAD</c>) and the commit under test — the PR head for presubmits and batches, the base sha for
/// postsubmits, the primary repository's base sha (else <c>HEAD</c>) for periodics — where <c>prow_config.yaml</c> is read.
/// </summary>
internal sealed record RepositoryInputs(LocalGitSource Source, RepositoryName Repository, ProwJobSpec Job, string Commit)
{
    public const string ConfigPath = "prow_config.yaml";

    public static async Task<RepositoryInputs> ResolveAsync(DirectoryInfo directory, ProwJobSpec job, CancellationToken cancellationToken)
    {
        if (!directory.Exists)
        {
            throw new CliException($"--repo {directory.FullName}: no such directory");
        }

        var source = LocalGitSource.OverRepository(directory.FullName);
        var primary = job.PrimaryRefs;
        var repository = primary is { Org.Length: > 0, Repo.Length: > 0 }
            ? Name(primary.Org, primary.Repo)
            : Name("local", RepositoryName.IsValidPart(directory.Name) ? directory.Name : "repo");
        var head = await source.ResolveCommitAsync(repository, "HEAD", cancellationToken);
        if (job.Type == JobType.Periodic)
        {
            return new RepositoryInputs(source, repository, job, primary?.BaseSha is { Length: > 0 } sha ? sha : head);
        }

        var refs = (job.Refs ?? new Refs { Org = "", Repo = "" }) with { Org = repository.Org, Repo = repository.Repo };
        if (job.Type == JobType.Postsubmit)
        {
            refs = refs with { BaseSha = string.IsNullOrEmpty(refs.BaseSha) ? head : refs.BaseSha };
            return new RepositoryInputs(source, repository, job with { Refs = refs }, refs.BaseSha!);
        }

        if (refs.Pulls is not { Count: > 0 } pulls)
        {
            throw new CliException($"--repo with a {job.Type.ToProwString()} job needs --pull-number N (--pull-sha defaults to HEAD)");
        }

        if (string.IsNullOrEmpty(refs.BaseSha) && string.IsNullOrEmpty(refs.BaseRef))
        {
            throw new CliException($"--repo with a {job.Type.ToProwString()} job needs --base-sha or --base-ref to diff against");
        }

        refs = refs with { Pulls = [.. pulls.Select(p => string.IsNullOrEmpty(p.Sha) ? p with { Sha = head } : p)] };
        return new RepositoryInputs(source, repository, job with { Refs = refs }, refs.Pulls[0].Sha);
    }

    public async Task<ProwConfigFile> ReadConfigAsync(CancellationToken cancellationToken)
    {
        var bytes = await Source.ReadFileAsync(Repository, Commit, ConfigPath, ProwConfigParser.MaxBytes, cancellationToken)
            ?? throw new CliException($"{Repository}@{Commit}: no {ConfigPath} at the commit under test");
        var source = $"{Repository}@{Commit}:{ConfigPath}";
        try
        {
            return ProwConfigParser.Parse(bytes, source);
        }
        catch (ProwConfigException e)
        {
            throw new CliException(e.Message);
        }
    }

    private static RepositoryName Name(string org, string repo)
    {
        try
        {
            return new RepositoryName(org, repo);
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message);
        }
    }
}
