namespace Kfci.Cli.Local;

/// <summary>Where the repository is and where local state lives (<c>KFCI_HOME</c>, default <c>.kfci/</c> in the repository).</summary>
public sealed record KfciPaths(string RepositoryRoot, string Home)
{
    public const string HomeVariable = "KFCI_HOME";

    public string LogDirectory => Path.Combine(Home, "logs");

    public static KfciPaths Discover()
    {
        var root = Environment.GetEnvironmentVariable("KFCI_REPO_ROOT") is { Length: > 0 } fromScript
            ? fromScript
            : FindRepositoryRoot(AppContext.BaseDirectory)
              ?? throw new InvalidOperationException("cannot find the kfci repository (no kfci.slnx above the program); run it through ./kfci");
        var home = Environment.GetEnvironmentVariable(HomeVariable) is { Length: > 0 } configured
            ? Path.GetFullPath(configured)
            : Path.Combine(root, ".kfci");
        return new KfciPaths(root, home);
    }

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
