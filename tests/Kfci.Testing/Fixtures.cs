namespace Kfci.Testing;

/// <summary>Finds the repository's test fixtures (<c>tests/fixtures/</c>, see its README) from a test's output directory.</summary>
public static class Fixtures
{
    private static readonly Lazy<string> s_root = new(FindRoot);

    /// <summary>The absolute <c>tests/fixtures</c> directory.</summary>
    /// <exception cref="DirectoryNotFoundException">No parent of the test's base directory holds <c>tests/fixtures</c>.</exception>
    public static string Root => s_root.Value;

    /// <summary>The absolute path of a fixture, given relative to <c>tests/fixtures</c> (e.g. <c>prow_config/kubeflow_kubeflow.yaml</c>).</summary>
    public static string PathOf(string relative) => Path.Combine(Root, relative);

    private static string FindRoot()
    {
        // Walks up from bin/… to the repository: the fixtures live in it, so a fresh clone needs nothing beside it.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "fixtures");
            if (Directory.Exists(candidate) && File.Exists(Path.Combine(dir.FullName, "kfci.slnx")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException($"no tests/fixtures in a repository above {AppContext.BaseDirectory}");
    }
}
