using System.Globalization;
using Kfci.PubSub;

namespace Kfci.Cli.Local;

/// <summary>One push subscription: <paramref name="Function"/> consumes <paramref name="Topic"/>.</summary>
public sealed record PushSubscription(string Function, string Topic)
{
    /// <summary>Terraform's name for it: <c>&lt;topic&gt;-to-&lt;function&gt;</c>.</summary>
    public string Id => $"{Topic}-to-{Function}";

    /// <summary>
    /// The function's URL plus the path Terraform appends (<c>/projects/P/topics/T</c>): the host learns from it which
    /// topic a raw push envelope came from.
    /// </summary>
    public Uri Endpoint(Uri functionUrl, string project)
    {
        ArgumentNullException.ThrowIfNull(functionUrl);
        return new Uri(functionUrl, $"projects/{project}/topics/{Topic}");
    }
}

/// <summary>
/// The Pub/Sub topology infra/terraform/pubsub.tf and functions.tf create in the cloud, as the local stack creates it
/// on the emulator: the same topics, the same push subscriptions with the same dead-letter, retry and ack-deadline
/// settings (Terraform's variable defaults). <c>LocalTopologyTerraformTests</c> parses the Terraform and fails when the two differ.
/// </summary>
public static class LocalTopology
{
    /// <summary><c>var.max_delivery_attempts</c>'s default.</summary>
    public const int MaxDeliveryAttempts = 10;

    /// <summary><c>var.ack_deadline_seconds</c>'s default.</summary>
    public const int AckDeadlineSeconds = 300;

    /// <summary><c>var.retry_minimum_backoff</c> and <c>var.retry_maximum_backoff</c>'s defaults.</summary>
    public static readonly TimeSpan MinimumBackoff = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan MaximumBackoff = TimeSpan.FromSeconds(600);

    /// <summary>The pull subscription on the dead-letter topic that on-call reads (Terraform's <c>kfci-dead-letter</c>).</summary>
    public const string DeadLetterSubscription = "kfci-dead-letter";

    /// <summary>Each function (Terraform's key in <c>local.functions</c>) and the topics it consumes.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> Consumes { get; } = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
    {
        ["trigger"] = [KfciTopics.ProwEvents],
        ["watcher"] = [KfciTopics.ArgoEvents, KfciTopics.WatcherTicks],
        ["uploader"] = [KfciTopics.RunSubmitted, KfciTopics.RunCompleted],
        ["janitor"] = [KfciTopics.JanitorTicks],
    };

    /// <summary>Every topic Terraform creates.</summary>
    public static IReadOnlyList<string> Topics => KfciTopics.All;

    public static IReadOnlyList<PushSubscription> PushSubscriptions { get; } =
        Consumes.SelectMany(pair => pair.Value.Select(topic => new PushSubscription(pair.Key, topic))).ToList();

    /// <summary>The subscription as Terraform declares it, pushing to <paramref name="functionUrl"/>.</summary>
    public static SubscriptionConfig Config(PushSubscription subscription, Uri functionUrl, string project)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        return new SubscriptionConfig
        {
            Id = subscription.Id,
            TopicId = subscription.Topic,
            Push = new PushConfig(subscription.Endpoint(functionUrl, project)),
            AckDeadlineSeconds = AckDeadlineSeconds,
            DeadLetter = new DeadLetterPolicy(KfciTopics.DeadLetter, MaxDeliveryAttempts),
            Redelivery = new RedeliveryPolicy(MinimumBackoff, MaximumBackoff),
        };
    }

    /// <summary>Creates every topic and subscription (existing ones are kept); <paramref name="functionUrls"/> by function key.</summary>
    public static async Task CreateAsync(PubSubClient client, IReadOnlyDictionary<string, Uri> functionUrls, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(functionUrls);
        foreach (var topic in Topics)
        {
            await client.CreateTopicAsync(topic, cancellationToken);
        }

        await client.CreateSubscriptionAsync(new SubscriptionConfig { Id = DeadLetterSubscription, TopicId = KfciTopics.DeadLetter }, cancellationToken);
        foreach (var subscription in PushSubscriptions)
        {
            var url = functionUrls.TryGetValue(subscription.Function, out var found)
                ? found
                : throw new InvalidOperationException($"no URL for function {subscription.Function}");
            await client.CreateSubscriptionAsync(Config(subscription, url, client.ProjectId), cancellationToken);
        }
    }

    /// <summary>Terraform's duration spelling (<c>10s</c>).</summary>
    public static string Seconds(TimeSpan span) => ((long)span.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s";
}
