namespace Kfci.Tests.Infra;

/// <summary>
/// The third review of issue 14 (review14.md): each check holds for the repository and catches a broken copy of it (the
/// broken text is what the repository had before the fix).
/// </summary>
[Collection(TerraformCollection.Name)]
public sealed class ReviewFollowUpTests(TerraformFixture terraform)
{
    [Fact]
    public void StepImageIsBuiltAndSet_Repository_HasNoViolations() =>
        Assert.Empty(ReviewInvariants.StepImageIsBuiltAndSet(terraform.Tree, terraform.RepositoryRoot));

    [Fact]
    public void StepImageIsBuiltAndSet_TriggerWithoutStepImage_ReportsIt()
    {
        var broken = terraform.ParseBroken("functions.tf", "        KFCI_STEP_IMAGE = \"${local.image_repository}/test-worker:${var.image_tag}\"\n", "");

        Assert.Contains(
            "the Trigger's env does not set KFCI_STEP_IMAGE to ${local.image_repository}/test-worker:${var.image_tag}: steps would run the default image",
            ReviewInvariants.StepImageIsBuiltAndSet(broken, terraform.RepositoryRoot));
    }

    [Theory]
    [InlineData("google_project_iam_member", "nodes")]
    [InlineData("google_artifact_registry_repository_iam_member", "nodes_reader")]
    public void NodePool_WaitsForItsAccountsGrants(string type, string name)
    {
        var pool = terraform.Tree.Resource("google_container_node_pool", "workers");

        Assert.NotNull(pool);
        Assert.Contains(name, Hcl.References(Hcl.Attribute(pool.Body, "depends_on"), type));
    }

    [Fact]
    public void NoRetiredImages_Repository_HasNoViolations() =>
        Assert.Empty(ReviewInvariants.NoRetiredImages(terraform.RepositoryRoot));

    [Fact]
    public void NoRetiredImages_OldStepImageDefault_ReportsIt()
    {
        var root = Directory.CreateTempSubdirectory("kfci-images-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "shared", "Workflows"));
            File.WriteAllText(Path.Combine(root, "shared", "Workflows", "WorkflowRenderOptions.cs"), "public const string DefaultStepImage = \"gcr.io/kubeflow-ci/test-worker:latest\";\n");

            Assert.Equal(
                ["shared/Workflows/WorkflowRenderOptions.cs names an image of gcr.io/kubeflow-ci, which no longer exists"],
                ReviewInvariants.NoRetiredImages(root));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void ClusterProvidersUseExec_Configuration_HasNoViolations() =>
        Assert.Empty(ReviewInvariants.ClusterProvidersUseExec(terraform.Tree));

    [Fact]
    public void ClusterProvidersUseExec_AccessTokenFromDataSource_ReportsIt()
    {
        // P2-2: the provider as it was, with the caller's token read through data.google_client_config.
        var broken = terraform.ParseBroken(
            "cluster/providers.tf",
            "provider \"kubernetes\" {\n",
            "data \"google_client_config\" \"current\" {}\n\nprovider \"kubernetes\" {\n  token = data.google_client_config.current.access_token\n");

        var violations = ReviewInvariants.ClusterProvidersUseExec(broken);

        Assert.Contains("cluster/providers.tf reads data.google_client_config: its access token is stored in the state file", violations);
        Assert.Contains("the cluster module's kubernetes provider does not authenticate with exec { command = \"gke-gcloud-auth-plugin\" } alone", violations);
    }

    [Fact]
    public void SecretGrantsPropagateFirst_Configuration_HasNoViolations() =>
        Assert.Empty(ReviewInvariants.SecretGrantsPropagateFirst(terraform.Tree));

    [Fact]
    public void SecretGrantsPropagateFirst_NoWait_ReportsIt()
    {
        // P2-7: the services depended on the grants themselves, which IAM applies some time after Terraform sees them.
        var broken = terraform.ParseBroken("functions.tf", "    time_sleep.secret_grants,\n", "    google_secret_manager_secret_iam_member.uploader_github_token,\n");

        Assert.Contains(
            "google_cloud_run_v2_service.function may start before google_secret_manager_secret_iam_member.uploader_github_token has propagated (depends_on a time_sleep triggered by it)",
            ReviewInvariants.SecretGrantsPropagateFirst(broken));
    }

    [Fact]
    public void ProwCanRunKfciWait_Configuration_HasNoViolations() =>
        Assert.Empty(ReviewInvariants.ProwCanRunKfciWait(terraform.Tree));

    [Fact]
    public void ProwCanRunKfciWait_NoJobAccountsOrImageReaders_ReportsIt()
    {
        var broken = terraform.ParseBroken("prow_wait.tf", "for_each = toset(var.prow_", "for_each = toset(var.unused_");

        var violations = ReviewInvariants.ProwCanRunKfciWait(broken);

        Assert.Contains("var.prow_job_service_accounts are not granted roles/datastore.viewer on the project", violations);
        Assert.Contains("var.prow_job_service_accounts are not granted roles/storage.objectViewer on the results bucket", violations);
        Assert.Contains("var.prow_image_readers are not granted roles/artifactregistry.reader on kfci's repository: Prow's nodes cannot pull the kfci wait image", violations);
    }

    [Fact]
    public void ProwCanRunKfciWait_OutputWithoutEnvironment_ReportsIt()
    {
        var broken = terraform.ParseBroken("outputs.tf", "    KFCI_FIRESTORE_DATABASE = google_firestore_database.kfci.name\n", "");

        Assert.Equal(["output.prow_wait does not print KFCI_FIRESTORE_DATABASE"], ReviewInvariants.ProwCanRunKfciWait(broken));
    }

    [Fact]
    public void ResultsBucketMayBeProws_Configuration_HasNoViolations() =>
        Assert.Empty(ReviewInvariants.ResultsBucketMayBeProws(terraform.Tree));

    [Fact]
    public void ResultsBucketMayBeProws_AlwaysCreatedAndNamedDirectly_ReportsIt()
    {
        // The bucket before issue 11: always created, and the Uploader's grant named the resource.
        var broken = terraform.WithBrokenCopy("storage.tf", "  count = var.results_bucket_existing ? 0 : 1\n", "", dir =>
        {
            var storage = Path.Combine(dir, "storage.tf");
            File.WriteAllText(storage, File.ReadAllText(storage).Replace(
                "bucket = local.results_bucket\n  role   = \"roles/storage.objectAdmin\"\n  member = \"serviceAccount:${google_service_account.uploader.email}\"",
                "bucket = google_storage_bucket.results.name\n  role   = \"roles/storage.objectAdmin\"\n  member = \"serviceAccount:${google_service_account.uploader.email}\"",
                StringComparison.Ordinal));
            return ReviewInvariants.ResultsBucketMayBeProws(terraform.Parse(dir));
        });

        Assert.Contains("google_storage_bucket.results is created even when results_bucket_existing names Prow's bucket (count on var.results_bucket_existing)", broken);
        Assert.Contains("google_storage_bucket_iam_member.uploader_results names google_storage_bucket.results, which does not exist with results_bucket_existing; use local.results_bucket", broken);
    }

    [Fact]
    public void ResultsBucketMayBeProws_NoProwReaders_ReportsIt()
    {
        var broken = terraform.ParseBroken("storage.tf", "for_each = toset(var.prow_gcs_readers)", "for_each = toset([])");

        Assert.Equal(["var.prow_gcs_readers are not granted roles/storage.objectViewer on the results bucket"], ReviewInvariants.ResultsBucketMayBeProws(broken));
    }
}
