using Kfci.Janitor;

namespace Kfci.Tests.Infra;

/// <summary>One Google Cloud call a function's code makes, the permission it needs, and where (the project or one resource).</summary>
internal sealed record GcpCall(string Function, string Call, string Permission, string Scope = GcpIam.Project);

/// <summary>
/// Which permission each Google Cloud call of the functions needs, and which predefined roles hold it (Google Cloud's
/// IAM roles reference): checked against the grants infra/terraform gives each function's account, so a call whose
/// role is missing (or granted on the wrong resource) fails a test instead of answering 403 in the cloud.
/// </summary>
internal static class GcpIam
{
    public const string Project = "project";

    /// <summary>The caller name of <c>kfci wait</c> in a Prow job's pod, which runs as the account of prow_wait.tf.</summary>
    public const string ProwWait = "wait";

    /// <summary>The permissions of the predefined roles kfci grants, as far as kfci's calls need them.</summary>
    private static readonly Dictionary<string, string[]> s_rolePermissions = new(StringComparer.Ordinal)
    {
        ["roles/datastore.viewer"] = ["datastore.entities.get", "datastore.entities.list"],
        ["roles/datastore.user"] = ["datastore.entities.get", "datastore.entities.list", "datastore.entities.create", "datastore.entities.update", "datastore.entities.delete"],
        ["roles/pubsub.publisher"] = ["pubsub.topics.publish"],
        ["roles/secretmanager.secretAccessor"] = ["secretmanager.versions.access"],
        ["roles/storage.objectAdmin"] = ["storage.objects.create", "storage.objects.get", "storage.objects.list", "storage.objects.delete", "storage.objects.update"],
        ["roles/storage.objectViewer"] = ["storage.objects.get", "storage.objects.list"],
        ["roles/container.clusterViewer"] = ["container.clusters.get", "container.clusters.list"],
        ["roles/container.clusterAdmin"] = ["container.clusters.get", "container.clusters.list", "container.clusters.delete"],
        ["roles/compute.instanceAdmin.v1"] = ["compute.instances.list", "compute.instances.delete", "compute.instanceGroups.list", "compute.instanceGroups.delete", "compute.disks.list", "compute.disks.delete"],
        ["roles/compute.storageAdmin"] = ["compute.disks.list", "compute.disks.delete"],
        ["roles/compute.loadBalancerAdmin"] = [
            "compute.forwardingRules.list", "compute.forwardingRules.delete", "compute.targetHttpProxies.list", "compute.targetHttpProxies.delete",
            "compute.targetHttpsProxies.list", "compute.targetHttpsProxies.delete", "compute.urlMaps.list", "compute.urlMaps.delete",
            "compute.backendServices.list", "compute.backendServices.delete", "compute.healthChecks.list", "compute.healthChecks.delete",
            "compute.sslCertificates.list", "compute.sslCertificates.delete", "compute.addresses.list", "compute.addresses.delete",
            "compute.instanceGroups.list", "compute.instanceGroups.delete"],
        ["roles/compute.networkAdmin"] = ["compute.addresses.list", "compute.addresses.delete", "compute.firewalls.list", "compute.forwardingRules.list", "compute.forwardingRules.delete"],
        ["roles/compute.securityAdmin"] = ["compute.firewalls.list", "compute.firewalls.delete", "compute.sslCertificates.list", "compute.sslCertificates.delete"],
        ["roles/deploymentmanager.editor"] = ["deploymentmanager.deployments.list", "deploymentmanager.deployments.delete"],
        ["roles/iam.serviceAccountDeleter"] = ["iam.serviceAccounts.list", "iam.serviceAccounts.delete"],
    };

    /// <summary>The Janitor's list and delete permission per swept Google Cloud type (shared/Janitor/Gcp).</summary>
    public static readonly Dictionary<ResourceType, string> JanitorCollections = new()
    {
        [ResourceType.DmDeployment] = "deploymentmanager.deployments",
        [ResourceType.GkeCluster] = "container.clusters",
        [ResourceType.ServiceAccount] = "iam.serviceAccounts",
        [ResourceType.Instance] = "compute.instances",
        [ResourceType.ForwardingRule] = "compute.forwardingRules",
        [ResourceType.TargetHttpProxy] = "compute.targetHttpProxies",
        [ResourceType.TargetHttpsProxy] = "compute.targetHttpsProxies",
        [ResourceType.UrlMap] = "compute.urlMaps",
        [ResourceType.BackendService] = "compute.backendServices",
        [ResourceType.HealthCheck] = "compute.healthChecks",
        [ResourceType.InstanceGroup] = "compute.instanceGroups",
        [ResourceType.SslCertificate] = "compute.sslCertificates",
        [ResourceType.FirewallRule] = "compute.firewalls",
        [ResourceType.Address] = "compute.addresses",
        [ResourceType.Disk] = "compute.disks",
    };

    /// <summary>Every Google Cloud call of the functions and of <c>kfci wait</c> (Kubernetes calls are authorized by RBAC, TerraformRbac).</summary>
    public static IReadOnlyList<GcpCall> Calls { get; } =
    [
        new("trigger", "read and write runs (Firestore)", "datastore.entities.update"),
        new("trigger", "publish run-submitted", "pubsub.topics.publish", "google_pubsub_topic.run_submitted"),
        new("trigger", "publish run-completed", "pubsub.topics.publish", "google_pubsub_topic.run_completed"),
        new("trigger", "read the GitHub token", "secretmanager.versions.access", "google_secret_manager_secret.github_token"),
        new("trigger", "authenticate to the test cluster's API server", "container.clusters.get"),
        new("watcher", "read and write runs (Firestore)", "datastore.entities.update"),
        new("watcher", "publish run-completed", "pubsub.topics.publish", "google_pubsub_topic.run_completed"),
        new("watcher", "authenticate to the test cluster's API server", "container.clusters.get"),
        new("uploader", "read and write runs (Firestore)", "datastore.entities.update"),
        new("uploader", "publish run-finished", "pubsub.topics.publish", "google_pubsub_topic.run_finished"),
        new("uploader", "write results (finished.json with preconditions)", "storage.objects.update", "google_storage_bucket.results"),
        new("uploader", "read Argo's archived logs", "storage.objects.get", "google_storage_bucket.argo_artifacts"),
        new("uploader", "authenticate to the test cluster's API server", "container.clusters.get"),
        new("janitor", "record sweeps and first sightings (Firestore)", "datastore.entities.update"),
        new("janitor", "read its configuration file", "secretmanager.versions.access", "google_secret_manager_secret.janitor_config"),
        new("janitor", "authenticate to the test cluster's API server", "container.clusters.get"),
        .. JanitorCollections.Values.SelectMany(c => new[] { new GcpCall("janitor", $"list {c}", $"{c}.list"), new GcpCall("janitor", $"delete {c}", $"{c}.delete") }),
        new(ProwWait, "read runs (Firestore)", "datastore.entities.get"),
        new(ProwWait, "read results", "storage.objects.get", "google_storage_bucket.results"),
    ];

    /// <summary>Each call whose permission the function's account does not hold where the call needs it.</summary>
    public static IReadOnlyList<string> MissingPermissions(TerraformTree tree, IEnumerable<GcpCall> calls)
    {
        ArgumentNullException.ThrowIfNull(tree);
        ArgumentNullException.ThrowIfNull(calls);
        var grants = IamGrants.All(tree);
        var accounts = TerraformInvariants.Functions(tree).ToDictionary(f => f.Key, f => f.Account, StringComparer.Ordinal);
        accounts[ProwWait] = "prow_wait";
        var violations = new List<string>();
        foreach (var call in calls)
        {
            var held = accounts.GetValueOrDefault(call.Function) is { } account ? IamGrants.HeldBy(grants, account, isFunctionAccount: call.Function != ProwWait) : [];
            if (!held.Any(g => Covers(g, call)))
            {
                violations.Add($"{call.Function} cannot {call.Call}: no grant of a role with {call.Permission} on {call.Scope}");
            }
        }

        return violations;
    }

    private static bool Covers(IamGrant grant, GcpCall call)
    {
        if (!s_rolePermissions.TryGetValue(grant.Role, out var permissions) || !permissions.Contains(call.Permission))
        {
            return false;
        }

        if (grant.Resource.Type == "google_project_iam_member")
        {
            return true;
        }

        // A grant on one resource covers calls on that resource; the topic grants of pubsub.tf go per (function, topic)
        // and their wiring is checked by FunctionTopicsExist.
        var dot = call.Scope.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0)
        {
            return false;
        }

        var (type, name) = (call.Scope[..dot], call.Scope[(dot + 1)..]);
        return grant.Resource.Type == $"{type}_iam_member"
            && (type == "google_pubsub_topic" || Hcl.Strings(grant.Resource.Body).Any(s => Hcl.References(s.Value, type).Contains(name))
                || (call.Scope == "google_storage_bucket.results" && ReviewInvariants.IsResultsBucket(Hcl.Attribute(grant.Resource.Body, "bucket"))));
    }
}
