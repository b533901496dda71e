using System.Buffers;

namespace Kfci.PubSub;

/// <summary>
/// Pub/Sub resource names (<c>projects/{project}/topics/{topic}</c>) and the service's rules for the ids in
/// them. Ids are checked here, before any request, so a typo fails with a message that says what is wrong
/// instead of a bare <c>400 INVALID_ARGUMENT</c> (or, from the emulator, a <c>404</c> with no body).
/// </summary>
public static class PubSubNames
{
    public const int MinIdLength = 3;

    public const int MaxIdLength = 255;

    private static readonly SearchValues<char> s_idChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~+%");

    /// <summary><c>projects/{project}/topics/{topic}</c>; throws <see cref="ArgumentException"/> for an invalid id.</summary>
    public static string Topic(string project, string topicId) => Name(project, "topics", topicId, nameof(topicId));

    /// <summary><c>projects/{project}/subscriptions/{subscription}</c>; throws <see cref="ArgumentException"/> for an invalid id.</summary>
    public static string Subscription(string project, string subscriptionId) =>
        Name(project, "subscriptions", subscriptionId, nameof(subscriptionId));

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the broken rule unless <paramref name="id"/> is a valid
    /// topic or subscription id: 3–255 characters, starts with a letter, only <c>[A-Za-z0-9-_.~+%]</c>,
    /// and does not start with <c>goog</c>.
    /// </summary>
    public static void ValidateId(string id, string parameterName = "id")
    {
        ArgumentNullException.ThrowIfNull(id, parameterName);
        var problem = IdProblem(id);
        if (problem is not null)
        {
            throw new ArgumentException($"'{id}' is not a valid Pub/Sub id: {problem}.", parameterName);
        }
    }

    /// <summary>The last segment of a resource name (<c>projects/p/topics/t</c> gives <c>t</c>); other text is returned unchanged.</summary>
    public static string IdOf(string resourceName)
    {
        ArgumentNullException.ThrowIfNull(resourceName);
        var slash = resourceName.LastIndexOf('/');
        return slash < 0 ? resourceName : resourceName[(slash + 1)..];
    }

    private static string? IdProblem(string id)
    {
        if (id.Length is < MinIdLength or > MaxIdLength)
        {
            return $"it must be {MinIdLength} to {MaxIdLength} characters long, not {id.Length}";
        }

        if (!char.IsAsciiLetter(id[0]))
        {
            return "it must start with a letter";
        }

        var bad = id.AsSpan().IndexOfAnyExcept(s_idChars);
        if (bad >= 0)
        {
            return $"'{id[bad]}' at position {bad} is not allowed (only letters, digits and - _ . ~ + %)";
        }

        return id.StartsWith("goog", StringComparison.OrdinalIgnoreCase) ? "ids starting with 'goog' are reserved" : null;
    }

    private static string Name(string project, string collection, string id, string parameterName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(project);
        ValidateId(id, parameterName);
        return $"projects/{project}/{collection}/{id}";
    }
}
