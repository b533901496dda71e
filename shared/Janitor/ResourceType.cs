namespace Kfci.Janitor;

/// <summary>
/// The kinds of resource the janitor sweeps. The declaration order IS the sweep order: dependants before what they
/// depend on (workflows before their namespaces, clusters before their instances, forwarding rules before the proxies,
/// URL maps and backends they point at), so one sweep can remove a whole GKE ingress (ingress-gce#136).
/// </summary>
public enum ResourceType
{
    Workflow,
    Namespace,
    DmDeployment,
    GkeCluster,
    ServiceAccount,
    Instance,
    ForwardingRule,
    TargetHttpProxy,
    TargetHttpsProxy,
    UrlMap,
    BackendService,
    HealthCheck,
    InstanceGroup,
    SslCertificate,
    FirewallRule,
    Address,
    Disk,
}

/// <summary>Wire names and sweep order of <see cref="ResourceType"/>.</summary>
public static class ResourceTypes
{
    private static readonly string[] s_wireNames =
    [
        "workflow", "namespace", "dm-deployment", "gke-cluster", "service-account", "instance", "forwarding-rule",
        "target-http-proxy", "target-https-proxy", "url-map", "backend-service", "health-check", "instance-group",
        "ssl-certificate", "firewall-rule", "address", "disk",
    ];

    private static readonly Dictionary<string, ResourceType> s_byWireName =
        Enum.GetValues<ResourceType>().ToDictionary(type => s_wireNames[(int)type], StringComparer.Ordinal);

    /// <summary>Every type, in the order a sweep deletes them.</summary>
    public static IReadOnlyList<ResourceType> SweepOrder { get; } = Enum.GetValues<ResourceType>();

    /// <summary>The wire names, in sweep order, comma-separated: for error messages that list what is allowed.</summary>
    public static string WireNameList { get; } = string.Join(", ", s_wireNames);

    /// <summary>The name used in inventories, configuration and decisions, e.g. <c>dm-deployment</c>.</summary>
    public static string WireName(this ResourceType type) => s_wireNames[(int)type];

    /// <summary>Parses a wire name (exact, lower case); false for anything else, including null.</summary>
    public static bool TryParse(string? wireName, out ResourceType type) =>
        s_byWireName.TryGetValue(wireName ?? "", out type);

    /// <summary>
    /// The resources GKE's ingress controller creates: what rule 6 (gcIngress) may collect, and only for a cluster that is
    /// itself going. Its SSL certificates (<c>k8s-ssl-…</c>, <c>k8s2-cr-…</c>) and static IPs (named after the forwarding
    /// rule) are its parts too, so they get the same owner check rather than falling to the e2e rule.
    /// </summary>
    public static bool IsIngressPart(this ResourceType type) => type is ResourceType.ForwardingRule
        or ResourceType.TargetHttpProxy or ResourceType.TargetHttpsProxy or ResourceType.UrlMap
        or ResourceType.BackendService or ResourceType.HealthCheck or ResourceType.InstanceGroup or ResourceType.FirewallRule
        or ResourceType.Address or ResourceType.SslCertificate;
}
