using System.Net;
using Microsoft.Extensions.Logging;
using Octokit;

namespace Kfci.Functions.Uploader.GitHub;

/// <summary>
/// <see cref="ICommitStatusReporter"/> on Octokit: reads the commit's combined status (the latest status of every
/// context, however many statuses the commit has), posts only when its context does not already show the same state,
/// and posts pending only on a context that shows nothing yet. Rate limits (primary and secondary) and 5xx become
/// transient <see cref="HttpRequestException"/>s, so the event is redelivered later instead of spending more of the
/// limit. A refusal that no retry can change (401, 403, 404, 422: a token without the right, a repository it cannot
/// see) is logged as an error and posts nothing: the run's results and state must not wait on the code host's
/// permissions. The token is Octokit's credential only: no log line or message built here contains it.
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
        var description = Shorten(status.Description);
        var state = status.State switch
        {
            CommitStatusState.Pending => CommitState.Pending,
            CommitStatusState.Success => CommitState.Success,
            CommitStatusState.Failure => CommitState.Failure,
            _ => CommitState.Error,
        };
        try
        {
            var shown = (await client.Repository.Status.GetCombined(status.Owner, status.Repository, status.Sha)).Statuses
                .FirstOrDefault(s => s.Context == status.Context);
            cancellationToken.ThrowIfCancellationRequested();
            // For the same build (same link): the same state is already there (a redelivery: its description may be
            // shorter when the junit counts are gone), or a pending would replace whatever the run reached. A status
            // linking another build (an earlier run on this commit) is this run's to replace, whatever its state.
            if (shown is not null && SameBuild(shown.TargetUrl, status.TargetUrl) && (shown.State.Value == state || state == CommitState.Pending))
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
        catch (ApiException e) when (IsPermanent(e.StatusCode))
        {
            logger.LogError("GitHub refused the commit status {Context} on {Repo}@{Sha} ({Status}: {Reason}); not retried, check the token's rights", status.Context, $"{status.Owner}/{status.Repository}", status.Sha, (int)e.StatusCode, e.Message);
            return false;
        }
        catch (ApiException e)
        {
            throw new HttpRequestException($"GitHub answered {(int)e.StatusCode} to the commit status for {status.Context}: {e.Message}", e, e.StatusCode);
        }
    }

    private static bool SameBuild(string? shownUrl, Uri? url) =>
        string.Equals(shownUrl ?? "", url?.AbsoluteUri ?? "", StringComparison.Ordinal);

    private static bool IsPermanent(HttpStatusCode status) =>
        status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound or HttpStatusCode.UnprocessableEntity;

    /// <summary>At most <see cref="MaxDescription"/> characters, cut between text elements so no surrogate pair or combining sequence is split (GitHub refuses invalid UTF-16).</summary>
    internal static string Shorten(string description)
    {
        if (description.Length <= MaxDescription)
        {
            return description;
        }

        var cut = 0;
        var elements = System.Globalization.StringInfo.GetTextElementEnumerator(description);
        while (elements.MoveNext() && elements.ElementIndex + ((string)elements.Current).Length <= MaxDescription - 1)
        {
            cut = elements.ElementIndex + ((string)elements.Current).Length;
        }

        return description[..cut] + "…";
    }
}
