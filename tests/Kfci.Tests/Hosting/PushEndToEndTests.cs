using System.Diagnostics;
using System.Net.Http.Json;
using CloudNative.CloudEvents;
using Kfci.Hosting;
using Kfci.Testing;

namespace Kfci.Tests.Hosting;

/// <summary>
/// The real path: a function host on a loopback port (Kestrel), the real Pub/Sub emulator pushing to it,
/// and the real gcloud CLI publishing, exactly as an on-call engineer would against the emulator.
/// </summary>
[Collection(EmulatorCollection.Name)]
public sealed class PushEndToEndTests(EmulatorFixture emulators)
{
    private static readonly TimeSpan s_deliveryTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task GcloudPublish_ThroughEmulatorPushSubscription_ReachesTheFunctionWithDataAndAttributes()
    {
        var project = EmulatorFixture.NewProjectId("e2e");
        await using var host = await LoopbackHost.StartAsync(new WaitingFunction());
        var endpoint = $"{host.BaseUrl}/projects/{project}/topics/prow-events";

        using var gcloud = new GcloudCli(project, emulators.PubSub.BaseAddress);
        await gcloud.RunAsync("pubsub", "topics", "create", "prow-events");
        await gcloud.RunAsync("pubsub", "subscriptions", "create", "trigger-push", "--topic=prow-events", $"--push-endpoint={endpoint}");
        var published = await gcloud.RunAsync("pubsub", "topics", "publish", "prow-events", """--message={"job":"kubeflow-presubmit","build":"42"}""", "--attribute=eventType=prow,repo=kubeflow/kubeflow");

        var (cloudEvent, data) = await host.Function.NextAsync(s_deliveryTimeout);
        Assert.Equal("""{"job":"kubeflow-presubmit","build":"42"}""", data.Message.TextData);
        Assert.Equal(new Dictionary<string, string> { ["eventType"] = "prow", ["repo"] = "kubeflow/kubeflow" }, data.Message.Attributes);
        Assert.Contains(data.Message.MessageId, published, StringComparison.Ordinal);
        Assert.Equal(data.Message.MessageId, cloudEvent.Id);
        Assert.Equal($"//pubsub.googleapis.com/projects/{project}/topics/prow-events", cloudEvent.Source?.ToString());
        Assert.Equal($"projects/{project}/subscriptions/trigger-push", data.Subscription);
        Assert.NotNull(data.Message.PublishTime);
        await DeleteSubscriptionAsync(project, "trigger-push");
    }

    [Fact]
    public async Task LargeMessage_ThroughEmulatorPush_ReachesTheFunction()
    {
        // 7.6 MB of data is a legal message (and publishable over REST), but its push body is over 10 MiB in base64:
        // a body limit of 10 MiB answered 413 to each delivery until the message dead-lettered.
        var project = EmulatorFixture.NewProjectId("e2e");
        await using var host = await LoopbackHost.StartAsync(new WaitingFunction());
        using var pubSub = new HttpClient { BaseAddress = new Uri(emulators.PubSub.BaseAddress, $"v1/projects/{project}/"), Timeout = TimeSpan.FromMinutes(2) };
        var data = new byte[7_600_000];
        new Random(11).NextBytes(data);

        (await pubSub.PutAsJsonAsync("topics/big", new { })).EnsureSuccessStatusCode();
        (await pubSub.PutAsJsonAsync("subscriptions/big-push", new { topic = $"projects/{project}/topics/big", pushConfig = new { pushEndpoint = $"{host.BaseUrl}/projects/{project}/topics/big" } })).EnsureSuccessStatusCode();
        (await pubSub.PostAsJsonAsync("topics/big:publish", new { messages = new[] { new { data = Convert.ToBase64String(data) } } })).EnsureSuccessStatusCode();

        var (_, delivered) = await host.Function.NextAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(data, delivered.Message.Data.ToArray());
        await DeleteSubscriptionAsync(project, "big-push");
    }

    [Fact]
    public async Task TransientFailure_IsRedeliveredByTheEmulator()
    {
        var project = EmulatorFixture.NewProjectId("e2e");
        await using var host = await LoopbackHost.StartAsync(new WaitingFunction());
        var attempts = 0;
        host.Function.Behaviour = (_, _) => Interlocked.Increment(ref attempts) == 1 ? FunctionOutcome.Transient("first try fails") : FunctionOutcome.Success();
        using var pubSub = new HttpClient { BaseAddress = new Uri(emulators.PubSub.BaseAddress, $"v1/projects/{project}/") };

        (await pubSub.PutAsJsonAsync("topics/runs", new { })).EnsureSuccessStatusCode();
        (await pubSub.PutAsJsonAsync("subscriptions/uploader-push", new { topic = $"projects/{project}/topics/runs", pushConfig = new { pushEndpoint = $"{host.BaseUrl}/" } })).EnsureSuccessStatusCode();
        (await pubSub.PostAsJsonAsync("topics/runs:publish", new { messages = new[] { new { data = Convert.ToBase64String("again"u8.ToArray()) } } })).EnsureSuccessStatusCode();

        var first = await host.Function.NextAsync(s_deliveryTimeout);
        var second = await host.Function.NextAsync(s_deliveryTimeout);
        Assert.Equal(first.Data.Message.MessageId, second.Data.Message.MessageId);
        Assert.Equal("again", second.Data.Message.TextData);
        await DeleteSubscriptionAsync(project, "uploader-push");
    }

    private async Task DeleteSubscriptionAsync(string project, string subscription)
    {
        // The emulator would otherwise keep pushing to a port that is gone.
        using var pubSub = new HttpClient();
        await pubSub.DeleteAsync(new Uri(emulators.PubSub.BaseAddress, $"v1/projects/{project}/subscriptions/{subscription}"));
    }

    /// <summary>The real gcloud, pointed at the emulator with a throw-away configuration directory shared by its calls.</summary>
    private sealed class GcloudCli(string project, Uri emulator) : IDisposable
    {
        private readonly DirectoryInfo _config = Directory.CreateTempSubdirectory("kfci-gcloud-");

        /// <summary>Returns stdout and stderr; throws with both when gcloud fails.</summary>
        public async Task<string> RunAsync(params string[] args)
        {
            var start = new ProcessStartInfo("gcloud") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in args)
            {
                start.ArgumentList.Add(arg);
            }

            start.Environment["CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB"] = emulator.ToString();
            start.Environment["CLOUDSDK_CORE_PROJECT"] = project;
            start.Environment["CLOUDSDK_AUTH_DISABLE_CREDENTIALS"] = "true";
            start.Environment["CLOUDSDK_CONFIG"] = _config.FullName;
            start.Environment["CLOUDSDK_CORE_DISABLE_PROMPTS"] = "1";
            // Off a GCE VM the metadata-server probe only costs time.
            start.Environment["CLOUDSDK_CORE_CHECK_GCE_METADATA"] = "false";
            using var process = Process.Start(start) ?? throw new InvalidOperationException("gcloud did not start; is the Cloud SDK installed (scripts/setup.sh)?");
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);
            var text = await output + await error;
            return process.ExitCode == 0 ? text : throw new InvalidOperationException($"gcloud {string.Join(' ', args)} exited {process.ExitCode}: {text}");
        }

        public void Dispose() => _config.Delete(recursive: true);
    }

    /// <summary>Hands each delivery to the test as it arrives.</summary>
    internal sealed class WaitingFunction : IMessagePublishedFunction
    {
        private readonly System.Threading.Channels.Channel<(CloudEvent Event, MessagePublishedData Data)> _deliveries =
            System.Threading.Channels.Channel.CreateUnbounded<(CloudEvent, MessagePublishedData)>();

        public Func<CloudEvent, MessagePublishedData, FunctionOutcome> Behaviour { get; set; } = (_, _) => FunctionOutcome.Success();

        public async Task<(CloudEvent Event, MessagePublishedData Data)> NextAsync(TimeSpan timeout)
        {
            using var cancel = new CancellationTokenSource(timeout);
            try
            {
                return await _deliveries.Reader.ReadAsync(cancel.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no delivery within {timeout.TotalSeconds:0}s");
            }
        }

        public Task<FunctionOutcome> HandleAsync(CloudEvent cloudEvent, MessagePublishedData data, CancellationToken cancellationToken)
        {
            _deliveries.Writer.TryWrite((cloudEvent, data));
            return Task.FromResult(Behaviour(cloudEvent, data));
        }
    }
}
