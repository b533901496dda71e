namespace Kfci.Tests.Infra;

/// <summary>
/// The invariants of infra/terraform on the real parser: each holds for the configuration, and
/// each is shown to catch a deliberately broken copy.
/// </summary>
[Collection(TerraformCollection.Name)]
public sealed class TerraformInvariantTests(TerraformFixture terraform)
{
    [Fact]
    public void Parse_Configuration_ReadsEveryFileAndTheFunctions()
    {
        var files = Directory.GetFiles(terraform.ConfigurationDirectory, "*.tf", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(terraform.ConfigurationDirectory, f).Replace('\\', '/')).Order(StringComparer.Ordinal);

        Assert.Equal(files, terraform.Tree.Files.EnumerateObject().Select(f => f.Name).Order(StringComparer.Ordinal));
        Assert.Equal(["janitor", "trigger", "uploader", "watcher"], TerraformInvariants.Functions(terraform.Tree).Select(f => f.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void FunctionsAreDeployed_Configuration_HasNoViolations() =>
        Assert.Empty(TerraformInvariants.FunctionsAreDeployed(terraform.Tree, terraform.RepositoryRoot));

    [Fact]
    public void FunctionsAreDeployed_FunctionDirectoryWithoutEntry_ReportsIt()
    {
        var broken = terraform.ParseBroken("functions.tf", "\"functions/Uploader\"", "\"functions/Uploadr\"");

        var violations = TerraformInvariants.FunctionsAreDeployed(broken, terraform.RepositoryRoot);

        Assert.Contains("functions/Uploader is deployed by 0 entries of local.functions (want exactly 1)", violations);
        Assert.Contains("local.functions.uploader deploys 'functions/Uploadr', which is not a directory of the repository", violations);
    }

    [Fact]
    public void FunctionTopicsExist_Configuration_HasNoViolations() =>
        Assert.Empty(TerraformInvariants.FunctionTopicsExist(terraform.Tree));

    [Fact]
    public void FunctionTopicsExist_ConsumedTopicNotDeclared_ReportsIt()
    {
        var broken = terraform.ParseBroken("pubsub.tf", "resource \"google_pubsub_topic\" \"argo_events\"", "resource \"google_pubsub_topic\" \"argo_event\"");

        Assert.Contains("watcher consumes google_pubsub_topic.argo_events, which is not declared", TerraformInvariants.FunctionTopicsExist(broken));
    }

    [Fact]
    public void FunctionTopicsExist_PublishedTopicNotDeclared_ReportsIt()
    {
        var broken = terraform.ParseBroken("functions.tf", "publishes = [google_pubsub_topic.run_finished]", "publishes = [google_pubsub_topic.run_done]");

        Assert.Contains("uploader publishes to google_pubsub_topic.run_done, which is not declared", TerraformInvariants.FunctionTopicsExist(broken));
    }

    [Fact]
    public void FunctionTopicsExist_WiringDiffersFromChain_ReportsIt()
    {
        var broken = terraform.ParseBroken("functions.tf", "        watcher-ticks = google_pubsub_topic.watcher_ticks\n", "");

        Assert.Contains(
            "watcher consumes [argo-events] but the chain says [argo-events, watcher-ticks]",
            TerraformInvariants.FunctionTopicsExist(broken));
    }

    [Fact]
    public void SubscriptionsDeadLetter_Configuration_HasNoViolations() =>
        Assert.Empty(TerraformInvariants.SubscriptionsDeadLetter(terraform.Tree));

    [Fact]
    public void SubscriptionsDeadLetter_PolicyMissing_ReportsIt()
    {
        var broken = terraform.ParseBroken(
            "pubsub.tf",
            "  dead_letter_policy {\n    dead_letter_topic     = google_pubsub_topic.dead_letter.id\n    max_delivery_attempts = var.max_delivery_attempts\n  }\n",
            "");

        Assert.Contains("google_pubsub_subscription.push has no dead_letter_policy", TerraformInvariants.SubscriptionsDeadLetter(broken));
    }

    [Fact]
    public void SubscriptionsDeadLetter_HardCodedAttempts_ReportsIt()
    {
        var broken = terraform.ParseBroken("pubsub.tf", "max_delivery_attempts = var.max_delivery_attempts", "max_delivery_attempts = 5");

        Assert.Contains(
            "google_pubsub_subscription.push does not take max_delivery_attempts from var.max_delivery_attempts",
            TerraformInvariants.SubscriptionsDeadLetter(broken));
    }

    [Fact]
    public void SubscriptionsDeadLetter_AgentNotSubscriber_ReportsIt()
    {
        var broken = terraform.ParseBroken("pubsub.tf", "role         = \"roles/pubsub.subscriber\"", "role         = \"roles/pubsub.viewer\"");

        Assert.Contains(
            "the Pub/Sub service agent is not a subscriber of google_pubsub_subscription.push, which dead-lettering requires",
            TerraformInvariants.SubscriptionsDeadLetter(broken));
    }

    [Fact]
    public void WorkflowAccountHasSeedRoles_Configuration_HasNoViolations() =>
        Assert.Empty(TerraformInvariants.WorkflowAccountHasSeedRoles(terraform.Tree));

    [Fact]
    public void WorkflowAccountHasSeedRoles_ExtraRole_ReportsIt()
    {
        var broken = terraform.ParseBroken("identities.tf", "    \"roles/logging.viewer\",\n    \"roles/viewer\",", "    \"roles/logging.viewer\",\n    \"roles/editor\",");

        var violations = TerraformInvariants.WorkflowAccountHasSeedRoles(broken);

        Assert.Contains("the trusted workflow account google_service_account.trusted_workflow lacks the seed's roles/viewer", violations);
        Assert.Contains("the trusted workflow account google_service_account.trusted_workflow holds roles/editor, which the seed did not grant", violations);
    }

    [Fact]
    public void WorkflowAccountHasSeedRoles_ActAsOnComputeDefault_ReportsIt()
    {
        // The grant before review14's P2-3: actAs on the Compute Engine default account, often an Editor.
        var broken = terraform.ParseBroken(
            "identities.tf",
            "  service_account_id = google_service_account.test_vm.name",
            "  service_account_id = \"projects/${var.project_id}/serviceAccounts/${data.google_project.current.number}-compute@developer.gserviceaccount.com\"");

        var violations = TerraformInvariants.WorkflowAccountHasSeedRoles(broken);

        Assert.Contains("the trusted workflow account google_service_account.trusted_workflow is not roles/iam.serviceAccountUser on google_service_account.test_vm, the account test VMs run as", violations);
        Assert.Contains(
            "the trusted workflow account google_service_account.trusted_workflow may act as projects/${var.project_id}/serviceAccounts/${data.google_project.current.number}-compute@developer.gserviceaccount.com through google_service_account_iam_member.trusted_workflow_test_vm; only as the role-less test-VM account",
            violations);
    }

    [Fact]
    public void WorkflowAccountHasSeedRoles_UnconditionedStorageAdmin_ReportsIt()
    {
        // P2-4: the seed's storage.admin on the whole project, kfci's results bucket included.
        var broken = terraform.ParseBroken("identities.tf", "    \"roles/logging.viewer\",\n", "    \"roles/logging.viewer\",\n    \"roles/storage.admin\",\n");

        Assert.Contains(
            "the trusted workflow account google_service_account.trusted_workflow holds roles/storage.admin through google_project_iam_member.trusted_workflow without a condition excluding local.kfci_buckets: tests could rewrite published results",
            TerraformInvariants.WorkflowAccountHasSeedRoles(broken));
    }

    [Fact]
    public void WorkflowAccountHasSeedRoles_PullRequestsRunAsTheSeedAccount_ReportsIt()
    {
        var broken = terraform.ParseBroken(
            "identities.tf",
            "service_account_id = google_service_account.pr_workflow.name\n  role               = \"roles/iam.workloadIdentityUser\"",
            "service_account_id = google_service_account.trusted_workflow.name\n  role               = \"roles/iam.workloadIdentityUser\"");

        Assert.Contains("pull-request and trusted workflows share google_service_account.trusted_workflow", TerraformInvariants.WorkflowAccountHasSeedRoles(broken));
    }

    [Fact]
    public void WorkflowAccountHasSeedRoles_PullRequestAccountGetsAProjectRole_ReportsIt()
    {
        var broken = terraform.ParseBroken(
            "identities.tf",
            "resource \"google_service_account\" \"trusted_workflow\" {",
            "resource \"google_project_iam_member\" \"pr_workflow\" {\n  project = var.project_id\n  role    = \"roles/container.admin\"\n  member  = \"serviceAccount:${google_service_account.pr_workflow.email}\"\n}\n\nresource \"google_service_account\" \"trusted_workflow\" {");

        Assert.Contains(
            "the pull-request workflow account google_service_account.pr_workflow holds roles/container.admin through google_project_iam_member.pr_workflow; it may only write and read Argo's artifacts",
            TerraformInvariants.WorkflowAccountHasSeedRoles(broken));
    }

    [Fact]
    public void FunctionAccountsAreNotOwnersOrEditors_Configuration_HasNoViolations() =>
        Assert.Empty(TerraformInvariants.FunctionAccountsAreNotOwnersOrEditors(terraform.Tree));

    [Fact]
    public void FunctionAccountsAreNotOwnersOrEditors_UploaderIsEditor_ReportsIt()
    {
        var broken = terraform.ParseBroken("storage.tf", "role   = \"roles/storage.objectAdmin\"", "role   = \"roles/editor\"");

        Assert.Contains(
            "function uploader (google_service_account.uploader) holds roles/editor through google_storage_bucket_iam_member.uploader_results",
            TerraformInvariants.FunctionAccountsAreNotOwnersOrEditors(broken));
    }

    [Fact]
    public void OnlyJanitorDeletes_Configuration_HasNoViolations() =>
        Assert.Empty(TerraformInvariants.OnlyJanitorDeletes(terraform.Tree));

    [Fact]
    public void OnlyJanitorDeletes_TriggerMayDeleteClusters_ReportsIt()
    {
        var broken = terraform.ParseBroken("identities.tf", "    \"roles/container.clusterViewer\",\n    \"roles/datastore.user\",\n  ])\n\n  project = var.project_id\n  role    = each.value\n  member  = \"serviceAccount:${google_service_account.trigger.email}\"",
            "    \"roles/container.admin\",\n    \"roles/datastore.user\",\n  ])\n\n  project = var.project_id\n  role    = each.value\n  member  = \"serviceAccount:${google_service_account.trigger.email}\"");

        Assert.Contains(
            "function trigger (google_service_account.trigger) holds roles/container.admin through google_project_iam_member.trigger, which can delete cloud resources; only the janitor may",
            TerraformInvariants.OnlyJanitorDeletes(broken));
    }

    [Fact]
    public void OnlyPubSubInvokes_Configuration_HasNoViolations() =>
        Assert.Empty(TerraformInvariants.OnlyPubSubInvokes(terraform.Tree));

    [Fact]
    public void OnlyPubSubInvokes_PublicInvoker_ReportsIt()
    {
        var broken = terraform.ParseBroken("functions.tf", "member   = \"serviceAccount:${google_service_account.pubsub_invoker.email}\"", "member   = \"allUsers\"");

        Assert.Contains(
            "google_cloud_run_v2_service_iam_member.pubsub_invoker lets allUsers hold roles/run.invoker on a function; only the Pub/Sub push identity may invoke",
            TerraformInvariants.OnlyPubSubInvokes(broken));
    }

    [Fact]
    public void NoHardCodedProjectId_Configuration_HasNoViolations() =>
        Assert.Empty(TerraformInvariants.NoHardCodedProjectId(terraform.Tree));

    [Fact]
    public void NoHardCodedProjectId_LiteralProjectAttribute_ReportsIt()
    {
        var broken = terraform.ParseBroken("secrets.tf", "  secret_id = \"kfci-github-token\"\n  project   = var.project_id", "  secret_id = \"kfci-github-token\"\n  project   = \"kubeflow-ci\"");

        Assert.Contains("secrets.tf: project = \"kubeflow-ci\" (use var.project_id)", TerraformInvariants.NoHardCodedProjectId(broken));
    }

    [Fact]
    public void NoHardCodedProjectId_LiteralProjectInPath_ReportsIt()
    {
        var broken = terraform.ParseBroken("identities.tf", "  service_account_id = google_service_account.test_vm.name", "  service_account_id = \"projects/kubeflow-ci/serviceAccounts/kfci-test-vm@kubeflow-ci.iam.gserviceaccount.com\"");

        Assert.Contains(
            "identities.tf: service_account_id contains the literal project id in 'projects/kubeflow-ci' (use var.project_id)",
            TerraformInvariants.NoHardCodedProjectId(broken));
    }

    [Fact]
    public void VariablesAreDescribed_Configuration_HasNoViolations() =>
        Assert.Empty(TerraformInvariants.VariablesAreDescribed(terraform.Tree));

    [Fact]
    public void VariablesAreDescribed_MissingDescriptionAndValidation_ReportsBoth()
    {
        var broken = terraform.ParseBroken(
            "variables.tf",
            "variable \"scheduler_time_zone\" {",
            "variable \"undocumented\" {\n  type = number\n}\n\nvariable \"scheduler_time_zone\" {");

        var violations = TerraformInvariants.VariablesAreDescribed(broken);

        Assert.Contains("var.undocumented (variables.tf) has no description", violations);
        Assert.Contains("var.undocumented (variables.tf) is required or numeric but has no validation block", violations);
    }

    [Fact]
    public void EnvironmentMatchesCode_Configuration_HasNoViolations() =>
        Assert.Empty(TerraformInvariants.EnvironmentMatchesCode(terraform.Tree, CodeEnvironment.Scan(terraform.RepositoryRoot)));

    [Fact]
    public void EnvironmentMatchesCode_UnknownVariableSet_ReportsIt()
    {
        var broken = terraform.ParseBroken("functions.tf", "FUNCTION_TARGET     = \"Janitor\"", "FUNCTION_TARGET     = \"Janitor\"\n        KFCI_JANITOR_MODE = \"aggressive\"");

        Assert.Contains(
            "Terraform sets KFCI_JANITOR_MODE for janitor, which the code does not know (not in KfciEnvironment.cs nor read anywhere)",
            TerraformInvariants.EnvironmentMatchesCode(broken, CodeEnvironment.Scan(terraform.RepositoryRoot)));
    }

    [Fact]
    public void EnvironmentMatchesCode_VariableReadButNotSet_ReportsIt()
    {
        var sources = Directory.CreateTempSubdirectory("kfci-sources-");
        try
        {
            Directory.CreateDirectory(Path.Combine(sources.FullName, "shared", "Configuration"));
            File.Copy(
                Path.Combine(terraform.RepositoryRoot, "shared", "Configuration", "KfciEnvironment.cs"),
                Path.Combine(sources.FullName, "shared", "Configuration", "KfciEnvironment.cs"));
            Directory.CreateDirectory(Path.Combine(sources.FullName, "functions", "Watcher"));
            File.WriteAllText(
                Path.Combine(sources.FullName, "functions", "Watcher", "Settings.cs"),
                "var bucket = Environment.GetEnvironmentVariable(KfciEnvironment.ResultsBucket);\nvar extra = Environment.GetEnvironmentVariable(\"KFCI_WATCHER_GRACE\");\n");

            var violations = TerraformInvariants.EnvironmentMatchesCode(terraform.Tree, CodeEnvironment.Scan(sources.FullName));

            Assert.Contains("functions/Watcher reads KFCI_RESULTS_BUCKET but Terraform does not set it for watcher", violations);
            Assert.Contains("functions/Watcher reads KFCI_WATCHER_GRACE but Terraform does not set it for watcher", violations);
        }
        finally
        {
            sources.Delete(recursive: true);
        }
    }

    [Fact]
    public void EnvironmentMatchesCode_EnvNotPassedToContainer_ReportsIt()
    {
        var broken = terraform.ParseBroken("functions.tf", "each.value.uses_cluster ? local.cluster_env : {}, ", "");

        Assert.Contains(
            "the function service's container env does not include local.cluster_env",
            TerraformInvariants.EnvironmentMatchesCode(broken, CodeEnvironment.Scan(terraform.RepositoryRoot)));
    }

    [Fact]
    public void EnvironmentByFunction_Trigger_HasItsTopicTokenAndCluster()
    {
        var trigger = TerraformInvariants.EnvironmentByFunction(terraform.Tree)["trigger"];

        Assert.Contains("KFCI_TOPIC_RUN_SUBMITTED", trigger);
        Assert.Contains("KFCI_GITHUB_TOKEN", trigger);
        Assert.Contains("KFCI_CLUSTER_ENDPOINT", trigger);
        Assert.DoesNotContain("KFCI_TOPIC_RUN_FINISHED", trigger);
    }
}
