using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kfci.Prow;

/// <summary>
/// Turns a Pub/Sub message on the <c>prow-events</c> topic into a validated <see cref="ProwEvent"/>. Two kinds arrive:
/// crier's <c>ReportMessage</c> (no attributes) and <c>sub</c>-style trigger requests (attribute
/// <see cref="EventTypeAttribute"/>). Anything that could not be handled on any redelivery throws
/// <see cref="InvalidEventException"/>.
/// </summary>
public static class ProwEventParser
{
    public const string EventTypeAttribute = "prow.k8s.io/pubsub.EventType";
    public const string PeriodicEvent = "prow.k8s.io/pubsub.PeriodicProwJobEvent";
    public const string PostsubmitEvent = "prow.k8s.io/pubsub.PostsubmitProwJobEvent";
    public const string PresubmitEvent = "prow.k8s.io/pubsub.PresubmitProwJobEvent";

    /// <summary>Prow's messages are a few kilobytes; anything near Pub/Sub's 10 MB limit is not one.</summary>
    public const int MaxEventBytes = 256 * 1024;

    private const int MaxMessageLength = 1024;

    private static readonly JsonSerializerOptions s_json = new()
    {
        MaxDepth = 16,
        RespectNullableAnnotations = true,
    };

    /// <summary>Parses and validates one message.</summary>
    /// <param name="data">The message data (the JSON, already base64-decoded).</param>
    /// <param name="attributes">The message attributes; null or empty for crier reports.</param>
    /// <param name="messageId">Pub/Sub's message id; identical on redelivery.</param>
    /// <param name="publishTime">Pub/Sub's publish time; identical on redelivery.</param>
    /// <exception cref="InvalidEventException">The message is malformed, incomplete, oversized or names something unsafe.</exception>
    /// <exception cref="UnscheduledReportException">A crier report of a ProwJob Prow has not scheduled yet (no url, no gcs_path).</exception>
    public static ProwEvent Parse(ReadOnlySpan<byte> data, IReadOnlyDictionary<string, string>? attributes, string messageId, DateTimeOffset publishTime)
    {
        if (data.Length > MaxEventBytes)
        {
            throw new InvalidEventException($"event data is {data.Length} bytes, more than the {MaxEventBytes} a Prow event can be");
        }

        if (attributes is not null && attributes.TryGetValue(EventTypeAttribute, out var eventType))
        {
            var type = eventType switch
            {
                PeriodicEvent => JobType.Periodic,
                PostsubmitEvent => JobType.Postsubmit,
                PresubmitEvent => JobType.Presubmit,
                _ => throw new InvalidEventException($"unsupported event type '{Shorten(eventType)}' in attribute {EventTypeAttribute}"),
            };
            return ParseTriggerRequest(data, type, BuildIdFor(messageId, publishTime));
        }

        return ParseCrierReport(data);
    }

    /// <summary>Prow's build ids are snowflake ids (bwmarrin/snowflake's defaults): milliseconds since this epoch, shifted left by 22 bits.</summary>
    public const long SnowflakeEpochMilliseconds = 1288834974657;

    /// <summary>The low bits of a snowflake id (node and sequence in Prow's, a hash of the message id in kfci's).</summary>
    public const int SnowflakeLowBits = 22;

    /// <summary>
    /// The build id kfci gives a trigger request, in Prow's own form: a snowflake id whose time is the publish time and
    /// whose low 22 bits are a hash of the message id. kfci builds in a job folder Prow also writes then order by time
    /// with Prow's (GCS listings, <c>latest-build.txt</c>'s guard, TestGrid). Redelivery keeps message id and publish
    /// time, so the id is the same; two messages in the same millisecond differ unless their hashes collide (one in four
    /// million).
    /// </summary>
    /// <exception cref="InvalidEventException">The message id is empty or the publish time is outside 2011–2200 (before the snowflake epoch or absurd).</exception>
    public static string BuildIdFor(string messageId, DateTimeOffset publishTime)
    {
        if (string.IsNullOrEmpty(messageId) || messageId.Length > 256)
        {
            throw new InvalidEventException("Pub/Sub message id is missing or longer than 256 characters");
        }

        if (publishTime.Year is < 2011 or >= 2200)
        {
            throw new InvalidEventException($"publish time {publishTime:O} is not a plausible time");
        }

        var hash = BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes(messageId)));
        var id = ((publishTime.ToUnixTimeMilliseconds() - SnowflakeEpochMilliseconds) << SnowflakeLowBits) | (long)(hash & ((1UL << SnowflakeLowBits) - 1));
        return id.ToString(CultureInfo.InvariantCulture);
    }

    private static ProwEvent ParseCrierReport(ReadOnlySpan<byte> data)
    {
        var report = Deserialize<CrierReport>(data);
        var jobName = EventValidation.JobName(Required(report.JobName, "job_name"));
        var type = JobTypeFrom(Required(report.JobType, "job_type"));
        if (!ProwJobStates.TryParse(Required(report.Status, "status"), out var state))
        {
            throw new InvalidEventException($"unknown job state '{Shorten(report.Status!)}'");
        }

        var refs = report.Refs ?? [];
        if (refs.Count > EventValidation.MaxRefs)
        {
            throw new InvalidEventException($"event has {refs.Count} refs, more than {EventValidation.MaxRefs}");
        }

        var url = EventValidation.Text(report.Url, "url", EventValidation.MaxUrlLength);
        var gcsPath = EventValidation.Text(report.GcsPath, "gcs_path", EventValidation.MaxUrlLength);
        var buildId = CrierBuildId(gcsPath, url)
            ?? throw new UnscheduledReportException($"crier reported {jobName} {state.ToProwString()} before Prow scheduled a build (no url or gcs_path); the pending report starts the run");
        return new ProwEvent
        {
            Kind = ProwEventKind.CrierReport,
            Job = Spec(type, jobName, buildId, refs),
            State = state,
            Message = report.Message is { } message ? Shorten(message, MaxMessageLength) : null,
            Url = NullIfEmpty(url),
            GcsPath = NullIfEmpty(gcsPath),
        };
    }

    private static ProwEvent ParseTriggerRequest(ReadOnlySpan<byte> data, JobType type, string buildId)
    {
        var request = Deserialize<TriggerRequest>(data);
        var jobName = EventValidation.JobName(Required(request.Name?.Trim(), "name"));
        // extra_refs is kfci's: Prow's sub reads one repository per event and ignores it; kfci's own schedules name more.
        IReadOnlyList<Refs> refs = [.. request.Refs is null ? [] : new[] { request.Refs }, .. request.ExtraRefs ?? []];
        if (refs.Count > EventValidation.MaxRefs)
        {
            throw new InvalidEventException($"event has {refs.Count} refs, more than {EventValidation.MaxRefs}");
        }

        return new ProwEvent
        {
            Kind = ProwEventKind.TriggerRequest,
            Job = Spec(type, jobName, buildId, refs, branchHeadAllowed: true),
            Envs = EventValidation.Envs(request.Envs),
            Labels = EventValidation.Map(request.Labels, "labels"),
            Annotations = EventValidation.Map(request.Annotations, "annotations"),
        };
    }

    private static ProwJobSpec Spec(JobType type, string jobName, string buildId, IReadOnlyList<Refs> refs, bool branchHeadAllowed = false)
    {
        foreach (var (r, i) in refs.Select((r, i) => (r, i)))
        {
            EventValidation.Refs(r, $"refs[{i}]");
        }

        // Periodics have no refs of their own: whatever repositories they name are extra refs (as in Prow's JobSpec).
        if (type == JobType.Periodic)
        {
            return refs.Select((r, i) => (r, i)).FirstOrDefault(p => p.r.Pulls is { Count: > 0 }) is ({ } withPulls, var index)
                ? throw new InvalidEventException($"refs[{index}] names pull requests ({withPulls.Pulls!.Count}); a periodic tests branches")
                : new ProwJobSpec(type, jobName, buildId, null, refs);
        }

        if (refs.Count == 0)
        {
            throw new InvalidEventException($"a {type.ToProwString()} event needs refs naming the repository under test");
        }

        EventValidation.RequireFor(type, refs[0], branchHeadAllowed);
        return new ProwJobSpec(type, jobName, buildId, refs[0], refs.Skip(1).ToList());
    }

    /// <summary>
    /// Prow's build id: the last segment of the job's GCS path and URL, which crier fills only once plank scheduled the
    /// build; null before. Crier's <c>runid</c> is only the pubsub run-id label, shared by every build of a job, so it is
    /// never a build id.
    /// </summary>
    private static string? CrierBuildId(string? gcsPath, string? url)
    {
        foreach (var candidate in new[] { gcsPath, url })
        {
            if (!string.IsNullOrEmpty(candidate))
            {
                var segment = candidate.TrimEnd('/').Split('/')[^1];
                return EventValidation.BuildId(segment, candidate == gcsPath ? "gcs_path" : "url");
            }
        }

        return null;
    }

    private static JobType JobTypeFrom(string text) =>
        JobTypes.TryParse(text, out var type) ? type : throw new InvalidEventException($"unknown job type '{Shorten(text)}'");

    private static T Deserialize<T>(ReadOnlySpan<byte> data)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(data, s_json) ?? throw new InvalidEventException("event data is JSON null, not an object");
        }
        catch (JsonException e)
        {
            throw new InvalidEventException($"event data is not a valid {typeof(T).Name} JSON object: {Shorten(e.Message)}", e);
        }
    }

    private static string Required(string? value, string field) =>
        string.IsNullOrEmpty(value) ? throw new InvalidEventException($"event is missing field '{field}'") : value;

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    internal static string Shorten(string text, int max = 100) =>
        text.Length <= max ? text.ReplaceLineEndings(" ") : string.Concat(text.AsSpan(0, max).ToString().ReplaceLineEndings(" "), "…");

    private sealed record CrierReport(
        [property: JsonPropertyName("project")] string? Project,
        [property: JsonPropertyName("topic")] string? Topic,
        [property: JsonPropertyName("runid")] string? RunId,
        [property: JsonPropertyName("status")] string? Status,
        [property: JsonPropertyName("url")] string? Url,
        [property: JsonPropertyName("gcs_path")] string? GcsPath,
        [property: JsonPropertyName("refs")] IReadOnlyList<Refs>? Refs,
        [property: JsonPropertyName("job_type")] string? JobType,
        [property: JsonPropertyName("job_name")] string? JobName,
        [property: JsonPropertyName("message")] string? Message);

    private sealed record TriggerRequest(
        [property: JsonPropertyName("name")] string? Name,
        [property: JsonPropertyName("refs")] Refs? Refs,
        [property: JsonPropertyName("extra_refs")] IReadOnlyList<Refs>? ExtraRefs,
        [property: JsonPropertyName("envs")] Dictionary<string, string>? Envs,
        [property: JsonPropertyName("labels")] Dictionary<string, string>? Labels,
        [property: JsonPropertyName("annotations")] Dictionary<string, string>? Annotations);
}
