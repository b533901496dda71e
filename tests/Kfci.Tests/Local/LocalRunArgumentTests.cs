using System.CommandLine;
using Kfci.Cli.CommandLine;

namespace Kfci.Tests.Local;

/// <summary>Bad input to <c>kfci local run</c> (and to the parser anywhere) exits 2 with one line, before anything starts.</summary>
public sealed class LocalRunArgumentTests : IDisposable
{
    private readonly string _notGit = Directory.CreateTempSubdirectory("kfci-not-git-").FullName;
    private readonly string _home = Directory.CreateTempSubdirectory("kfci-home-").FullName;

    public void Dispose()
    {
        Directory.Delete(_notGit, recursive: true);
        Directory.Delete(_home, recursive: true);
    }

    private async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await KfciCli.RunAsync(KfciCli.Create(), args, new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    public static TheoryData<string[], string> BadRuns => new()
    {
        { ["--job-type", "presubmit"], "kfci: --repo DIR is required" },
        { ["--repo", ".", "--job-type", "nightly"], "kfci: --job-type must be presubmit, postsubmit or periodic, not 'nightly'" },
        { ["--repo", "."], "kfci: --job-type presubmit|postsubmit|periodic is required" },
        { ["--repo", ".", "--job-type", "postsubmit", "--pull-number", "3"], "kfci: --pull-number and --pull-sha are for presubmits, not postsubmit jobs" },
        { ["--repo", ".", "--job-type", "presubmit", "--pull-number", "x1"], "kfci: --pull-number must be a positive number, not 'x1'" },
        { ["--repo", ".", "--job-type", "presubmit", "--format", "yaml"], "kfci: --format must be text or json, not 'yaml'" },
        { ["--repo", ".", "--job-type", "presubmit", "--timeout", "0"], "kfci: --timeout must be at least 1 minute" },
        { ["--repo", "/nonexistent/kfci-repo", "--job-type", "presubmit"], "kfci: --repo /nonexistent/kfci-repo: no such directory" },
        { ["--repo", ".", "--job-type", "presubmit", "--bogus"], "kfci: Unrecognized command or argument '--bogus'. (see kfci local run --help)" },
    };

    [Theory]
    [MemberData(nameof(BadRuns))]
    public async Task LocalRun_BadArguments_ExitTwoWithOneLine(string[] args, string expected)
    {
        var (exit, stdout, stderr) = await RunAsync(["local", "run", .. args]);

        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        Assert.Equal(expected, stderr.Trim());
    }

    [Fact]
    public async Task LocalRun_DirectoryThatIsNotAGitRepository_ExitsTwo()
    {
        var (exit, _, stderr) = await RunAsync("local", "run", "--repo", _notGit, "--job-type", "periodic");

        Assert.Equal(2, exit);
        Assert.Equal($"kfci: --repo {_notGit}: not a git repository", stderr.Trim());
    }

    [Fact]
    public async Task Parser_UnknownCommand_ExitsTwoNotOne()
    {
        var (exit, _, stderr) = await RunAsync("runs", "lsit");

        Assert.Equal(2, exit);
        Assert.StartsWith("kfci: ", stderr, StringComparison.Ordinal);
        Assert.Contains("(see kfci runs --help)", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("local", "run")]
    [InlineData("trigger")]
    [InlineData("runs", "show")]
    [InlineData("logs")]
    [InlineData("replay")]
    public async Task Help_OnEveryNewCommand_ExitsZeroAndDescribesIt(params string[] command)
    {
        var (exit, stdout, _) = await RunAsync([.. command, "--help"]);

        Assert.Equal(0, exit);
        Assert.Contains("Usage:", stdout, StringComparison.Ordinal);
        Assert.Contains($" {string.Join(' ', command)} ", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void LocalCommands_SchedulerIsHidden()
    {
        var local = KfciCli.Create().Subcommands.Single(c => c.Name == "local");

        Assert.True(local.Subcommands.Single(c => c.Name == "scheduler").Hidden);
    }
}
