namespace Kfci.Tests.Infra;

/// <summary>
/// Issue 14's apply and chain findings and issue 13's Terraform defences, each held by the configuration and shown
/// to catch a broken copy of it (the broken text is what the configuration had before the fix, where there was one).
/// </summary>
[Collection(TerraformCollection.Name)]
public sealed class DeploymentInvariantTests(TerraformFixture terraform)
{
    public static TheoryData<string> Checks => [.. s_checks.Keys];

    private static readonly Dictionary<string, Func<TerraformTree, IReadOnlyList<string>>> s_checks = new(StringComparer.Ordinal)
    {
        [nameof(DeploymentInvariants.ArgoValuesRender)] = DeploymentInvariants.ArgoValuesRender,
        [nameof(DeploymentInvariants.WorkflowsRunAsDedicatedAccount)] = DeploymentInvariants.WorkflowsRunAsDedicatedAccount,
        [nameof(DeploymentInvariants.NfsClassMatches)] = DeploymentInvariants.NfsClassMatches,
        [nameof(DeploymentInvariants.AlertsWaitForLogMetrics)] = DeploymentInvariants.AlertsWaitForLogMetrics,
        [nameof(DeploymentInvariants.NoRetiredServices)] = DeploymentInvariants.NoRetiredServices,
        [nameof(DeploymentInvariants.JanitorActsAsNoOne)] = DeploymentInvariants.JanitorActsAsNoOne,
        [nameof(DeploymentInvariants.ArgoUiIsNotPublic)] = DeploymentInvariants.ArgoUiIsNotPublic,
        [nameof(DeploymentInvariants.WorkflowsAreFenced)] = DeploymentInvariants.WorkflowsAreFenced,
        [nameof(DeploymentInvariants.JanitorConfigurationIsPassed)] = DeploymentInvariants.JanitorConfigurationIsPassed,
        [nameof(DeploymentInvariants.ClusterContentsAreASecondModule)] = DeploymentInvariants.ClusterContentsAreASecondModule,
    };

    [Theory]
    [MemberData(nameof(Checks))]
    public void Check_Configuration_HasNoViolations(string check) => Assert.Empty(s_checks[check](terraform.Tree));

    [Fact]
    public void ArgoValuesRender_UnquotedKeyFormat_ReportsIt()
    {
        var broken = terraform.ParseBroken("cluster/argo.tf", "keyFormat = \"{{ \\\"{{workflow.name}}/{{pod.name}}\\\" }}\"", "keyFormat = \"{{workflow.name}}/{{pod.name}}\"");

        Assert.Contains(
            "artifactRepository.keyFormat = '{{workflow.name}}/{{pod.name}}' reaches Helm's tpl unquoted; write {{ \"...\" }} as the chart's values.yaml shows",
            DeploymentInvariants.ArgoValuesRender(broken));
    }

    [Fact]
    public void ArgoValuesRender_KeyTheChartDoesNotHave_ReportsIt()
    {
        var broken = terraform.ParseBroken("cluster/argo.tf", "    artifactRepository = {", "    useDefaultArtifactRepo = true\n    artifactRepository = {");

        Assert.Contains("argo_values.useDefaultArtifactRepo is not a key of the argo-workflows chart", DeploymentInvariants.ArgoValuesRender(broken));
    }

    [Fact]
    public void WorkflowsRunAsDedicatedAccount_NoWorkflowDefault_ReportsIt()
    {
        var broken = terraform.ParseBroken("cluster/argo.tf", "serviceAccountName = var.workflow_accounts.restricted.kubernetes", "podGC = {}");

        Assert.Contains(
            "controller.workflowDefaults.spec.serviceAccountName is '', not the restricted workflow account",
            DeploymentInvariants.WorkflowsRunAsDedicatedAccount(broken));
    }

    [Fact]
    public void WorkflowsRunAsDedicatedAccount_ExecutorMayNotPatchTaskResults_ReportsIt()
    {
        var broken = terraform.ParseBroken("cluster/workflow_identities.tf", "verbs      = [\"create\", \"patch\"]", "verbs      = [\"create\"]");

        Assert.Contains(
            "the workflow executor Role is not exactly workflowtaskresults create/patch (Argo's workflow RBAC): [[\"argoproj.io\"]|[\"workflowtaskresults\"]|[\"create\"]]",
            DeploymentInvariants.WorkflowsRunAsDedicatedAccount(broken));
    }

    [Fact]
    public void NfsClassMatches_EmptyClassOnTheClaim_ReportsIt()
    {
        var broken = terraform.ParseBroken("cluster/nfs.tf", "    storage_class_name = local.nfs_storage_class\n", "    storage_class_name = \"\"\n");

        Assert.Contains(
            "the NFS volume's storage_class_name ('${local.nfs_storage_class}') and the claim's ('') must be the same explicit class",
            DeploymentInvariants.NfsClassMatches(broken));
    }

    [Fact]
    public void AlertsWaitForLogMetrics_NoWait_ReportsIt()
    {
        var broken = terraform.ParseBroken("monitoring.tf", "\n  depends_on = [time_sleep.janitor_metrics_propagated]\n", "\n");

        Assert.Contains(
            "google_monitoring_alert_policy.janitor_failed uses google_logging_metric.janitor_failed_sweeps but does not depend on a time_sleep triggered by it (Cannot find metric(s) for up to ten minutes)",
            DeploymentInvariants.AlertsWaitForLogMetrics(broken));
    }

    [Fact]
    public void NoRetiredServices_DeploymentManagerRequired_ReportsIt()
    {
        var broken = terraform.ParseBroken("services.tf", "    \"compute.googleapis.com\",\n", "    \"compute.googleapis.com\",\n    \"deploymentmanager.googleapis.com\",\n");

        Assert.Contains(
            "local.services enables deploymentmanager.googleapis.com, which a fresh project cannot enable; every resource depending on the API set would wait for it",
            DeploymentInvariants.NoRetiredServices(broken));
    }

    [Fact]
    public void JanitorActsAsNoOne_ProjectWideServiceAccountUser_ReportsIt()
    {
        var broken = terraform.ParseBroken("identities.tf", "\"roles/iam.serviceAccountDeleter\",", "\"roles/iam.serviceAccountUser\",");

        Assert.Contains(
            "the Janitor holds roles/iam.serviceAccountUser through google_project_iam_member.janitor, which lets it act as other accounts (the trusted workflow identity among them)",
            DeploymentInvariants.JanitorActsAsNoOne(broken));
    }

    [Theory]
    [InlineData("cluster/argo.tf", "      authModes   = [\"server\"]\n      serviceType = \"ClusterIP\"", "      authModes   = [\"server\"]\n      serviceType = \"LoadBalancer\"", "server.serviceType is 'LoadBalancer', want 'ClusterIP'")]
    [InlineData("cluster/argo.tf", "{ enabled = true },", "{ enabled = false },", "server.GKEbackendConfig.spec.iap does not enable Identity-Aware Proxy")]
    [InlineData("cluster/argo.tf", "        enabled = var.argo_ui.expose\n        hosts", "        enabled = true\n        hosts", "server.ingress.enabled is 'true', want '${var.argo_ui.expose}'")]
    [InlineData("cluster/argo.tf", "\"kubernetes.io/ingress.allow-http\"            = \"false\"", "\"kubernetes.io/ingress.allow-http\"            = \"true\"", "server.ingress.annotations.kubernetes.io/ingress.allow-http is 'true', want 'false'")]
    [InlineData("cluster/rbac.tf", "\"cronworkflows\", \"workfloweventbindings\"], verbs = [\"get\", \"list\", \"watch\"]", "\"cronworkflows\", \"workfloweventbindings\"], verbs = [\"get\", \"list\", \"watch\", \"create\"]", "the Argo server's Role grants 'create'; it may only read workflows, pods, logs and events")]
    [InlineData("cluster/argo_ui.tf", "  member              = each.value\n", "  member              = \"allUsers\"\n", "google_iap_web_backend_service_iam_member.argo_ui_viewer lets allUsers through Identity-Aware Proxy")]
    public void ArgoUiIsNotPublic_OpenedPath_ReportsIt(string file, string find, string replace, string violation) =>
        Assert.Contains(violation, DeploymentInvariants.ArgoUiIsNotPublic(terraform.ParseBroken(file, find, replace)));

    [Fact]
    public void WorkflowsAreFenced_NoPodSecurityEnforced_ReportsIt()
    {
        var broken = terraform.ParseBroken("cluster/namespaces.tf", "      \"pod-security.kubernetes.io/enforce\" = var.workflow_pod_security\n", "");

        Assert.Contains("the workflow namespace has no pod-security.kubernetes.io/enforce label", DeploymentInvariants.WorkflowsAreFenced(broken));
    }

    [Fact]
    public void WorkflowsAreFenced_ArgoInTheWorkflowNamespace_ReportsIt()
    {
        var broken = terraform.ParseBroken("cluster/argo.tf", "namespace  = kubernetes_namespace.argo.metadata[0].name", "namespace  = kubernetes_namespace.workflows.metadata[0].name");

        Assert.Contains("Argo's controller and server are not in a namespace of their own (helm_release.namespace)", DeploymentInvariants.WorkflowsAreFenced(broken));
    }

    [Fact]
    public void WorkflowsAreFenced_PolicyNotPassed_ReportsIt()
    {
        var broken = terraform.ParseBroken("functions.tf", "        KFCI_WORKFLOW_POLICY      = jsonencode(local.workflow_policy)\n", "");

        Assert.Contains("the Trigger does not get KFCI_WORKFLOW_POLICY = jsonencode(local.workflow_policy)", DeploymentInvariants.WorkflowsAreFenced(broken));
    }

    [Fact]
    public void JanitorConfigurationIsPassed_ConfigurationFromAnotherProject_ReportsIt()
    {
        var broken = terraform.ParseBroken("janitor_config.tf", "projects           = [var.project_id]", "projects           = [\"kubeflow-ci\"]");

        Assert.Contains("local.janitor_config.projects does not come from var.project_id", DeploymentInvariants.JanitorConfigurationIsPassed(broken));
    }

    [Fact]
    public void ClusterContentsAreASecondModule_ProviderFromTheClusterResource_ReportsIt()
    {
        var broken = terraform.ParseBroken("providers.tf", "# No Kubernetes or Helm provider here", "provider \"kubernetes\" {\n  host = \"https://${google_container_cluster.testing.endpoint}\"\n}\n\n# No Kubernetes or Helm provider here");

        Assert.Contains("providers.tf declares provider kubernetes: the cluster's contents belong in cluster/", DeploymentInvariants.ClusterContentsAreASecondModule(broken));
    }

    [Fact]
    public void ClusterContentsAreASecondModule_InputNotPassed_ReportsIt()
    {
        var broken = terraform.ParseBroken("outputs.tf", "    nfs_capacity_gb    = var.nfs_capacity_gb\n", "");

        Assert.Contains("cluster/ needs var.nfs_capacity_gb, which output cluster_inputs does not pass", DeploymentInvariants.ClusterContentsAreASecondModule(broken));
    }
}
