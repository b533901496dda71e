namespace Kfci.PubSub;

/// <summary>
/// A subscription as kfci creates it and as the service reports it back. Topic ids are ids in the client's
/// project, not full names. Null members are left to the service's defaults on create.
/// </summary>
public sealed record SubscriptionConfig
{
    public required string Id { get; init; }

    public required string TopicId { get; init; }

    /// <summary>Null for a pull subscription.</summary>
    public PushConfig? Push { get; init; }

    /// <summary>10–600 s; the service's default is 10 s.</summary>
    public int? AckDeadlineSeconds { get; init; }

    public DeadLetterPolicy? DeadLetter { get; init; }

    /// <summary>Backoff between redeliveries; without it the service redelivers immediately.</summary>
    public RedeliveryPolicy? Redelivery { get; init; }

    /// <summary>Deliver messages with the same ordering key in publish order. Cannot be changed after creation.</summary>
    public bool EnableMessageOrdering { get; init; }
}

/// <summary>Where a push subscription delivers, and optionally the OIDC token Pub/Sub signs for each push.</summary>
public sealed record PushConfig(Uri Endpoint, PushOidcToken? OidcToken = null);

/// <summary>
/// Pub/Sub signs an ID token as <paramref name="ServiceAccountEmail"/> for each push. A null
/// <paramref name="Audience"/> makes the service use the push endpoint URL.
/// </summary>
public sealed record PushOidcToken(string ServiceAccountEmail, string? Audience = null);

/// <summary>After <paramref name="MaxDeliveryAttempts"/> (5–100) failed deliveries, the message is forwarded to <paramref name="TopicId"/>.</summary>
public sealed record DeadLetterPolicy(string TopicId, int MaxDeliveryAttempts);

/// <summary>Exponential backoff between redeliveries of a nacked message (each 0–600 s, as the service allows).</summary>
public sealed record RedeliveryPolicy(TimeSpan MinimumBackoff, TimeSpan MaximumBackoff);
