using System.Globalization;

namespace Kfci.Prow;

/// <summary>
/// The repository spec kubeflow's <c>checkout.sh</c>/<c>checkout_repos.sh</c> take: <c>org/repo@sha</c> or
/// <c>org/repo@sha:PR</c>, where the part after <c>:</c> is a bare pull request number.
/// </summary>
public static class RepoSpec
{
    /// <summary>
    /// As kubeflow's <c>get_repo_from_prow_env</c>: presubmit <c>org/repo@{pull sha or HEAD}:{number}</c>; postsubmit
    /// and batch <c>org/repo@{base sha}</c> (the format can carry only one PR, so a batch tests its merged base as
    /// Prow checked it out); periodic <c>org/repo@{base sha}</c>, else <c>org/repo@{base ref or HEAD}</c>.
    /// </summary>
    /// <returns>The spec, or null when the job names no repository.</returns>
    public static string? For(ProwJobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.PrimaryRefs is not { } refs)
        {
            return null;
        }

        var repo = $"{refs.Org}/{refs.Repo}";
        return spec.Type switch
        {
            JobType.Presubmit when refs.FirstPull is { } pull =>
                $"{repo}@{(string.IsNullOrEmpty(pull.Sha) ? "HEAD" : pull.Sha)}:{pull.Number.ToString(CultureInfo.InvariantCulture)}",
            // A periodic's branch is pinned to the commit the run resolved, so every workflow checks out the same one.
            JobType.Postsubmit or JobType.Batch or JobType.Periodic when !string.IsNullOrEmpty(refs.BaseSha) => $"{repo}@{refs.BaseSha}",
            _ => $"{repo}@{(string.IsNullOrEmpty(refs.BaseRef) ? "HEAD" : refs.BaseRef)}",
        };
    }
}
