using System.Diagnostics;
using Kfci.Cli.CommandLine;
using Kfci.Runs;

namespace Kfci.Cli.Local;

/// <summary>
/// <c>kfci local down</c>: lets the chain finish what it is doing (bounded), saves the Firestore state, then stops
/// every process. What could not finish in time is named, so nobody wonders where a run went; <c>local up</c>
/// settles it.
/// </summary>
public sealed class LocalStop(KfciPaths paths, TextWriter output)
{
    public static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan s_poll = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_progressEvery = TimeSpan.FromSeconds(5);

    public async Task<int> StopAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        if (LocalStackState.Load(paths.Home) is not { } state)
        {
            await output.WriteLineAsync("kfci local stack is not running.");
            return ExitCodes.Success;
        }

        if (wait > TimeSpan.Zero && await LocalChain.IsHealthyAsync(state, cancellationToken))
        {
            await WaitForIdleAsync(state, wait, cancellationToken);
        }

        var saved = await LocalStateSaver.SaveNowAsync(state, paths, output, cancellationToken);
        LocalChain.Down(state);
        LocalStackState.Delete(paths.Home);
        var where = saved is not null ? $"runs, sweeps and rejections saved in {saved.Directory}; " : "";
        await output.WriteLineAsync($"Stopped {state.Processes.Count} processes ({where}results, repositories and logs stay in {paths.Home}).");
        return ExitCodes.Success;
    }

    private async Task WaitForIdleAsync(LocalStackState state, TimeSpan wait, CancellationToken cancellationToken)
    {
        var environment = LocalChain.Environment(state, paths);
        using var context = CliContext.Resolve(state.Project, name => environment.TryGetValue(name, out var value) ? value : Environment.GetEnvironmentVariable(name));
        var clock = Stopwatch.StartNew();
        // One interval "ago", so the first wait says what it waits for (TimeSpan.MinValue would overflow the subtraction).
        var lastProgress = -s_progressEvery;
        IReadOnlyList<RunRecord> unfinished;
        while ((unfinished = await LocalRecovery.UnfinishedAsync(context.Runs, cancellationToken)).Count > 0 && clock.Elapsed < wait)
        {
            if (clock.Elapsed - lastProgress >= s_progressEvery)
            {
                lastProgress = clock.Elapsed;
                var left = wait - clock.Elapsed;
                await output.WriteLineAsync($"Waiting for {unfinished.Count} run(s) to finish ({Describe(unfinished)}); {left.TotalSeconds:0} s left (--wait 0 stops at once).");
            }

            await Task.Delay(s_poll, cancellationToken);
        }

        if (unfinished.Count > 0)
        {
            await output.WriteLineAsync($"Left unfinished: {Describe(unfinished)}. 'kfci local up' picks them up again (workflows that were running end as Error).");
        }
    }

    private static string Describe(IReadOnlyList<RunRecord> runs) =>
        string.Join(", ", runs.Take(5).Select(r => $"{r.RunId} {r.State.ToWire()}")) + (runs.Count > 5 ? $" and {runs.Count - 5} more" : "");
}
