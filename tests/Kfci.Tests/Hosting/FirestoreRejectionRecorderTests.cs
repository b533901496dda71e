using System.Text;
using CloudNative.CloudEvents;
using Kfci.Firestore;
using Kfci.Hosting;
using Kfci.Testing;
using Kfci.Tests.Firestore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kfci.Tests.Hosting;

/// <summary>Rejected events kept in Firestore on the real emulator: findable, replayable, one record per event.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class FirestoreRejectionRecorderTests(EmulatorFixture emulators)
{
    private static RejectedEvent Rejection(string eventId, byte[] body) => new(
        "Trigger",
        new CloudEvent { Id = eventId, Source = new Uri("//pubsub.googleapis.com/projects/p/topics/prow-events", UriKind.RelativeOrAbsolute), Type = MessagePublishedData.CloudEventType },
        "message data is not JSON",
        DateTimeOffset.Parse("2026-11-29T06:00:00Z", System.Globalization.CultureInfo.InvariantCulture),
        new RawEventRequest("/projects/p/topics/prow-events", "application/json", new Dictionary<string, string> { ["ce-id"] = eventId }, body));

    private static FirestoreRejectionRecorder Recorder(Action<IServiceCollection> configure)
    {
        var services = new ServiceCollection();
        configure(services);
        var provider = services.BuildServiceProvider();
        return new FirestoreRejectionRecorder(
            provider, new LoggingRejectionRecorder(NullLogger<LoggingRejectionRecorder>.Instance), NullLogger<FirestoreRejectionRecorder>.Instance);
    }

    [Fact]
    public async Task RecordAsync_Redelivered_OneRecordWithTheRawRequest()
    {
        var firestore = EmulatorFirestore.NewClient(emulators, "rejections");
        var recorder = Recorder(s => s.AddSingleton(firestore));
        var rejection = Rejection("msg/42 with odd characters", Encoding.UTF8.GetBytes("not json {"));

        await recorder.RecordAsync(rejection, CancellationToken.None);
        await recorder.RecordAsync(rejection, CancellationToken.None);

        var stored = Assert.Single(await firestore.QueryAsync(new FirestoreQuery(FirestoreRejectionRecorder.Collection)));
        Assert.Equal(FirestoreRejectionRecorder.DocumentId(rejection), stored.Id);
        Assert.Equal("message data is not JSON", stored.Get<string>("reason"));
        Assert.Equal("msg/42 with odd characters", stored.Get<string>("eventId"));
        Assert.Equal("not json {", Encoding.UTF8.GetString(stored.Get<byte[]>("body")));
        Assert.False(stored.Get<bool>("bodyTruncated"));
        Assert.Equal("msg/42 with odd characters", stored.Get<string>("headers.ce-id"));
    }

    [Fact]
    public async Task RecordAsync_BodyOverTheDocumentLimit_IsCutAndSaysSo()
    {
        var firestore = EmulatorFirestore.NewClient(emulators, "rejections-big");
        var recorder = Recorder(s => s.AddSingleton(firestore));

        await recorder.RecordAsync(Rejection("big", new byte[2 * 1024 * 1024]), CancellationToken.None);

        var stored = Assert.Single(await firestore.QueryAsync(new FirestoreQuery(FirestoreRejectionRecorder.Collection)));
        Assert.True(stored.Get<bool>("bodyTruncated"));
        Assert.Equal(2 * 1024 * 1024, stored.Get<long>("bodyBytes"));
        Assert.Equal(FirestoreRejectionRecorder.MaxStoredBodyBytes, stored.Get<byte[]>("body").Length);
    }

    [Fact]
    public async Task RecordAsync_NoFirestoreConfigured_OnlyLogsAndDoesNotThrow()
    {
        var recorder = Recorder(s => s.AddSingleton<FirestoreClient>(_ => throw new InvalidOperationException("No Google Cloud project for Firestore")));

        await recorder.RecordAsync(Rejection("m-1", [1, 2, 3]), CancellationToken.None);
    }
}
