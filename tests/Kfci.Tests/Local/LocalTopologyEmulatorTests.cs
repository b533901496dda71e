using System.Text.Json;
using Kfci.Cli.Local;
using Kfci.PubSub;
using Kfci.Testing;
using Kfci.Tests.PubSub;

namespace Kfci.Tests.Local;

/// <summary>What <c>kfci local up</c> creates on the real Pub/Sub emulator: exactly Terraform's topics and subscriptions.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class LocalTopologyEmulatorTests(EmulatorFixture emulators)
{
    private static readonly HttpClient s_http = new();

    private static Dictionary<string, Uri> FunctionUrls() => LocalTopology.Consumes.Keys.Select((f, i) => (f, i))
        .ToDictionary(p => p.f, p => new Uri($"http://127.0.0.1:{18000 + p.i}/"), StringComparer.Ordinal);

    [Fact]
    public async Task CreateAsync_OnAnEmptyProject_CreatesExactlyTerraformsTopicsAndSubscriptions()
    {
        var client = PubSubTestKit.NewClient(emulators);
        var urls = FunctionUrls();

        await LocalTopology.CreateAsync(client, urls, CancellationToken.None);

        Assert.Equal(LocalTopology.Topics.Order(StringComparer.Ordinal), await ListAsync(client.ProjectId, "topics"));
        var expectedSubscriptions = LocalTopology.PushSubscriptions.Select(s => s.Id).Append(LocalTopology.DeadLetterSubscription).Order(StringComparer.Ordinal);
        Assert.Equal(expectedSubscriptions, await ListAsync(client.ProjectId, "subscriptions"));
        foreach (var subscription in LocalTopology.PushSubscriptions)
        {
            var stored = await client.GetSubscriptionAsync(subscription.Id);
            Assert.Equal(LocalTopology.Config(subscription, urls[subscription.Function], client.ProjectId), stored);
            Assert.Equal($"/projects/{client.ProjectId}/topics/{subscription.Topic}", stored.Push!.Endpoint.AbsolutePath);
        }

        var deadLetter = await client.GetSubscriptionAsync(LocalTopology.DeadLetterSubscription);
        Assert.Null(deadLetter.Push);
        Assert.Equal(KfciTopics.DeadLetter, deadLetter.TopicId);
    }

    [Fact]
    public async Task CreateAsync_Twice_KeepsWhatExists()
    {
        var client = PubSubTestKit.NewClient(emulators);

        await LocalTopology.CreateAsync(client, FunctionUrls(), CancellationToken.None);
        await LocalTopology.CreateAsync(client, FunctionUrls(), CancellationToken.None);

        Assert.Equal(LocalTopology.PushSubscriptions.Count + 1, (await ListAsync(client.ProjectId, "subscriptions")).Count);
    }

    private async Task<List<string>> ListAsync(string project, string collection)
    {
        var json = await s_http.GetStringAsync(new Uri(emulators.PubSub.BaseAddress, $"v1/projects/{project}/{collection}"));
        using var document = JsonDocument.Parse(json);
        return document.RootElement.TryGetProperty(collection, out var items)
            ? items.EnumerateArray().Select(i => PubSubNames.IdOf((i.ValueKind == JsonValueKind.String ? i.GetString() : i.GetProperty("name").GetString())!)).Order(StringComparer.Ordinal).ToList()
            : [];
    }
}
