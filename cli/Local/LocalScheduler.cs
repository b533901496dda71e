using System.Text;
using Kfci.Configuration;
using Kfci.PubSub;

namespace Kfci.Cli.Local;

/// <summary>
/// The local stand-in for Cloud Scheduler: <c>kfci-watcher-tick</c> (infra/terraform/scheduler.tf) publishes the same
/// <c>{"reconcile":true}</c> to <c>watcher-ticks</c> on an interval, and kfci's own periodics (infra/terraform/periodics.tf,
/// from the file in <see cref="PeriodicsVariable"/>) publish their events to <c>prow-events</c> at their cron times.
/// Janitor ticks are not sent locally: there is nothing in the cloud to sweep.
/// </summary>
public static class LocalScheduler
{
    /// <summary>The Terraform variables file (JSON) holding kfci's periodics, set by <c>local up --periodics</c>.</summary>
    public const string PeriodicsVariable = "KFCI_LOCAL_PERIODICS";

    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    public static OutgoingMessage WatcherTick { get; } = new(Encoding.UTF8.GetBytes("{\"reconcile\":true}"));

    public static async Task RunAsync(TextWriter log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(log);
        var client = PubSubClient.Create(KfciServices.RequireProject(Environment.GetEnvironmentVariable));
        var periodics = Environment.GetEnvironmentVariable(PeriodicsVariable) is { Length: > 0 } file
            ? LocalPeriodics.Load(file).RunAsync(client, log, TimeProvider.System, cancellationToken)
            : Task.CompletedTask;
        var ticks = TickAsync(client, log, cancellationToken);

        // Whichever ends first is awaited first: a failed periodics loop surfaces now, not when the ticks stop.
        await await Task.WhenAny(ticks, periodics);
        await Task.WhenAll(ticks, periodics);
    }

    private static async Task TickAsync(PubSubClient client, TextWriter log, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                var ids = await client.PublishAsync(KfciTopics.WatcherTicks, [WatcherTick], cancellationToken);
                await log.WriteLineAsync($"{DateTimeOffset.UtcNow:O} watcher tick {ids[0]}");
            }
            catch (Exception e) when (e is Http.ApiException or HttpRequestException)
            {
                // The next tick tries again, as Cloud Scheduler would.
                await log.WriteLineAsync($"{DateTimeOffset.UtcNow:O} watcher tick not published: {e.Message}");
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken));
    }
}
