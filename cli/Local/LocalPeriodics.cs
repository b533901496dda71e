using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Cronos;
using Kfci.Prow;
using Kfci.PubSub;

namespace Kfci.Cli.Local;

/// <summary>
/// kfci's own periodics as the local stack runs them: the file is the one Terraform takes
/// (<c>terraform apply -var-file=FILE</c>, <c>{"periodics": {NAME: {schedule, time_zone, repositories, envs}}}</c>,
/// infra/terraform/periodics.tf), and each is published as Cloud Scheduler would publish it: the same
/// <c>PeriodicProwJobEvent</c> to <c>prow-events</c>, at the same unix-cron times.
/// </summary>
public sealed class LocalPeriodics
{
    /// <summary>Terraform's default for <c>var.scheduler_time_zone</c>.</summary>
    public const string DefaultTimeZone = "Etc/UTC";

    private static readonly JsonSerializerOptions s_json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    private LocalPeriodics(IReadOnlyList<LocalPeriodic> schedules) => Schedules = schedules;

    public IReadOnlyList<LocalPeriodic> Schedules { get; }

    /// <summary>Reads a Terraform variables file (JSON) holding <c>periodics</c>.</summary>
    /// <exception cref="InvalidOperationException">The file is missing, not JSON, or a schedule is invalid; the message says which.</exception>
    public static LocalPeriodics Load(string path)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new InvalidOperationException($"{path}: cannot read kfci's periodics ({e.Message})", e);
        }

        var periodics = root?["periodics"] as JsonObject ?? throw new InvalidOperationException($"{path}: no \"periodics\" object (the shape of infra/terraform's var.periodics)");

        // As periodics.tf does: a periodic without its own time_zone runs in var.scheduler_time_zone (default Etc/UTC).
        var defaultZone = root?["scheduler_time_zone"] is JsonValue zone && zone.TryGetValue<string>(out var name) ? name : DefaultTimeZone;
        return new LocalPeriodics([.. periodics.Select(p => LocalPeriodic.From(p.Key, p.Value as JsonObject, path, defaultZone))]);
    }

    /// <summary>Publishes each schedule's event at its times until cancelled; a failed publish is logged and the next time tried, as Cloud Scheduler does.</summary>
    public async Task RunAsync(PubSubClient client, TextWriter log, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(time);
        var last = time.GetUtcNow();
        while (Schedules.Count > 0)
        {
            var next = Schedules.Select(s => s.NextAfter(last)).Min();
            await WaitUntilAsync(next, time, cancellationToken);
            foreach (var due in Schedules.Where(s => s.NextAfter(last) <= next))
            {
                try
                {
                    var ids = await client.PublishAsync(KfciTopics.ProwEvents, [due.Message], cancellationToken);
                    await log.WriteLineAsync($"{time.GetUtcNow():O} periodic {due.Name} published {ids[0]}");
                }
                catch (Exception e) when (e is Http.ApiException || Http.Transience.IsTransient(e, cancellationToken))
                {
                    // Only the emulator's answers and transient faults: anything else is a defect and ends the scheduler loudly.
                    await log.WriteLineAsync($"{time.GetUtcNow():O} periodic {due.Name} not published: {e.Message.ReplaceLineEndings(" ")}");
                }
            }

            // Cloud Scheduler does not backfill: after a sleep (a laptop lid closed) the missed times are dropped, not
            // published one after another.
            var now = time.GetUtcNow();
            last = next > now ? next : now;
            if (Schedules.Sum(s => Missed(s, next, last)) is var skipped and > 0)
            {
                await log.WriteLineAsync($"{now:O} {skipped} periodic times passed while the scheduler was not running; skipped, as Cloud Scheduler skips them");
            }
        }
    }

    /// <summary>How many of the schedule's times fall after <paramref name="from"/> and up to <paramref name="to"/> (bounded: a per-minute schedule over a week counts its first thousand).</summary>
    private static int Missed(LocalPeriodic schedule, DateTimeOffset from, DateTimeOffset to)
    {
        var count = 0;
        for (var at = schedule.NextAfter(from); at <= to && count < 1000; at = schedule.NextAfter(at))
        {
            count++;
        }

        return count;
    }

    /// <summary>The longest single wait: <see cref="Task.Delay(TimeSpan, TimeProvider, CancellationToken)"/> refuses more than about 49 days.</summary>
    internal static readonly TimeSpan MaxSingleWait = TimeSpan.FromDays(1);

    /// <summary>Waits until <paramref name="due"/>, in steps of at most <see cref="MaxSingleWait"/> (a yearly schedule is further away than one delay can wait).</summary>
    private static async Task WaitUntilAsync(DateTimeOffset due, TimeProvider time, CancellationToken cancellationToken)
    {
        for (var wait = due - time.GetUtcNow(); wait > TimeSpan.Zero; wait = due - time.GetUtcNow())
        {
            await Task.Delay(wait < MaxSingleWait ? wait : MaxSingleWait, time, cancellationToken);
        }
    }

    /// <summary>The data of a schedule's message, built as Terraform's <c>local.periodic_events</c> builds it.</summary>
    internal static byte[] EventData(string name, IReadOnlyList<Refs> repositories, IReadOnlyDictionary<string, string> envs) =>
        JsonSerializer.SerializeToUtf8Bytes(
            new EventJson(name, repositories[0], repositories.Count > 1 ? repositories.Skip(1).ToList() : null, envs.Count > 0 ? envs : null),
            s_json);

    private sealed record EventJson(
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("refs")] Refs Refs,
        [property: JsonPropertyName("extra_refs")] IReadOnlyList<Refs>? ExtraRefs,
        [property: JsonPropertyName("envs")] IReadOnlyDictionary<string, string>? Envs);
}

/// <summary>One of kfci's own periodics: its unix-cron schedule in its time zone and the message it publishes.</summary>
public sealed record LocalPeriodic(string Name, CronExpression Schedule, TimeZoneInfo TimeZone, OutgoingMessage Message)
{
    /// <summary>The first time after <paramref name="after"/> the schedule fires.</summary>
    public DateTimeOffset NextAfter(DateTimeOffset after) =>
        Schedule.GetNextOccurrence(after, TimeZone) ?? DateTimeOffset.MaxValue;

    internal static LocalPeriodic From(string name, JsonObject? body, string path, string defaultTimeZone = LocalPeriodics.DefaultTimeZone)
    {
        var where = $"{path}: periodics.{name}";
        if (body is null)
        {
            throw new InvalidOperationException($"{where} is not an object");
        }

        CronExpression schedule;
        TimeZoneInfo zone;
        try
        {
            schedule = CronExpression.Parse(OptionalText(body, "schedule", where) ?? throw new InvalidOperationException($"{where} has no schedule"));
            zone = TimeZoneInfo.FindSystemTimeZoneById(OptionalText(body, "time_zone", where) ?? defaultTimeZone);
        }
        catch (Exception e) when (e is CronFormatException or TimeZoneNotFoundException or InvalidTimeZoneException or FormatException)
        {
            throw new InvalidOperationException($"{where}: {e.Message}", e);
        }

        var repositories = (body["repositories"] as JsonArray ?? [])
            .Select(r => new Refs { Org = Text(r, "org", where), Repo = Text(r, "repo", where), BaseRef = Text(r, "branch", where) })
            .ToList();
        if (repositories.Count == 0)
        {
            throw new InvalidOperationException($"{where} names no repositories");
        }

        var envs = (body["envs"] as JsonObject ?? []).ToDictionary(p => p.Key, p => p.Value?.ToString() ?? "", StringComparer.Ordinal);
        var message = new OutgoingMessage(
            LocalPeriodics.EventData(name, repositories, envs),
            new Dictionary<string, string>(StringComparer.Ordinal) { [ProwEventParser.EventTypeAttribute] = ProwEventParser.PeriodicEvent });

        // The Trigger's own parser checks what is published, so a bad file fails at 'local up', not at 3 a.m.
        try
        {
            ProwEventParser.Parse(message.Data.Span, message.Attributes, "check", DateTimeOffset.UtcNow);
        }
        catch (InvalidEventException e)
        {
            throw new InvalidOperationException($"{where}: {e.Message}", e);
        }

        return new LocalPeriodic(name, schedule, zone, message);
    }

    private static string? OptionalText(JsonObject body, string key, string where) => body[key] switch
    {
        null => null,
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        _ => throw new InvalidOperationException($"{where}: {key} must be a string"),
    };

    private static string Text(JsonNode? node, string key, string where) =>
        node?[key] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0
            ? text
            : throw new InvalidOperationException($"{where}: every repository needs {key}");
}
