using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Kfci.Argo;

/// <summary>
/// Hides environment values that look like credentials before a workflow or pod is published to the results bucket,
/// which Prow's viewers show to anyone: a trigger request's <c>envs</c> become container env, and an on-call engineer
/// passing a token that way must not see it in <c>artifacts/</c>.
/// </summary>
public static partial class SecretRedaction
{
    public const string Redacted = "<redacted by kfci>";

    /// <summary>A copy of <paramref name="node"/> in which every secret-looking <c>env</c> value is <see cref="Redacted"/>.</summary>
    public static JsonNode? Redact(JsonNode? node)
    {
        var copy = node?.DeepClone();
        RedactInPlace(copy);
        return copy;
    }

    /// <summary>A name such as <c>GITHUB_TOKEN</c> or <c>DB_PASSWORD</c>, or a value shaped like a well-known credential.</summary>
    public static bool LooksSecret(string? name, string? value) =>
        (name is not null && SecretName().IsMatch(name)) || (value is not null && SecretValue().IsMatch(value));

    private static void RedactInPlace(JsonNode? node)
    {
        switch (node)
        {
            case JsonArray array:
                foreach (var item in array)
                {
                    RedactInPlace(item);
                }

                break;
            case JsonObject obj:
                if (obj["env"] is JsonArray env)
                {
                    foreach (var variable in env.OfType<JsonObject>())
                    {
                        if (variable["value"] is JsonValue value && LooksSecret(variable["name"]?.ToString(), value.ToString()))
                        {
                            variable["value"] = Redacted;
                        }
                    }
                }

                foreach (var (_, child) in obj)
                {
                    RedactInPlace(child);
                }

                break;
        }
    }

    [GeneratedRegex(@"(TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE_?KEY|API_?KEY|ACCESS_?KEY|AUTH)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretName();

    // GitHub tokens, Google OAuth access tokens, AWS access key ids, Slack tokens, PEM private keys.
    [GeneratedRegex(@"(^|\W)(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|ya29\.[A-Za-z0-9._-]{20,}|AKIA[0-9A-Z]{16}|xox[abpr]-[A-Za-z0-9-]{10,})|-----BEGIN [A-Z ]*PRIVATE KEY-----", RegexOptions.CultureInvariant)]
    private static partial Regex SecretValue();
}
