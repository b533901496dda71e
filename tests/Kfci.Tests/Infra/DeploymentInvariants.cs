using System.Text.Json;
using System.Text.RegularExpressions;

namespace Kfci.Tests.Infra;

/// <summary>
/// What makes <c>terraform apply</c> finish on a fresh project and the chain run after it (issue 14), and the
/// defence in depth of issue 13, as checks over the parsed configuration. Each returns the violations it found.
/// </summary>
internal static partial class DeploymentInvariants
{
    /// <summary>The cluster's contents: the second root module, under the configuration directory.</summary>
    public const string ClusterModule = "cluster/";

    /// <summary>Keys of the argo-workflows chart's values.yaml (argoproj/argo-helm, chart 0.45.4) that kfci may set.</summary>
    private static readonly Dictionary<string, string[]> s_chartKeys = new(StringComparer.Ordinal)
    {
        [""] = ["images", "crds", "createAggregateRoles", "nameOverride", "fullnameOverride", "namespaceOverride", "commonLabels", "kubeVersionOverride", "apiVersionOverrides", "singleNamespace", "workflow", "controller", "mainContainer", "executor", "server", "extraObjects", "useStaticCredentials", "artifactRepository", "customArtifactRepository", "artifactRepositoryRef", "emissary"],
        ["workflow"] = ["namespace", "rbac", "serviceAccount"],
        ["artifactRepository"] = ["archiveLogs", "azure", "gcs", "s3"],
        ["controller"] = ["affinity", "clusterWorkflowTemplates", "columns", "configMap", "cronWorkflowWorkers", "deploymentAnnotations", "extraArgs", "extraContainers", "extraEnv", "extraInitContainers", "image", "initialDelay", "instanceID", "kubeConfig", "links", "livenessProbe", "loadBalancerClass", "loadBalancerSourceRanges", "logging", "metricsConfig", "name", "namespaceParallelism", "navColor", "nodeEvents", "nodeSelector", "parallelism", "pdb", "persistence", "podAnnotations", "podCleanupWorkers", "podGCDeleteDelayDuration", "podGCGracePeriodSeconds", "podLabels", "podSecurityContext", "priorityClassName", "rbac", "replicas", "resourceRateLimit", "resources", "retentionPolicy", "revisionHistoryLimit", "securityContext", "serviceAccount", "serviceAnnotations", "serviceLabels", "serviceMonitor", "serviceType", "telemetryConfig", "tolerations", "topologySpreadConstraints", "volumeMounts", "volumes", "workflowDefaults", "workflowEvents", "workflowNamespaces", "workflowRestrictions", "workflowTTLWorkers", "workflowWorkers"],
        ["server"] = ["GKEbackendConfig", "GKEfrontendConfig", "GKEmanagedCertificate", "affinity", "authMode", "authModes", "autoscaling", "baseHref", "clusterWorkflowTemplates", "deploymentAnnotations", "enabled", "extraArgs", "extraContainers", "extraEnv", "extraInitContainers", "hostAliases", "image", "ingress", "lifecycle", "loadBalancerClass", "loadBalancerIP", "loadBalancerSourceRanges", "logging", "name", "nodeSelector", "pdb", "podAnnotations", "podLabels", "podSecurityContext", "priorityClassName", "rbac", "replicas", "resources", "revisionHistoryLimit", "secure", "securityContext", "serviceAccount", "serviceAnnotations", "serviceLabels", "serviceNodePort", "servicePort", "servicePortName", "serviceType", "sso", "terminationGracePeriodSeconds", "tmpVolume", "tolerations", "topologySpreadConstraints", "volumeMounts", "volumes"],
    };

    /// <summary>APIs a fresh project can no longer enable (shut down, or past end of support).</summary>
    private static readonly string[] s_retiredApis = ["containerregistry.googleapis.com", "deploymentmanager.googleapis.com"];

    /// <summary>
    /// The Argo release renders: every value key is one of the chart's, and an Argo <c>{{...}}</c> expression in the
    /// artifact repository (which the chart passes through Helm's <c>tpl</c>) is quoted for tpl as <c>{{ "..." }}</c>.
    /// </summary>
    public static IReadOnlyList<string> ArgoValuesRender(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        if (!tree.Locals.TryGetValue("argo_values", out var values) || values.ValueKind != JsonValueKind.Object)
        {
            return ["no local.argo_values: the Helm values must be a local the checks can read"];
        }

        var violations = new List<string>();
        foreach (var (section, keys) in s_chartKeys)
        {
            var node = section.Length == 0 ? values : values.TryGetProperty(section, out var n) ? n : default;
            violations.AddRange(Hcl.Keys(node).Where(k => !keys.Contains(k)).Select(k => $"argo_values{(section.Length == 0 ? "" : "." + section)}.{k} is not a key of the argo-workflows chart"));
        }

        if (values.TryGetProperty("artifactRepository", out var repository))
        {
            violations.AddRange(Hcl.Strings(repository)
                .Where(s => s.Value.Contains("{{", StringComparison.Ordinal) && !TplQuotedPattern().IsMatch(s.Value))
                .Select(s => $"artifactRepository.{s.Attribute} = '{s.Value}' reaches Helm's tpl unquoted; write {{{{ \"...\" }}}} as the chart's values.yaml shows"));
        }

        var release = tree.ResourcesOfType("helm_release").FirstOrDefault();
        if (release is null || Hcl.Attribute(release.Body, "values") is not { } rendered || !rendered.Contains("yamlencode(local.argo_values)", StringComparison.Ordinal))
        {
            violations.Add("helm_release does not take its values from yamlencode(local.argo_values)");
        }

        return violations;
    }

    /// <summary>
    /// Workflows run as a dedicated account: the controller's workflowDefaults name the restricted account, the chart
    /// creates no account or Role of its own, and the executor's Role is exactly Argo's documented one, bound to both accounts.
    /// </summary>
    public static IReadOnlyList<string> WorkflowsRunAsDedicatedAccount(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var violations = new List<string>();
        var values = tree.Locals.GetValueOrDefault("argo_values");
        var account = Path(values, "controller", "workflowDefaults", "spec", "serviceAccountName");
        if (account != "${var.workflow_accounts.restricted.kubernetes}")
        {
            violations.Add($"controller.workflowDefaults.spec.serviceAccountName is '{account}', not the restricted workflow account");
        }

        if (Path(values, "workflow", "serviceAccount", "create") != "false" || Path(values, "workflow", "rbac", "create") != "false")
        {
            violations.Add("the chart creates a workflow account or Role besides workflow_identities.tf's");
        }

        var role = tree.Resource("kubernetes_role", "workflow_executor");
        var rules = role is null ? [] : Hcl.Blocks(role.Body, "rule").Select(r => $"{Hcl.Attribute(r, "api_groups")}|{Hcl.Attribute(r, "resources")}|{Hcl.Attribute(r, "verbs")}").ToList();
        if (rules.Count != 1 || rules[0] != "[\"argoproj.io\"]|[\"workflowtaskresults\"]|[\"create\",\"patch\"]")
        {
            violations.Add($"the workflow executor Role is not exactly workflowtaskresults create/patch (Argo's workflow RBAC): [{string.Join("; ", rules)}]");
        }

        var binding = tree.Resource("kubernetes_role_binding", "workflow_executor");
        var subjects = binding is null ? null : Hcl.DynamicBlocks(binding.Body, "subject").Select(s => Hcl.Attribute(s, "for_each")).FirstOrDefault();
        if (subjects != "${kubernetes_service_account.workflow}")
        {
            violations.Add("the workflow executor Role is not bound to every workflow account (kubernetes_service_account.workflow)");
        }

        return violations;
    }

    /// <summary>The PersistentVolume and its claim name the same, explicit storage class (the provider drops "").</summary>
    public static IReadOnlyList<string> NfsClassMatches(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        string? Class(string type) => tree.ResourcesOfType(type).SelectMany(r => Hcl.Blocks(r.Body, "spec")).Select(s => Hcl.Attribute(s, "storage_class_name")).FirstOrDefault();
        var volume = Class("kubernetes_persistent_volume");
        var claim = Class("kubernetes_persistent_volume_claim");
        return string.IsNullOrEmpty(volume) || string.IsNullOrEmpty(claim) || volume != claim
            ? [$"the NFS volume's storage_class_name ('{volume}') and the claim's ('{claim}') must be the same explicit class"]
            : [];
    }

    /// <summary>An alert policy on a log-based metric waits for the metric's descriptor (a time_sleep triggered by the metric).</summary>
    public static IReadOnlyList<string> AlertsWaitForLogMetrics(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var violations = new List<string>();
        foreach (var policy in tree.ResourcesOfType("google_monitoring_alert_policy"))
        {
            var metrics = Hcl.Strings(policy.Body).SelectMany(s => Hcl.References(s.Value, "google_logging_metric")).ToHashSet(StringComparer.Ordinal);
            var sleeps = Hcl.References(Hcl.Attribute(policy.Body, "depends_on"), "time_sleep")
                .Select(name => tree.Resource("time_sleep", name))
                .Where(s => s is not null)
                .SelectMany(s => Hcl.Strings(s!.Body).Where(v => v.Attribute != "create_duration").SelectMany(v => Hcl.References(v.Value, "google_logging_metric")))
                .ToHashSet(StringComparer.Ordinal);
            violations.AddRange(metrics.Where(m => !sleeps.Contains(m)).Order(StringComparer.Ordinal)
                .Select(m => $"{policy.Address} uses google_logging_metric.{m} but does not depend on a time_sleep triggered by it (Cannot find metric(s) for up to ten minutes)"));
        }

        return violations;
    }

    /// <summary>The API set everything depends on holds no retired API, and no image comes from the old kubeflow-ci registry.</summary>
    public static IReadOnlyList<string> NoRetiredServices(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var violations = new List<string>();
        if (tree.Locals.TryGetValue("services", out var services))
        {
            violations.AddRange(Hcl.Strings(services).SelectMany(s => s.Value.StartsWith("${", StringComparison.Ordinal) ? Hcl.QuotedLiterals(s.Value, "") : [s.Value])
                .Where(s_retiredApis.Contains)
                .Select(s => $"local.services enables {s}, which a fresh project cannot enable; every resource depending on the API set would wait for it"));
        }

        foreach (var file in tree.Files.EnumerateObject())
        {
            violations.AddRange(Hcl.Strings(file.Value).Where(s => s.Value.Contains("gcr.io/kubeflow-ci", StringComparison.Ordinal))
                .Select(s => $"{file.Name}: {s.Attribute} refers to {s.Value}; images come from the project's Artifact Registry"));
        }

        return violations;
    }

    /// <summary>The Janitor may delete but never act as another account (no project-wide actAs or token role).</summary>
    public static IReadOnlyList<string> JanitorActsAsNoOne(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        string[] actAs = ["roles/iam.serviceAccountUser", "roles/iam.serviceAccountTokenCreator", "roles/iam.workloadIdentityUser", "roles/owner", "roles/editor"];
        return IamGrants.HeldBy(IamGrants.All(tree), "janitor", isFunctionAccount: false)
            .Where(g => actAs.Contains(g.Role))
            .Select(g => $"the Janitor holds {g.Role} through {g.Resource.Address}, which lets it act as other accounts (the trusted workflow identity among them)")
            .ToList();
    }

    /// <summary>
    /// No public, unauthenticated path to the Argo UI: off by default; exposed only through an Ingress with TLS
    /// (managed certificate, no plain http) in front of an IAP-enabled backend; a ClusterIP service; a server account
    /// that may only read and no IAP grant to allUsers or allAuthenticatedUsers.
    /// </summary>
    public static IReadOnlyList<string> ArgoUiIsNotPublic(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var violations = new List<string>();
        var expose = tree.Variables.FirstOrDefault(v => v.Name == "expose_argo_ui");
        if (expose is null || Hcl.Attribute(expose.Body, "default") != "false")
        {
            violations.Add("var.expose_argo_ui must default to false");
        }

        var server = tree.Locals.TryGetValue("argo_values", out var values) && values.TryGetProperty("server", out var s) ? s : default;
        const string Exposed = "${var.argo_ui.expose}";
        void Expect(string what, string? actual, string expected)
        {
            if (actual != expected)
            {
                violations.Add($"server.{what} is '{actual}', want '{expected}'");
            }
        }

        Expect("enabled", Path(server, "enabled"), Exposed);
        Expect("ingress.enabled", Path(server, "ingress", "enabled"), Exposed);
        Expect("GKEmanagedCertificate.enabled", Path(server, "GKEmanagedCertificate", "enabled"), Exposed);
        Expect("GKEbackendConfig.enabled", Path(server, "GKEbackendConfig", "enabled"), Exposed);
        Expect("ingress.annotations.kubernetes.io/ingress.allow-http", Path(server, "ingress", "annotations", "kubernetes.io/ingress.allow-http"), "false");
        Expect("serviceType", Path(server, "serviceType"), "ClusterIP");
        Expect("rbac.create", Path(server, "rbac", "create"), "false");
        if (Path(server, "GKEbackendConfig", "spec", "iap") is not { } iap || !IapEnabledPattern().IsMatch(iap))
        {
            violations.Add("server.GKEbackendConfig.spec.iap does not enable Identity-Aware Proxy");
        }

        if (!(Path(server, "serviceAnnotations", "cloud.google.com/backend-config") ?? "").Contains("argo-workflows-server", StringComparison.Ordinal))
        {
            violations.Add("the server's Service does not use the IAP BackendConfig (cloud.google.com/backend-config)");
        }

        if (tree.Locals.TryGetValue("argo_server_rules", out var rules))
        {
            foreach (var rule in rules.EnumerateArray())
            {
                var verbs = Hcl.Strings(rule.GetProperty("verbs")).Select(v => v.Value).Where(v => v is not ("get" or "list" or "watch"));
                var resources = Hcl.Strings(rule.GetProperty("resources")).Select(v => v.Value).Where(r => r is "secrets" or "*");
                violations.AddRange(verbs.Concat(resources).Select(v => $"the Argo server's Role grants '{v}'; it may only read workflows, pods, logs and events"));
            }
        }
        else
        {
            violations.Add("no local.argo_server_rules: the server's read-only Role is not declared");
        }

        violations.AddRange(IamGrants.All(tree)
            .Where(g => g.Resource.Type.StartsWith("google_iap_", StringComparison.Ordinal) && g.Member is "allUsers" or "allAuthenticatedUsers")
            .Select(g => $"{g.Resource.Address} lets {g.Member} through Identity-Aware Proxy"));
        var viewers = tree.Variables.FirstOrDefault(v => v.Name == "argo_ui_viewers");
        if (viewers is null || !Hcl.Blocks(viewers.Body, "validation").Any(b => (Hcl.Attribute(b, "condition") ?? "").Contains("(user|group|domain|serviceAccount):", StringComparison.Ordinal)))
        {
            violations.Add("var.argo_ui_viewers does not refuse allUsers and allAuthenticatedUsers");
        }

        return violations;
    }

    /// <summary>
    /// Defence in depth in the cluster: the workflow namespace enforces Pod Security Admission, Argo runs in a
    /// namespace of its own, and the Trigger gets a workflow policy naming both workflow accounts.
    /// </summary>
    public static IReadOnlyList<string> WorkflowsAreFenced(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var violations = new List<string>();
        var workflows = tree.Resource("kubernetes_namespace", "workflows");
        var labels = workflows is null ? default : Hcl.Blocks(workflows.Body, "metadata").Select(m => m.TryGetProperty("labels", out var l) ? l : default).FirstOrDefault();
        foreach (var mode in new[] { "enforce", "warn", "audit" })
        {
            if (Hcl.Attribute(labels, $"pod-security.kubernetes.io/{mode}") is not { Length: > 0 })
            {
                violations.Add($"the workflow namespace has no pod-security.kubernetes.io/{mode} label");
            }
        }

        if (Hcl.Attribute(labels, "pod-security.kubernetes.io/enforce") == "privileged")
        {
            violations.Add("the workflow namespace enforces nothing (privileged) by default");
        }

        var release = tree.ResourcesOfType("helm_release").FirstOrDefault();
        if (release is null || !(Hcl.Attribute(release.Body, "namespace") ?? "").Contains("kubernetes_namespace.argo.", StringComparison.Ordinal))
        {
            violations.Add("Argo's controller and server are not in a namespace of their own (helm_release.namespace)");
        }

        var policy = tree.Locals.GetValueOrDefault("workflow_policy");
        string[] keys = ["serviceAccount", "trustedServiceAccount", "trustedRepositories", "maxDeadlineSeconds", "repositories"];
        violations.AddRange(keys.Where(k => Hcl.Attribute(policy, k) is null).Select(k => $"local.workflow_policy has no {k}"));
        if (Hcl.Attribute(policy, "serviceAccount") != "${local.workflow_kubernetes_accounts.restricted}"
            || Hcl.Attribute(policy, "trustedServiceAccount") != "${local.workflow_kubernetes_accounts.trusted}")
        {
            violations.Add("local.workflow_policy does not give pull requests the restricted account and trusted jobs the trusted one");
        }

        var trigger = TerraformInvariants.Functions(tree).FirstOrDefault(f => f.Key == "trigger");
        var env = trigger is null || !trigger.Body.TryGetProperty("env", out var e) ? default : e;
        if (Hcl.Attribute(env, "KFCI_WORKFLOW_POLICY") != "${jsonencode(local.workflow_policy)}")
        {
            violations.Add("the Trigger does not get KFCI_WORKFLOW_POLICY = jsonencode(local.workflow_policy)");
        }

        return violations;
    }

    /// <summary>The Janitor's configuration is passed explicitly: a file from Secret Manager, naming this project and cluster.</summary>
    public static IReadOnlyList<string> JanitorConfigurationIsPassed(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var violations = new List<string>();
        var janitor = TerraformInvariants.Functions(tree).FirstOrDefault(f => f.Key == "janitor");
        var env = janitor is null || !janitor.Body.TryGetProperty("env", out var e) ? default : e;
        if (!(Hcl.Attribute(env, "KFCI_JANITOR_CONFIG") ?? "").Contains("local.janitor_config_", StringComparison.Ordinal))
        {
            violations.Add("the Janitor's KFCI_JANITOR_CONFIG does not point at the mounted configuration file");
        }

        var files = tree.Locals.GetValueOrDefault("function_config_files");
        if (!Hcl.Keys(files).Contains("janitor"))
        {
            violations.Add("local.function_config_files does not mount a configuration file for the Janitor");
        }

        var config = tree.Locals.GetValueOrDefault("janitor_config");
        foreach (var (key, expected) in new[] { ("projects", "var.project_id"), ("zones", "var.zone"), ("regions", "var.region"), ("testCluster", "var.cluster_name"), ("workflowNamespaces", "var.workflow_namespace") })
        {
            if (!(Hcl.Attribute(config, key) ?? "").Contains(expected, StringComparison.Ordinal))
            {
                violations.Add($"local.janitor_config.{key} does not come from {expected}");
            }
        }

        if (!(Hcl.Attribute(config, "protect") ?? "").Contains("^kfci-", StringComparison.Ordinal))
        {
            violations.Add("local.janitor_config does not protect kfci's own accounts (^kfci-)");
        }

        return violations;
    }

    /// <summary>
    /// Replacing the cluster is supported: the first module has no Kubernetes or Helm resource or provider; the cluster
    /// module reads the cluster through a data source, and its variables are exactly the first module's cluster_inputs.
    /// </summary>
    public static IReadOnlyList<string> ClusterContentsAreASecondModule(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var violations = new List<string>();
        foreach (var file in tree.Files.EnumerateObject().Where(f => !f.Name.StartsWith(ClusterModule, StringComparison.Ordinal)))
        {
            foreach (var section in file.Value.EnumerateObject())
            {
                var names = section.Name is "resource" or "data" or "provider" ? Hcl.Keys(section.Value) : [];
                violations.AddRange(names.Where(n => n.StartsWith("kubernetes", StringComparison.Ordinal) || n.StartsWith("helm", StringComparison.Ordinal))
                    .Select(n => $"{file.Name} declares {section.Name} {n}: the cluster's contents belong in {ClusterModule}"));
            }
        }

        var providers = tree.Files.TryGetProperty($"{ClusterModule}providers.tf", out var p) ? p : default;
        var hosts = Hcl.Strings(providers).Where(s => s.Attribute is "host" or "cluster_ca_certificate").ToList();
        if (hosts.Count == 0 || hosts.Any(h => !h.Value.Contains("data.google_container_cluster.", StringComparison.Ordinal)))
        {
            violations.Add($"the Kubernetes and Helm providers of {ClusterModule} must read the cluster through data.google_container_cluster");
        }

        var inputs = tree.Files.EnumerateObject().Where(f => !f.Name.StartsWith(ClusterModule, StringComparison.Ordinal))
            .SelectMany(f => f.Value.TryGetProperty("output", out var o) && o.TryGetProperty("cluster_inputs", out var c) ? c.EnumerateArray() : Enumerable.Empty<JsonElement>())
            .Select(o => o.GetProperty("value")).FirstOrDefault();
        var passed = Hcl.Keys(inputs).ToHashSet(StringComparer.Ordinal);
        var declared = tree.Variables.Where(v => v.File.StartsWith(ClusterModule, StringComparison.Ordinal)).Select(v => v.Name).ToHashSet(StringComparer.Ordinal);
        violations.AddRange(declared.Where(v => !passed.Contains(v)).Order(StringComparer.Ordinal).Select(v => $"{ClusterModule} needs var.{v}, which output cluster_inputs does not pass"));
        violations.AddRange(passed.Where(v => !declared.Contains(v)).Order(StringComparer.Ordinal).Select(v => $"output cluster_inputs passes {v}, which {ClusterModule} does not declare"));
        return violations;
    }

    private static string? Path(JsonElement node, params string[] path)
    {
        foreach (var step in path)
        {
            if (node.ValueKind != JsonValueKind.Object || !node.TryGetProperty(step, out node))
            {
                return null;
            }
        }

        return Hcl.Attribute(JsonDocument.Parse($"{{\"v\":{node.GetRawText()}}}").RootElement.Clone(), "v");
    }

    [GeneratedRegex("""^\{\{\s*"[^"]*"\s*\}\}$""")]
    private static partial Regex TplQuotedPattern();

    [GeneratedRegex(@"\benabled\s*=\s*true\b")]
    private static partial Regex IapEnabledPattern();
}
