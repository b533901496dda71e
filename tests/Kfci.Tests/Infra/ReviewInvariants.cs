using System.Text.Json;
using System.Text.RegularExpressions;

namespace Kfci.Tests.Infra;

/// <summary>
/// The second review of issue 14 (and issue 11's <c>kfci wait</c> identity), as checks over the parsed configuration and
/// the build files: what the first apply races, what Google Cloud refuses, and where a grant reached further than its
/// job. Each returns the violations it found.
/// </summary>
internal static partial class ReviewInvariants
{
    private const string ApiSet = "${google_project_service.enabled}";

    /// <summary>Cloud Build's substitutions that only triggered builds have (Cloud Build, "Substituting variable values").</summary>
    private static readonly string[] s_triggerOnlySubstitutions = ["SHORT_SHA", "COMMIT_SHA", "REVISION_ID", "BRANCH_NAME", "TAG_NAME", "REF_NAME", "REPO_NAME", "REPO_FULL_NAME", "TRIGGER_NAME"];

    /// <summary>Google's front ends and health checks reach a load balancer's backends from these ranges only.</summary>
    private static readonly string[] s_loadBalancerRanges = ["35.191.0.0/16", "130.211.0.0/22"];

    /// <summary>What GKE documents as a node account's minimum ("Configure GKE node service accounts"), either form.</summary>
    private static readonly string[][] s_nodeRoleSets =
    [
        ["roles/container.defaultNodeServiceAccount"],
        ["roles/logging.logWriter", "roles/monitoring.metricWriter", "roles/monitoring.viewer"],
    ];

    /// <summary>
    /// Nothing races the API enablement on a fresh project: the API set holds the IAM and Resource Manager APIs, and
    /// every service account waits for it.
    /// </summary>
    public static IReadOnlyList<string> AccountsWaitForApis(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var violations = new List<string>();
        var services = tree.Locals.TryGetValue("services", out var s)
            ? Hcl.Strings(s).SelectMany(v => v.Value.StartsWith("${", StringComparison.Ordinal) ? Hcl.QuotedLiterals(v.Value, "") : [v.Value]).ToHashSet(StringComparer.Ordinal)
            : [];
        violations.AddRange(new[] { "iam.googleapis.com", "cloudresourcemanager.googleapis.com" }.Where(api => !services.Contains(api))
            .Select(api => $"local.services does not enable {api}"));
        violations.AddRange(tree.ResourcesOfType("google_service_account")
            .Where(a => !(Hcl.Attribute(a.Body, "depends_on") ?? "").Contains(ApiSet, StringComparison.Ordinal))
            .Select(a => $"{a.Address} does not depend on google_project_service.enabled; on a fresh project it races the IAM API's enablement"));
        return violations;
    }

    /// <summary>
    /// Monitoring refuses a policy that mixes condition types, and a PromQL or MQL condition must be a policy's only one.
    /// </summary>
    public static IReadOnlyList<string> AlertPoliciesHaveOneConditionType(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var violations = new List<string>();
        foreach (var policy in tree.ResourcesOfType("google_monitoring_alert_policy"))
        {
            var kinds = Hcl.Blocks(policy.Body, "conditions").Select(c => Hcl.Keys(c).FirstOrDefault(k => k.StartsWith("condition_", StringComparison.Ordinal)) ?? "?").ToList();
            if (kinds.Distinct(StringComparer.Ordinal).Count() > 1)
            {
                violations.Add($"{policy.Address} mixes condition types ({string.Join(", ", kinds)}); Monitoring refuses it: one policy per type");
            }
            else if (kinds.Count > 1 && kinds[0] is "condition_prometheus_query_language" or "condition_monitoring_query_language")
            {
                violations.Add($"{policy.Address} has {kinds.Count} {kinds[0]} conditions; such a condition must be the policy's only one");
            }
        }

        return violations;
    }

    /// <summary>
    /// Viewers of the Argo UI are granted IAP access on the UI's backend service only (no project-wide IAP web grant, no
    /// deprecated IAP brand), and the grant waits for the backend the Ingress controller creates.
    /// </summary>
    public static IReadOnlyList<string> ArgoUiGrantIsOnItsBackend(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var violations = new List<string>();
        violations.AddRange(tree.Resources.Where(r => r.Type is "google_iap_web_iam_member" or "google_iap_web_iam_binding" or "google_iap_web_iam_policy")
            .Select(r => $"{r.Address} grants IAP access to every IAP-protected application of the project; grant it on the Argo UI's backend service"));
        violations.AddRange(tree.Resources.Where(r => r.Type is "google_iap_brand" or "google_iap_client")
            .Select(r => $"{r.Address} uses the IAP OAuth Admin API, which was shut down on 2026-03-19"));

        var grants = tree.ResourcesOfType("google_iap_web_backend_service_iam_member").ToList();
        if (grants.Count == 0)
        {
            violations.Add("no google_iap_web_backend_service_iam_member lets the Argo UI's viewers through Identity-Aware Proxy");
        }

        foreach (var grant in grants.Where(g => Hcl.Attribute(g.Body, "web_backend_service") != "${local.argo_ui_backend}"))
        {
            violations.Add($"{grant.Address} is not granted on local.argo_ui_backend, the backend the Ingress controller made for the Argo server");
        }

        var backend = tree.Locals.TryGetValue("argo_ui_backends", out var b) && b.ValueKind == JsonValueKind.String ? b.GetString()! : "";
        if (!backend.Contains("ingress.kubernetes.io/backends", StringComparison.Ordinal) || !backend.Contains("data.kubernetes_resource.", StringComparison.Ordinal))
        {
            violations.Add("local.argo_ui_backends does not come from the Ingress's ingress.kubernetes.io/backends annotation (data.kubernetes_resource)");
        }

        var ingress = tree.Files.EnumerateObject()
            .SelectMany(f => f.Value.TryGetProperty("data", out var d) && d.TryGetProperty("kubernetes_resource", out var k) ? k.EnumerateObject() : Enumerable.Empty<JsonProperty>())
            .SelectMany(p => p.Value.EnumerateArray()).FirstOrDefault();
        var waits = Hcl.References(Hcl.Attribute(ingress, "depends_on"), "time_sleep").Select(n => tree.Resource("time_sleep", n)).Where(t => t is not null);
        if (!waits.Any(t => Hcl.Strings(t!.Body).Any(v => v.Value.Contains("helm_release.", StringComparison.Ordinal))))
        {
            violations.Add("the Ingress is read before the Argo release has had time to get its backend service (depends_on a time_sleep triggered by the helm_release)");
        }

        return violations;
    }

    /// <summary>
    /// The Argo server, whose chart Role is off, runs namespaced on the workflow namespace and may read the controller's
    /// configuration in its own namespace.
    /// </summary>
    public static IReadOnlyList<string> ArgoServerIsNamespaced(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var violations = new List<string>();
        var server = tree.Locals.TryGetValue("argo_values", out var values) && values.TryGetProperty("server", out var s) ? s : default;
        var args = server.ValueKind == JsonValueKind.Object && server.TryGetProperty("extraArgs", out var a) ? Hcl.Strings(a).Select(v => v.Value).ToList() : [];
        foreach (var expected in new[] { "--namespaced", "--managed-namespace=${var.workflow_namespace}" }.Where(e => !args.Contains(e)))
        {
            violations.Add($"server.extraArgs lacks {expected}: with rbac.create = false the server has only namespaced Roles");
        }

        var rules = tree.Locals.TryGetValue("argo_server_own_namespace_rules", out var r) ? r.EnumerateArray().ToList() : [];
        var readsConfigMaps = rules.Any(rule => Hcl.Strings(rule.GetProperty("resources")).Any(v => v.Value == "configmaps")
            && new[] { "get", "list", "watch" }.All(verb => Hcl.Strings(rule.GetProperty("verbs")).Any(v => v.Value == verb)));
        if (!readsConfigMaps)
        {
            violations.Add("local.argo_server_own_namespace_rules does not grant configmaps get/list/watch (the server reads the controller's configmap)");
        }

        var role = tree.ResourcesOfType("kubernetes_role").FirstOrDefault(x => Hcl.DynamicBlocks(x.Body, "rule").Any(d => Hcl.Attribute(d, "for_each") == "${local.argo_server_own_namespace_rules}"));
        var inArgo = role is not null && Hcl.Blocks(role.Body, "metadata").Any(m => (Hcl.Attribute(m, "namespace") ?? "").Contains("kubernetes_namespace.argo.", StringComparison.Ordinal));
        var bound = role is not null && tree.ResourcesOfType("kubernetes_role_binding").Any(binding =>
            Hcl.Blocks(binding.Body, "role_ref").Any(x => (Hcl.Attribute(x, "name") ?? "").Contains($"kubernetes_role.{role.Name}", StringComparison.Ordinal))
            && Hcl.Blocks(binding.Body, "subject").Any(x => Hcl.Attribute(x, "name") == "${local.argo_server_account}"));
        if (!inArgo || !bound)
        {
            violations.Add("no Role in the Argo namespace with local.argo_server_own_namespace_rules is bound to the server's account");
        }

        return violations;
    }

    /// <summary>
    /// Inside the cluster only the load balancer reaches the Argo server: a NetworkPolicy selects its pods and admits
    /// Google's front-end and health-check ranges alone, and the cluster enforces NetworkPolicy (Dataplane V2).
    /// </summary>
    public static IReadOnlyList<string> ArgoServerOnlyFromLoadBalancer(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var violations = new List<string>();
        var policy = tree.ResourcesOfType("kubernetes_network_policy").FirstOrDefault(p => Hcl.Blocks(p.Body, "spec")
            .SelectMany(s => Hcl.Blocks(s, "pod_selector")).Any(sel => Hcl.Attribute(sel, "match_labels") is { } labels
                && labels.Contains("\"app.kubernetes.io/name\":\"argo-workflows-server\"", StringComparison.Ordinal)));
        if (policy is null)
        {
            violations.Add("no kubernetes_network_policy selects the Argo server's pods (app.kubernetes.io/name = argo-workflows-server): any pod can call it without IAP");
        }
        else
        {
            var spec = Hcl.Blocks(policy.Body, "spec").First();
            if (!(Hcl.Attribute(spec, "policy_types") ?? "").Contains("Ingress", StringComparison.Ordinal))
            {
                violations.Add($"{policy.Address} does not restrict Ingress");
            }

            foreach (var rule in Hcl.Blocks(spec, "ingress"))
            {
                var sources = Hcl.Blocks(rule, "from").Concat(Hcl.DynamicBlocks(rule, "from").SelectMany(d => Hcl.Blocks(d, "content"))).ToList();
                var ranges = Hcl.DynamicBlocks(rule, "from").Select(d => Hcl.Attribute(d, "for_each")).ToList();
                if (sources.Count == 0)
                {
                    violations.Add($"{policy.Address} admits every source");
                }

                violations.AddRange(sources.Where(f => Hcl.Keys(f).Any(k => k != "ip_block"))
                    .Select(_ => $"{policy.Address} admits pods or namespaces; only the load balancer's ranges may reach the server"));
                var cidrs = sources.SelectMany(f => Hcl.Blocks(f, "ip_block")).Select(i => Hcl.Attribute(i, "cidr")).ToList();
                var literal = cidrs.Where(c => c is not null && !c.StartsWith("${", StringComparison.Ordinal)).ToList();
                var fromLocal = ranges.Where(r => r is not null).SelectMany(r => LocalList(tree, r!)).ToList();
                violations.AddRange(literal.Concat(fromLocal).Where(c => !s_loadBalancerRanges.Contains(c))
                    .Select(c => $"{policy.Address} admits {c}, which is not a Google front-end or health-check range"));
            }
        }

        var cluster = tree.ResourcesOfType("google_container_cluster").FirstOrDefault();
        var enforced = cluster is not null && (Hcl.Attribute(cluster.Body, "datapath_provider") == "ADVANCED_DATAPATH"
            || Hcl.Blocks(cluster.Body, "network_policy").Any(n => Hcl.Attribute(n, "enabled") == "true"));
        if (!enforced)
        {
            violations.Add("the cluster does not enforce NetworkPolicy (datapath_provider = ADVANCED_DATAPATH): GKE would accept the policy and ignore it");
        }

        return violations;
    }

    /// <summary>
    /// Least privilege of the build and the nodes: the build account writes only kfci's repository; the node account holds
    /// only GKE's documented minimum on the project and reads kfci's images from that repository.
    /// </summary>
    public static IReadOnlyList<string> BuildAndNodesHoldTheMinimum(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var violations = new List<string>();
        var grants = IamGrants.All(tree);
        foreach (var grant in IamGrants.HeldBy(grants, "builder", isFunctionAccount: false).Where(g => g.Role.StartsWith("roles/artifactregistry.", StringComparison.Ordinal)))
        {
            if (grant.Resource.Type != "google_artifact_registry_repository_iam_member"
                || !Hcl.References(Hcl.Attribute(grant.Resource.Body, "repository"), "google_artifact_registry_repository").Contains("functions"))
            {
                violations.Add($"the build account holds {grant.Role} through {grant.Resource.Address}; grant it on kfci's repository only");
            }
        }

        if (!IamGrants.HeldBy(grants, "builder", isFunctionAccount: false).Any(g => g.Role == "roles/artifactregistry.writer"))
        {
            violations.Add("the build account may not push to kfci's repository (roles/artifactregistry.writer on it)");
        }

        var nodes = IamGrants.HeldBy(grants, "nodes", isFunctionAccount: false).ToList();
        var projectRoles = nodes.Where(g => g.Resource.Type == "google_project_iam_member").Select(g => g.Role).Order(StringComparer.Ordinal).ToList();
        if (!s_nodeRoleSets.Any(set => set.Order(StringComparer.Ordinal).SequenceEqual(projectRoles)))
        {
            violations.Add($"the node account holds [{string.Join(", ", projectRoles)}] on the project; GKE documents roles/container.defaultNodeServiceAccount (or logWriter, metricWriter and monitoring.viewer)");
        }

        violations.AddRange(nodes.Where(g => g.Resource.Type is not ("google_project_iam_member" or "google_artifact_registry_repository_iam_member") || g.Role is not ("roles/artifactregistry.reader" or "roles/container.defaultNodeServiceAccount" or "roles/logging.logWriter" or "roles/monitoring.metricWriter" or "roles/monitoring.viewer"))
            .Select(g => $"the node account holds {g.Role} through {g.Resource.Address}"));
        return violations;
    }

    /// <summary>
    /// <c>kfci wait</c>'s account only reads runs (Firestore) and the results bucket, and the Prow build cluster's
    /// service account is bound to it through Workload Identity exactly when prow_build_project is set.
    /// </summary>
    public static IReadOnlyList<string> ProwWaitReadsOnly(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var violations = new List<string>();
        var grants = IamGrants.All(tree);
        var binding = grants.FirstOrDefault(g => g.Role == "roles/iam.workloadIdentityUser" && g.Member.Contains("${var.prow_build_project}.svc.id.goog[", StringComparison.Ordinal));
        if (binding is null)
        {
            return ["no Workload Identity binding names var.prow_build_project's pool: Prow's job pods cannot act as kfci wait's account"];
        }

        if (!binding.Member.Contains("${var.prow_build_namespace}/${var.prow_build_ksa}]", StringComparison.Ordinal))
        {
            violations.Add($"{binding.Resource.Address} does not bind var.prow_build_namespace/var.prow_build_ksa");
        }

        if (!(Hcl.Attribute(binding.Resource.Body, "count") ?? "").Contains("var.prow_build_project", StringComparison.Ordinal))
        {
            violations.Add($"{binding.Resource.Address} is made even when prow_build_project is not set (count on var.prow_build_project)");
        }

        var account = Hcl.References(Hcl.Attribute(binding.Resource.Body, "service_account_id"), "google_service_account").FirstOrDefault();
        if (account is null)
        {
            return [.. violations, $"{binding.Resource.Address} binds no google_service_account of this configuration"];
        }

        var held = IamGrants.HeldBy(grants, account, isFunctionAccount: false).ToList();
        if (!held.Any(g => g.Resource.Type == "google_project_iam_member" && g.Role == "roles/datastore.viewer"))
        {
            violations.Add($"google_service_account.{account} cannot read runs (roles/datastore.viewer on the project)");
        }

        if (!held.Any(g => g.Resource.Type == "google_storage_bucket_iam_member" && g.Role == "roles/storage.objectViewer"
            && IsResultsBucket(Hcl.Attribute(g.Resource.Body, "bucket"))))
        {
            violations.Add($"google_service_account.{account} cannot read the results bucket (roles/storage.objectViewer on it)");
        }

        violations.AddRange(held.Where(g => g.Role is not ("roles/datastore.viewer" or "roles/storage.objectViewer"))
            .Select(g => $"google_service_account.{account} (kfci wait) holds {g.Role} through {g.Resource.Address}; it only reads"));
        return violations;
    }

    /// <summary>
    /// The build: <c>gcloud builds submit</c> uploads sources only, the image tag has a default every build has, and
    /// cloudbuild.yaml builds the command-line tool's image, from a Dockerfile that exists, into kfci's repository.
    /// </summary>
    public static IReadOnlyList<string> BuildIsComplete(string repositoryRoot)
    {
        ArgumentNullException.ThrowIfNull(repositoryRoot);
        var violations = new List<string>();
        violations.AddRange(Missing(repositoryRoot, ".gcloudignore", ["bin/", "obj/", ".kfci/", "node_modules/", ".git/"]));
        violations.AddRange(Missing(repositoryRoot, ".dockerignore", ["**/bin/", "**/obj/", ".kfci/", "**/node_modules/"]));

        var config = Path.Combine(repositoryRoot, "infra", "terraform", "cloudbuild.yaml");
        var text = File.Exists(config) ? File.ReadAllText(config) : "";
        var tag = TagDefaultPattern().Match(text);
        if (!tag.Success)
        {
            violations.Add("cloudbuild.yaml has no default for _TAG");
        }
        else
        {
            violations.AddRange(s_triggerOnlySubstitutions.Where(s => tag.Groups[1].Value.Contains("$" + s, StringComparison.Ordinal) || tag.Groups[1].Value.Contains("${" + s + "}", StringComparison.Ordinal))
                .Select(s => $"cloudbuild.yaml's _TAG defaults to {tag.Groups[1].Value.Trim()}, but {s} is empty in a `gcloud builds submit` build"));
        }

        if (!text.Contains("-f, cli/Dockerfile", StringComparison.Ordinal) || !text.Contains("  - ${_REGION}-docker.pkg.dev/${PROJECT_ID}/kfci/kfci:${_TAG}", StringComparison.Ordinal))
        {
            violations.Add("cloudbuild.yaml does not build and push the command-line tool's image (cli/Dockerfile as kfci/kfci:${_TAG})");
        }

        violations.AddRange(DockerfilePattern().Matches(text).Select(m => m.Groups[1].Value).Distinct(StringComparer.Ordinal)
            .Where(f => !File.Exists(Path.Combine(repositoryRoot, f)))
            .Select(f => $"cloudbuild.yaml builds from {f}, which does not exist"));
        return violations;
    }

    private static IEnumerable<string> Missing(string repositoryRoot, string file, string[] patterns)
    {
        var path = Path.Combine(repositoryRoot, file);
        if (!File.Exists(path))
        {
            return [$"{file} is missing: the upload or the build context would carry local build output and state"];
        }

        var lines = File.ReadAllLines(path).Select(l => l.Trim()).ToHashSet(StringComparer.Ordinal);
        return patterns.Where(p => !lines.Contains(p)).Select(p => $"{file} does not exclude {p}");
    }

    private static IEnumerable<string> LocalList(TerraformTree tree, string expression)
    {
        var match = LocalPattern().Match(expression);
        return match.Success && tree.Locals.TryGetValue(match.Groups[1].Value, out var value) ? Hcl.Strings(value).Select(v => v.Value) : [expression];
    }

    [GeneratedRegex(@"^\$\{local\.([A-Za-z_][A-Za-z0-9_]*)\}$")]
    private static partial Regex LocalPattern();

    [GeneratedRegex(@"(?m)^\s+_TAG:\s*(.+)$")]
    private static partial Regex TagDefaultPattern();

    [GeneratedRegex(@"-f, ([A-Za-z0-9_./-]+Dockerfile)")]
    private static partial Regex DockerfilePattern();
}
