using System.Net;
using Microsoft.Extensions.Logging;
using Octokit;

namespace Kfci.Functions.Uploader.GitHub;

/// <summary>
/// <see cref="ICommitStatusReporter"/> on Octokit: reads the commit's statuses (newest first), posts only when its
/// context does not already show the same state, and posts pending only on a context that shows nothing yet.
/// Rate limits (primary and secondary) and 5xx become transient <see cref="HttpRequestException"/>s, so the event is
/// redelivered later instead of spending more of the limit. The token is Octokit's credential only: no log line or
/// message built here contains it.
/// </summary>
public sealed class OctokitCommitStatusReporter(IGitHubClient client, ILogger<OctokitCommitStatusReporter> logger) : ICommitStatusReporter
{
    /// <summary>GitHub refuses descriptions longer than this.</summary>
    public const int MaxDescription = 140;

    /// <summary>A client for <paramref name="apiBase"/> (github.com, or an Enterprise/fake host served under <c>/api/v3/</c>) with <paramref name="token"/>.</summary>
    public static IGitHubClient CreateClient(Uri apiBase, string token)
    {
        ArgumentNullException.ThrowIfNull(apiBase);
        ArgumentException.ThrowIfNullOrEmpty(token);
        return new GitHubClient(new ProductHeaderValue("kfci"), apiBase) { Credentials = new Credentials(token) };
    }

    public async Task<bool> ReportAsync(CommitStatus status, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(status);
        var description = status.Description.Length <= MaxDescription ? status.Description : status.Description[..(MaxDescription - 1)] + "…";
        var state = status.State switch
        {
            CommitStatusState.Pending => CommitState.Pending,
            CommitStatusState.Success => CommitState.Success,
            CommitStatusState.Failure => CommitState.Failure,
            _ => CommitState.Error,
        };
        try
        {
            var shown = (await client.Repository.Status.GetAll(status.Owner, status.Repository, status.Sha, new ApiOptions { PageSize = 100, PageCount = 1, StartPage = 1 }))
                .FirstOrDefault(s => s.Context == status.Context);
            cancellationToken.ThrowIfCancellationRequested();
            // The same state is already there (a redelivery: its description may be shorter when the junit counts are
            // gone), or a pending would replace whatever the run reached.
            if (shown is not null && (shown.State.Value == state || state == CommitState.Pending))
            {
                logger.LogInformation("{Repo}@{Sha} already shows {Context}: {State}; not posted again", $"{status.Owner}/{status.Repository}", status.Sha, status.Context, shown.State.StringValue);
                return false;
            }

            await client.Repository.Status.Create(status.Owner, status.Repository, status.Sha, new NewCommitStatus
            {
                State = state,
                Description = description,
                Context = status.Context,
                TargetUrl = status.TargetUrl?.AbsoluteUri,
            });
            logger.LogInformation("{Repo}@{Sha}: set {Context} to {State} ({Description})", $"{status.Owner}/{status.Repository}", status.Sha, status.Context, state, description);
            return true;
        }
        catch (RateLimitExceededException e)
        {
            throw new HttpRequestException($"GitHub's rate limit is spent until {e.Reset:O}; the status is posted on redelivery", e, HttpStatusCode.TooManyRequests);
        }
        catch (SecondaryRateLimitExceededException e)
        {
            throw new HttpRequestException("GitHub's secondary rate limit was hit; the status is posted on redelivery", e, HttpStatusCode.TooManyRequests);
        }
        catch (ApiException e)
        {
            throw new HttpRequestException($"GitHub answered {(int)e.StatusCode} to the commit status for {status.Context}: {e.Message}", e, e.StatusCode);
        }
    }
}
