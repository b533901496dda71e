namespace Kfci.Tests.Infra;

/// <summary>
/// Parses infra/terraform once per test run, and parses deliberately broken copies of it through
/// the same warm parser process.
/// </summary>
public sealed class TerraformFixture : IDisposable
{
    private readonly Lazy<HclParser> _parser;
    private readonly Lazy<TerraformTree> _tree;

    public TerraformFixture()
    {
        RepositoryRoot = Infra.RepositoryRoot.Find();
        ConfigurationDirectory = Path.Combine(RepositoryRoot, "infra", "terraform");
        // Created on first use so that a missing parser fails each test with the set-up hint.
        _parser = new Lazy<HclParser>(() => new HclParser(RepositoryRoot));
        _tree = new Lazy<TerraformTree>(() => _parser.Value.Parse(ConfigurationDirectory));
    }

    public string RepositoryRoot { get; }

    public string ConfigurationDirectory { get; }

    internal TerraformTree Tree => _tree.Value;

    /// <summary>
    /// Copies the configuration to a temporary directory, replaces <paramref name="find"/> (which
    /// must occur in <paramref name="file"/>, so a test cannot pass by breaking nothing) and parses it.
    /// </summary>
    internal TerraformTree ParseBroken(string file, string find, string replace) =>
        WithBrokenCopy(file, find, replace, _parser.Value.Parse);

    /// <summary>Parses a configuration directory (a broken copy) with the warm parser.</summary>
    internal TerraformTree Parse(string directory) => _parser.Value.Parse(directory);

    /// <summary>Like <see cref="ParseBroken"/> but hands the broken directory to <paramref name="check"/>.</summary>
    internal T WithBrokenCopy<T>(string file, string find, string replace, Func<string, T> check)
    {
        ArgumentNullException.ThrowIfNull(check);
        var copy = Directory.CreateTempSubdirectory("kfci-terraform-");
        try
        {
            // Both root modules: the configuration directory and cluster/ below it.
            foreach (var source in Directory.EnumerateFiles(ConfigurationDirectory, "*.tf", SearchOption.AllDirectories))
            {
                var target = Path.Combine(copy.FullName, Path.GetRelativePath(ConfigurationDirectory, source));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(source, target);
            }

            var path = Path.Combine(copy.FullName, file);
            var text = File.ReadAllText(path);
            Assert.True(text.Contains(find, StringComparison.Ordinal), $"{file} no longer contains the text this test breaks: {find}");
            File.WriteAllText(path, text.Replace(find, replace, StringComparison.Ordinal));
            return check(copy.FullName);
        }
        finally
        {
            copy.Delete(recursive: true);
        }
    }

    public void Dispose()
    {
        if (_parser.IsValueCreated)
        {
            _parser.Value.Dispose();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class TerraformCollection : ICollectionFixture<TerraformFixture>
{
    public const string Name = "terraform";
}
