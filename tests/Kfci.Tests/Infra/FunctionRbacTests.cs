using Kfci.Testing.Kubernetes;

namespace Kfci.Tests.Infra;

/// <summary>
/// The Kubernetes calls each function's code makes (IWorkflowCluster calls in functions/* and shared/Janitor), against
/// the Roles infra/terraform binds to the function: every call is allowed, and no rule grants a verb no call uses.
/// The function tests run their fake cluster with the same authorizer (TerraformRbac.Options).
/// </summary>
[Collection(TerraformCollection.Name)]
public sealed class FunctionRbacTests(TerraformFixture terraform)
{
    private const string Ns = "kubeflow-test-infra";

    /// <summary>(function, verb, group, resource, namespace) of every call; null namespace: cluster scope.</summary>
    private static readonly (string Function, string Verb, string Group, string Resource, string? Namespace)[] s_calls =
    [
        ("trigger", "create", "argoproj.io", "workflows", Ns), // RunStarter
        ("trigger", "get", "argoproj.io", "workflows", Ns), // RunStarter, after a conflict
        ("trigger", "list", "argoproj.io", "workflows", Ns), // RunAborter
        ("trigger", "patch", "argoproj.io", "workflows", Ns), // RunAborter: spec.shutdown
        ("watcher", "get", "argoproj.io", "workflows", Ns), // Function, Reconciler
        ("watcher", "list", "argoproj.io", "workflows", Ns), // Reconciler
        ("watcher", "patch", "argoproj.io", "workflows", Ns), // Reconciler: spec.shutdown past the deadline
        ("uploader", "get", "argoproj.io", "workflows", Ns), // ResultsUploader
        ("uploader", "get", "", "pods", Ns),
        ("uploader", "get", "", "pods/log", Ns),
        ("uploader", "list", "", "events", Ns), // a failed step's events
        ("janitor", "list", "argoproj.io", "workflows", Ns), // KubernetesResources
        ("janitor", "delete", "argoproj.io", "workflows", Ns),
        ("janitor", "list", "", "namespaces", null),
        ("janitor", "delete", "", "namespaces", null),
    ];

    public static TheoryData<string> Functions => ["trigger", "watcher", "uploader", "janitor"];

    [Theory]
    [MemberData(nameof(Functions))]
    public void Rules_EveryCallTheCodeMakes_IsAllowed(string function) =>
        Assert.Empty(Refused(terraform.Tree, function));

    [Theory]
    [MemberData(nameof(Functions))]
    public void Rules_GrantNothingTheCodeDoesNotCall(string function)
    {
        var calls = s_calls.Where(c => c.Function == function).ToList();
        var rules = TerraformRbac.Rules(terraform.Tree, function, Ns);

        var unused = rules.SelectMany(r => r.Resources.SelectMany(res => r.Verbs.Select(v => (Verb: v, Resource: res))))
            .Where(g => !calls.Any(c => c.Verb == g.Verb && c.Resource == g.Resource));

        Assert.Empty(unused);
    }

    [Fact]
    public void Rules_WatcherWithoutPatch_RefusesTheDeadlineStop()
    {
        var broken = terraform.ParseBroken("cluster/rbac.tf", "verbs = [\"get\", \"list\", \"patch\"] },\n    ]\n    uploader", "verbs = [\"get\", \"list\", \"watch\"] },\n    ]\n    uploader");

        Assert.Equal(["patch workflows"], Refused(broken, "watcher"));
    }

    [Fact]
    public void Rules_JanitorNamespacesInANamespacedRole_AreRefusedAtClusterScope()
    {
        // The namespaces rule moved into the janitor's namespaced Role, and its ClusterRole gone: as the configuration was.
        var broken = terraform.ParseBroken(
            "cluster/rbac.tf",
            "verbs = [\"delete\", \"list\"] },\n    ]\n  }\n\n  # Namespaces are not namespaced: only a ClusterRole can grant them.\n  function_cluster_roles = {\n    janitor",
            "verbs = [\"delete\", \"list\"] },\n      { api_groups = [\"\"], resources = [\"namespaces\"], verbs = [\"delete\", \"list\"] },\n    ]\n  }\n\n  function_cluster_roles = {\n    nobody");

        Assert.Equal(["list namespaces", "delete namespaces"], Refused(broken, "janitor"));
    }

    [Fact]
    public void Authorizer_RefusedRequest_NamesTheUserAsTheApiServerDoes()
    {
        var authorizer = TerraformRbac.Authorizer(terraform.Tree, "uploader", Ns);

        var (user, allowed) = authorizer.Authorize(new FakeAccess("delete", "argoproj.io", "workflows", Ns, "wf", null));

        Assert.False(allowed);
        Assert.Equal("kfci-uploader@PROJECT.iam.gserviceaccount.com", user);
    }

    private static List<string> Refused(TerraformTree tree, string function)
    {
        var authorizer = TerraformRbac.Authorizer(tree, function, Ns);
        return s_calls.Where(c => c.Function == function && !authorizer.Authorize(new FakeAccess(c.Verb, c.Group, c.Resource, c.Namespace, null, null)).Allowed)
            .Select(c => $"{c.Verb} {c.Resource}")
            .ToList();
    }
}
