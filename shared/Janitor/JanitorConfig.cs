using System.Text.RegularExpressions;

namespace Kfci.Janitor;

/// <summary>
/// What the janitor sweeps and how its rules are tuned. Every value has a default (the issue's), so an empty YAML file
/// is a valid configuration; <see cref="JanitorConfigYaml"/> reads the overrides.
/// </summary>
public sealed record JanitorConfig
{
    /// <summary>The defaults: a real (not dry-run) sweep of every type in <c>kubeflow-ci</c>, ingress collection off.</summary>
    public static JanitorConfig Default { get; } = new();

    /// <summary>Plan and report only; delete nothing. An explicit <c>dryRun</c> in a tick message wins over this.</summary>
    public bool DryRun { get; init; }

    /// <summary>Rule 6: collect GKE ingress leftovers named <c>k8s-*</c>/<c>k8s2-*</c>. Off by default: those names are not test-specific.</summary>
    public bool GcIngress { get; init; }

    /// <summary>The CI's own test cluster (protected by name, and where workflows are swept).</summary>
    public string TestCluster { get; init; } = "kubeflow-testing";

    /// <summary>Namespaces whose Argo workflows are swept (rule 2); the namespaces themselves are protected.</summary>
    public IReadOnlyList<string> WorkflowNamespaces { get; init; } = ["kubeflow-test-infra"];

    /// <summary>Namespaces Argo itself runs in; protected.</summary>
    public IReadOnlyList<string> ArgoNamespaces { get; init; } = ["argo"];

    /// <summary>Extra protection: a resource whose name matches any of these (unanchored, as written) is never deleted.</summary>
    public IReadOnlyList<Regex> Protect { get; init; } = [];

    /// <summary>Rule 5: how many of the newest auto-deployed instances of each version are kept whatever their age.</summary>
    public int KeepNewest { get; init; } = 3;

    /// <summary>The age limits of the age rules.</summary>
    public MaxAges MaxAge { get; init; } = new();

    /// <summary>The types a sweep lists and deletes; resources of other types are kept (rule <c>disabled</c>).</summary>
    public IReadOnlySet<ResourceType> Types { get; init; } = new HashSet<ResourceType>(ResourceTypes.SweepOrder);

    /// <summary>GCP projects to sweep.</summary>
    public IReadOnlyList<string> Projects { get; init; } = ["kubeflow-ci"];

    /// <summary>Zones for the zonal listings that have no aggregated form.</summary>
    public IReadOnlyList<string> Zones { get; init; } =
        ["us-east1-b", "us-east1-c", "us-east1-d", "us-central1-a", "us-central1-b", "us-central1-c", "us-central1-f"];

    /// <summary>Regions for the regional listings that have no aggregated form.</summary>
    public IReadOnlyList<string> Regions { get; init; } = ["us-east1", "us-central1"];
}

/// <summary>Age limits per rule; a resource is deleted only when strictly older than its limit.</summary>
public sealed record MaxAges
{
    /// <summary>Rule 2: Argo workflows, from <c>startedAt</c> (else creation).</summary>
    public TimeSpan Workflow { get; init; } = TimeSpan.FromDays(7);

    /// <summary>Rule 3: errored test deployments and clusters.</summary>
    public TimeSpan Errored { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Rule 4: end-to-end test resources.</summary>
    public TimeSpan E2e { get; init; } = TimeSpan.FromHours(3);

    /// <summary>Rule 5: auto-deployed Kubeflow instances beyond the newest few.</summary>
    public TimeSpan AutoDeploy { get; init; } = TimeSpan.FromDays(2);

    /// <summary>Rule 6: GKE ingress leftovers.</summary>
    public TimeSpan GcIngress { get; init; } = TimeSpan.FromDays(2);
}
