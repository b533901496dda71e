using Kfci.Hosting;
using Kfci.Prow;
using Kfci.Runs;

namespace Kfci.Functions.Uploader;

/// <summary>
/// Where one run's results go: its Prow build directory and the names of the files in it. A kfci-owned build gets the
/// whole folder; in a Prow-owned one (<see cref="ProwOwned"/>) Prow's pod and sidecar write <c>started.json</c>,
/// <c>finished.json</c>, <c>build-log.txt</c> and the pointers, so every name kfci writes is under <c>artifacts/</c>.
/// </summary>
public sealed record BuildResults(JobType Type, string Directory, JobSpecRefs Refs, bool ProwOwned = false)
{
    /// <summary>Prow's <c>started.json</c>; kfci writes it only for the builds it owns.</summary>
    public string StartedJson => $"{Directory}/started.json";

    /// <summary>
    /// The create-only object that commits the verdict: <c>finished.json</c> in a kfci-owned build; in a Prow-owned one
    /// kfci's own <c>artifacts/kfci-finished.json</c> (same content), since the sidecar writes <c>finished.json</c>.
    /// </summary>
    public string FinishedJson => ProwOwned ? $"{Directory}/artifacts/kfci-finished.json" : $"{Directory}/finished.json";

    /// <summary>The combined log: Spyglass's <c>build-log.txt</c>, or kfci's <c>artifacts/kfci-build-log.txt</c> beside Prow's.</summary>
    public string BuildLog => ProwOwned ? $"{Directory}/artifacts/kfci-build-log.txt" : $"{Directory}/build-log.txt";

    public string Artifacts => $"{Directory}/artifacts/";

    public string WorkflowYaml(string workflow) => ProwOwned ? $"{Directory}/artifacts/{workflow}.yaml" : $"{Directory}/{workflow}.yaml";

    /// <summary>Whether kfci may write <paramref name="path"/>: anything in its own builds, only <c>artifacts/</c> in Prow's.</summary>
    public bool MayWrite(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return path.StartsWith(ProwOwned ? Artifacts : Directory + "/", StringComparison.Ordinal) && !path.Contains("/../", StringComparison.Ordinal);
    }

    public string StepLog(string workflow, WorkflowStep step) => $"{Directory}/artifacts/logs/{workflow}/{step.FileName}.log";

    public string PodInfo(string workflow, WorkflowStep step) => $"{Directory}/artifacts/podinfo/{workflow}/{step.FileName}.json";

    /// <summary>The junit report kfci synthesizes for a workflow.</summary>
    public string SynthesizedJunit(string workflow) => $"{Directory}/artifacts/junit_{workflow}.xml";

    /// <summary>
    /// Where a junit report a workflow's step wrote is kept: <c>artifacts/junit_&lt;workflow&gt;__&lt;path&gt;</c>. Kubernetes
    /// names cannot hold '_', so no two workflows (and not the synthesized report) can share a name, and it still matches
    /// Spyglass's <c>^artifacts/junit.*\.xml$</c>.
    /// </summary>
    public string CollectedJunit(string workflow, string relativePath) => $"{Directory}/artifacts/junit_{workflow}__{relativePath.Replace('/', '_')}";

    /// <summary>Any other artifact of a workflow (local stack: copied from its NFS artifacts directory).</summary>
    public string WorkflowArtifact(string workflow, string relativePath) => $"{Directory}/artifacts/{workflow}/{relativePath}";

    /// <summary>
    /// The run's build directory: for a Prow-owned build the folder crier's <c>gcs_path</c> named (Prow decided it, with
    /// its own path prefix and strategy), else the one <paramref name="layout"/> derives from its job type and JobSpec.
    /// </summary>
    /// <param name="resultsBucket">The bucket kfci writes; null when it has no name to check (a local directory).</param>
    /// <exception cref="PermanentEventException">The run's job type, JobSpec or gcs_path is unusable: no retry will change it.</exception>
    public static BuildResults For(RunRecord run, ResultsLayout layout, string? resultsBucket = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(layout);
        if (!JobTypes.TryParse(run.JobType, out var type))
        {
            throw new PermanentEventException($"run {run.RunId} has job type '{run.JobType}', not a Prow job type");
        }

        JobSpecRefs refs;
        try
        {
            refs = JobSpecRefs.Parse(run.JobSpec);
        }
        catch (FormatException e)
        {
            throw new PermanentEventException($"run {run.RunId}: {e.Message}", e);
        }

        if (run.IsProwOwned && run.Links.TryGetValue(RunLinks.ProwGcsPath, out var gcsPath))
        {
            return new BuildResults(type, ProwDirectory(run.RunId, gcsPath, resultsBucket), refs, ProwOwned: true);
        }

        var primary = refs.Primary;
        try
        {
            var directory = layout.BuildDirectory(type, run.JobName, run.BuildId, primary?.Org, primary?.Repo, primary?.FirstPull?.Number ?? run.PullNumber);
            return new BuildResults(type, directory, refs, run.IsProwOwned);
        }
        catch (ArgumentException e)
        {
            throw new PermanentEventException($"run {run.RunId} has no results path: {e.Message}", e);
        }
    }

    /// <summary>The object prefix of crier's <c>gs://bucket/path</c>, which must be in the bucket kfci writes.</summary>
    private static string ProwDirectory(string runId, string gcsPath, string? resultsBucket)
    {
        const string scheme = "gs://";
        var rest = gcsPath.StartsWith(scheme, StringComparison.Ordinal) ? gcsPath[scheme.Length..] : null;
        var slash = rest?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        if (rest is null || slash <= 0)
        {
            throw new PermanentEventException($"run {runId}: crier's gcs_path '{gcsPath}' is not gs://bucket/path");
        }

        var bucket = rest[..slash];
        var directory = rest[(slash + 1)..].Trim('/');
        if (resultsBucket is not null && bucket != resultsBucket)
        {
            throw new PermanentEventException($"run {runId}: Prow writes this build to bucket {bucket}, not kfci's results bucket {resultsBucket}: point Prow's default GCS configuration at {resultsBucket}");
        }

        try
        {
            Kfci.Storage.ObjectPaths.Validate(directory, "gcs_path");
        }
        catch (ArgumentException e)
        {
            throw new PermanentEventException($"run {runId}: crier's gcs_path is no usable folder: {e.Message}", e);
        }

        return directory;
    }
}
