using System.Text.Json;
using CloudNative.CloudEvents;
using Kfci.Hosting;
using Kfci.Http;
using Kfci.PubSub;
using Kfci.Runs;
using Kfci.Storage;
using Microsoft.Extensions.Logging;

namespace Kfci.Functions.Uploader;

/// <summary>
/// The Uploader: on <c>run.submitted</c> writes the build's <c>started.json</c>; on <c>run.completed</c> writes the
/// results of every workflow, then <c>finished.json</c> (create-only, last), the presubmit alias and
/// <c>latest-build.txt</c>, publishes <c>run.finished</c> and marks the run finished. Redelivery rewrites identical
/// objects; a finished run is left alone. In a Prow-owned build (a crier report's run) Prow's pod writes the metadata,
/// the log and the pointers: kfci writes only under <c>artifacts/</c> (<see cref="BuildResults"/>).
/// </summary>
public sealed class Function(
    IRunStore runs,
    ITestSummaryStore tests,
    IResultsStore store,
    IEventPublisher publisher,
    ResultsUploader uploader,
    GitHub.ICommitStatusReporter statuses,
    UploaderSettings settings,
    TimeProvider time,
    ILogger<Function> logger) : IMessagePublishedFunction
{
    private static readonly ObjectWriteOptions s_finished = new() { ContentType = "application/json", CreateOnly = true };

    public async Task<FunctionOutcome> HandleAsync(CloudEvent cloudEvent, MessagePublishedData data, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cloudEvent);
        ArgumentNullException.ThrowIfNull(data);
        var runEvent = Decode(data.Message);
        var run = await runs.GetAsync(runEvent.RunId, cancellationToken);
        if (run is null)
        {
            return FunctionOutcome.Reject($"{runEvent.Event} for run {runEvent.RunId}, which does not exist");
        }

        if (run.State == RunState.Finished)
        {
            logger.LogInformation("Run {RunId} is already finished ({Result}); {Event} ignored", run.RunId, run.Result, runEvent.Event);
            return FunctionOutcome.Success();
        }

        var build = BuildResults.For(run, settings.Layout, settings.ResultsBucket);
        try
        {
            if (runEvent.Event == RunEventTypes.Submitted)
            {
                if (build.ProwOwned)
                {
                    logger.LogInformation("Run {RunId}: Prow owns {Directory}; its pod writes started.json", run.RunId, store.Describe(build.Directory));
                    return FunctionOutcome.Success();
                }

                await uploader.WriteStartedAsync(run, build, cancellationToken);
                logger.LogInformation("Run {RunId}: wrote {Object}", run.RunId, store.Describe(build.StartedJson));
                await ReportAsync(run, build, GitHub.CommitStatusState.Pending, GitHub.RunStatuses.Submitted(run), cancellationToken);
                return FunctionOutcome.Success();
            }

            if (run.State != RunState.Completed)
            {
                return FunctionOutcome.Reject($"run.completed for run {run.RunId}, which is {run.State.ToWire()}, not completed");
            }

            await FinishAsync(run, build, cancellationToken);
            return FunctionOutcome.Success();
        }
        catch (Exception e) when (Transience.IsTransient(e, cancellationToken))
        {
            logger.LogWarning(e, "Run {RunId}: {Event} failed transiently; it will be redelivered", run.RunId, runEvent.Event);
            return FunctionOutcome.Transient($"results store or cluster unavailable: {e.Message}");
        }
    }

    /// <summary>
    /// Everything, then <c>finished.json</c>. When it already exists (a crash after writing it, or a concurrent duplicate
    /// that won) only the bookkeeping is left: its verdict is the one that stands.
    /// </summary>
    private async Task FinishAsync(RunRecord run, BuildResults build, CancellationToken cancellationToken)
    {
        var result = await ExistingResultAsync(build, cancellationToken);
        int? testsFailed = null;
        if (result is null)
        {
            if (!build.ProwOwned)
            {
                await uploader.WriteStartedAsync(run, build, cancellationToken);
            }

            var summary = await uploader.UploadAsync(run, build, cancellationToken);

            // Before finished.json, so a crash in between leaves the run unfinished and redelivery writes the same documents.
            await tests.WriteAsync(summary.Tests, cancellationToken);
            result = ProwMetadata.Verdict(run, summary.JunitFailures);
            testsFailed = summary.JunitFailures;
            var finished = ProwMetadata.Finished(run, build.Refs, result, run.CompletedAt ?? time.GetUtcNow(), summary.Metadata);
            using var content = new MemoryStream(finished, writable: false);
            if (await store.WriteAsync(build.FinishedJson, content, s_finished, cancellationToken) is null)
            {
                result = await ExistingResultAsync(build, cancellationToken) ?? result;
            }
        }

        if (!build.ProwOwned)
        {
            await WritePointersAsync(run, build, cancellationToken);
        }

        var (state, description) = GitHub.RunStatuses.Final(run, result, testsFailed);
        await ReportAsync(run, build, state, description, cancellationToken);
        var path = store.Describe(build.Directory);
        var links = new Dictionary<string, string>(run.Links, StringComparer.Ordinal) { ["results"] = path };
        var finishedRun = run with { Result = result, ResultsPath = path, Links = links };

        // Published before the run is marked finished: a crash in between republishes on redelivery rather than never.
        await publisher.PublishAsync(settings.FinishedTopic, RunEvent.For(RunEventTypes.Finished, finishedRun).ToMessage(), cancellationToken);
        var now = time.GetUtcNow();
        await runs.UpdateAsync(
            run.RunId,
            current => current.State == RunState.Finished ? current : current.MoveTo(RunState.Finished, now, result) with
            {
                Result = result,
                ResultsPath = path,
                Links = new Dictionary<string, string>(current.Links, StringComparer.Ordinal) { ["results"] = path },
                FinishedAt = now,
            },
            cancellationToken);
        logger.LogInformation("Run {RunId} finished: {Result}, results in {Path}", run.RunId, result, path);
    }

    /// <summary>A kfci-owned pull-request run's commit status (before the run is marked finished, so a failure is redelivered).</summary>
    private async Task ReportAsync(RunRecord run, BuildResults build, GitHub.CommitStatusState state, string description, CancellationToken cancellationToken)
    {
        if (GitHub.RunStatuses.For(run, state, description, settings.StatusUrlTemplate, build.Directory) is { } status)
        {
            await statuses.ReportAsync(status, cancellationToken);
        }
    }

    private async Task<string?> ExistingResultAsync(BuildResults build, CancellationToken cancellationToken)
    {
        await using var existing = await store.OpenReadAsync(build.FinishedJson, cancellationToken);
        return existing is null ? null : ProwMetadata.ResultOf(existing) ?? RunResults.Failure;
    }

    /// <summary>The presubmit alias (<c>x-goog-meta-link</c>) and <c>latest-build.txt</c>, which never goes back to an older build.</summary>
    private async Task WritePointersAsync(RunRecord run, BuildResults build, CancellationToken cancellationToken)
    {
        var primary = build.Refs.Primary;
        if (build.Type == Prow.JobType.Presubmit)
        {
            var link = store.Describe(build.Directory);
            var alias = new ObjectWriteOptions { ContentType = "text/plain", Metadata = new Dictionary<string, string>(StringComparer.Ordinal) { ["link"] = link } };
            await uploader.WriteBytesAsync(settings.Layout.PresubmitAlias(run.JobName, run.BuildId), System.Text.Encoding.UTF8.GetBytes(link), alias, cancellationToken);
        }

        var latest = new ObjectWriteOptions { ContentType = "text/plain", CacheControl = "no-cache" };
        foreach (var path in settings.Layout.LatestBuildFiles(build.Type, run.JobName, primary?.Org, primary?.Repo, primary?.FirstPull?.Number ?? run.PullNumber))
        {
            if (await IsNewerBuildRecordedAsync(path, run.BuildId, cancellationToken))
            {
                continue;
            }

            await uploader.WriteBytesAsync(path, System.Text.Encoding.UTF8.GetBytes(run.BuildId), latest, cancellationToken);
        }
    }

    private async Task<bool> IsNewerBuildRecordedAsync(string path, string buildId, CancellationToken cancellationToken)
    {
        await using var existing = await store.OpenReadAsync(path, cancellationToken);
        if (existing is null)
        {
            return false;
        }

        using var reader = new StreamReader(existing);
        var recorded = (await reader.ReadToEndAsync(cancellationToken)).Trim();
        return ulong.TryParse(recorded, out var other) && ulong.TryParse(buildId, out var mine) && other > mine;
    }

    /// <summary>The run event of a message: its type from the <c>kfci.event</c> attribute, else from the data.</summary>
    /// <exception cref="PermanentEventException">Not a run.submitted or run.completed event.</exception>
    private static RunEvent Decode(PubSubMessage message)
    {
        var type = message.Attributes.TryGetValue(RunEvent.EventAttribute, out var attribute) ? attribute : PeekEvent(message.Data);
        if (type is not (RunEventTypes.Submitted or RunEventTypes.Completed))
        {
            throw new PermanentEventException($"the Uploader handles run.submitted and run.completed, not '{type ?? "(no event type)"}'");
        }

        try
        {
            return RunEvent.Parse(message.Data, type);
        }
        catch (FormatException e)
        {
            throw new PermanentEventException(e.Message, e);
        }
    }

    private static string? PeekEvent(ReadOnlyMemory<byte> data)
    {
        try
        {
            using var document = JsonDocument.Parse(data);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("event", out var e) && e.ValueKind == JsonValueKind.String
                ? e.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
