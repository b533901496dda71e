namespace Kfci.Tests.Infra;

/// <summary>
/// The dashboard's Cloud Run service (infra/terraform/dashboard.tf): nobody reaches it without passing IAP, and what
/// it runs as can only read.
/// </summary>
[Collection(TerraformCollection.Name)]
public sealed class DashboardTerraformTests(TerraformFixture terraform)
{
    private const string File = "dashboard.tf";

    [Fact]
    public void Dashboard_Configuration_HasNoViolations() =>
        Assert.Empty(DashboardTerraformInvariants.Violations(terraform.Tree));

    /// <summary>
    /// The collection-group queries behind the grid, the flakiness page and the test page (jobName == X, createdAt ≥ T,
    /// newest first; and createdAt alone across jobs) need indexes Firestore does not make by itself.
    /// </summary>
    [Theory]
    [InlineData(Kfci.Runs.TestColumns.Collection)]
    [InlineData(Kfci.Runs.TestSummaries.Collection)]
    public void Firestore_DashboardQueries_HaveTheirCollectionGroupIndexes(string collection)
    {
        var composite = terraform.Tree.ResourcesOfType("google_firestore_index")
            .Where(i => Hcl.Attribute(i.Body, "collection") == collection && Hcl.Attribute(i.Body, "query_scope") == "COLLECTION_GROUP")
            .Select(i => string.Join(",", Hcl.Blocks(i.Body, "fields").Select(f => $"{Hcl.Attribute(f, "field_path")} {Hcl.Attribute(f, "order")}")));
        Assert.Contains("jobName ASCENDING,createdAt DESCENDING", composite);

        var single = terraform.Tree.ResourcesOfType("google_firestore_field")
            .Where(f => Hcl.Attribute(f.Body, "collection") == collection && Hcl.Attribute(f.Body, "field") == "createdAt")
            .SelectMany(f => Hcl.Blocks(f.Body, "index_config").SelectMany(c => Hcl.Blocks(c, "indexes")))
            .Select(i => $"{Hcl.Attribute(i, "order")} {Hcl.Attribute(i, "query_scope")}");
        Assert.Contains("DESCENDING COLLECTION_GROUP", single);
    }

    [Fact]
    public void Firestore_LargeUnqueriedFields_AreExemptFromIndexing()
    {
        var exempt = terraform.Tree.Resource("google_firestore_field", "unindexed");

        Assert.NotNull(exempt);
        var pairs = Hcl.Strings(exempt.Body).Where(s => s.Attribute is "collection" or "field").Select(s => s.Value).ToList();
        foreach (var (collection, field) in new[] { ("testNames", "names"), ("columns", "results"), ("columns", "failures"), ("tests", "tests") })
        {
            Assert.Contains(pairs.Select((v, i) => (v, i)), p => p.v == collection && p.i + 1 < pairs.Count && pairs[p.i + 1] == field);
        }

        var config = Assert.Single(Hcl.Blocks(exempt.Body, "index_config"));
        Assert.Empty(Hcl.Blocks(config, "indexes"));
    }

    [Fact]
    public void Dashboard_IapOff_ReportsIt()
    {
        var broken = terraform.ParseBroken(File, "iap_enabled = true", "iap_enabled = false");

        Assert.Contains("google_cloud_run_v2_service.dashboard does not turn IAP on (iap_enabled = true)", DashboardTerraformInvariants.Violations(broken));
    }

    [Fact]
    public void Dashboard_InvokerCheckOff_ReportsIt()
    {
        var broken = terraform.ParseBroken(File, "  iap_enabled = true\n", "  iap_enabled = true\n  invoker_iam_disabled = true\n");

        Assert.Contains("google_cloud_run_v2_service.dashboard turns Cloud Run's invoker check off: its run.app URL would answer anyone IAP did not stop", DashboardTerraformInvariants.Violations(broken));
    }

    [Fact]
    public void Dashboard_PublicInvoker_ReportsIt()
    {
        var broken = terraform.ParseBroken(File, "member   = \"serviceAccount:${google_project_service_identity.iap.email}\"", "member   = \"allUsers\"");

        var violations = DashboardTerraformInvariants.Violations(broken);
        Assert.Contains("google_cloud_run_v2_service_iam_member.dashboard_iap_invoker lets allUsers hold roles/run.invoker on the dashboard; only IAP's service agent may invoke it", violations);
        Assert.Contains("IAP's service agent cannot invoke the dashboard: nobody would get past IAP", violations);
    }

    [Fact]
    public void Dashboard_PublicViewer_ReportsIt()
    {
        var broken = terraform.ParseBroken(File, "  member                 = each.value\n", "  member                 = \"allAuthenticatedUsers\"\n");

        Assert.Contains("google_iap_web_cloud_run_service_iam_member.dashboard_viewer lets allAuthenticatedUsers through IAP; only var.dashboard_viewers may", DashboardTerraformInvariants.Violations(broken));
    }

    [Fact]
    public void Dashboard_WritingRole_ReportsIt()
    {
        var broken = terraform.ParseBroken(File, "role    = \"roles/datastore.viewer\"", "role    = \"roles/datastore.user\"");

        var violations = DashboardTerraformInvariants.Violations(broken);
        Assert.Contains("the dashboard account holds roles/datastore.user through google_project_iam_member.dashboard_firestore_reader; it may only read Firestore and the results bucket", violations);
        Assert.Contains("the dashboard account lacks roles/datastore.viewer on the project", violations);
    }

    [Fact]
    public void Dashboard_ReaderOfAnotherBucket_ReportsIt()
    {
        var broken = terraform.ParseBroken(File, "bucket = local.results_bucket", "bucket = google_storage_bucket.argo_artifacts.name");

        Assert.Contains("the dashboard account holds roles/storage.objectViewer through google_storage_bucket_iam_member.dashboard_results_reader; it may only read Firestore and the results bucket", DashboardTerraformInvariants.Violations(broken));
    }

    [Fact]
    public void Dashboard_RunsAsAnotherAccount_ReportsIt()
    {
        var broken = terraform.ParseBroken(File, "service_account = google_service_account.dashboard.email", "service_account = google_service_account.uploader.email");

        Assert.Contains("google_cloud_run_v2_service.dashboard does not run as google_service_account.dashboard, the read-only account", DashboardTerraformInvariants.Violations(broken));
    }
}

/// <summary>The checks <see cref="DashboardTerraformTests"/> runs on the real configuration and on broken copies.</summary>
internal static class DashboardTerraformInvariants
{
    private const string Account = "dashboard";
    private const string Service = "google_cloud_run_v2_service";

    public static IReadOnlyList<string> Violations(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var service = tree.Resource(Service, Account);
        if (service is null)
        {
            return [$"no {Service}.{Account}"];
        }

        var violations = new List<string>();
        violations.AddRange(ServiceViolations(service));
        var grants = IamGrants.All(tree);
        violations.AddRange(InvokerViolations(grants));
        violations.AddRange(ViewerViolations(grants));
        violations.AddRange(AccountViolations(grants));
        return violations;
    }

    private static IEnumerable<string> ServiceViolations(TerraformBlock service)
    {
        if (Hcl.Attribute(service.Body, "iap_enabled") != "true")
        {
            yield return $"{service.Address} does not turn IAP on (iap_enabled = true)";
        }

        if (Hcl.Attribute(service.Body, "invoker_iam_disabled") is { } disabled && disabled != "false")
        {
            yield return $"{service.Address} turns Cloud Run's invoker check off: its run.app URL would answer anyone IAP did not stop";
        }

        var template = Hcl.Blocks(service.Body, "template").FirstOrDefault();
        if (!Hcl.References(Hcl.Attribute(template, "service_account"), "google_service_account").SetEquals([Account]))
        {
            yield return $"{service.Address} does not run as google_service_account.{Account}, the read-only account";
        }
    }

    /// <summary>Only IAP's service agent holds any role on the service itself, and it holds run.invoker.</summary>
    private static IEnumerable<string> InvokerViolations(IReadOnlyList<IamGrant> grants)
    {
        var onService = grants.Where(g => g.Resource.Type.StartsWith("google_cloud_run", StringComparison.Ordinal)
            && Hcl.References(Hcl.Attribute(g.Resource.Body, "name"), Service).Contains(Account)).ToList();
        foreach (var grant in onService.Where(g => !IsIapAgent(g.Member) || g.Role != "roles/run.invoker"))
        {
            yield return $"{grant.Resource.Address} lets {grant.Member} hold {grant.Role} on the dashboard; only IAP's service agent may invoke it";
        }

        if (!onService.Any(g => IsIapAgent(g.Member) && g.Role == "roles/run.invoker"))
        {
            yield return "IAP's service agent cannot invoke the dashboard: nobody would get past IAP";
        }
    }

    /// <summary>IAP lets through the members var.dashboard_viewers names, as https resource accessors, and no one else.</summary>
    private static IEnumerable<string> ViewerViolations(IReadOnlyList<IamGrant> grants)
    {
        foreach (var grant in grants.Where(g => g.Resource.Type.StartsWith("google_iap_web_cloud_run_service", StringComparison.Ordinal)))
        {
            var fromVariable = grant.Member == "${each.value}"
                && (Hcl.Attribute(grant.Resource.Body, "for_each") ?? "").Contains("var.dashboard_viewers", StringComparison.Ordinal);
            if (!fromVariable)
            {
                yield return $"{grant.Resource.Address} lets {grant.Member} through IAP; only var.dashboard_viewers may";
            }

            if (grant.Role != "roles/iap.httpsResourceAccessor")
            {
                yield return $"{grant.Resource.Address} grants {grant.Role}; viewers need only roles/iap.httpsResourceAccessor";
            }
        }
    }

    /// <summary>The dashboard's account reads Firestore (project-wide) and the results bucket, and holds nothing else.</summary>
    private static IEnumerable<string> AccountViolations(IReadOnlyList<IamGrant> grants)
    {
        var held = IamGrants.HeldBy(grants, Account, isFunctionAccount: false).ToList();
        foreach (var grant in held.Where(g => !IsFirestoreReader(g) && !IsResultsReader(g)))
        {
            yield return $"the dashboard account holds {grant.Role} through {grant.Resource.Address}; it may only read Firestore and the results bucket";
        }

        if (!held.Any(IsFirestoreReader))
        {
            yield return "the dashboard account lacks roles/datastore.viewer on the project";
        }

        if (!held.Any(IsResultsReader))
        {
            yield return "the dashboard account lacks roles/storage.objectViewer on the results bucket";
        }
    }

    private static bool IsFirestoreReader(IamGrant grant) =>
        grant.Resource.Type == "google_project_iam_member" && grant.Role == "roles/datastore.viewer";

    private static bool IsResultsReader(IamGrant grant) =>
        grant.Resource.Type == "google_storage_bucket_iam_member" && grant.Role == "roles/storage.objectViewer"
        && ReviewInvariants.IsResultsBucket(Hcl.Attribute(grant.Resource.Body, "bucket"));

    private static bool IsIapAgent(string member) =>
        member == "serviceAccount:${google_project_service_identity.iap.email}";
}
