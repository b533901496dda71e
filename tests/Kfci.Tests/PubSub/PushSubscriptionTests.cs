using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Kfci.PubSub;
using Kfci.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kfci.Tests.PubSub;

[Collection(EmulatorCollection.Name)]
public sealed class PushSubscriptionTests(EmulatorFixture emulators)
{
    [Fact]
    public async Task CreateSubscription_PushWithOidcToken_GetReturnsPushConfig()
    {
        var client = PubSubTestKit.NewClient(emulators);
        await client.CreateTopicAsync(KfciTopics.RunFinished);
        var wanted = new SubscriptionConfig
        {
            Id = "finished-push",
            TopicId = KfciTopics.RunFinished,
            Push = new PushConfig(
                new Uri("https://uploader-abc-uc.a.run.app/"),
                new PushOidcToken("kfci-pusher@kfci-prod.iam.gserviceaccount.com", "https://uploader-abc-uc.a.run.app")),
            AckDeadlineSeconds = 120,
            Redelivery = new RedeliveryPolicy(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(600)),
        };

        await client.CreateSubscriptionAsync(wanted);

        Assert.Equal(wanted, await client.GetSubscriptionAsync("finished-push"));
    }

    [Fact]
    public async Task PushSubscription_EndpointAnswers500_MessageIsRedeliveredInTheDocumentedEnvelope()
    {
        await using var endpoint = await PushEndpoint.StartAsync(failFirst: 1);
        var client = PubSubTestKit.NewClient(emulators);
        await client.CreateTopicAsync(KfciTopics.ProwEvents);
        await client.CreateSubscriptionAsync(new SubscriptionConfig
        {
            Id = "trigger-push",
            TopicId = KfciTopics.ProwEvents,
            Push = new PushConfig(endpoint.Url),
        });
        var sent = new OutgoingMessage("{\"job\":\"kubeflow-presubmit\"}"u8.ToArray(), new Dictionary<string, string> { ["type"] = "prow.job", ["ü"] = "✓" });

        var id = (await client.PublishAsync(KfciTopics.ProwEvents, [sent]))[0];

        var deliveries = await endpoint.WaitForAsync(2, TimeSpan.FromSeconds(30));
        Assert.Equal(2, deliveries.Count);
        foreach (var envelope in deliveries)
        {
            Assert.Equal($"projects/{client.ProjectId}/subscriptions/trigger-push", envelope.GetProperty("subscription").GetString());
            var message = envelope.GetProperty("message");
            Assert.Equal(sent.Data.ToArray(), message.GetProperty("data").GetBytesFromBase64());
            Assert.Equal("prow.job", message.GetProperty("attributes").GetProperty("type").GetString());
            Assert.Equal("✓", message.GetProperty("attributes").GetProperty("ü").GetString());
            // Both spellings of the id and the time, as the emulator and the real service send them.
            Assert.Equal(id, message.GetProperty("messageId").GetString());
            Assert.Equal(id, message.GetProperty("message_id").GetString());
            Assert.Equal(message.GetProperty("publishTime").GetString(), message.GetProperty("publish_time").GetString());
        }

        // Acknowledged by the second answer (204): no third delivery follows.
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(2, endpoint.Deliveries.Count);
    }

    /// <summary>A tiny push endpoint on loopback that records envelopes and fails the first N with a 500.</summary>
    private sealed class PushEndpoint : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _remainingFailures;

        private PushEndpoint(WebApplication app, int failFirst)
        {
            _app = app;
            _remainingFailures = failFirst;
        }

        public ConcurrentQueue<JsonElement> Deliveries { get; } = new();

        public Uri Url => new(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single() + "/push");

        public static async Task<PushEndpoint> StartAsync(int failFirst)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var endpoint = new PushEndpoint(app, failFirst);
            app.MapPost("/push", endpoint.ReceiveAsync);
            await app.StartAsync();
            return endpoint;
        }

        public async Task<IReadOnlyList<JsonElement>> WaitForAsync(int count, TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            while (Deliveries.Count < count && clock.Elapsed < timeout)
            {
                await Task.Delay(50);
            }

            return [.. Deliveries];
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        private async Task<IResult> ReceiveAsync(HttpRequest request)
        {
            using var body = await JsonDocument.ParseAsync(request.Body);
            Deliveries.Enqueue(body.RootElement.Clone());
            return Interlocked.Decrement(ref _remainingFailures) >= 0 ? Results.StatusCode(500) : Results.NoContent();
        }
    }
}
