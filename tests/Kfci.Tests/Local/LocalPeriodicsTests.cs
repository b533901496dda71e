using Kfci.Cli.Local;
using Kfci.Configuration;
using Kfci.PubSub;

namespace Kfci.Tests.Local;

public sealed class LocalPeriodicsTests
{
    /// <summary>The system's timers with a fixed "now", so a schedule's next time is known.</summary>
    private sealed class FixedNow(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    /// <summary>Real time from <paramref name="start"/>, except that once <paramref name="asleepAfter"/> has passed the clock is 8 hours on: a machine that slept.</summary>
    private sealed class SleepingClock(DateTimeOffset start, TimeSpan asleepAfter) : TimeProvider
    {
        private readonly global::System.Diagnostics.Stopwatch _elapsed = global::System.Diagnostics.Stopwatch.StartNew();

        public override DateTimeOffset GetUtcNow() => start + _elapsed.Elapsed + (_elapsed.Elapsed >= asleepAfter ? TimeSpan.FromHours(8) : TimeSpan.Zero);
    }

    private static string Write(string json)
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("kfci-periodics-").FullName, "periodics.tfvars.json");
        File.WriteAllText(file, json);
        return file;
    }

    [Fact]
    public async Task RunAsync_NextTimeYearsAway_WaitsInsteadOfFailing()
    {
        // 29 February: from 1 March 2027 the next time is almost a year away, beyond what one Task.Delay can wait.
        var periodics = LocalPeriodics.Load(Write("""{"periodics": {"leap": {"schedule": "0 0 29 2 *", "repositories": [{"org": "o", "repo": "r", "branch": "main"}]}}}"""));
        var client = PubSubClient.Create("p", getEnv: name => name == KfciEnvironment.PubSubEmulatorHost ? "127.0.0.1:9" : null);
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        var run = periodics.RunAsync(client, TextWriter.Null, new FixedNow(new DateTimeOffset(2027, 3, 1, 0, 0, 0, TimeSpan.Zero)), stop.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }

    [Fact]
    public void Load_SchedulerTimeZone_IsTheDefaultAsInTerraform_APeriodicsOwnWins()
    {
        var periodics = LocalPeriodics.Load(Write("""
            {"scheduler_time_zone": "America/New_York", "periodics": {
              "nightly": {"schedule": "0 2 * * *", "repositories": [{"org": "o", "repo": "r", "branch": "main"}]},
              "tokyo": {"schedule": "0 2 * * *", "time_zone": "Asia/Tokyo", "repositories": [{"org": "o", "repo": "r", "branch": "main"}]}}}
            """));
        var after = new DateTimeOffset(2027, 1, 10, 12, 0, 0, TimeSpan.Zero);

        var next = periodics.Schedules.ToDictionary(p => p.Name, p => p.NextAfter(after));

        // 02:00 in New York in January is 07:00 UTC; 02:00 in Tokyo is 17:00 UTC the day before, so the 11th.
        Assert.Equal(new DateTimeOffset(2027, 1, 11, 7, 0, 0, TimeSpan.Zero), next["nightly"]);
        Assert.Equal(new DateTimeOffset(2027, 1, 10, 17, 0, 0, TimeSpan.Zero), next["tokyo"]);
    }

    [Fact]
    public async Task RunAsync_AfterEightHoursAsleep_PublishesOnceAndSaysWhatItSkipped()
    {
        var periodics = LocalPeriodics.Load(Write("""{"periodics": {"hourly": {"schedule": "0 * * * *", "repositories": [{"org": "o", "repo": "r", "branch": "main"}]}}}"""));
        var client = PubSubClient.Create("p", Kfci.Http.RetryOptions.None, name => name == KfciEnvironment.PubSubEmulatorHost ? "127.0.0.1:9" : null);
        using var log = new StringWriter();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));

        // Due 03:00 in 200 ms; by the time that wait ends the clock reads past 11:00, with eight more hourly times gone by.
        var start = new DateTimeOffset(2027, 3, 1, 2, 59, 59, 800, TimeSpan.Zero);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => periodics.RunAsync(client, log, new SleepingClock(start, TimeSpan.FromMilliseconds(100)), stop.Token));

        var lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines, l => l.Contains("periodic hourly", StringComparison.Ordinal));
        Assert.Single(lines, l => l.Contains("8 periodic times passed", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{"periodics": {"x": {"schedule": 5, "repositories": [{"org": "o", "repo": "r", "branch": "main"}]}}}""", "periodics.x")]
    [InlineData("""{"periodics": {"x": {"schedule": "0 3 * * *", "time_zone": "Mars/Olympus", "repositories": [{"org": "o", "repo": "r", "branch": "main"}]}}}""", "periodics.x")]
    [InlineData("""{"periodics": {"x": {"schedule": "0 3 * * *", "repositories": [{"org": "o", "repo": "r", "branch": "a..b"}]}}}""", "periodics.x")]
    public void Load_BadSchedule_ErrorNamesTheFileAndTheEntry(string json, string entry)
    {
        var file = Write(json);

        var e = Assert.Throws<InvalidOperationException>(() => LocalPeriodics.Load(file));

        Assert.StartsWith($"{file}: {entry}", e.Message, StringComparison.Ordinal);
    }
}
