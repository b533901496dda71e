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
