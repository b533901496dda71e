namespace Kfci.Janitor;

/// <summary>
/// The janitor's rules, applied in the order, first match wins. Rule 5 depends on the other resources (the newest
/// instances of each version are kept), so classification runs in two steps; <see cref="JanitorPlanner"/> drives them.
/// </summary>
internal sealed class JanitorRules(JanitorConfig config)
{
    private const string KeepLabel = "kfci-janitor";
    private const string CiPrefix = "kf-ci-";

    private static readonly string[] s_e2eWords = ["e2e-", "kfctl", "presubmit", "postsubmit", "periodic", "unittest"];
    private static readonly string[] s_e2ePrefixes = ["z-", "k8s-ig-"];

    /// <summary>Rules 1–4 (and the configured types, and clusters and namespaces already being deleted); null when rules 5–7 must decide.</summary>
    public JanitorDecision? ClassifyIndependent(CloudResource resource, DateTimeOffset now)
    {
        if (!config.Types.Contains(resource.Type))
        {
            return JanitorDecision.Keep(resource, RuleIds.Disabled, $"type {resource.Type.WireName()} is not among the configured types");
        }

        if (ProtectionOf(resource) is { } protection)
        {
            return JanitorDecision.Keep(resource, RuleIds.Protected, protection);
        }

        if (resource.Type == ResourceType.InstanceGroup && resource.Scope?.StartsWith("regions/", StringComparison.Ordinal) == true)
        {
            // Regional groups are always managed: the only delete is regionInstanceGroupManagers.delete, which takes the
            // whole group and its instances, something no rule here decided.
            return JanitorDecision.Keep(resource, RuleIds.ManagedGroup, "regional instance group: deleting it would delete its whole managed instance group");
        }

        if (resource is { Type: ResourceType.GkeCluster, Status: "STOPPING" })
        {
            return JanitorDecision.Keep(resource, RuleIds.Stopping, "cluster is already STOPPING");
        }

        // A deleted namespace stays Terminating until its content is gone; deleting it again would count it twice.
        if (resource is { Type: ResourceType.Namespace, Status: KubernetesResources.TerminatingPhase })
        {
            return JanitorDecision.Keep(resource, RuleIds.Stopping, "namespace is already Terminating");
        }

        if (resource.Type == ResourceType.Workflow)
        {
            return Workflow(resource, now);
        }

        var e2e = E2eMatch(resource);
        var testKind = e2e is not null ? $"e2e test resource ({e2e})"
            : IsAutoDeployType(resource) ? "auto-deployed Kubeflow instance"
            : null;
        if (testKind is not null && ErrorOf(resource) is { } error)
        {
            return ByAge(resource, RuleIds.Errored, $"{testKind} whose {error}", ResourceAge.Of(resource, now), config.MaxAge.Errored);
        }

        return e2e is not null ? ByAge(resource, RuleIds.E2eAge, testKind!, ResourceAge.Of(resource, now), config.MaxAge.E2e) : null;
    }

    /// <summary>True when rule 5 applies to a resource <see cref="ClassifyIndependent"/> left undecided.</summary>
    public static bool IsAutoDeployType(CloudResource resource) =>
        resource.Type is not (ResourceType.Workflow or ResourceType.Namespace) && KubeflowNames.IsAutoDeployName(resource.Name);

    /// <summary>Rules 5–7, for a resource <see cref="ClassifyIndependent"/> left undecided.</summary>
    public JanitorDecision ClassifyDependent(CloudResource resource, DateTimeOffset now, AutoDeployRanking ranking)
    {
        if (IsAutoDeployType(resource))
        {
            return AutoDeploy(resource, now, ranking);
        }

        if (resource.Type.IsIngressPart() && IngressOwners.HasIngressName(resource))
        {
            return config.GcIngress
                ? ByAge(resource, RuleIds.GcIngress, "GKE ingress leftover", ResourceAge.Of(resource, now), config.MaxAge.GcIngress)
                : JanitorDecision.Keep(resource, RuleIds.Unmatched, "looks like a GKE ingress leftover, but gcIngress is off");
        }

        return JanitorDecision.Keep(resource, RuleIds.Unmatched, "no rule matched");
    }

    /// <summary>Why the resource must never be deleted; null when nothing protects it.</summary>
    public string? ProtectionOf(CloudResource resource)
    {
        var name = resource.Name;
        if (KubeflowNames.IsReleasePoolSlot(name))
        {
            return "release-pool slot kf-<version>-nNN";
        }

        if (name.StartsWith(CiPrefix, StringComparison.Ordinal))
        {
            return $"name starts with {CiPrefix} (the CI's own resources)";
        }

        if (name == config.TestCluster)
        {
            return "the configured test cluster";
        }

        if (resource.HasLabel(KeepLabel, "keep"))
        {
            return $"labelled {KeepLabel}: keep";
        }

        if (config.Protect.FirstOrDefault(pattern => pattern.IsMatch(name)) is { } protect)
        {
            return $"matches the configured protect pattern '{protect}'";
        }

        return resource.Type == ResourceType.Namespace ? NamespaceProtection(name) : NodeProtection(name);
    }

    /// <summary>
    /// GKE names a cluster's nodes, their disks and groups <c>gke-&lt;cluster&gt;-&lt;pool&gt;-…</c>: such a resource of a
    /// protected cluster is protected with it. Cluster names contain dashes, so every dash-ended prefix is tried.
    /// </summary>
    private string? NodeProtection(string name)
    {
        const string NodePrefix = "gke-";
        if (!name.StartsWith(NodePrefix, StringComparison.Ordinal))
        {
            return null;
        }

        for (var dash = name.IndexOf('-', NodePrefix.Length); dash > 0; dash = name.IndexOf('-', dash + 1))
        {
            var cluster = name[NodePrefix.Length..dash];
            if (ProtectionOf(new CloudResource(ResourceType.GkeCluster, cluster)) is { } protection)
            {
                return $"node resource of GKE cluster {cluster}, which is protected ({protection})";
            }
        }

        return null;
    }

    private string? NamespaceProtection(string name)
    {
        if (name == "default" || name.StartsWith("kube-", StringComparison.Ordinal))
        {
            return "Kubernetes system namespace";
        }

        if (config.WorkflowNamespaces.Contains(name))
        {
            return "the namespace the workflows run in";
        }

        return config.ArgoNamespaces.Contains(name) ? "Argo's namespace" : null;
    }

    private JanitorDecision Workflow(CloudResource resource, DateTimeOffset now)
    {
        if (resource.Namespace is { } ns && !config.WorkflowNamespaces.Contains(ns))
        {
            return JanitorDecision.Keep(resource, RuleIds.Unmatched, $"workflow in namespace {ns}, which is not among the configured workflowNamespaces");
        }

        return ByAge(resource, RuleIds.WorkflowAge, "Argo workflow", ResourceAge.OfWorkflow(resource, now), config.MaxAge.Workflow);
    }

    /// <summary>What rule 3 counts as errored; null for a healthy (or non-deployment, non-cluster) resource.</summary>
    private static string? ErrorOf(CloudResource resource) => resource switch
    {
        { Type: ResourceType.DmDeployment, Error: true } => "deployment operation failed",
        { Type: ResourceType.GkeCluster, Status: "ERROR" or "DEGRADED" } => $"cluster is in {resource.Status}",
        _ => null,
    };

    /// <summary>Why rule 4 counts the resource as an end-to-end test resource; null when it does not.</summary>
    private static string? E2eMatch(CloudResource resource)
    {
        if (resource.Type == ResourceType.Workflow)
        {
            return null;
        }

        var name = RuleName(resource);
        if (s_e2eWords.FirstOrDefault(word => name.Contains(word, StringComparison.Ordinal)) is { } word)
        {
            return $"name contains '{word}'";
        }

        if (s_e2ePrefixes.FirstOrDefault(prefix => name.StartsWith(prefix, StringComparison.Ordinal)) is { } prefix)
        {
            return $"name starts with '{prefix}'";
        }

        return resource.HasLabel(KeepLabel, "e2e") ? $"labelled {KeepLabel}: e2e" : null;
    }

    /// <summary>
    /// The part of the name the e2e rules read: a service account's local part, not its whole e-mail, whose domain is the
    /// project id (every account of a project named <c>kfci-e2e-…</c> would otherwise look like a test's).
    /// </summary>
    private static string RuleName(CloudResource resource) =>
        resource.Type == ResourceType.ServiceAccount && resource.Name.IndexOf('@', StringComparison.Ordinal) is > 0 and var at
            ? resource.Name[..at]
            : resource.Name;

    private JanitorDecision AutoDeploy(CloudResource resource, DateTimeOffset now, AutoDeployRanking ranking)
    {
        var instance = KubeflowNames.ParseInstance(resource.Name)!;
        var (rank, of) = ranking.RankOf(instance);
        var standing = $"auto-deployed {instance.Version} instance {instance.Instance}, {Ordinal(rank)} newest of {of}";
        return rank <= config.KeepNewest
            ? JanitorDecision.Keep(resource, RuleIds.AutoDeployNewest, $"{standing}; the {config.KeepNewest} newest per version are kept whatever their age")
            : ByAge(resource, RuleIds.AutoDeploy, standing, ResourceAge.Of(resource, now), config.MaxAge.AutoDeploy);
    }

    private static JanitorDecision ByAge(CloudResource resource, string rule, string what, ResourceAge age, TimeSpan limit)
    {
        var limitText = Durations.Format(limit);
        if (age.Value is null)
        {
            return JanitorDecision.Keep(resource, rule, $"{what}; {age.Description}");
        }

        return age.IsOver(limit)
            ? JanitorDecision.Delete(resource, rule, $"{what}; {age.Description}, over the {limitText} limit")
            : JanitorDecision.Keep(resource, rule, $"{what}; {age.Description}, within the {limitText} limit");
    }

    private static string Ordinal(int number) => (number % 100, number % 10) switch
    {
        (11 or 12 or 13, _) => $"{number}th",
        (_, 1) => $"{number}st",
        (_, 2) => $"{number}nd",
        (_, 3) => $"{number}rd",
        _ => $"{number}th",
    };
}
