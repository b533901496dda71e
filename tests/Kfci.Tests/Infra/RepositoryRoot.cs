namespace Kfci.Tests.Infra;

/// <summary>Finds the repository the tests were built from, so they can read its files by path.</summary>
internal static class RepositoryRoot
{
    /// <summary>The nearest directory above the test binaries that holds <c>kfci.slnx</c>.</summary>
    /// <exception cref="InvalidOperationException">The tests do not run from inside the repository.</exception>
    public static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "kfci.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no kfci.slnx above {AppContext.BaseDirectory}: run the tests from the repository");
    }
}
