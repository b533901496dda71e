using Kfci.Configuration;
using Kfci.Sources;
using Microsoft.Extensions.DependencyInjection;

namespace Kfci.Tests.Sources;

public sealed class RepositorySourcesTests
{
    [Fact]
    public void Create_GitRootSet_LocalGitSource()
    {
        var root = Path.GetTempPath();

        var source = RepositorySources.Create(name => name == KfciEnvironment.GitRoot ? root : null);

        Assert.IsType<LocalGitSource>(source);
    }

    [Fact]
    public void Create_GitRootMissing_FailsNamingTheVariable()
    {
        var e = Assert.Throws<InvalidOperationException>(() =>
            RepositorySources.Create(name => name == KfciEnvironment.GitRoot ? "/nonexistent/kfci-git-root" : null));

        Assert.Contains(KfciEnvironment.GitRoot, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddKfciAdapters_NoGitRoot_GitHubSourceWithItsConfiguredUrl()
    {
        var services = new ServiceCollection();
        services.AddKfciAdapters(name => name == KfciEnvironment.GitHubApiUrl ? "http://127.0.0.1:1/" : null);
        using var provider = services.BuildServiceProvider();

        Assert.IsType<GitHubSource>(provider.GetRequiredService<IRepositorySource>());
    }
}
