using Kfci.Janitor;

namespace Kfci.Tests.Infra;

[Collection(TerraformCollection.Name)]
public sealed class GcpIamTests(TerraformFixture terraform)
{
    [Fact]
    public void MissingPermissions_Configuration_EveryCallIsGranted() =>
        Assert.Empty(GcpIam.MissingPermissions(terraform.Tree, GcpIam.Calls));

    [Fact]
    public void Calls_EveryTypeTheJanitorSweepsInGoogleCloud_HasItsListAndDelete()
    {
        var kubernetes = new[] { ResourceType.Workflow, ResourceType.Namespace };

        Assert.Equal(Enum.GetValues<ResourceType>().Except(kubernetes).Order(), GcpIam.JanitorCollections.Keys.Order());
    }

    [Fact]
    public void MissingPermissions_JanitorWithServiceAccountUserInsteadOfDeleter_CannotDeleteAccounts()
    {
        // Before issue 14 the Janitor held serviceAccountUser (actAs), which cannot delete the accounts it sweeps.
        var broken = terraform.ParseBroken("identities.tf", "\"roles/iam.serviceAccountDeleter\",", "\"roles/iam.serviceAccountUser\",");

        Assert.Contains(
            "janitor cannot delete iam.serviceAccounts: no grant of a role with iam.serviceAccounts.delete on project",
            GcpIam.MissingPermissions(broken, GcpIam.Calls));
    }

    [Fact]
    public void MissingPermissions_UploaderGrantOnTheWrongBucket_ReportsIt()
    {
        var broken = terraform.ParseBroken("storage.tf", "bucket = local.results_bucket\n  role   = \"roles/storage.objectAdmin\"\n  member = \"serviceAccount:${google_service_account.uploader.email}\"", "bucket = google_storage_bucket.argo_artifacts.name\n  role   = \"roles/storage.objectAdmin\"\n  member = \"serviceAccount:${google_service_account.uploader.email}\"");

        Assert.Contains(
            "uploader cannot write results (finished.json with preconditions): no grant of a role with storage.objects.update on google_storage_bucket.results",
            GcpIam.MissingPermissions(broken, GcpIam.Calls));
    }

    [Fact]
    public void MissingPermissions_JanitorCannotReadItsConfiguration_ReportsIt()
    {
        var broken = terraform.ParseBroken("janitor_config.tf", "role      = \"roles/secretmanager.secretAccessor\"", "role      = \"roles/secretmanager.viewer\"");

        Assert.Contains(
            "janitor cannot read its configuration file: no grant of a role with secretmanager.versions.access on google_secret_manager_secret.janitor_config",
            GcpIam.MissingPermissions(broken, GcpIam.Calls));
    }

    [Fact]
    public void MissingPermissions_WaitCannotReadRuns_ReportsIt()
    {
        var broken = terraform.ParseBroken("prow_wait.tf", "  role    = \"roles/datastore.viewer\"", "  role    = \"roles/logging.viewer\"");

        Assert.Contains(
            "wait cannot read runs (Firestore): no grant of a role with datastore.entities.get on project",
            GcpIam.MissingPermissions(broken, GcpIam.Calls));
    }
}
