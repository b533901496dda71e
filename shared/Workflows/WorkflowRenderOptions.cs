using System.Globalization;
using Kfci.Configuration;

namespace Kfci.Workflows;

/// <summary>The installation-wide settings the renderer needs; <see cref="FromEnvironment"/> reads them as the Trigger does.</summary>
public sealed record WorkflowRenderOptions
{
    public const string DefaultNamespace = "kubeflow-test-infra";
    public const string DefaultNfsClaim = "nfs-external";
    /// <summary>
    /// A local build of infra/images/test-worker (<c>docker build -t kfci/test-worker infra/images/test-worker</c>); the
    /// cloud sets <c>KFCI_STEP_IMAGE</c> to the image Cloud Build pushed (Kubeflow's own test-worker registry is gone).
    /// </summary>
    public const string DefaultStepImage = "kfci/test-worker:latest";

    /// <summary>Where the NFS claim is mounted in kubeflow's workflows; <c>test_dir</c> is below it.</summary>
    public const string MountPath = "/mnt/test-data-volume";

    public const int DefaultDeadlineMinutes = 180;

    public string Namespace { get; init; } = DefaultNamespace;

    /// <summary>The results bucket (<c>bucket</c> parameter); empty when none is configured (the local stack).</summary>
    public string Bucket { get; init; } = "";

    public string StepImage { get; init; } = DefaultStepImage;

    public string NfsClaim { get; init; } = DefaultNfsClaim;

    /// <summary>Local stack: the directory of <c>org/repo</c> git repositories, so <c>repo_url</c> is a path; null = GitHub.</summary>
    public string? GitRoot { get; init; }

    /// <summary><c>spec.activeDeadlineSeconds</c> for workflows that set none: the run deadline.</summary>
    public long ActiveDeadlineSeconds { get; init; } = DefaultDeadlineMinutes * 60L;

    /// <summary>What workflows may do and which service account they run as (<c>KFCI_WORKFLOW_POLICY</c>).</summary>
    public WorkflowPolicy Policy { get; init; } = WorkflowPolicy.Default;

    /// <summary>
    /// How long Argo keeps a finished workflow's pods (<c>podGC.deleteDelayDuration</c>): long enough for the Uploader,
    /// which runs after <c>run.completed</c>, to read every pod's log.
    /// </summary>
    public string PodDeleteDelay { get; init; } = "1h";

    /// <summary>
    /// <c>KFCI_WORKFLOW_NAMESPACE</c>, <c>KFCI_RESULTS_BUCKET</c>, <c>KFCI_STEP_IMAGE</c>, <c>KFCI_GIT_ROOT</c>, <c>KFCI_RUN_DEADLINE_MINUTES</c> and <c>KFCI_WORKFLOW_POLICY</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The deadline is not a positive whole number of minutes, or the policy is invalid.</exception>
    public static WorkflowRenderOptions FromEnvironment(Func<string, string?> getEnv)
    {
        ArgumentNullException.ThrowIfNull(getEnv);
        var deadline = DefaultDeadlineMinutes;
        if (Value(getEnv, KfciEnvironment.RunDeadlineMinutes) is { } text
            && (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out deadline) || deadline <= 0))
        {
            throw new InvalidOperationException($"{KfciEnvironment.RunDeadlineMinutes} must be a positive number of minutes, not '{text}'");
        }

        return new WorkflowRenderOptions
        {
            Namespace = Value(getEnv, KfciEnvironment.WorkflowNamespace) ?? DefaultNamespace,
            Bucket = Value(getEnv, KfciEnvironment.ResultsBucket) ?? "",
            StepImage = Value(getEnv, KfciEnvironment.StepImage) ?? DefaultStepImage,
            GitRoot = Value(getEnv, KfciEnvironment.GitRoot),
            ActiveDeadlineSeconds = deadline * 60L,
            Policy = WorkflowPolicy.FromEnvironment(getEnv),
        };
    }

    private static string? Value(Func<string, string?> getEnv, string name) =>
        getEnv(name) is { } value && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;
}
