using System.Text;
using Kfci.Configuration;
using Kfci.PubSub;

namespace Kfci.Cli.Local;

/// <summary>
/// The local stand-in for Cloud Scheduler's <c>kfci-watcher-tick</c> (infra/terraform/scheduler.tf): publishes the same
/// <c>{"reconcile":true}</c> to <c>watcher-ticks</c> on an interval. Janitor ticks are not sent locally: there is
/// nothing in the cloud to sweep.
/// </summary>
public static class LocalScheduler
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    public static OutgoingMessage WatcherTick { get; } = new(Encoding.UTF8.GetBytes("{\"reconcile\":true}"));

    public static async Task RunAsync(TextWriter log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(log);
        var client = PubSubClient.Create(KfciServices.RequireProject(Environment.GetEnvironmentVariable));
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
