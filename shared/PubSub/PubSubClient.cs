using System.Text.Json.Nodes;
using Kfci.Configuration;
using Kfci.Http;

namespace Kfci.PubSub;

/// <summary>A topic as the service reports it.</summary>
public sealed record TopicInfo(string Id, string Name);

/// <summary>
/// Pub/Sub REST v1 for one project: the one-request publish that <see cref="BatchingEventPublisher"/> builds on,
/// and the topic/subscription administration and pull/acknowledge calls used by set-up code and tests.
/// Every call goes through kfci's retry policy; failures surface as <see cref="ApiException"/>.
/// </summary>
public sealed class PubSubClient
{
    public const string ProductionBaseAddress = "https://pubsub.googleapis.com/";

    /// <summary>The service accepts at most this many messages in one publish request.</summary>
    public const int MaxMessagesPerPublish = 1000;

    private readonly RestClient _rest;

    public PubSubClient(RestClient rest, string projectId)
    {
        ArgumentNullException.ThrowIfNull(rest);
        ArgumentException.ThrowIfNullOrWhiteSpace(projectId);
        _rest = rest;
        ProjectId = projectId;
    }

    public string ProjectId { get; }

    /// <summary>
    /// A client for the production service, or for the emulator when <c>PUBSUB_EMULATOR_HOST</c> is set
    /// (read through <paramref name="getEnv"/>, the process environment by default).
    /// </summary>
    public static PubSubClient Create(string projectId, RetryOptions? retry = null, Func<string, string?>? getEnv = null) =>
        new(GoogleEndpoint.Resolve(KfciEnvironment.PubSubEmulatorHost, ProductionBaseAddress, getEnv).CreateClient(retry), projectId);

    /// <summary>Publishes <paramref name="messages"/> in one request; returns their ids in the same order.</summary>
    public async Task<IReadOnlyList<string>> PublishAsync(string topicId, IReadOnlyList<OutgoingMessage> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentOutOfRangeException.ThrowIfZero(messages.Count, nameof(messages));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(messages.Count, MaxMessagesPerPublish, nameof(messages));
        var body = new JsonObject { ["messages"] = new JsonArray([.. messages.Select(PubSubJson.Message)]) };
        var answer = await _rest.SendJsonAsync(HttpMethod.Post, TopicUri(topicId) + ":publish", body, cancellationToken);
        var ids = answer?["messageIds"]?.AsArray().Select(id => id!.GetValue<string>()).ToList() ?? [];
        if (ids.Count != messages.Count)
        {
            throw new ApiException($"Pub/Sub returned {ids.Count} message ids for {messages.Count} published messages to '{topicId}'.");
        }

        return ids;
    }

    /// <summary>Creates the topic; true if this call created it, false if it already existed.</summary>
    public async Task<bool> CreateTopicAsync(string topicId, CancellationToken cancellationToken = default)
    {
        try
        {
            await _rest.SendJsonAsync(HttpMethod.Put, TopicUri(topicId), new JsonObject(), cancellationToken);
            return true;
        }
        catch (ApiException e) when (e.IsConflict)
        {
            return false;
        }
    }

    /// <exception cref="ApiException"><see cref="ApiException.IsNotFound"/> when the topic does not exist.</exception>
    public async Task<TopicInfo> GetTopicAsync(string topicId, CancellationToken cancellationToken = default)
    {
        var json = await _rest.GetJsonAsync(TopicUri(topicId), cancellationToken);
        var name = PubSubJson.Required(json ?? new JsonObject(), "name");
        return new TopicInfo(PubSubNames.IdOf(name), name);
    }

    /// <summary>Deletes the topic (its subscriptions stay, detached); false if it did not exist.</summary>
    public Task<bool> DeleteTopicAsync(string topicId, CancellationToken cancellationToken = default) =>
        DeleteAsync(TopicUri(topicId), cancellationToken);

    /// <summary>
    /// Creates the subscription and returns it as the service stored it (defaults filled in). If it already
    /// exists, returns the existing one unchanged, whatever its settings: compare them if that matters.
    /// </summary>
    /// <exception cref="ApiException"><see cref="ApiException.IsNotFound"/> when the topic does not exist.</exception>
    public async Task<SubscriptionConfig> CreateSubscriptionAsync(SubscriptionConfig config, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        var body = PubSubJson.Subscription(ProjectId, config);
        try
        {
            var json = await _rest.SendJsonAsync(HttpMethod.Put, SubscriptionUri(config.Id), body, cancellationToken);
            return PubSubJson.Subscription(json ?? throw new ApiException("Pub/Sub answered a subscription create with an empty body."));
        }
        catch (ApiException e) when (e.IsConflict)
        {
            return await GetSubscriptionAsync(config.Id, cancellationToken);
        }
    }

    /// <exception cref="ApiException"><see cref="ApiException.IsNotFound"/> when the subscription does not exist.</exception>
    public async Task<SubscriptionConfig> GetSubscriptionAsync(string subscriptionId, CancellationToken cancellationToken = default)
    {
        var json = await _rest.GetJsonAsync(SubscriptionUri(subscriptionId), cancellationToken);
        return PubSubJson.Subscription(json ?? throw new ApiException("Pub/Sub answered a subscription get with an empty body."));
    }

    /// <summary>Deletes the subscription; false if it did not exist.</summary>
    public Task<bool> DeleteSubscriptionAsync(string subscriptionId, CancellationToken cancellationToken = default) =>
        DeleteAsync(SubscriptionUri(subscriptionId), cancellationToken);

    /// <summary>
    /// Pulls up to <paramref name="maxMessages"/> messages without waiting for more to arrive; an empty list
    /// means none were ready. (Waiting pulls are held open by the server for up to ~90 s, longer than a retry
    /// attempt may take, so callers poll instead.)
    /// </summary>
    public async Task<IReadOnlyList<ReceivedMessage>> PullAsync(string subscriptionId, int maxMessages = 100, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxMessages);
        var body = new JsonObject { ["maxMessages"] = maxMessages, ["returnImmediately"] = true };
        var answer = await _rest.SendJsonAsync(HttpMethod.Post, SubscriptionUri(subscriptionId) + ":pull", body, cancellationToken);
        return answer?["receivedMessages"]?.AsArray().Select(m => PubSubJson.Received(m!)).ToList() ?? [];
    }

    /// <summary>Acknowledges deliveries so they are not redelivered. Does nothing for an empty list.</summary>
    public async Task AcknowledgeAsync(string subscriptionId, IEnumerable<string> ackIds, CancellationToken cancellationToken = default)
    {
        var ids = AckIds(ackIds);
        if (ids.Count > 0)
        {
            await _rest.SendJsonAsync(HttpMethod.Post, SubscriptionUri(subscriptionId) + ":acknowledge", new JsonObject { ["ackIds"] = ids }, cancellationToken);
        }
    }

    /// <summary>
    /// Sets the deliveries' ack deadline to <paramref name="ackDeadlineSeconds"/> from now (0–600); 0 is a nack:
    /// the message becomes available for redelivery at once. Does nothing for an empty list.
    /// </summary>
    public async Task ModifyAckDeadlineAsync(string subscriptionId, IEnumerable<string> ackIds, int ackDeadlineSeconds, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ackDeadlineSeconds);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ackDeadlineSeconds, 600);
        var ids = AckIds(ackIds);
        if (ids.Count > 0)
        {
            var body = new JsonObject { ["ackIds"] = ids, ["ackDeadlineSeconds"] = ackDeadlineSeconds };
            await _rest.SendJsonAsync(HttpMethod.Post, SubscriptionUri(subscriptionId) + ":modifyAckDeadline", body, cancellationToken);
        }
    }

    private static JsonArray AckIds(IEnumerable<string> ackIds)
    {
        ArgumentNullException.ThrowIfNull(ackIds);
        return [.. ackIds.Select(id => JsonValue.Create(id))];
    }

    private async Task<bool> DeleteAsync(string uri, CancellationToken cancellationToken)
    {
        try
        {
            await _rest.SendJsonAsync(HttpMethod.Delete, uri, null, cancellationToken);
            return true;
        }
        catch (ApiException e) when (e.IsNotFound)
        {
            return false;
        }
    }

    private string TopicUri(string topicId) => ResourceUri(PubSubNames.Topic(ProjectId, topicId));

    private string SubscriptionUri(string subscriptionId) => ResourceUri(PubSubNames.Subscription(ProjectId, subscriptionId));

    // Ids may hold '%' and '+', which must be escaped in a path; the '/' separators must not be.
    private static string ResourceUri(string name) =>
        "v1/" + string.Join('/', name.Split('/').Select(Uri.EscapeDataString));
}
