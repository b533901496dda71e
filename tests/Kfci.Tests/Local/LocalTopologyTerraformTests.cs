using System.Text.Json;
using Kfci.Cli.Local;
using Kfci.PubSub;
using Kfci.Tests.Infra;

namespace Kfci.Tests.Local;

/// <summary>
/// The local stack's Pub/Sub topology (<see cref="LocalTopology"/>) against infra/terraform parsed by HashiCorp's HCL
/// parser: a change on either side without the other fails here, so local runs keep the cloud's delivery semantics.
/// </summary>
[Collection(TerraformCollection.Name)]
public sealed class LocalTopologyTerraformTests(TerraformFixture terraform)
{
    private const string PushResource = "google_pubsub_subscription";

    [Fact]
    public void Topics_AreTerraformsTopics()
    {
        var declared = terraform.Tree.ResourcesOfType("google_pubsub_topic").Select(t => Hcl.Attribute(t.Body, "name")).Order(StringComparer.Ordinal);

        Assert.Equal(LocalTopology.Topics.Order(StringComparer.Ordinal), declared);
    }

    [Fact]
    public void PushSubscriptions_AreOnePerTopicEachFunctionConsumes_NamedAsTerraformNamesThem()
    {
        var functions = terraform.Tree.Locals["functions"];
        var declared = functions.EnumerateObject().ToDictionary(
            f => f.Name,
            f => Hcl.Keys(f.Value.GetProperty("consumes")).Order(StringComparer.Ordinal).ToList(),
            StringComparer.Ordinal);

        Assert.Equal(declared.Keys.Order(StringComparer.Ordinal), LocalTopology.Consumes.Keys.Order(StringComparer.Ordinal));
        foreach (var (function, topics) in declared)
        {
            Assert.Equal(topics, LocalTopology.Consumes[function].Order(StringComparer.Ordinal));
        }

        // Terraform keys each subscription "${name}-to-${function}" (name = the consumed topic) and names it by its key.
        Assert.Contains("\"${name}-to-${function}\"", terraform.Tree.Locals["push_subscriptions"].GetString(), StringComparison.Ordinal);
        Assert.Equal("${each.key}", Hcl.Attribute(Push().Body, "name"));
        Assert.Contains(LocalTopology.PushSubscriptions, s => s.Id == "prow-events-to-trigger");
    }

    [Fact]
    public void SubscriptionSettings_AreTerraformsDefaults()
    {
        var push = Push().Body;
        Assert.Equal("${var.ack_deadline_seconds}", Hcl.Attribute(push, "ack_deadline_seconds"));
        Assert.Equal(LocalTopology.AckDeadlineSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), Default("ack_deadline_seconds"));

        var retry = Assert.Single(Hcl.Blocks(push, "retry_policy"));
        Assert.Equal("${var.retry_minimum_backoff}", Hcl.Attribute(retry, "minimum_backoff"));
        Assert.Equal("${var.retry_maximum_backoff}", Hcl.Attribute(retry, "maximum_backoff"));
        Assert.Equal(LocalTopology.Seconds(LocalTopology.MinimumBackoff), Default("retry_minimum_backoff"));
        Assert.Equal(LocalTopology.Seconds(LocalTopology.MaximumBackoff), Default("retry_maximum_backoff"));

        var deadLetter = Assert.Single(Hcl.Blocks(push, "dead_letter_policy"));
        Assert.Equal("${var.max_delivery_attempts}", Hcl.Attribute(deadLetter, "max_delivery_attempts"));
        Assert.Equal(LocalTopology.MaxDeliveryAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture), Default("max_delivery_attempts"));
        var topic = Assert.Single(Hcl.References(Hcl.Attribute(deadLetter, "dead_letter_topic"), "google_pubsub_topic"));
        Assert.Equal(KfciTopics.DeadLetter, Hcl.Attribute(terraform.Tree.Resource("google_pubsub_topic", topic)!.Body, "name"));

        var config = LocalTopology.Config(LocalTopology.PushSubscriptions[0], new Uri("http://127.0.0.1:1/"), "p");
        Assert.Equal(new DeadLetterPolicy(KfciTopics.DeadLetter, LocalTopology.MaxDeliveryAttempts), config.DeadLetter);
        Assert.Equal(new RedeliveryPolicy(LocalTopology.MinimumBackoff, LocalTopology.MaximumBackoff), config.Redelivery);
        Assert.Equal(LocalTopology.AckDeadlineSeconds, config.AckDeadlineSeconds);
    }

    [Fact]
    public void PushEndpoint_IsTheFunctionUrlPlusTerraformsPath()
    {
        const string ServiceUri = "${google_cloud_run_v2_service.function[each.value.function].uri}";
        var endpoint = Hcl.Attribute(Assert.Single(Hcl.Blocks(Push().Body, "push_config")), "push_endpoint")!;
        Assert.StartsWith(ServiceUri, endpoint, StringComparison.Ordinal);

        foreach (var subscription in LocalTopology.PushSubscriptions)
        {
            var expected = endpoint[ServiceUri.Length..].Replace("${var.project_id}", "kfci-local", StringComparison.Ordinal)
                .Replace("${each.value.topic.name}", subscription.Topic, StringComparison.Ordinal);
            Assert.Equal(expected, subscription.Endpoint(new Uri("http://127.0.0.1:8080/"), "kfci-local").AbsolutePath);
        }
    }

    [Fact]
    public void DeadLetterPullSubscription_IsTerraforms()
    {
        var deadLetter = terraform.Tree.Resource(PushResource, "dead_letter")!;
        Assert.Equal(LocalTopology.DeadLetterSubscription, Hcl.Attribute(deadLetter.Body, "name"));
        Assert.Empty(Hcl.Blocks(deadLetter.Body, "push_config"));
    }

    [Fact]
    public void SchedulerStandIn_PublishesWhatTerraformsWatcherTickPublishes()
    {
        var target = Assert.Single(Hcl.Blocks(terraform.Tree.Resource("google_cloud_scheduler_job", "watcher_tick")!.Body, "pubsub_target"));
        var topic = Assert.Single(Hcl.References(Hcl.Attribute(target, "topic_name"), "google_pubsub_topic"));

        Assert.Equal(KfciTopics.WatcherTicks, Hcl.Attribute(terraform.Tree.Resource("google_pubsub_topic", topic)!.Body, "name"));
        Assert.Equal("${base64encode(jsonencode({ reconcile = true }))}", Hcl.Attribute(target, "data"));
        using var tick = JsonDocument.Parse(LocalScheduler.WatcherTick.Data);
        Assert.Equal("{\"reconcile\":true}", JsonSerializer.Serialize(tick.RootElement));
    }

    private TerraformBlock Push() =>
        terraform.Tree.ResourcesOfType(PushResource).Single(r => Hcl.Blocks(r.Body, "push_config").Any());

    private string? Default(string variable)
    {
        var body = terraform.Tree.Variables.Single(v => v.Name == variable).Body;
        return body.GetProperty("default") is { ValueKind: JsonValueKind.Number } number ? number.GetRawText() : body.GetProperty("default").GetString();
    }
}
