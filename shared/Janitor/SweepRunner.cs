using Microsoft.Extensions.Logging;

namespace Kfci.Janitor;

/// <summary>
/// Runs a sweep at most once per id and one at a time: a redelivered tick whose report exists is done already, and a
/// tick arriving while another sweep holds the lease steps aside. Shared by the function and <c>kfci janitor sweep</c>.
/// </summary>
public sealed partial class SweepRunner(Sweeper sweeper, ISweepStore store, TimeProvider clock, ILogger<SweepRunner> logger)
{
    /// <summary>Longer than any sweep may run (the function's timeout), so a crashed sweep's lease lapses by the next tick.</summary>
    public static readonly TimeSpan LeaseTtl = TimeSpan.FromMinutes(60);

    /// <summary>The report, or null when the sweep did not run (already done, or another sweep is running).</summary>
    public async Task<SweepReport?> RunAsync(string sweepId, JanitorConfig config, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(sweepId);
        if (await store.HasReportAsync(sweepId, cancellationToken))
        {
            LogAlreadyDone(sweepId);
            return null;
        }

        if (!await store.TryAcquireLeaseAsync(sweepId, clock.GetUtcNow(), LeaseTtl, cancellationToken))
        {
            LogBusy(sweepId);
            return null;
        }

        try
        {
            return await sweeper.SweepAsync(sweepId, config, cancellationToken);
        }
        finally
        {
            await store.ReleaseLeaseAsync(sweepId, CancellationToken.None);
        }
    }

    /// <summary>A sweep id from a tick's message id: the same message redelivered gets the same id.</summary>
    public static string IdFor(string messageId, DateTimeOffset published) =>
        $"{published.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{new string([.. messageId.Where(char.IsAsciiLetterOrDigit)])}";

    [LoggerMessage(Level = LogLevel.Information, Message = "janitor: sweep {SweepId} already ran (redelivered tick); nothing to do")]
    private partial void LogAlreadyDone(string sweepId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "janitor: another sweep holds the lease; sweep {SweepId} skipped")]
    private partial void LogBusy(string sweepId);
}
