using Microsoft.AspNetCore.Http;

namespace Kfci.Testing.Kubernetes;

/// <summary>
/// What one request asks to do, in the terms Kubernetes RBAC decides on: the verb (<c>get</c>, <c>list</c>,
/// <c>watch</c>, <c>create</c>, <c>update</c>, <c>patch</c>, <c>delete</c>, <c>deletecollection</c>), the API group,
/// the resource with its subresource (<c>pods/log</c>), the namespace (null at the cluster scope) and the name.
/// </summary>
public sealed record FakeAccess(string Verb, string Group, string Resource, string? Namespace, string? Name, string? BearerToken);

/// <summary>Decides whether a request may proceed; the fake answers 403 Forbidden, as the API server does, when not.</summary>
public interface IFakeKubernetesAuthorizer
{
    /// <summary>The user the request acts as (named in the 403 message) and whether RBAC allows it.</summary>
    (string User, bool Allowed) Authorize(FakeAccess access);
}

/// <summary>The fake's authorization step: request attributes from the path, and the API server's Forbidden answer.</summary>
internal static class FakeAuthorization
{
    /// <exception cref="FakeStatusException">403 when <paramref name="authorizer"/> refuses the request.</exception>
    public static void Check(IFakeKubernetesAuthorizer authorizer, HttpRequest request)
    {
        var route = FakeKubernetesHandlers.Route(request.Path.Value ?? "", FakeResource.All);
        var access = new FakeAccess(
            Verb(request, route.Name is null),
            route.Resource.Group,
            route.Subresource is null ? route.Resource.Plural : $"{route.Resource.Plural}/{route.Subresource}",
            route.Namespace,
            route.Name,
            request.Headers.Authorization.ToString() is { Length: > 7 } header && header.StartsWith("Bearer ", StringComparison.Ordinal) ? header[7..] : null);
        var (user, allowed) = authorizer.Authorize(access);
        if (!allowed)
        {
            throw Forbidden(access, user, route.Resource);
        }
    }

    private static string Verb(HttpRequest request, bool collection) => request.Method switch
    {
        "GET" when collection => request.Query["watch"].ToString() is "true" or "1" ? "watch" : "list",
        "GET" => "get",
        "POST" => "create",
        "PUT" => "update",
        "PATCH" => "patch",
        "DELETE" when collection => "deletecollection",
        "DELETE" => "delete",
        _ => request.Method.ToLowerInvariant(),
    };

    // The API server's wording: `pods "p" is forbidden: User "u" cannot get resource "pods/log" in API group "" in the namespace "ns"`.
    private static FakeStatusException Forbidden(FakeAccess access, string user, FakeResource resource)
    {
        var subject = access.Name is null ? resource.QualifiedName : $"{resource.QualifiedName} \"{access.Name}\"";
        var scope = access.Namespace is null ? "at the cluster scope" : $"in the namespace \"{access.Namespace}\"";
        var message = $"{subject} is forbidden: User \"{user}\" cannot {access.Verb} resource \"{access.Resource}\" in API group \"{access.Group}\" {scope}";
        return new FakeStatusException(403, "Forbidden", message, FakeStatusException.Details(resource, access.Name ?? ""));
    }
}

/// <summary>One RBAC rule as a Role or ClusterRole states it, granted in <see cref="Namespace"/> (null: cluster-wide).</summary>
public sealed record RbacRule(IReadOnlyList<string> ApiGroups, IReadOnlyList<string> Resources, IReadOnlyList<string> Verbs, string? Namespace)
{
    public bool Allows(FakeAccess access)
    {
        ArgumentNullException.ThrowIfNull(access);
        return (Namespace is null || Namespace == access.Namespace)
            && Matches(ApiGroups, access.Group)
            && Matches(Resources, access.Resource)
            && Matches(Verbs, access.Verb);
    }

    private static bool Matches(IReadOnlyList<string> allowed, string value) => allowed.Contains("*") || allowed.Contains(value);
}

/// <summary>Kubernetes RBAC for one user: a request is allowed when some rule bound to the user allows it, else 403.</summary>
public sealed class RbacAuthorizer(string user, IReadOnlyList<RbacRule> rules) : IFakeKubernetesAuthorizer
{
    public string User { get; } = user;

    public IReadOnlyList<RbacRule> Rules { get; } = rules;

    public (string User, bool Allowed) Authorize(FakeAccess access) => (User, Rules.Any(r => r.Allows(access)));
}
