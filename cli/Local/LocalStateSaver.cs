using Kfci.Configuration;

namespace Kfci.Cli.Local;

/// <summary>
/// Saves the local stack's Firestore state on an interval (run by the scheduler process), so a crash or a killed
/// emulator loses at most the last <see cref="Interval"/> of runs, sweeps and rejections. <c>local down</c> and
/// <c>local run</c> save as well, at the moments that matter most.
/// </summary>
public static class LocalStateSaver
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    public static async Task RunAsync(TextWriter log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(log);
        var paths = KfciPaths.Discover();
        var project = KfciServices.RequireProject(Environment.GetEnvironmentVariable);
        var emulator = Environment.GetEnvironmentVariable(KfciEnvironment.FirestoreEmulatorHost) is { Length: > 0 } host
            ? new Uri($"http://{host}/")
            : throw new InvalidOperationException($"{KfciEnvironment.FirestoreEmulatorHost} is not set: the state saver needs the local stack's Firestore emulator");
        var snapshots = new FirestoreSnapshots(paths.Home);
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            try
            {
                await snapshots.ExportAsync(emulator, project, cancellationToken);
            }
            catch (Exception e) when (e is HttpRequestException or InvalidOperationException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // The next interval tries again; the last good export stays in place meanwhile.
                await log.WriteLineAsync($"{DateTimeOffset.UtcNow:O} Firestore state not saved: {e.Message.ReplaceLineEndings(" ")}");
            }
        }
    }

    /// <summary>One save now, for <c>local down</c> and <c>local run</c>; says in one line what it did.</summary>
    public static async Task<FirestoreSnapshot?> SaveNowAsync(LocalStackState state, KfciPaths paths, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(output);
        var snapshots = new FirestoreSnapshots(paths.Home);
        if (state.Find(LocalChain.FirestoreEmulator) is not { } firestore)
        {
            return null;
        }

        try
        {
            return await snapshots.ExportAsync(firestore.Url, state.Project, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or InvalidOperationException or IOException or TaskCanceledException)
        {
            var kept = snapshots.Newest() is { } newest ? $"the export of {newest.ExportedAt:u} is kept" : "no earlier export exists";
            await output.WriteLineAsync($"warning: could not save the Firestore state ({e.Message.ReplaceLineEndings(" ")}); {kept}");
            return null;
        }
    }
}
