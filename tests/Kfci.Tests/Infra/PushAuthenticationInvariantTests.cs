namespace Kfci.Tests.Infra;

/// <summary>The push authentication invariants hold for infra/terraform, and each catches a deliberately broken copy.</summary>
[Collection(TerraformCollection.Name)]
public sealed class PushAuthenticationInvariantTests(TerraformFixture terraform)
{
    [Fact]
    public void PushIsAuthenticated_Configuration_HasNoViolations() =>
        Assert.Empty(PushAuthenticationInvariants.PushIsAuthenticated(terraform.Tree));

    [Fact]
    public void PushIsAuthenticated_SharedConstantAudience_ReportsIt()
    {
        var broken = terraform.ParseBroken("pubsub.tf", "audience              = local.functions[each.value.function].env.KFCI_PUSH_AUDIENCE", "audience              = \"kfci-push\"");

        Assert.Contains(
            "google_pubsub_subscription.push's oidc_token audience is kfci-push; it must be ${local.functions[each.value.function].env.KFCI_PUSH_AUDIENCE}, the audience the function checks",
            PushAuthenticationInvariants.PushIsAuthenticated(broken));
    }

    [Fact]
    public void PushIsAuthenticated_NoOidcToken_ReportsIt()
    {
        var broken = terraform.ParseBroken(
            "pubsub.tf",
            "    oidc_token {\n      service_account_email = google_service_account.pubsub_invoker.email\n      audience              = local.functions[each.value.function].env.KFCI_PUSH_AUDIENCE\n    }\n",
            "");

        Assert.Contains(
            "google_pubsub_subscription.push pushes without an oidc_token: the functions refuse unauthenticated pushes",
            PushAuthenticationInvariants.PushIsAuthenticated(broken));
    }

    [Fact]
    public void PushIsAuthenticated_NoServiceAccountEmail_ReportsIt()
    {
        var broken = terraform.ParseBroken("pubsub.tf", "      service_account_email = google_service_account.pubsub_invoker.email\n", "");

        Assert.Contains(
            "google_pubsub_subscription.push's oidc_token sets no service_account_email of a google_service_account",
            PushAuthenticationInvariants.PushIsAuthenticated(broken));
    }

    [Fact]
    public void PushIsAuthenticated_FunctionsNotToldThePushAccount_ReportsIt()
    {
        var broken = terraform.ParseBroken("functions.tf", "    KFCI_PUSH_SERVICE_ACCOUNT = google_service_account.pubsub_invoker.email\n", "");

        Assert.Contains(
            "local.function_common_env does not set KFCI_PUSH_SERVICE_ACCOUNT to a google_service_account's email",
            PushAuthenticationInvariants.PushIsAuthenticated(broken));
    }

    [Fact]
    public void PushIsAuthenticated_FunctionWithoutAudience_ReportsIt()
    {
        var broken = terraform.ParseBroken("functions.tf", "        KFCI_PUSH_AUDIENCE  = \"https://kfci-janitor-${local.run_url_suffix}\"\n", "");

        Assert.Contains("local.functions.janitor.env does not set KFCI_PUSH_AUDIENCE", PushAuthenticationInvariants.PushIsAuthenticated(broken));
    }

    [Fact]
    public void PushIsAuthenticated_AudienceNotFromTheProject_ReportsIt()
    {
        var broken = terraform.ParseBroken("functions.tf", "\"https://kfci-watcher-${local.run_url_suffix}\"", "\"https://kfci-watcher.example.com\"");

        Assert.Contains(
            "local.functions.watcher.env.KFCI_PUSH_AUDIENCE (https://kfci-watcher.example.com) is not derived from the project, so every install would share it",
            PushAuthenticationInvariants.PushIsAuthenticated(broken));
    }

    [Fact]
    public void PushIsAuthenticated_InvokerCheckOff_ReportsIt()
    {
        var broken = terraform.ParseBroken("functions.tf", "  deletion_protection = false\n", "  deletion_protection = false\n  invoker_iam_disabled = true\n");

        Assert.Contains(
            "google_cloud_run_v2_service.function turns Cloud Run's invoker check off (invoker_iam_disabled), but the functions trust the tokens it verifies",
            PushAuthenticationInvariants.PushIsAuthenticated(broken));
    }
}
