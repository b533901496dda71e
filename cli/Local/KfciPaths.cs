namespace Kfci.Cli.Local;

/// <summary>Where the repository is and where local state lives (<c>KFCI_HOME</c>, default <c>.kfci/</c> in the repository).</summary>
public sealed record KfciPaths(string RepositoryRoot, string Home)
{
    public const string HomeVariable = "KFCI_HOME";

    public string LogDirectory => Path.Combine(Home, "logs");

    /// <summary>The local results bucket (<c>KFCI_RESULTS_DIR</c>).</summary>
    public string ResultsDirectory => Path.Combine(Home, "results");

    /// <summary>Where <c>local run</c> links repositories as <c>&lt;org&gt;/&lt;repo&gt;</c> (<c>KFCI_GIT_ROOT</c>).</summary>
    public string GitRoot => Path.Combine(Home, "repos");

    /// <summary>The host directory behind the workflows' NFS claim (<c>KFCI_NFS_ROOT</c>).</summary>
    public string NfsRoot => Path.Combine(Home, "nfs");

    public static KfciPaths Discover(Func<string, string?>? getEnv = null)
    {
        getEnv ??= Environment.GetEnvironmentVariable;
        var root = RepositoryRootFrom(getEnv)
            ?? throw new InvalidOperationException("cannot find the kfci repository (no kfci.slnx above the program); run it through ./kfci");
        return new KfciPaths(root, HomeFrom(getEnv) ?? Path.Combine(root, ".kfci"));
    }

    /// <summary>
    /// Where a local stack's state would be, or null when there can be none: an installed copy (the image a Prow job
    /// runs) is in no checkout, and without <c>KFCI_HOME</c> it reaches only the project it is given.
    /// </summary>
    public static KfciPaths? TryDiscoverHome(Func<string, string?>? getEnv = null)
    {
        getEnv ??= Environment.GetEnvironmentVariable;
        var root = RepositoryRootFrom(getEnv);
        var home = HomeFrom(getEnv);
        return (root, home) switch
        {
            (null, null) => null,
            (null, { } onlyHome) => new KfciPaths(onlyHome, onlyHome),
            ({ } r, _) => new KfciPaths(r, home ?? Path.Combine(r, ".kfci")),
        };
    }

    private static string? RepositoryRootFrom(Func<string, string?> getEnv) =>
        getEnv("KFCI_REPO_ROOT") is { Length: > 0 } fromScript ? fromScript : FindRepositoryRoot(AppContext.BaseDirectory);

    private static string? HomeFrom(Func<string, string?> getEnv) =>
        getEnv(HomeVariable) is { Length: > 0 } configured ? Path.GetFullPath(configured) : null;

    private static string? FindRepositoryRoot(string start)
    {
        for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "kfci.slnx")))
            {
                return directory.FullName;
            }
        }

        return null;
    }
}
