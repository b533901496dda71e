namespace Kfci.Functions.Uploader.GitHub;

/// <summary>The states of a GitHub commit status.</summary>
public enum CommitStatusState
{
    Pending,
    Success,
    Failure,
    Error,
}

/// <summary>One commit status: the state of one job (its <see cref="Context"/>) on one commit.</summary>
/// <param name="Owner">The repository's owner.</param>
/// <param name="Repository">The repository's name.</param>
/// <param name="Sha">The commit (a pull request's head).</param>
/// <param name="Context">The job's name: GitHub shows one line per context.</param>
/// <param name="State">The state.</param>
/// <param name="Description">One short line (GitHub allows 140 characters).</param>
/// <param name="TargetUrl">Where the details are (Spyglass, Gubernator); null for none.</param>
public sealed record CommitStatus(string Owner, string Repository, string Sha, string Context, CommitStatusState State, string Description, Uri? TargetUrl);

/// <summary>
/// Where kfci reports a kfci-owned pull-request run's state to the code host. Idempotent: posting the state the commit
/// already shows for its context is a no-op, and <c>pending</c> is posted only on a context showing nothing, so
/// redelivered events post nothing twice.
/// </summary>
public interface ICommitStatusReporter
{
    /// <summary>Sets <paramref name="status"/> unless the commit already shows it (or a final state over a pending one).</summary>
    /// <returns>True when a status was posted; false when it was already there, or the code host refused it for good (logged).</returns>
    /// <exception cref="HttpRequestException">GitHub is unavailable or rate-limited (transient: the event is redelivered).</exception>
    Task<bool> ReportAsync(CommitStatus status, CancellationToken cancellationToken);
}

/// <summary>No code host configured (no token): nothing is reported.</summary>
public sealed class NoCommitStatusReporter : ICommitStatusReporter
{
    public Task<bool> ReportAsync(CommitStatus status, CancellationToken cancellationToken) => Task.FromResult(false);
}
