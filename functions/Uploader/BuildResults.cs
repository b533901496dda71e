using Kfci.Hosting;
using Kfci.Prow;
using Kfci.Runs;

namespace Kfci.Functions.Uploader;

/// <summary>Where one run's results go: its Prow build directory and the names of the files in it.</summary>
public sealed record BuildResults(JobType Type, string Directory, JobSpecRefs Refs)
{
    public string StartedJson => $"{Directory}/started.json";

    public string FinishedJson => $"{Directory}/finished.json";

    public string BuildLog => $"{Directory}/build-log.txt";

    public string Artifacts => $"{Directory}/artifacts/";

    public string WorkflowYaml(string workflow) => $"{Directory}/{workflow}.yaml";

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

    /// <summary>The run's build directory from its job type and JobSpec.</summary>
    /// <exception cref="PermanentEventException">The run's job type or JobSpec is unusable: no retry will change it.</exception>
    public static BuildResults For(RunRecord run, ResultsLayout layout)
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

        var primary = refs.Primary;
        try
        {
            var directory = layout.BuildDirectory(type, run.JobName, run.BuildId, primary?.Org, primary?.Repo, primary?.FirstPull?.Number ?? run.PullNumber);
            return new BuildResults(type, directory, refs);
        }
        catch (ArgumentException e)
        {
            throw new PermanentEventException($"run {run.RunId} has no results path: {e.Message}", e);
        }
    }
}
