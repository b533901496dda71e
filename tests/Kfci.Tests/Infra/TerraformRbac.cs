using System.Text.Json;
using Kfci.Testing.Kubernetes;

namespace Kfci.Tests.Infra;

/// <summary>
/// The Kubernetes RBAC infra/terraform grants each function, read from the Roles, ClusterRoles and their bindings
/// (cluster/rbac.tf): what the fake cluster authorizes a function's requests against, so a call the code makes and
/// the Role lacks fails that function's tests with the 403 the real cluster would answer.
/// </summary>
internal static class TerraformRbac
{
    private const string FunctionAccountsVariable = "${var.function_accounts[each.key]}";

    private static readonly Lazy<TerraformTree> s_tree = new(() =>
    {
        var root = RepositoryRoot.Find();
        using var parser = new HclParser(root);
        return parser.Parse(Path.Combine(root, "infra", "terraform"));
    });

    /// <summary>Fake-cluster options that authorize every request as <paramref name="function"/> does in the deployed cluster.</summary>
    public static FakeKubernetesOptions Options(string function, string workflowNamespace) =>
        new() { Authorizer = Authorizer(s_tree.Value, function, workflowNamespace) };

    /// <summary>The authorizer for <paramref name="function"/>'s Google identity; its namespaced Roles apply in <paramref name="workflowNamespace"/>.</summary>
    public static RbacAuthorizer Authorizer(TerraformTree tree, string function, string workflowNamespace)
    {
        ArgumentNullException.ThrowIfNull(tree);
        return new RbacAuthorizer(User(tree, function), Rules(tree, function, workflowNamespace));
    }

    /// <summary>Every rule bound to <paramref name="function"/> through a (Cluster)RoleBinding for_each over a local of rule lists.</summary>
    public static IReadOnlyList<RbacRule> Rules(TerraformTree tree, string function, string workflowNamespace)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var rules = new List<RbacRule>();
        foreach (var (bindingType, roleType, clusterWide) in new[] { ("kubernetes_role_binding", "kubernetes_role", false), ("kubernetes_cluster_role_binding", "kubernetes_cluster_role", true) })
        {
            foreach (var binding in tree.ResourcesOfType(bindingType))
            {
                if (!Hcl.Blocks(binding.Body, "subject").Any(s => Hcl.Attribute(s, "name") == FunctionAccountsVariable)
                    || LocalName(Hcl.Attribute(binding.Body, "for_each")) is not { } local
                    || !tree.Locals.TryGetValue(local, out var byFunction)
                    || byFunction.ValueKind != JsonValueKind.Object
                    || !byFunction.TryGetProperty(function, out var functionRules))
                {
                    continue;
                }

                var roleRef = Hcl.Blocks(binding.Body, "role_ref").Select(r => Hcl.Attribute(r, "name")).FirstOrDefault();
                var role = Hcl.References(roleRef, roleType).Select(name => tree.Resource(roleType, name)).FirstOrDefault();
                // The role must take its rules from the same local, one dynamic rule per entry, or the binding grants something else.
                if (role is null || LocalName(Hcl.Attribute(role.Body, "for_each")) != local
                    || !Hcl.DynamicBlocks(role.Body, "rule").Any(r => Hcl.Attribute(r, "for_each") == "${each.value}"))
                {
                    continue;
                }

                rules.AddRange(functionRules.EnumerateArray().Select(rule => new RbacRule(
                    Strings(rule, "api_groups"), Strings(rule, "resources"), Strings(rule, "verbs"), clusterWide ? null : workflowNamespace)));
            }
        }

        return rules;
    }

    /// <summary>How GKE names the function's Google service account as a Kubernetes user: its email.</summary>
    private static string User(TerraformTree tree, string function)
    {
        var entry = TerraformInvariants.Functions(tree).FirstOrDefault(f => f.Key == function)
            ?? throw new ArgumentException($"local.functions has no {function}", nameof(function));
        var accountId = entry.Account is { } account ? Hcl.Attribute(tree.Resource("google_service_account", account)!.Body, "account_id") : null;
        return $"{accountId ?? function}@PROJECT.iam.gserviceaccount.com";
    }

    private static string? LocalName(string? expression) =>
        expression is not null && expression.StartsWith("${local.", StringComparison.Ordinal) && expression.EndsWith('}')
            ? expression["${local.".Length..^1]
            : null;

    private static string[] Strings(JsonElement rule, string name) =>
        rule.TryGetProperty(name, out var values) && values.ValueKind == JsonValueKind.Array
            ? [.. values.EnumerateArray().Select(v => v.GetString() ?? "")]
            : [];
}
