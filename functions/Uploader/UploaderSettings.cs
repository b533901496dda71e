using Kfci.Configuration;
using Kfci.Http;
using Kfci.Prow;
using Kfci.PubSub;

namespace Kfci.Functions.Uploader;

/// <summary>What the Uploader reads from its environment. Immutable; <see cref="FromEnvironment"/> in production, set directly in tests.</summary>
public sealed record UploaderSettings
{
    /// <summary>Where results go in the bucket (path strategy, default org/repo).</summary>
    public ResultsLayout Layout { get; init; } = ResultsLayout.Default;

    /// <summary>Topic of <c>run.finished</c>.</summary>
    public string FinishedTopic { get; init; } = KfciTopics.RunFinished;

    /// <summary>
    /// Where the workflows' NFS volume is mounted: each workflow's artifacts are read from
    /// <c>&lt;root&gt;/&lt;workflow&gt;/output/artifacts</c>. The local stack's directory, or in the cloud the Filestore share
    /// Cloud Run mounts read-only (Terraform sets it). Null: only junit reports a workflow copied to the bucket itself.
    /// </summary>
    public string? NfsRoot { get; init; }

    /// <summary>The results bucket's name (<c>KFCI_RESULTS_BUCKET</c>); a Prow-owned build in another bucket is refused. Null for a local directory.</summary>
    public string? ResultsBucket { get; init; }

    /// <summary>Bounds on what one workflow's artifacts directory contributes.</summary>
    public ArtifactLimits ArtifactLimits { get; init; } = new();

    /// <summary>The project whose Cloud Logging holds the test pods' logs, for the per-step query links; no project parameter when null.</summary>
    public string? LogsProject { get; init; }

    /// <summary>
    /// The link of a kfci-owned pull-request run's GitHub commit status (<c>KFCI_STATUS_URL_TEMPLATE</c>), e.g.
    /// <c>https://prow.example.com/view/gs/my-bucket/{path}</c> (Spyglass) or a Gubernator address; <c>{path}</c> is the
    /// build folder in the bucket, <c>{job}</c>, <c>{build}</c> and <c>{run}</c> the job, build id and run id. No link when null.
    /// </summary>
    public string? StatusUrlTemplate { get; init; }

    /// <summary>Uploads in flight at once.</summary>
    public int Parallelism { get; init; } = 8;

    /// <summary>How one upload (a pod log, a junit file) is retried when the cluster or the store fails transiently mid-stream.</summary>
    public RetryOptions Retry { get; init; } = RetryOptions.Default;

    /// <exception cref="InvalidOperationException">A setting is invalid (e.g. an unknown path strategy).</exception>
    public static UploaderSettings FromEnvironment(Func<string, string?>? getEnv = null)
    {
        getEnv ??= Environment.GetEnvironmentVariable;
        return new UploaderSettings
        {
            Layout = ResultsLayout.FromEnvironment(getEnv),
            FinishedTopic = NonEmpty(getEnv(KfciEnvironment.RunFinishedTopic)) ?? KfciTopics.RunFinished,
            NfsRoot = NonEmpty(getEnv(KfciEnvironment.NfsRoot)),
            ResultsBucket = NonEmpty(getEnv(KfciEnvironment.ResultsDirectory)) is null ? NonEmpty(getEnv(KfciEnvironment.ResultsBucket)) : null,
            LogsProject = NonEmpty(getEnv(KfciEnvironment.Project)),
            StatusUrlTemplate = UrlTemplate(NonEmpty(getEnv(StatusUrlTemplateVariable))),
        };
    }

    /// <summary>The variable <see cref="StatusUrlTemplate"/> is read from.</summary>
    public const string StatusUrlTemplateVariable = "KFCI_STATUS_URL_TEMPLATE";

    private static string? UrlTemplate(string? template) =>
        template is null
        || (Uri.TryCreate(template.Replace("{path}", "p", StringComparison.Ordinal).Replace("{job}", "j", StringComparison.Ordinal)
                .Replace("{build}", "1", StringComparison.Ordinal).Replace("{run}", "r", StringComparison.Ordinal), UriKind.Absolute, out var uri)
            && uri.Scheme is "https" or "http")
            ? template
            : throw new InvalidOperationException($"{StatusUrlTemplateVariable} must be an http(s) URL template ({{path}}, {{job}}, {{build}}, {{run}}), not '{template}'");

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
