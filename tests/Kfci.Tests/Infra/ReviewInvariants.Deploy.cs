using System.Text.Json;

namespace Kfci.Tests.Infra;

/// <summary>
/// The third review of issue 14 (review14.md): what a deployment pulls, who may act as whom, and what the first apply
/// races. Each returns the violations it found.
/// </summary>
internal static partial class ReviewInvariants
{
    private const string RetiredRegistry = "gcr.io/kubeflow-ci";

    /// <summary>What a deployment reads, builds or documents (tests/fixtures keeps Kubeflow's history verbatim).</summary>
    private static readonly string[] s_deployedPaths = ["shared", "functions", "cli", "infra", "docs", "scripts", "README.md"];

    /// <summary>
    /// Workflow steps run an image that exists: the Trigger gets <c>KFCI_STEP_IMAGE</c> naming the test worker in kfci's
    /// repository, which cloudbuild.yaml builds from a Dockerfile in the repository.
    /// </summary>
    public static IReadOnlyList<string> StepImageIsBuiltAndSet(TerraformTree tree, string repositoryRoot)
    {
        ArgumentNullException.ThrowIfNull(tree);
        ArgumentNullException.ThrowIfNull(repositoryRoot);
        var violations = new List<string>();
        var env = tree.Locals.TryGetValue("functions", out var functions) && functions.TryGetProperty("trigger", out var trigger)
            && trigger.TryGetProperty("env", out var e) ? e : default;
        if (Hcl.Attribute(env, "KFCI_STEP_IMAGE") != "${local.image_repository}/test-worker:${var.image_tag}")
        {
            violations.Add("the Trigger's env does not set KFCI_STEP_IMAGE to ${local.image_repository}/test-worker:${var.image_tag}: steps would run the default image");
        }

        var constants = File.ReadAllText(Path.Combine(repositoryRoot, "shared", "Configuration", "KfciEnvironment.cs"));
        if (!constants.Contains("\"KFCI_STEP_IMAGE\"", StringComparison.Ordinal))
        {
            violations.Add("KfciEnvironment has no KFCI_STEP_IMAGE: the renderer cannot be told the step image");
        }

        var build = File.ReadAllText(Path.Combine(repositoryRoot, "infra", "terraform", "cloudbuild.yaml"));
        if (!build.Contains("  - ${_REGION}-docker.pkg.dev/${PROJECT_ID}/kfci/test-worker:${_TAG}", StringComparison.Ordinal))
        {
            violations.Add("cloudbuild.yaml does not push kfci/test-worker:${_TAG}, the image KFCI_STEP_IMAGE names");
        }

        if (!File.Exists(Path.Combine(repositoryRoot, "infra", "images", "test-worker", "Dockerfile")))
        {
            violations.Add("infra/images/test-worker/Dockerfile is missing");
        }

        return violations;
    }

    /// <summary>Nothing kfci deploys, builds or documents names an image of the retired gcr.io/kubeflow-ci registry.</summary>
    public static IReadOnlyList<string> NoRetiredImages(string repositoryRoot)
    {
        ArgumentNullException.ThrowIfNull(repositoryRoot);
        var files = s_deployedPaths.Select(p => Path.Combine(repositoryRoot, p)).SelectMany(p => File.Exists(p)
            ? [p]
            : Directory.Exists(p) ? Directory.EnumerateFiles(p, "*", SearchOption.AllDirectories) : []);
        return [.. files
            .Where(f => !Path.GetRelativePath(repositoryRoot, f).Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj" or "node_modules"))
            .Where(f => File.ReadAllText(f).Contains(RetiredRegistry, StringComparison.Ordinal))
            .Select(f => $"{Path.GetRelativePath(repositoryRoot, f).Replace('\\', '/')} names an image of {RetiredRegistry}, which no longer exists")];
    }

    /// <summary>
    /// The cluster module's Kubernetes and Helm providers get credentials from gke-gcloud-auth-plugin on each run: no
    /// <c>google_client_config</c> access token, which Terraform would store in the state file.
    /// </summary>
    public static IReadOnlyList<string> ClusterProvidersUseExec(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var violations = new List<string>();
        violations.AddRange(Sections(tree, "data").Where(d => d.Name == "google_client_config")
            .Select(d => $"{d.File} reads data.google_client_config: its access token is stored in the state file"));
        var providers = Sections(tree, "provider").Where(p => p.File.StartsWith("cluster/", StringComparison.Ordinal)).ToList();
        foreach (var name in new[] { "kubernetes", "helm" })
        {
            var bodies = providers.Where(p => p.Name == name).SelectMany(p => p.Value.EnumerateArray())
                .Select(b => name == "helm" ? Hcl.Blocks(b, "kubernetes").FirstOrDefault() : b).ToList();
            if (bodies.Count == 0 || bodies.Any(b => Hcl.Attribute(b, "token") is not null
                || !Hcl.Blocks(b, "exec").Any(e => Hcl.Attribute(e, "command") == "gke-gcloud-auth-plugin" && Hcl.Attribute(e, "api_version") == "client.authentication.k8s.io/v1beta1")))
            {
                violations.Add($"the cluster module's {name} provider does not authenticate with exec {{ command = \"gke-gcloud-auth-plugin\" }} alone");
            }
        }

        return violations;
    }

    /// <summary>
    /// No Cloud Run revision is created before its secretAccessor grants have propagated: the services depend on a
    /// time_sleep triggered by every Secret Manager grant.
    /// </summary>
    public static IReadOnlyList<string> SecretGrantsPropagateFirst(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var services = tree.ResourcesOfType("google_cloud_run_v2_service").ToList();
        var violations = new List<string>();
        foreach (var service in services)
        {
            var waits = Hcl.References(Hcl.Attribute(service.Body, "depends_on"), "time_sleep").Select(n => tree.Resource("time_sleep", n)).OfType<TerraformBlock>().ToList();
            var triggered = waits.SelectMany(w => Hcl.Strings(w.Body)).SelectMany(v => Hcl.References(v.Value, "google_secret_manager_secret_iam_member")).ToHashSet(StringComparer.Ordinal);
            violations.AddRange(tree.ResourcesOfType("google_secret_manager_secret_iam_member").Where(g => !triggered.Contains(g.Name))
                .Select(g => $"{service.Address} may start before {g.Address} has propagated (depends_on a time_sleep triggered by it)"));
        }

        return violations;
    }

    /// <summary>
    /// Issue 11 and P2-5: Prow's own job accounts may read runs and results, Prow's nodes may pull kfci's image, and the
    /// prow_wait output names the environment kfci wait needs.
    /// </summary>
    public static IReadOnlyList<string> ProwCanRunKfciWait(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var violations = new List<string>();
        bool Grants(string type, string role, string forEach, Func<TerraformBlock, bool> on) => tree.ResourcesOfType(type).Any(r =>
            Hcl.Attribute(r.Body, "role") == role && (Hcl.Attribute(r.Body, "for_each") ?? "").Contains(forEach, StringComparison.Ordinal) && on(r));
        if (!Grants("google_project_iam_member", "roles/datastore.viewer", "var.prow_job_service_accounts", _ => true))
        {
            violations.Add("var.prow_job_service_accounts are not granted roles/datastore.viewer on the project");
        }

        if (!Grants("google_storage_bucket_iam_member", "roles/storage.objectViewer", "var.prow_job_service_accounts", r => IsResultsBucket(Hcl.Attribute(r.Body, "bucket"))))
        {
            violations.Add("var.prow_job_service_accounts are not granted roles/storage.objectViewer on the results bucket");
        }

        if (!Grants("google_artifact_registry_repository_iam_member", "roles/artifactregistry.reader", "var.prow_image_readers",
            r => Hcl.References(Hcl.Attribute(r.Body, "repository"), "google_artifact_registry_repository").Contains("functions")))
        {
            violations.Add("var.prow_image_readers are not granted roles/artifactregistry.reader on kfci's repository: Prow's nodes cannot pull the kfci wait image");
        }

        var output = Sections(tree, "output").Where(o => o.Name == "prow_wait").SelectMany(o => o.Value.EnumerateArray()).Select(o => Hcl.Attribute(o, "value") ?? "").FirstOrDefault() ?? "";
        violations.AddRange(new[] { "KFCI_PROJECT", "KFCI_FIRESTORE_DATABASE" }.Where(k => !output.Contains(k, StringComparison.Ordinal))
            .Select(k => $"output.prow_wait does not print {k}"));
        return violations;
    }

    /// <summary>
    /// Issue 11: the results bucket may be Prow's existing one, which kfci then neither creates nor manages; everything
    /// names it through local.results_bucket, and Prow's writers and readers get object access on it.
    /// </summary>
    public static IReadOnlyList<string> ResultsBucketMayBeProws(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var violations = new List<string>();
        var bucket = tree.Resource("google_storage_bucket", "results");
        if (bucket is null || Hcl.Attribute(bucket.Body, "count") != "${var.results_bucket_existing ? 0 : 1}")
        {
            violations.Add("google_storage_bucket.results is created even when results_bucket_existing names Prow's bucket (count on var.results_bucket_existing)");
        }

        violations.AddRange(tree.Resources.Where(r => Hcl.Strings(r.Body).Any(s => s.Value.Contains("google_storage_bucket.results.", StringComparison.Ordinal)))
            .Select(r => $"{r.Address} names google_storage_bucket.results, which does not exist with results_bucket_existing; use local.results_bucket"));
        foreach (var (members, role) in new[] { ("prow_gcs_writers", "roles/storage.objectAdmin"), ("prow_gcs_readers", "roles/storage.objectViewer") })
        {
            if (!tree.ResourcesOfType("google_storage_bucket_iam_member").Any(r => Hcl.Attribute(r.Body, "role") == role
                && (Hcl.Attribute(r.Body, "for_each") ?? "").Contains($"var.{members}", StringComparison.Ordinal) && IsResultsBucket(Hcl.Attribute(r.Body, "bucket"))))
            {
                violations.Add($"var.{members} are not granted {role} on the results bucket");
            }
        }

        return violations;
    }

    /// <summary>Whether a bucket expression is the results bucket (the resource kfci creates, or the one it was given).</summary>
    internal static bool IsResultsBucket(string? bucket) =>
        bucket is "${local.results_bucket}" || Hcl.References(bucket, "google_storage_bucket").Contains("results");

    private static IEnumerable<(string File, string Name, JsonElement Value)> Sections(TerraformTree tree, string section) =>
        tree.Files.EnumerateObject().SelectMany(f => f.Value.TryGetProperty(section, out var s) && s.ValueKind == JsonValueKind.Object
            ? s.EnumerateObject().Select(p => (f.Name.Replace('\\', '/'), p.Name, p.Value))
            : []);
}
