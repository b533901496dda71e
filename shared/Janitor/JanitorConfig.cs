using System.Text.RegularExpressions;

namespace Kfci.Janitor;

/// <summary>
/// What the janitor sweeps and how its rules are tuned. The rules' tuning has defaults (the issue's); where it sweeps
/// (<see cref="Projects"/>, <see cref="TestCluster"/>, <see cref="Zones"/>/<see cref="Regions"/>) has none: a Janitor
/// holds rights to delete, so it sweeps only what it was explicitly told to (<see cref="EnsureScoped"/>).
/// </summary>
public sealed record JanitorConfig
{
    /// <summary>The rules' defaults with nothing to sweep: no project, no test cluster, no location. Plans with it; sweeps refuse it.</summary>
    public static JanitorConfig Default { get; } = new();

    /// <summary>Plan and report only; delete nothing. An explicit <c>dryRun</c> in a tick message wins over this.</summary>
    public bool DryRun { get; init; }

    /// <summary>Rule 6: collect GKE ingress leftovers named <c>k8s-*</c>/<c>k8s2-*</c>. Off by default: those names are not test-specific.</summary>
    public bool GcIngress { get; init; }

    /// <summary>The CI's own test cluster (protected by name, and where workflows are swept).</summary>
    public string TestCluster { get; init; } = "";

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

    /// <summary>GCP projects to sweep; none by default.</summary>
    public IReadOnlyList<string> Projects { get; init; } = [];

    /// <summary>Zones whose zonal resources and GKE clusters are swept; none by default.</summary>
    public IReadOnlyList<string> Zones { get; init; } = [];

    /// <summary>Regions whose regional resources and GKE clusters are swept; none by default.</summary>
    public IReadOnlyList<string> Regions { get; init; } = [];

    /// <summary>
    /// Throws unless projects, the test cluster and at least one zone or region are set: without them a sweep would
    /// have to guess where it may delete, and a guess (once <c>kubeflow-ci</c> and <c>locations/-</c>) is someone
    /// else's project or cluster.
    /// </summary>
    /// <param name="source">Names the configuration in the message.</param>
    /// <exception cref="JanitorConfigException">Something is missing; the message lists what.</exception>
    public void EnsureScoped(string source)
    {
        var missing = new List<string>();
        if (Projects.Count == 0)
        {
            missing.Add("projects");
        }

        if (TestCluster.Length == 0)
        {
            missing.Add("testCluster");
        }

        if (Zones.Count == 0 && Regions.Count == 0)
        {
            missing.Add("zones or regions");
        }

        if (missing.Count > 0)
        {
            throw new JanitorConfigException(
                $"{source}: the Janitor sweeps only what it is configured for, and {string.Join(", ", missing)} {(missing.Count == 1 ? "is" : "are")} not set; "
                + "name the projects, the test cluster and the zones/regions to sweep (infra/terraform's janitor_config.tf writes them)");
        }
    }
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
