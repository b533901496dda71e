using System.Text.RegularExpressions;

namespace Kfci.Tests.Infra;

/// <summary>One role granted to one member by an <c>*_iam_member</c>/<c>*_iam_binding</c> resource.</summary>
internal sealed record IamGrant(TerraformBlock Resource, string Role, string Member);

/// <summary>Who holds which role, resolved from the IAM resources (including <c>for_each</c> over role lists).</summary>
internal static partial class IamGrants
{
    /// <summary>Marks a role the checks could not resolve to literals; they treat it as a violation.</summary>
    public const string Unresolved = "<unresolved>";

    public static IReadOnlyList<IamGrant> All(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var grants = new List<IamGrant>();
        foreach (var resource in tree.Resources.Where(r => r.Type.EndsWith("_iam_member", StringComparison.Ordinal) || r.Type.EndsWith("_iam_binding", StringComparison.Ordinal)))
        {
            var members = Hcl.Strings(resource.Body).Where(s => s.Attribute is "member" or "members").Select(s => s.Value).ToList();
            foreach (var role in Roles(tree, resource))
            {
                grants.AddRange(members.Select(member => new IamGrant(resource, role, member)));
            }
        }

        return grants;
    }

    /// <summary>Grants whose member is the <c>google_service_account</c> resource <paramref name="account"/>.</summary>
    /// <remarks>A member taken from <c>local.functions[...]</c> may be any function's account, so it counts for all of them.</remarks>
    public static IEnumerable<IamGrant> HeldBy(IEnumerable<IamGrant> grants, string account, bool isFunctionAccount) =>
        grants.Where(g => Hcl.References(g.Member, "google_service_account").Contains(account)
            || (isFunctionAccount && g.Member.Contains("local.functions[", StringComparison.Ordinal)));

    private static List<string> Roles(TerraformTree tree, TerraformBlock resource)
    {
        var role = Hcl.Attribute(resource.Body, "role") ?? Unresolved;
        if (!role.Contains("${", StringComparison.Ordinal))
        {
            return [role];
        }

        if (!role.Contains("each.", StringComparison.Ordinal))
        {
            return [Unresolved];
        }

        // for_each over a role list: toset(["roles/a", ...]) or a local holding the list.
        var forEach = Hcl.Attribute(resource.Body, "for_each");
        var roles = Hcl.QuotedLiterals(forEach, "roles/").ToList();
        foreach (Match local in LocalPattern().Matches(forEach ?? ""))
        {
            if (tree.Locals.TryGetValue(local.Groups[1].Value, out var value))
            {
                roles.AddRange(Hcl.Strings(value).Select(s => s.Value).Where(s => s.StartsWith("roles/", StringComparison.Ordinal)));
            }
        }

        return roles.Count > 0 ? roles : [Unresolved];
    }

    [GeneratedRegex(@"\blocal\.([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex LocalPattern();
}
