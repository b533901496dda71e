using System.Diagnostics;
using System.Text.Json;
using Kfci.Cli.Local;
using Kfci.Local;
using Kfci.Testing;
using Kfci.Tests.Infra;

namespace Kfci.Tests.Local;

/// <summary>
/// The local stack keeps its history, through ./kfci as a user runs it: a finished run is still listed, shown, logged
/// and replayable after 'local down' and 'local up', after the Firestore emulator is killed instead of stopped, and
/// after its newest saved export is corrupted.
/// </summary>
public sealed class PersistenceEndToEndTests : IDisposable
{
    private readonly string _root = RepositoryRoot.Find();
    private readonly string _home = StackDirectories.Create("kfci-persist-home-");

    public void Dispose()
    {
        Kfci("local", "down", "--wait", "0");
        StackDirectories.Delete(_home);
    }

    [Fact]
    public void LocalStack_DownUpKillAndCorruptExport_RunsSurviveWithTheirResults()
    {
        var repo = ExampleRepo("good");
        var first = Kfci("local", "run", "--repo", repo, "--job-type", "presubmit", "--format", "json", "--timeout", "5");
        Assert.True(first.Exit == 0, first.Out + first.Err);
        string runId;
        using (var answer = JsonDocument.Parse(first.Out))
        {
            runId = answer.RootElement.GetProperty("runId").GetString()!;
        }

        // A clean stop and start.
        var down = Kfci("local", "down");
        Assert.True(down.Exit == 0, down.Out + down.Err);
        Assert.Contains("saved in", down.Out, StringComparison.Ordinal);
        var up = Kfci("local", "up");
        Assert.True(up.Exit == 0, up.Out + up.Err);
        Assert.Contains("imported the export", up.Out, StringComparison.Ordinal);
        AssertRunKept(runId);
        var show = Kfci("runs", "show", runId);
        Assert.True(show.Exit == 0, show.Out + show.Err);
        Assert.Contains("SUCCESS", show.Out, StringComparison.Ordinal);
        var logs = Kfci("logs", runId);
        Assert.True(logs.Exit == 0 && logs.Out.Length > 0, logs.Out + logs.Err);
        var replay = Kfci("replay", runId);
        Assert.True(replay.Exit == 0, replay.Out + replay.Err);

        // A crash: the emulator is killed, not stopped. The periodic save has the replayed run once it has run.
        Thread.Sleep(LocalStateSaver.Interval + TimeSpan.FromSeconds(3));
        var state = LocalStackState.Load(_home)!;
        ProcessGroups.Terminate(state.Find(LocalChain.FirestoreEmulator)!.ProcessId);
        var restarted = Kfci("local", "up");
        Assert.True(restarted.Exit == 0, restarted.Out + restarted.Err);
        AssertRunKept(runId);
        Assert.True(RunIds().Count >= 2, "the replayed run was lost with the killed emulator");

        // A corrupt newest export is set aside with one warning; the stack starts from the one before it.
        Assert.Equal(0, Kfci("local", "down", "--wait", "0").Exit);
        var newest = new FirestoreSnapshots(_home).Newest()!;
        File.WriteAllText(Directory.EnumerateFiles(newest.Directory, "output-*", SearchOption.AllDirectories).First(), "garbage");
        var recovered = Kfci("local", "up");
        Assert.True(recovered.Exit == 0, recovered.Out + recovered.Err);
        Assert.Single(recovered.Out.Split('\n'), l => l.StartsWith("warning: Firestore export", StringComparison.Ordinal));
        AssertRunKept(runId);
        var status = Kfci("local", "status");
        Assert.True(status.Exit == 0, status.Out + status.Err);
        Assert.Contains("last saved", status.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void LocalReset_WithoutYesAndNoTerminal_RefusesAndKeepsState()
    {
        var marker = Path.Combine(_home, "results", "kept.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(marker)!);
        File.WriteAllText(marker, "x");

        var refused = Kfci("local", "reset");
        Assert.Equal(2, refused.Exit);
        Assert.Contains("--yes", refused.Err, StringComparison.Ordinal);
        Assert.True(File.Exists(marker));

        var reset = Kfci("local", "reset", "--yes");
        Assert.True(reset.Exit == 0, reset.Out + reset.Err);
        Assert.False(File.Exists(marker));
    }

    private void AssertRunKept(string runId)
    {
        var list = Kfci("runs", "list", "--format", "json");
        Assert.True(list.Exit == 0, list.Out + list.Err);
        using var runs = JsonDocument.Parse(list.Out);
        var run = runs.RootElement.GetProperty("runs").EnumerateArray().Single(r => r.GetProperty("runId").GetString() == runId);
        Assert.Equal("SUCCESS", run.GetProperty("result").GetString());
    }

    private List<string> RunIds()
    {
        var list = Kfci("runs", "list", "--format", "json");
        using var runs = JsonDocument.Parse(list.Out);
        return [.. runs.RootElement.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("runId").GetString()!)];
    }

    private (int Exit, string Out, string Err) Run(string command, params string[] args)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, WorkingDirectory = _root };
        start.Environment["KFCI_HOME"] = _home;
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr);
    }

    private (int Exit, string Out, string Err) Kfci(params string[] args) => Run(Path.Combine(_root, "kfci"), args);

    private string ExampleRepo(string name)
    {
        var (exit, stdout, stderr) = Run("bash", Path.Combine(_root, "scripts", "example-repo.sh"), Path.Combine(_home, name));
        Assert.True(exit == 0, stderr);
        return stdout.Trim();
    }
}
