using CloudNative.CloudEvents;
using Kfci.Hosting;
using Kfci.Testing.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kfci.Tests.Hosting;

/// <summary>
/// A function started without a configuration it needs says so once, at start, in one line, and does not serve:
/// before, the missing setting surfaced as a 500 on every event (the Watcher and the Uploader in the start-up benchmark).
/// </summary>
public sealed class StartupCheckTests
{
    private const string MissingBucket = "No results bucket configured: set KFCI_RESULTS_BUCKET (or KFCI_RESULTS_DIR for a local directory).";

    [Fact]
    public void Build_FunctionWhoseDependencyLacksItsSetting_FailsOnceWithOneLineNamingIt()
    {
        var (builder, logs) = Builder();
        builder.Services.AddSingleton<Bucket>(_ => throw new InvalidOperationException(MissingBucket));
        builder.AddFunction<NeedsBucket>("uploader");

        var error = Assert.Throws<FunctionHostConfigurationException>(() => builder.Build());

        Assert.Contains("KFCI_RESULTS_BUCKET", error.Message, StringComparison.Ordinal);
        var entry = Assert.Single(logs.Entries);
        Assert.Equal(LogLevel.Critical, entry.Level);
        Assert.Contains("function uploader cannot be created", entry.Message, StringComparison.Ordinal);
        Assert.Contains("KFCI_RESULTS_BUCKET", entry.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', entry.Message);
    }

    [Fact]
    public void Build_ServiceRequiredAtStartLacksItsSetting_Fails()
    {
        var (builder, logs) = Builder();
        builder.Services.AddSingleton<Bucket>(_ => throw new InvalidOperationException(MissingBucket));
        builder.AddFunction<ScriptedFunction>("trigger");
        builder.Services.AddSingleton(new ScriptedFunction());
        builder.RequireAtStart<Bucket>();

        Assert.Throws<FunctionHostConfigurationException>(() => builder.Build());

        Assert.Contains("(Bucket)", Assert.Single(logs.Entries).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_FunctionLacksItsSetting_ExitsWith2WithoutServing()
    {
        var (builder, _) = Builder();
        builder.Services.AddSingleton<Bucket>(_ => throw new InvalidOperationException(MissingBucket));
        builder.AddFunction<NeedsBucket>("uploader");

        Assert.Equal(2, await builder.RunAsync());
    }

    [Fact]
    public async Task Build_FunctionWithItsConfiguration_ServesWithTheAdapterCreatedAtStart()
    {
        var created = 0;
        await using var host = await FunctionTestHost.StartAsync<NeedsBucket>(configure: builder =>
            builder.Services.AddSingleton(_ => new Bucket(() => Interlocked.Increment(ref created))));

        using var response = await host.PushAsync("{}");

        Assert.Equal(System.Net.HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(1, created);
    }

    private static (FunctionHostBuilder Builder, CapturedLogs Logs) Builder()
    {
        var builder = FunctionHost.CreateBuilder(new FunctionHostOptions { Port = 0 });
        var logs = new CapturedLogs();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        return (builder, logs);
    }

    /// <summary>Stands for an adapter whose factory reads a setting (the results store, the cluster).</summary>
    public sealed class Bucket
    {
        public Bucket(Action onCreated)
        {
            ArgumentNullException.ThrowIfNull(onCreated);
            onCreated();
        }
    }

    /// <summary>A function that needs the bucket, as the Uploader needs the results store.</summary>
    public sealed class NeedsBucket(Bucket bucket) : IMessagePublishedFunction
    {
        public Task<FunctionOutcome> HandleAsync(CloudEvent cloudEvent, MessagePublishedData data, CancellationToken cancellationToken) =>
            Task.FromResult(bucket is null ? FunctionOutcome.Reject("no bucket") : FunctionOutcome.Success());
    }
}
