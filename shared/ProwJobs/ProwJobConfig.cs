using System.Text.Json;
using System.Text.Json.Nodes;
using Kfci.Prow;
using Kfci.Workflows;

namespace Kfci.ProwJobs;

/// <summary>Prow's job configuration cannot be read or is not valid (permanent until an operator fixes it).</summary>
public sealed class ProwJobConfigException : Exception
{
    public ProwJobConfigException()
    {
    }

    public ProwJobConfigException(string message)
        : base(message)
    {
    }

    public ProwJobConfigException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// One periodic as Prow's job configuration declares it (<c>periodics:</c> in a job config file): the repositories
/// Prow clones for it (<c>extra_refs</c>, branches and no shas) and what kfci shows of the rest.
/// </summary>
/// <param name="Name">The job name.</param>
/// <param name="ExtraRefs">The repositories, in order; the first holds the <c>prow_config.yaml</c> kfci plans from.</param>
/// <param name="Cron">Prow's <c>cron</c>, when it has one.</param>
/// <param name="Interval">Prow's <c>interval</c> (or <c>minimum_interval</c>), when it has one.</param>
/// <param name="Decorate">Prow's <c>decorate</c>; null when not set.</param>
/// <param name="Annotations">Prow's <c>annotations</c> (e.g. <c>testgrid-dashboards</c>).</param>
public sealed record PeriodicJob(string Name, IReadOnlyList<Refs> ExtraRefs, string? Cron, string? Interval, bool? Decorate, IReadOnlyDictionary<string, string> Annotations);

/// <summary>
/// The periodics of Prow's job configuration, read from the same YAML files Prow reads, with the bounded YAML reader
/// kfci uses for everything a repository controls. Presubmits and postsubmits in the same files are skipped: their
/// events always carry refs.
/// </summary>
public sealed class ProwJobConfig
{
    /// <summary>More periodics than any real Prow instance declares in one file.</summary>
    public const int MaxPeriodics = 10_000;

    private const int MaxCloseMatches = 5;

    private readonly Dictionary<string, PeriodicJob> _periodics;

    private ProwJobConfig(string source, Dictionary<string, PeriodicJob> periodics)
    {
        Source = source;
        _periodics = periodics;
    }

    /// <summary>Where the configuration was read from, for messages.</summary>
    public string Source { get; }

    public IReadOnlyCollection<PeriodicJob> Periodics => _periodics.Values;

    /// <summary>Parses one job configuration file.</summary>
    /// <exception cref="ProwJobConfigException">Not YAML, over a budget, or a periodic that is malformed or unsafe.</exception>
    public static ProwJobConfig Parse(ReadOnlySpan<byte> yaml, string source)
    {
        JsonNode? root;
        try
        {
            root = BoundedYaml.Read(yaml, source);
        }
        catch (WorkflowRenderException e)
        {
            throw new ProwJobConfigException(e.Message, e);
        }

        if (root is not null and not JsonObject)
        {
            throw new ProwJobConfigException($"{source}: a Prow job configuration is a mapping (periodics:, presubmits:, postsubmits:)");
        }

        var periodics = new Dictionary<string, PeriodicJob>(StringComparer.Ordinal);
        var list = root?["periodics"];
        if (list is not null and not JsonArray)
        {
            throw new ProwJobConfigException($"{source}: periodics must be a list");
        }

        foreach (var (node, index) in (list as JsonArray ?? []).Select((n, i) => (n, i)))
        {
            if (periodics.Count >= MaxPeriodics)
            {
                throw new ProwJobConfigException($"{source}: more than {MaxPeriodics} periodics");
            }

            var job = Periodic(node as JsonObject ?? throw new ProwJobConfigException($"{source}: periodics[{index}] is not a mapping"), $"{source}: periodics[{index}]");
            if (!periodics.TryAdd(job.Name, job))
            {
                throw new ProwJobConfigException($"{source}: periodic {job.Name} is declared twice");
            }
        }

        return new ProwJobConfig(source, periodics);
    }

    /// <summary>The periodic named <paramref name="name"/>.</summary>
    /// <exception cref="ProwJobConfigException">No periodic has that name; the message lists the closest names.</exception>
    public PeriodicJob Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_periodics.TryGetValue(name, out var job))
        {
            return job;
        }

        var close = CloseMatches(name);
        throw new ProwJobConfigException(
            $"periodic job '{name}' is not defined in Prow's job configuration {Source}"
            + (close.Count > 0 ? $"; close matches: {string.Join(", ", close)}" : $" ({_periodics.Count} periodics, none with a similar name)"));
    }

    /// <summary>Names within a few edits of <paramref name="name"/>, or containing it (or contained in it), closest first.</summary>
    public IReadOnlyList<string> CloseMatches(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var budget = Math.Max(2, name.Length / 3);
        return _periodics.Keys
            .Select(candidate => (candidate, distance: Distance(name, candidate)))
            .Where(c => c.distance <= budget
                || c.candidate.Contains(name, StringComparison.OrdinalIgnoreCase)
                || name.Contains(c.candidate, StringComparison.OrdinalIgnoreCase))
            .OrderBy(c => c.distance)
            .ThenBy(c => c.candidate, StringComparer.Ordinal)
            .Take(MaxCloseMatches)
            .Select(c => c.candidate)
            .ToList();
    }

    private static PeriodicJob Periodic(JsonObject node, string where)
    {
        var name = Text(node, "name", where) ?? throw new ProwJobConfigException($"{where} has no name");
        where = $"{where.Split(':')[0]}: periodic {name}";
        try
        {
            EventValidation.JobName(name);
            var refs = new List<Refs>();
            if (node["extra_refs"] is { } extra)
            {
                foreach (var (item, i) in (extra as JsonArray ?? throw new ProwJobConfigException($"{where}: extra_refs must be a list")).Select((r, i) => (r, i)))
                {
                    var one = item.Deserialize<Refs>() ?? throw new ProwJobConfigException($"{where}: extra_refs[{i}] is empty");
                    EventValidation.Refs(one, $"extra_refs[{i}]");
                    refs.Add(one);
                }
            }

            if (refs.Count > EventValidation.MaxRefs)
            {
                throw new ProwJobConfigException($"{where} has {refs.Count} extra_refs, more than {EventValidation.MaxRefs}");
            }

            return new PeriodicJob(
                name,
                refs,
                Text(node, "cron", where),
                Text(node, "interval", where) ?? Text(node, "minimum_interval", where),
                node["decorate"] is JsonValue decorate && decorate.TryGetValue<bool>(out var flag) ? flag : null,
                Annotations(node, where));
        }
        catch (InvalidEventException e)
        {
            throw new ProwJobConfigException($"{where}: {e.Message}", e);
        }
        catch (JsonException e)
        {
            throw new ProwJobConfigException($"{where}: extra_refs are not Prow refs: {e.Message}", e);
        }
    }

    private static IReadOnlyDictionary<string, string> Annotations(JsonObject node, string where)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node["annotations"] is not JsonObject annotations)
        {
            return map;
        }

        foreach (var (key, value) in annotations)
        {
            map[key] = value is JsonValue scalar ? scalar.ToString() : throw new ProwJobConfigException($"{where}: annotation {key} is not a string");
        }

        return EventValidation.Map(map, "annotations");
    }

    private static string? Text(JsonObject node, string key, string where) => node[key] switch
    {
        null => null,
        JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
        _ => throw new ProwJobConfigException($"{where}: {key} must be a string"),
    };

    /// <summary>Levenshtein distance, stopping early is not needed: job names are at most 200 characters.</summary>
    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 1]) ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
