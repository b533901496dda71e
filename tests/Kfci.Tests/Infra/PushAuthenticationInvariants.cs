using System.Text.Json;
using System.Text.RegularExpressions;

namespace Kfci.Tests.Infra;

/// <summary>
/// What push authentication needs from infra/terraform: every push subscription signs its pushes as the push identity,
/// for an audience unique to the deployment and to the function it pushes to; each function is told both
/// (<c>KFCI_PUSH_SERVICE_ACCOUNT</c>, <c>KFCI_PUSH_AUDIENCE</c>); and Cloud Run's invoker check stays on, since the
/// functions trust the claims of the tokens it forwards.
/// </summary>
internal static partial class PushAuthenticationInvariants
{
    private const string PushAudience = "KFCI_PUSH_AUDIENCE";
    private const string PushServiceAccount = "KFCI_PUSH_SERVICE_ACCOUNT";

    /// <summary>The one expression a subscription's audience may be: the pushed function's own configured audience.</summary>
    private const string FunctionsOwnAudience = "${local.functions[each.value.function].env." + PushAudience + "}";

    public static IReadOnlyList<string> PushIsAuthenticated(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var violations = new List<string>();
        var functionAccount = tree.Locals.TryGetValue("function_common_env", out var common)
            ? Hcl.References(Hcl.Attribute(common, PushServiceAccount), "google_service_account").SingleOrDefault()
            : null;
        if (functionAccount is null)
        {
            violations.Add($"local.function_common_env does not set {PushServiceAccount} to a google_service_account's email");
        }

        var pushSubscriptions = tree.ResourcesOfType("google_pubsub_subscription").Where(s => Hcl.Blocks(s.Body, "push_config").Any()).ToList();
        if (pushSubscriptions.Count == 0)
        {
            violations.Add("no google_pubsub_subscription pushes");
        }

        foreach (var subscription in pushSubscriptions)
        {
            violations.AddRange(CheckOidcToken(subscription, functionAccount));
        }

        foreach (var function in TerraformInvariants.Functions(tree))
        {
            violations.AddRange(CheckAudience(tree, function));
        }

        violations.AddRange(tree.ResourcesOfType("google_cloud_run_v2_service")
            .Where(s => Hcl.Attribute(s.Body, "invoker_iam_disabled") is { } disabled && disabled != "false")
            .Select(s => $"{s.Address} turns Cloud Run's invoker check off (invoker_iam_disabled), but the functions trust the tokens it verifies"));
        return violations;
    }

    private static IEnumerable<string> CheckOidcToken(TerraformBlock subscription, string? functionAccount)
    {
        var tokens = Hcl.Blocks(subscription.Body, "push_config").SelectMany(p => Hcl.Blocks(p, "oidc_token")).ToList();
        if (tokens.Count != 1)
        {
            yield return $"{subscription.Address} pushes without an oidc_token: the functions refuse unauthenticated pushes";
            yield break;
        }

        var account = Hcl.References(Hcl.Attribute(tokens[0], "service_account_email"), "google_service_account").SingleOrDefault();
        if (account is null)
        {
            yield return $"{subscription.Address}'s oidc_token sets no service_account_email of a google_service_account";
        }
        else if (functionAccount is not null && account != functionAccount)
        {
            yield return $"{subscription.Address} signs as google_service_account.{account}, but the functions accept only google_service_account.{functionAccount} ({PushServiceAccount})";
        }

        var audience = Hcl.Attribute(tokens[0], "audience");
        if (audience != FunctionsOwnAudience)
        {
            yield return $"{subscription.Address}'s oidc_token audience is {audience ?? "not set (the endpoint URL)"}; it must be {FunctionsOwnAudience}, the audience the function checks";
        }
    }

    private static IEnumerable<string> CheckAudience(TerraformTree tree, FunctionEntry function)
    {
        var audience = function.Body.TryGetProperty("env", out var env) ? Hcl.Attribute(env, PushAudience) : null;
        if (audience is null)
        {
            yield return $"local.functions.{function.Key}.env does not set {PushAudience}";
            yield break;
        }

        // Unique to the deployment: derived from its project (and the function), never a constant every install shares.
        var resolved = ResolveLocals(tree, audience);
        if (!resolved.Contains("data.google_project.", StringComparison.Ordinal) && !resolved.Contains("var.project_id", StringComparison.Ordinal))
        {
            yield return $"local.functions.{function.Key}.env.{PushAudience} ({audience}) is not derived from the project, so every install would share it";
        }

        if (!resolved.Contains($"kfci-{function.Key}", StringComparison.Ordinal))
        {
            yield return $"local.functions.{function.Key}.env.{PushAudience} ({audience}) does not name the function's service kfci-{function.Key}";
        }
    }

    /// <summary>Replaces each <c>local.NAME</c> inside an expression by that local's own text, once.</summary>
    private static string ResolveLocals(TerraformTree tree, string expression) =>
        LocalReference().Replace(expression, m => tree.Locals.TryGetValue(m.Groups[1].Value, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : m.Value);

    [GeneratedRegex(@"\blocal\.([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex LocalReference();
}
