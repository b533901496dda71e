using System.Text.RegularExpressions;
using Kfci.Cli.CommandLine;
using Kfci.Prow;
using Kfci.Sources;

namespace Kfci.Cli.Local;

/// <summary>
/// A git repository on this machine as the local stack sees it: named <c>org/repo</c> after its GitHub origin (else
/// <c>local/&lt;directory&gt;</c>), linked into KFCI_GIT_ROOT so the Trigger reads it with git, and described as the
/// <see cref="Refs"/> Prow would send for a job on it.
/// </summary>
public sealed partial record LocalRepository(string Directory, RepositoryName Name)
{
    public const string LocalOrg = "local";

    /// <summary>Reads <paramref name="directory"/>'s top level and origin.</summary>
    /// <exception cref="CliException">Not a directory or not a git repository.</exception>
    public static async Task<LocalRepository> InspectAsync(string directory, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(full))
        {
            throw new CliException($"--repo {directory}: no such directory");
        }

        var top = await ChildProcess.TryGitAsync(full, cancellationToken, "rev-parse", "--show-toplevel")
            ?? throw new CliException($"--repo {directory}: not a git repository");
        var origin = await ChildProcess.TryGitAsync(top, cancellationToken, "remote", "get-url", "origin");
        return new LocalRepository(top, NameFrom(origin, top));
    }

    /// <summary><c>org/repo</c> of a GitHub remote URL (https, ssh or scp form); else <c>local/&lt;directory name&gt;</c>.</summary>
    public static RepositoryName NameFrom(string? originUrl, string directory)
    {
        if (originUrl is not null && GitHubUrl().Match(originUrl.Trim()) is { Success: true } match
            && RepositoryName.IsValidPart(match.Groups["org"].Value) && RepositoryName.IsValidPart(match.Groups["repo"].Value))
        {
            return new RepositoryName(match.Groups["org"].Value, match.Groups["repo"].Value);
        }

        var name = Regex.Replace(Path.GetFileName(Path.TrimEndingDirectorySeparator(directory)), "[^A-Za-z0-9._-]", "-").Trim('.');
        return new RepositoryName(LocalOrg, name.Length == 0 ? "repo" : name[..Math.Min(name.Length, 100)]);
    }

    /// <summary>Links the repository as <c>&lt;gitRoot&gt;/&lt;org&gt;/&lt;repo&gt;</c> (replacing an older link); returns the link.</summary>
    public string LinkInto(string gitRoot)
    {
        var link = Path.Combine(gitRoot, Name.Org, Name.Repo);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(link)!);
        var existing = new FileInfo(link);
        if (existing.LinkTarget is { } target)
        {
            if (Path.GetFullPath(target, Path.GetDirectoryName(link)!) == Directory)
            {
                return link;
            }

            existing.Delete();
        }
        else if (System.IO.Directory.Exists(link) || File.Exists(link))
        {
            throw new CliException($"{link} exists and is not a link kfci made; move it away");
        }

        File.CreateSymbolicLink(link, Directory);
        return link;
    }

    /// <summary>The default branch: origin's HEAD, else main, else master, else the current branch.</summary>
    public async Task<string> DefaultBranchAsync(CancellationToken cancellationToken)
    {
        if (await ChildProcess.TryGitAsync(Directory, cancellationToken, "symbolic-ref", "--short", "refs/remotes/origin/HEAD") is { } remoteHead)
        {
            return remoteHead[(remoteHead.IndexOf('/', StringComparison.Ordinal) + 1)..];
        }

        foreach (var candidate in new[] { "main", "master" })
        {
            if (await ChildProcess.TryGitAsync(Directory, cancellationToken, "rev-parse", "--verify", "--quiet", $"refs/heads/{candidate}") is not null)
            {
                return candidate;
            }
        }

        return await CurrentBranchAsync(cancellationToken) ?? throw new CliException($"{Directory}: cannot tell the base branch; pass --base-ref");
    }

    public Task<string?> CurrentBranchAsync(CancellationToken cancellationToken) =>
        ChildProcess.TryGitAsync(Directory, cancellationToken, "symbolic-ref", "--short", "HEAD");

    /// <summary>The full sha of <paramref name="revision"/>.</summary>
    public async Task<string> ShaAsync(string revision, CancellationToken cancellationToken) =>
        await ChildProcess.TryGitAsync(Directory, cancellationToken, "rev-parse", "--verify", "--quiet", revision + "^{commit}")
        ?? throw new CliException($"{Directory}: '{revision}' is not a commit of this repository");

    [GeneratedRegex(@"^(?:https?://(?:[^@/]+@)?github\.com/|ssh://git@github\.com/|git@github\.com:)(?<org>[^/]+)/(?<repo>[^/]+?)(?:\.git)?/?\z", RegexOptions.IgnoreCase)]
    private static partial Regex GitHubUrl();
}
