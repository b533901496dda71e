using Kfci.Configuration;
using Kfci.Http;
using Microsoft.Extensions.Logging;

namespace Kfci.Sources;

/// <summary>Chooses the <see cref="IRepositorySource"/> from the environment, the same way everywhere.</summary>
public static class RepositorySources
{
    /// <summary>
    /// <see cref="LocalGitSource"/> over <c>KFCI_GIT_ROOT</c> when it is set (the local stack), else
    /// <see cref="GitHubSource"/> (<c>KFCI_GITHUB_API_URL</c>, <c>KFCI_GITHUB_TOKEN</c>).
    /// </summary>
    /// <exception cref="InvalidOperationException">The configured git root does not exist, or the API URL is invalid.</exception>
    public static IRepositorySource Create(Func<string, string?> getEnv, ILoggerFactory? loggers = null, RetryPolicy? retry = null)
    {
        ArgumentNullException.ThrowIfNull(getEnv);
        if (getEnv(KfciEnvironment.GitRoot) is { Length: > 0 } root)
        {
            return Directory.Exists(root)
                ? LocalGitSource.OverRoot(root)
                : throw new InvalidOperationException($"{KfciEnvironment.GitRoot}={root} is not a directory; point it at a directory of <org>/<repo> git repositories");
        }

        return GitHubSource.Create(getEnv, loggers?.CreateLogger<GitHubSource>(), retry);
    }
}
