using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Kfci.Prow;
using Kfci.ProwConfig;

namespace Kfci.Sources;

/// <summary>
/// <see cref="IRepositorySource"/> over local git repositories read with real <c>git</c>: either a root directory
/// holding <c>&lt;org&gt;/&lt;repo&gt;</c> repositories (<c>KFCI_GIT_ROOT</c>; entries may be symlinks) or one
/// repository that answers for every name (<c>kfci plan --repo DIR</c>). A commit the repository lacks is fetched
/// from its <c>origin</c> when it has one, and shallow clones are deepened until <c>merge-base</c> or a parent is
/// reachable, so a CI-style <c>--depth 1</c> checkout works.
/// </summary>
public sealed partial class LocalGitSource : IRepositorySource
{
    // Deepening steps for shallow clones before falling back to --unshallow.
    private static readonly int[] s_deepenSteps = [50, 500];

    private readonly string? _root;
    private readonly string? _repository;

    private LocalGitSource(string? root, string? repository, TimeSpan? timeout, TimeSpan? fetchTimeout)
    {
        _root = root;
        _repository = repository;
        Timeout = timeout ?? TimeSpan.FromSeconds(60);
        FetchTimeout = fetchTimeout ?? TimeSpan.FromMinutes(5);
    }

    /// <summary>The limit for one local git call.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>The limit for one <c>git fetch</c>, which goes over the network.</summary>
    public TimeSpan FetchTimeout { get; }

    /// <summary>Repositories at <c>root/&lt;org&gt;/&lt;repo&gt;</c>.</summary>
    public static LocalGitSource OverRoot(string root, TimeSpan? timeout = null, TimeSpan? fetchTimeout = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        return new LocalGitSource(Path.GetFullPath(root), null, timeout, fetchTimeout);
    }

    /// <summary>One repository, whatever org/repo is asked for.</summary>
    public static LocalGitSource OverRepository(string directory, TimeSpan? timeout = null, TimeSpan? fetchTimeout = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        return new LocalGitSource(null, Path.GetFullPath(directory), timeout, fetchTimeout);
    }

    /// <inheritdoc/>
    public async Task<byte[]?> ReadFileAsync(RepositoryName repository, string commitSha, string path, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(repository);
        RequireSha(commitSha);
        var normalized = WorkflowPath.Normalize(path);
        var directory = Locate(repository);
        await EnsureCommitAsync(directory, repository, commitSha, null, cancellationToken);

        // One batch-check answers "exists? blob? how big?" without reading the content.
        var check = await GitAsync(directory, ["cat-file", "--batch-check"], cancellationToken, stdin: $"{commitSha}:{normalized}\n");
        var fields = check.Text.Split(' ');
        if (fields.Length != 3 || fields[1] != "blob")
        {
            return null; // "<name> missing", or a tree/submodule at that path: no file there.
        }

        var size = long.Parse(fields[2], CultureInfo.InvariantCulture);
        if (size > maxBytes)
        {
            throw new SourceLimitException($"{repository}@{Short(commitSha)}:{normalized} is {size} bytes, more than the {maxBytes} kfci reads");
        }

        var blob = await RunAsync(directory, ["cat-file", "blob", fields[0]], Timeout, maxBytes, cancellationToken);
        return blob.Succeeded ? blob.Stdout : throw Failed(["cat-file", "blob"], blob);
    }

    /// <summary>The full sha of <paramref name="revision"/>: <c>HEAD</c>, a branch name or a (short) sha.</summary>
    /// <exception cref="SourceNotFoundException">The repository has no such commit.</exception>
    public async Task<string> ResolveCommitAsync(RepositoryName repository, string revision, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(repository);
        if (revision != "HEAD" && !GitRefName.IsSafe(revision))
        {
            throw new ArgumentException($"'{revision}' is not HEAD, a branch name or a sha");
        }

        var directory = Locate(repository);
        var resolved = await RunAsync(directory, ["rev-parse", "--verify", "--quiet", $"{revision}^{{commit}}"], Timeout, 4096, cancellationToken);
        return resolved.Succeeded ? resolved.Text : throw new SourceNotFoundException($"{revision} is not a commit of {repository} ({directory})");
    }

    /// <inheritdoc/>
    public async Task<string> ResolveBranchAsync(RepositoryName repository, string branch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(repository);
        if (!GitRefName.IsSafe(branch))
        {
            throw new ArgumentException($"'{branch}' is not a branch name");
        }

        var directory = Locate(repository);
        return await BranchHeadAsync(directory, branch, cancellationToken)
            ?? throw new SourceNotFoundException($"branch '{branch}' of {repository} not found in {directory}");
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<string>> ChangedFilesAsync(ProwJobSpec job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.Type == JobType.Periodic)
        {
            return [];
        }

        var refs = job.Refs ?? throw new ArgumentException($"a {job.Type.ToProwString()} job needs refs");
        var repository = new RepositoryName(refs.Org, refs.Repo);
        var directory = Locate(repository);
        var changed = new SortedSet<string>(StringComparer.Ordinal);
        if (job.Type == JobType.Postsubmit)
        {
            var sha = RequireSha(refs.BaseSha, "postsubmit base_sha");
            await EnsureCommitAsync(directory, repository, sha, refs.BaseRef, cancellationToken);
            changed.UnionWith(await CommitFilesAsync(directory, sha, cancellationToken));
            return [.. changed];
        }

        var pulls = refs.Pulls is { Count: > 0 } p ? p : throw new ArgumentException($"a {job.Type.ToProwString()} job needs at least one pull");
        foreach (var pull in pulls)
        {
            var head = RequireSha(pull.Sha, $"pull {pull.Number} sha");
            await EnsureCommitAsync(directory, repository, head, $"pull/{pull.Number.ToString(CultureInfo.InvariantCulture)}/head", cancellationToken);
            var baseCommit = await ResolveBaseAsync(directory, repository, refs, cancellationToken);
            var mergeBase = await MergeBaseAsync(directory, baseCommit, head, cancellationToken);
            changed.UnionWith(await DiffAsync(directory, [mergeBase, head], cancellationToken));
        }

        return [.. changed];
    }

    private string Locate(RepositoryName repository)
    {
        var directory = _repository ?? Path.Combine(_root!, repository.Org, repository.Repo);
        return Directory.Exists(directory)
            ? directory
            : throw new SourceNotFoundException($"repository {repository} not found: {directory} does not exist");
    }

    /// <summary>The files of a postsubmit commit: its diff to its first parent, or all its files for a root commit.</summary>
    private async Task<IReadOnlyList<string>> CommitFilesAsync(string directory, string sha, CancellationToken cancellationToken)
    {
        while (true)
        {
            var parent = await RunAsync(directory, ["rev-parse", "--verify", "--quiet", $"{sha}^1^{{commit}}"], Timeout, 4096, cancellationToken);
            if (parent.Succeeded)
            {
                return await DiffAsync(directory, [parent.Text, sha], cancellationToken);
            }

            // No parent: a root commit, unless the clone is shallow and cut history just there.
            if (!await DeepenAsync(directory, cancellationToken))
            {
                return Split((await GitAsync(directory, ["diff-tree", "-r", "-z", "--root", "--no-commit-id", "--name-only", "--no-renames", sha], cancellationToken)).Stdout);
            }
        }
    }

    private async Task<string> MergeBaseAsync(string directory, string baseCommit, string head, CancellationToken cancellationToken)
    {
        while (true)
        {
            var mergeBase = await RunAsync(directory, ["merge-base", baseCommit, head], Timeout, 4096, cancellationToken);
            if (mergeBase.Succeeded)
            {
                return mergeBase.Text;
            }

            if (mergeBase.ExitCode != 1)
            {
                throw Failed(["merge-base"], mergeBase);
            }

            if (!await DeepenAsync(directory, cancellationToken))
            {
                throw new SourceNotFoundException($"{Short(baseCommit)} and {Short(head)} have no common ancestor in {directory}");
            }
        }
    }

    // --no-renames: a rename lists both the old and the new path, so moving a file out of a directory still
    // counts as a change to that directory (include_dirs), whatever the user's diff.renames setting.
    private async Task<IReadOnlyList<string>> DiffAsync(string directory, string[] commits, CancellationToken cancellationToken) =>
        Split((await GitAsync(directory, ["diff", "--name-only", "-z", "--no-renames", "--no-ext-diff", "--no-textconv", commits[0], commits[1], "--"], cancellationToken)).Stdout);

    /// <summary>The base to diff a PR against: <c>base_sha</c>, else the <c>base_ref</c> branch (local or origin's).</summary>
    private async Task<string> ResolveBaseAsync(string directory, RepositoryName repository, Refs refs, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(refs.BaseSha))
        {
            var sha = RequireSha(refs.BaseSha, "base_sha");
            await EnsureCommitAsync(directory, repository, sha, refs.BaseRef, cancellationToken);
            return sha;
        }

        var branch = refs.BaseRef is { Length: > 0 } name && GitRefName.IsSafe(name)
            ? name
            : throw new ArgumentException($"base_ref '{refs.BaseRef}' is not a branch name");
        return await BranchHeadAsync(directory, branch, cancellationToken)
            ?? throw new SourceNotFoundException($"base branch '{branch}' of {repository} not found in {directory}");
    }

    /// <summary>
    /// The branch's head: the local branch (a local checkout's own work), else origin's as origin has it now, fetched
    /// first: a remote-tracking ref is only as new as the last fetch, and a branch pushed to since must not resolve to
    /// an older commit. When origin cannot be reached, the remote-tracking ref already here is used. Null when none has it.
    /// </summary>
    private async Task<string?> BranchHeadAsync(string directory, string branch, CancellationToken cancellationToken)
    {
        if (await RevParseAsync(directory, $"refs/heads/{branch}", cancellationToken) is { } local)
        {
            return local;
        }

        var remote = $"refs/remotes/origin/{branch}";
        if (await HasOriginAsync(directory, cancellationToken))
        {
            var fetch = await RunAsync(directory, ["fetch", "--quiet", "origin", $"+refs/heads/{branch}:{remote}"], FetchTimeout, 1 << 20, cancellationToken);
            if (!fetch.Succeeded)
            {
                switch (await RemoteHasBranchAsync(directory, branch, cancellationToken))
                {
                    case false:
                        return null; // origin answered and has no such branch: a stale remote-tracking ref must not stand in for it
                    case null when await RevParseAsync(directory, remote, cancellationToken) is null:
                        // Not "no such branch": origin did not answer, and asking again later may well work (transient).
                        throw new IOException($"origin of {directory} could not be reached to resolve branch '{branch}': {fetch.Stderr}");
                }
            }
        }

        return await RevParseAsync(directory, remote, cancellationToken);
    }

    private async Task<string?> RevParseAsync(string directory, string reference, CancellationToken cancellationToken)
    {
        var resolved = await RunAsync(directory, ["rev-parse", "--verify", "--quiet", $"{reference}^{{commit}}"], Timeout, 4096, cancellationToken);
        return resolved.Succeeded ? resolved.Text : null;
    }

    /// <summary>Whether origin has the branch; null when origin cannot be asked.</summary>
    private async Task<bool?> RemoteHasBranchAsync(string directory, string branch, CancellationToken cancellationToken)
    {
        // --exit-code: 2 when origin answered without a matching ref.
        var listed = await RunAsync(directory, ["ls-remote", "--exit-code", "--heads", "origin", $"refs/heads/{branch}"], FetchTimeout, 1 << 16, cancellationToken);
        return listed.Succeeded ? true : listed.ExitCode == 2 ? false : null;
    }

    /// <summary>Makes sure the commit is present, fetching it (by sha, else by <paramref name="fallbackRef"/>) from origin.</summary>
    private async Task EnsureCommitAsync(string directory, RepositoryName repository, string sha, string? fallbackRef, CancellationToken cancellationToken)
    {
        if (await HasCommitAsync(directory, sha, cancellationToken))
        {
            return;
        }

        if (await HasOriginAsync(directory, cancellationToken))
        {
            var refsToTry = new List<string> { sha };
            if (fallbackRef is not null && GitRefName.IsSafe(fallbackRef))
            {
                refsToTry.Add(fallbackRef.StartsWith("pull/", StringComparison.Ordinal) ? fallbackRef : $"refs/heads/{fallbackRef}");
            }

            foreach (var reference in refsToTry)
            {
                await RunAsync(directory, ["fetch", "--quiet", "origin", reference], FetchTimeout, 1 << 20, cancellationToken);
                if (await HasCommitAsync(directory, sha, cancellationToken))
                {
                    return;
                }
            }
        }

        throw new SourceNotFoundException($"commit {sha} not found in {repository} ({directory})");
    }

    private async Task<bool> HasCommitAsync(string directory, string sha, CancellationToken cancellationToken) =>
        (await RunAsync(directory, ["cat-file", "-e", $"{sha}^{{commit}}"], Timeout, 4096, cancellationToken)).Succeeded;

    private async Task<bool> HasOriginAsync(string directory, CancellationToken cancellationToken) =>
        (await RunAsync(directory, ["remote", "get-url", "origin"], Timeout, 1 << 16, cancellationToken)).Succeeded;

    /// <summary>Fetches more history into a shallow clone; false when there is nothing more to get.</summary>
    private async Task<bool> DeepenAsync(string directory, CancellationToken cancellationToken)
    {
        var shallow = await GitAsync(directory, ["rev-parse", "--is-shallow-repository"], cancellationToken);
        if (shallow.Text != "true" || !await HasOriginAsync(directory, cancellationToken))
        {
            return false;
        }

        var depth = await GitAsync(directory, ["rev-list", "--count", "--all"], cancellationToken);
        var have = int.Parse(depth.Text, CultureInfo.InvariantCulture);
        var step = s_deepenSteps.FirstOrDefault(s => s > have);
        string[] fetch = step > 0
            ? ["fetch", "--quiet", $"--deepen={step.ToString(CultureInfo.InvariantCulture)}", "origin"]
            : ["fetch", "--quiet", "--unshallow", "origin"];
        var result = await RunAsync(directory, fetch, FetchTimeout, 1 << 20, cancellationToken);
        return result.Succeeded ? true : throw Failed(fetch, result);
    }

    private async Task<GitResult> GitAsync(string directory, string[] arguments, CancellationToken cancellationToken, string? stdin = null)
    {
        var result = await RunAsync(directory, arguments, Timeout, 64L << 20, cancellationToken, stdin);
        return result.Succeeded ? result : throw Failed(arguments, result);
    }

    private static Task<GitResult> RunAsync(
        string directory, string[] arguments, TimeSpan timeout, long maxStdout, CancellationToken cancellationToken, string? stdin = null) =>
        GitProcess.RunAsync(directory, arguments, timeout, maxStdout, cancellationToken, stdin is null ? null : Encoding.UTF8.GetBytes(stdin));

    private static GitCommandException Failed(IReadOnlyList<string> arguments, GitResult result) =>
        new($"git {GitProcess.Describe(arguments)} failed (exit {result.ExitCode}): {result.Stderr}");

    private static List<string> Split(byte[] nulSeparated) =>
        [.. Encoding.UTF8.GetString(nulSeparated).Split('\0', StringSplitOptions.RemoveEmptyEntries)];

    private static string RequireSha(string? sha, string what = "commit sha") =>
        sha is not null && Sha().IsMatch(sha) ? sha : throw new ArgumentException($"{what} '{sha}' is not a hexadecimal commit sha");

    private static string Short(string sha) => sha.Length > 12 ? sha[..12] : sha;

    [GeneratedRegex(@"^[0-9a-fA-F]{7,64}\z")]
    private static partial Regex Sha();
}
