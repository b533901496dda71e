using Kfci.Sources;

namespace Kfci.Tests.Sources;

public sealed class GitProcessTests
{
    [Fact]
    public async Task Run_HangingCommand_TimesOutAndKillsIt()
    {
        // A shell alias is the only way to make git itself hang on purpose; kfci never runs aliases.
        string[] hang = ["-c", "alias.hang=!sleep 30", "hang"];

        var e = await Assert.ThrowsAsync<TimeoutException>(() =>
            GitProcess.RunAsync(Path.GetTempPath(), hang, TimeSpan.FromMilliseconds(300), 1024, CancellationToken.None));

        Assert.Contains("did not finish", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_Failure_StderrOnOneLine()
    {
        var result = await GitProcess.RunAsync(Path.GetTempPath(), ["cat-file", "-p", "no-such-object"], TimeSpan.FromSeconds(30), 1024, CancellationToken.None);

        Assert.NotEqual(0, result.ExitCode);
        Assert.DoesNotContain('\n', result.Stderr);
        Assert.NotEmpty(result.Stderr);
    }

    [Fact]
    public async Task Run_OutputOverLimit_SourceLimitException()
    {
        await Assert.ThrowsAsync<SourceLimitException>(() =>
            GitProcess.RunAsync(Path.GetTempPath(), ["help", "-a"], TimeSpan.FromSeconds(30), 10, CancellationToken.None));
    }
}
