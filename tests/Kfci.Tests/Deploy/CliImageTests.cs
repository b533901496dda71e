using Kfci.Tests.Infra;

namespace Kfci.Tests.Deploy;

/// <summary>
/// What cli/Dockerfile puts in the image a Prow job runs: the <c>dotnet publish</c> output of the command-line tool,
/// started the way the image's entry point and the pod spec of docs/prow.md start it (<c>dotnet kfci.dll wait</c>).
/// Docker itself is not available here; the publish is the image's build step.
/// </summary>
[Collection(ImagePublishCollection.Name)]
public sealed class CliImageTests
{
    [Fact]
    public async Task PublishOutput_StartedAsTheProwPodStartsIt_DocumentsWait()
    {
        var root = RepositoryRoot.Find();
        var dockerfile = await File.ReadAllTextAsync(Path.Combine(root, "cli", "Dockerfile"));
        Assert.Contains("dotnet publish cli/Kfci.Cli.csproj", dockerfile, StringComparison.Ordinal);
        Assert.Contains("ENTRYPOINT [\"dotnet\", \"/app/kfci.dll\"]", dockerfile, StringComparison.Ordinal);

        var output = Directory.CreateTempSubdirectory("kfci-cli-publish-");
        try
        {
            var publish = await DotnetProcess.RunAsync(root, TimeSpan.FromMinutes(10), "dotnet", "publish", "cli/Kfci.Cli.csproj", "-c", "Release", "-o", output.FullName, "-v", "q");
            Assert.True(publish.ExitCode == 0, $"dotnet publish failed: {publish.Output}");

            var help = await DotnetProcess.RunAsync(output.FullName, TimeSpan.FromMinutes(1), "dotnet", Path.Combine(output.FullName, "kfci.dll"), "wait", "--help");

            Assert.True(help.ExitCode == 0, $"kfci wait --help exited {help.ExitCode}: {help.Output}");
            Assert.Contains("Exit codes: 0", help.Output, StringComparison.Ordinal);
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }
}
