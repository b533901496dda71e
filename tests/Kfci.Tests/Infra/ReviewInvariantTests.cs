namespace Kfci.Tests.Infra;

/// <summary>
/// The second review of issue 14 and issue 11's <c>kfci wait</c> identity: each check holds for the configuration and
/// catches a broken copy of it (the broken text is what the configuration had before the fix).
/// </summary>
[Collection(TerraformCollection.Name)]
public sealed class ReviewInvariantTests(TerraformFixture terraform)
{
    public static TheoryData<string> Checks => [.. s_checks.Keys];

    private static readonly Dictionary<string, Func<TerraformTree, IReadOnlyList<string>>> s_checks = new(StringComparer.Ordinal)
    {
        [nameof(ReviewInvariants.AccountsWaitForApis)] = ReviewInvariants.AccountsWaitForApis,
        [nameof(ReviewInvariants.AlertPoliciesHaveOneConditionType)] = ReviewInvariants.AlertPoliciesHaveOneConditionType,
        [nameof(ReviewInvariants.ArgoUiGrantIsOnItsBackend)] = ReviewInvariants.ArgoUiGrantIsOnItsBackend,
        [nameof(ReviewInvariants.ArgoServerIsNamespaced)] = ReviewInvariants.ArgoServerIsNamespaced,
        [nameof(ReviewInvariants.ArgoServerOnlyFromLoadBalancer)] = ReviewInvariants.ArgoServerOnlyFromLoadBalancer,
        [nameof(ReviewInvariants.BuildAndNodesHoldTheMinimum)] = ReviewInvariants.BuildAndNodesHoldTheMinimum,
        [nameof(ReviewInvariants.ProwWaitReadsOnly)] = ReviewInvariants.ProwWaitReadsOnly,
    };

    [Theory]
    [MemberData(nameof(Checks))]
    public void Check_Configuration_HasNoViolations(string check) => Assert.Empty(s_checks[check](terraform.Tree));

    [Fact]
    public void AccountsWaitForApis_AccountWithoutDependency_ReportsIt()
    {
        var broken = terraform.ParseBroken("identities.tf", "  display_name = \"kfci Janitor function\"\n\n  depends_on = [google_project_service.enabled]\n", "  display_name = \"kfci Janitor function\"\n");

        Assert.Contains(
            "google_service_account.janitor does not depend on google_project_service.enabled; on a fresh project it races the IAM API's enablement",
            ReviewInvariants.AccountsWaitForApis(broken));
    }

    [Fact]
    public void AccountsWaitForApis_NoResourceManagerApi_ReportsIt()
    {
        var broken = terraform.ParseBroken("services.tf", "    \"cloudresourcemanager.googleapis.com\",\n", "");

        Assert.Contains("local.services does not enable cloudresourcemanager.googleapis.com", ReviewInvariants.AccountsWaitForApis(broken));
    }

    [Fact]
    public void AlertPoliciesHaveOneConditionType_ThresholdBesidePromQl_ReportsIt()
    {
        // The janitor's two alerts as one policy, as before the split.
        var broken = terraform.ParseBroken(
            "monitoring.tf",
            "  conditions {\n    display_name = \"no janitor sweep deleted anything for 24 hours\"",
            "  conditions {\n    display_name = \"a janitor sweep failed\"\n\n    condition_threshold {\n      comparison = \"COMPARISON_GT\"\n    }\n  }\n\n  conditions {\n    display_name = \"no janitor sweep deleted anything for 24 hours\"");

        Assert.Contains(
            "google_monitoring_alert_policy.janitor_stalled mixes condition types (condition_threshold, condition_prometheus_query_language); Monitoring refuses it: one policy per type",
            ReviewInvariants.AlertPoliciesHaveOneConditionType(broken));
    }

    [Fact]
    public void ArgoUiGrantIsOnItsBackend_ProjectWideGrant_ReportsIt()
    {
        var broken = terraform.ParseBroken("argo_ui.tf", "  depends_on = [google_project_service.enabled]\n}", "  depends_on = [google_project_service.enabled]\n}\n\nresource \"google_iap_web_iam_member\" \"argo_ui_viewer\" {\n  project = var.project_id\n  role    = \"roles/iap.httpsResourceAccessor\"\n  member  = \"user:a@example.com\"\n}");

        Assert.Contains(
            "google_iap_web_iam_member.argo_ui_viewer grants IAP access to every IAP-protected application of the project; grant it on the Argo UI's backend service",
            ReviewInvariants.ArgoUiGrantIsOnItsBackend(broken));
    }

    [Fact]
    public void ArgoUiGrantIsOnItsBackend_IngressReadBeforeTheRelease_ReportsIt()
    {
        var broken = terraform.ParseBroken("cluster/argo_ui.tf", "  depends_on = [time_sleep.argo_ui_backend]\n", "");

        Assert.Contains(
            "the Ingress is read before the Argo release has had time to get its backend service (depends_on a time_sleep triggered by the helm_release)",
            ReviewInvariants.ArgoUiGrantIsOnItsBackend(broken));
    }

    [Fact]
    public void ArgoServerIsNamespaced_NoServerArgs_ReportsIt()
    {
        var broken = terraform.ParseBroken("cluster/argo.tf", "      extraArgs = [\"--namespaced\", \"--managed-namespace=${var.workflow_namespace}\"]\n", "");

        var violations = ReviewInvariants.ArgoServerIsNamespaced(broken);

        Assert.Contains("server.extraArgs lacks --namespaced: with rbac.create = false the server has only namespaced Roles", violations);
        Assert.Contains("server.extraArgs lacks --managed-namespace=${var.workflow_namespace}: with rbac.create = false the server has only namespaced Roles", violations);
    }

    [Fact]
    public void ArgoServerIsNamespaced_ConfigMapsNotReadable_ReportsIt()
    {
        var broken = terraform.ParseBroken("cluster/rbac.tf", "resources = [\"configmaps\"], verbs = [\"get\", \"list\", \"watch\"]", "resources = [\"configmaps\"], verbs = [\"get\"]");

        Assert.Contains(
            "local.argo_server_own_namespace_rules does not grant configmaps get/list/watch (the server reads the controller's configmap)",
            ReviewInvariants.ArgoServerIsNamespaced(broken));
    }

    [Theory]
    [InlineData("cluster/argo_ui.tf", "\"app.kubernetes.io/name\"     = \"argo-workflows-server\"", "\"app.kubernetes.io/name\"     = \"argo-workflows-controller\"", "no kubernetes_network_policy selects the Argo server's pods (app.kubernetes.io/name = argo-workflows-server): any pod can call it without IAP")]
    [InlineData("cluster/argo_ui.tf", "[\"35.191.0.0/16\", \"130.211.0.0/22\"]", "[\"35.191.0.0/16\", \"10.0.0.0/8\"]", "kubernetes_network_policy.argo_server admits 10.0.0.0/8, which is not a Google front-end or health-check range")]
    [InlineData("cluster.tf", "  datapath_provider = \"ADVANCED_DATAPATH\"\n", "", "the cluster does not enforce NetworkPolicy (datapath_provider = ADVANCED_DATAPATH): GKE would accept the policy and ignore it")]
    public void ArgoServerOnlyFromLoadBalancer_OpenedPath_ReportsIt(string file, string find, string replace, string violation) =>
        Assert.Contains(violation, ReviewInvariants.ArgoServerOnlyFromLoadBalancer(terraform.ParseBroken(file, find, replace)));

    [Fact]
    public void BuildAndNodesHoldTheMinimum_ProjectWideWriter_ReportsIt()
    {
        var broken = terraform.ParseBroken("identities.tf", "  role    = \"roles/logging.logWriter\"\n  member  = \"serviceAccount:${google_service_account.builder.email}\"", "  role    = \"roles/artifactregistry.writer\"\n  member  = \"serviceAccount:${google_service_account.builder.email}\"");

        Assert.Contains(
            "the build account holds roles/artifactregistry.writer through google_project_iam_member.builder; grant it on kfci's repository only",
            ReviewInvariants.BuildAndNodesHoldTheMinimum(broken));
    }

    [Fact]
    public void BuildAndNodesHoldTheMinimum_NodesWithoutMonitoringViewer_ReportsIt()
    {
        // The node roles before the fix: the CIS minimum without monitoring.viewer.
        var broken = terraform.ParseBroken(
            "identities.tf",
            "  role    = \"roles/container.defaultNodeServiceAccount\"\n  member  = \"serviceAccount:${google_service_account.nodes.email}\"",
            "  role    = \"roles/logging.logWriter\"\n  member  = \"serviceAccount:${google_service_account.nodes.email}\"");

        Assert.Contains(
            "the node account holds [roles/logging.logWriter] on the project; GKE documents roles/container.defaultNodeServiceAccount (or logWriter, metricWriter and monitoring.viewer)",
            ReviewInvariants.BuildAndNodesHoldTheMinimum(broken));
    }

    [Fact]
    public void ProwWaitReadsOnly_WriteRole_ReportsIt()
    {
        var broken = terraform.ParseBroken("prow_wait.tf", "  role    = \"roles/datastore.viewer\"", "  role    = \"roles/datastore.user\"");

        var violations = ReviewInvariants.ProwWaitReadsOnly(broken);

        Assert.Contains("google_service_account.prow_wait cannot read runs (roles/datastore.viewer on the project)", violations);
        Assert.Contains("google_service_account.prow_wait (kfci wait) holds roles/datastore.user through google_project_iam_member.prow_wait_runs; it only reads", violations);
    }

    [Fact]
    public void ProwWaitReadsOnly_BindingAlwaysMade_ReportsIt()
    {
        var broken = terraform.ParseBroken("prow_wait.tf", "  count = var.prow_build_project == \"\" ? 0 : 1\n", "");

        Assert.Contains(
            "google_service_account_iam_member.prow_wait_workload_identity is made even when prow_build_project is not set (count on var.prow_build_project)",
            ReviewInvariants.ProwWaitReadsOnly(broken));
    }

    [Fact]
    public void BuildIsComplete_Repository_HasNoViolations() =>
        Assert.Empty(ReviewInvariants.BuildIsComplete(terraform.RepositoryRoot));

    [Fact]
    public void BuildIsComplete_TagFromTriggerOnlySubstitution_ReportsIt()
    {
        var violations = BuildViolationsAfter(root =>
        {
            Replace(Path.Combine(root, "infra", "terraform", "cloudbuild.yaml"), "  _TAG: ${BUILD_ID}", "  _TAG: ${SHORT_SHA}");
            File.Delete(Path.Combine(root, ".gcloudignore"));
        });

        Assert.Contains("cloudbuild.yaml's _TAG defaults to ${SHORT_SHA}, but SHORT_SHA is empty in a `gcloud builds submit` build", violations);
        Assert.Contains(".gcloudignore is missing: the upload or the build context would carry local build output and state", violations);
    }

    [Fact]
    public void BuildIsComplete_NoCliImage_ReportsIt()
    {
        var violations = BuildViolationsAfter(root =>
        {
            File.Delete(Path.Combine(root, "cli", "Dockerfile"));
            Replace(Path.Combine(root, "infra", "terraform", "cloudbuild.yaml"), "  - ${_REGION}-docker.pkg.dev/${PROJECT_ID}/kfci/kfci:${_TAG}\n", "");
        });

        Assert.Contains("cloudbuild.yaml does not build and push the command-line tool's image (cli/Dockerfile as kfci/kfci:${_TAG})", violations);
        Assert.Contains("cloudbuild.yaml builds from cli/Dockerfile, which does not exist", violations);
    }

    private static void Replace(string path, string find, string replace)
    {
        var text = File.ReadAllText(path);
        Assert.True(text.Contains(find, StringComparison.Ordinal), $"{path} no longer contains the text this test breaks: {find}");
        File.WriteAllText(path, text.Replace(find, replace, StringComparison.Ordinal));
    }

    /// <summary>Copies the files <see cref="ReviewInvariants.BuildIsComplete"/> reads, breaks the copy and checks it.</summary>
    private IReadOnlyList<string> BuildViolationsAfter(Action<string> breakIt)
    {
        var root = Directory.CreateTempSubdirectory("kfci-build-").FullName;
        try
        {
            foreach (var file in new[] { ".gcloudignore", ".dockerignore", "infra/terraform/cloudbuild.yaml", "functions/Dockerfile", "cli/Dockerfile", "dashboard/Dockerfile" })
            {
                var target = Path.Combine(root, file);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(Path.Combine(terraform.RepositoryRoot, file), target);
            }

            breakIt(root);
            return ReviewInvariants.BuildIsComplete(root);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
