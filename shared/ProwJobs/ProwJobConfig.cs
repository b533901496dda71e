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
/// The periodics of Prow's job configuration, read from the same YAML files Prow reads (anchors and merge keys
/// included), with the bounded YAML reader kfci uses for everything a repository controls. Each periodic is read on
/// its own: one kfci cannot use is listed in <see cref="Problems"/> with the reason, and the others still work.
/// Presubmits and postsubmits in the same files are skipped: their events always carry refs.
/// </summary>
public sealed class ProwJobConfig
{
    /// <summary>More periodics than any real Prow instance declares in one file.</summary>
    public const int MaxPeriodics = 10_000;

    private const int MaxCloseMatches = 5;

    private readonly Dictionary<string, PeriodicJob> _periodics;
    private readonly Dictionary<string, string> _unusable;

    private ProwJobConfig(string source, Dictionary<string, PeriodicJob> periodics, Dictionary<string, string> unusable, IReadOnlyList<string> problems)
    {
        Source = source;
        _periodics = periodics;
        _unusable = unusable;
        Problems = problems;
    }

    /// <summary>One line per periodic kfci cannot use, each naming the file, the periodic and why.</summary>
    public IReadOnlyList<string> Problems { get; }

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
            root = BoundedYaml.Read(yaml, source, BoundedYamlOptions.ProwJobConfig);
        }
        catch (WorkflowRenderException e)
        {
            throw new ProwJobConfigException(e.Message, e);
        }

        if (root is not null and not JsonObject)
        {
            throw new ProwJobConfigException($"{source}: a Prow job configuration is a mapping (periodics:, presubmits:, postsubmits:)");
        }

        var list = root?["periodics"];
        if (list is not null and not JsonArray)
        {
            throw new ProwJobConfigException($"{source}: periodics must be a list");
        }

        var entries = list as JsonArray ?? [];
        if (entries.Count > MaxPeriodics)
        {
            throw new ProwJobConfigException($"{source}: {entries.Count} periodics, more than {MaxPeriodics}");
        }

        var read = entries.Select((node, index) => Read(node, source, index)).ToList();
        var periodics = new Dictionary<string, PeriodicJob>(StringComparer.Ordinal);
        var unusable = new Dictionary<string, string>(StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var group in read.GroupBy(r => r.Name, StringComparer.Ordinal))
        {
            // Prow refuses a configuration that declares a name twice; kfci cannot tell which one is meant.
            var reason = group.Count() > 1 ? $"{group.First().Where}: declared {group.Count()} times" : group.Single().Problem;
            if (reason is null)
            {
                periodics.Add(group.Key, group.Single().Job!);
                continue;
            }

            problems.Add(reason);
            unusable[group.Key] = reason;
        }

        return new ProwJobConfig(source, periodics, unusable, problems);
    }

    /// <summary>One entry of <c>periodics:</c>, or why it cannot be used.</summary>
    private sealed record Entry(string Name, string Where, PeriodicJob? Job, string? Problem);

    private static Entry Read(JsonNode? node, string source, int index)
    {
        var where = $"{source}: periodics[{index}]";
        var name = (node as JsonObject)?["name"] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;
        if (name is not null)
        {
            where = $"{source}: periodic {ProwEventParser.Shorten(name)}";
        }

        try
        {
            var job = Periodic(node as JsonObject ?? throw new ProwJobConfigException("is not a mapping"), name ?? throw new ProwJobConfigException("has no name"));
            return new Entry(name, where, job, null);
        }
        catch (ProwJobConfigException e)
        {
            return new Entry(name ?? where, where, null, $"{where}: {e.Message}");
        }
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

        if (_unusable.TryGetValue(name, out var problem))
        {
            throw new ProwJobConfigException($"periodic job '{name}' in Prow's job configuration cannot be used: {problem}");
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

    /// <summary>A periodic as kfci uses it; the exception's message says what is wrong (its caller says where).</summary>
    private static PeriodicJob Periodic(JsonObject node, string name)
    {
        try
        {
            EventValidation.JobName(name);
            var refs = new List<Refs>();
            if (node["extra_refs"] is { } extra)
            {
                foreach (var (item, i) in (extra as JsonArray ?? throw new ProwJobConfigException("extra_refs must be a list")).Select((r, i) => (r, i)))
                {
                    var one = GoStrings(item as JsonObject ?? throw new ProwJobConfigException($"extra_refs[{i}] is not a mapping")).Deserialize<Refs>()
                        ?? throw new ProwJobConfigException($"extra_refs[{i}] is empty");
                    EventValidation.Refs(one, $"extra_refs[{i}]");
                    refs.Add(one.Pulls is { Count: > 0 } ? throw new ProwJobConfigException($"extra_refs[{i}] names pull requests; a periodic tests branches") : one);
                }
            }

            if (refs.Count > EventValidation.MaxRefs)
            {
                throw new ProwJobConfigException($"{refs.Count} extra_refs, more than {EventValidation.MaxRefs}");
            }

            return new PeriodicJob(
                name,
                refs,
                Text(node, "cron"),
                Text(node, "interval") ?? Text(node, "minimum_interval"),
                node["decorate"] is JsonValue decorate && decorate.TryGetValue<bool>(out var flag) ? flag : null,
                Annotations(node));
        }
        catch (InvalidEventException e)
        {
            throw new ProwJobConfigException(e.Message, e);
        }
        catch (JsonException e)
        {
            throw new ProwJobConfigException($"extra_refs are not Prow refs: {e.Message.ReplaceLineEndings(" ")}", e);
        }
    }

    /// <summary>
    /// The refs with numbers in string fields as the text Prow's Go structs read (<c>base_ref: 2024</c> is the branch
    /// <c>"2024"</c>, <c>1.10</c> stays <c>"1.10"</c>).
    /// </summary>
    private static JsonObject GoStrings(JsonObject refs)
    {
        var copy = (JsonObject)refs.DeepClone();
        foreach (var (key, value) in refs)
        {
            if (key is "org" or "repo" or "base_ref" or "base_sha" or "repo_link" or "base_link" or "path_alias" or "clone_uri"
                && value is JsonValue scalar && scalar.GetValueKind() is JsonValueKind.Number)
            {
                copy[key] = scalar.ToJsonString();
            }
        }

        return copy;
    }

    /// <summary>
    /// Prow's annotations, kept only for display: any scalar as its text, multi-line descriptions included (no
    /// control-character rule: they never reach an env file, a label or a path).
    /// </summary>
    private static Dictionary<string, string> Annotations(JsonObject node)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node["annotations"] is JsonObject annotations)
        {
            foreach (var (key, value) in annotations)
            {
                if (value is JsonValue scalar)
                {
                    map[key] = scalar.GetValueKind() == JsonValueKind.String ? scalar.GetValue<string>() : scalar.ToJsonString();
                }
            }
        }

        return map;
    }

    private static string? Text(JsonObject node, string key) => node[key] switch
    {
        null => null,
        JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
        _ => throw new ProwJobConfigException($"{key} must be a string"),
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
