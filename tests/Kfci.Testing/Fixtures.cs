namespace Kfci.Testing;

/// <summary>Finds the shared reference fixtures (<c>shared/fixtures/</c>, beside the repository) from a test's output directory.</summary>
public static class Fixtures
{
    private static readonly Lazy<string> s_root = new(FindRoot);

    /// <summary>The absolute <c>shared/fixtures</c> directory.</summary>
    /// <exception cref="DirectoryNotFoundException">No parent of the test's base directory holds <c>shared/fixtures</c>.</exception>
    public static string Root => s_root.Value;

    /// <summary>The absolute path of a fixture, given relative to <c>shared/fixtures</c> (e.g. <c>prow_config/kubeflow_kubeflow.yaml</c>).</summary>
    public static string PathOf(string relative) => Path.Combine(Root, relative);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "fixtures");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException($"no shared/fixtures above {AppContext.BaseDirectory}");
    }
}
