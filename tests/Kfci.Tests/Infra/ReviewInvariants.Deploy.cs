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
}
