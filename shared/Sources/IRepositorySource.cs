using Kfci.Prow;

namespace Kfci.Sources;

/// <summary>
/// The code under test, read at the commit being tested: <c>prow_config.yaml</c>, the workflow files it names, and
/// which files the change touched. Two implementations: the GitHub REST API (the cloud) and a local git repository
/// read with real <c>git</c> (the local stack, tests). Transient failures are retried inside; a missing repository,
/// commit or file is not transient.
/// </summary>
public interface IRepositorySource
{
    /// <summary>
    /// The file at <paramref name="path"/> (repository-relative, '/'-separated, validated with <c>WorkflowPath</c>) in
    /// commit <paramref name="commitSha"/>; null when the commit has no such file.
    /// </summary>
    /// <exception cref="SourceLimitException">The file is larger than <paramref name="maxBytes"/>.</exception>
    /// <exception cref="SourceNotFoundException">The repository or the commit does not exist.</exception>
    Task<byte[]?> ReadFileAsync(RepositoryName repository, string commitSha, string path, long maxBytes, CancellationToken cancellationToken);

    /// <summary>
    /// The full sha of the commit branch <paramref name="branch"/> points at now (a branch moves: never cached). This is
    /// what Prow's clonerefs does for refs that name a branch and no sha (periodics).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="branch"/> is not a safe branch name.</exception>
    /// <exception cref="SourceNotFoundException">The repository or the branch does not exist; the message names the branch.</exception>
    Task<string> ResolveBranchAsync(RepositoryName repository, string branch, CancellationToken cancellationToken);

    /// <summary>
    /// Repository-relative paths the job's change touched: presubmit and batch = files changed between the merge base
    /// of each PR head and the base branch and that head (union, sorted, distinct); postsubmit = <c>sha^..sha</c>;
    /// periodic = none.
    /// </summary>
    /// <exception cref="SourceNotFoundException">The repository or a commit does not exist.</exception>
    Task<IReadOnlyList<string>> ChangedFilesAsync(ProwJobSpec job, CancellationToken cancellationToken);
}

/// <summary>An <c>org/repo</c> pair, validated so it can go into URLs, paths and labels.</summary>
public sealed record RepositoryName
{
    public RepositoryName(string org, string repo)
    {
        if (!IsValidPart(org) || !IsValidPart(repo))
        {
            throw new ArgumentException($"'{org}/{repo}' is not a valid GitHub org/repo name");
        }

        Org = org;
        Repo = repo;
    }

    public string Org { get; }

    public string Repo { get; }

    public override string ToString() => $"{Org}/{Repo}";

    /// <summary>GitHub's own rules: letters, digits, '-', '_', '.'; not '.' or '..'; at most 100 characters.</summary>
    public static bool IsValidPart(string? part) =>
        part is { Length: > 0 and <= 100 } && part is not ("." or "..") && part.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}

/// <summary>The repository or commit does not exist (permanent: no retry will make it appear).</summary>
public sealed class SourceNotFoundException : Exception
{
    public SourceNotFoundException()
    {
    }

    public SourceNotFoundException(string message)
        : base(message)
    {
    }

    public SourceNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A file exceeds the size kfci is willing to read (permanent).</summary>
public sealed class SourceLimitException : Exception
{
    public SourceLimitException()
    {
    }

    public SourceLimitException(string message)
        : base(message)
    {
    }

    public SourceLimitException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
