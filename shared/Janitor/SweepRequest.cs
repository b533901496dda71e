using System.Text.Json;

namespace Kfci.Janitor;

/// <summary>A tick's body is not a sweep request; the message says why, in one line.</summary>
public sealed class SweepRequestException(string message) : Exception(message)
{
    public SweepRequestException()
        : this("bad sweep request")
    {
    }

    public SweepRequestException(string message, Exception innerException)
        : this(message + ": " + innerException?.Message)
    {
    }
}

/// <summary>
/// What a <c>janitor-ticks</c> message asks for: empty (the configured sweep) or
/// <c>{"dryRun": bool, "types": [...], "maxAgeHours": n}</c>, every field optional. A tick can only make a sweep more
/// careful: <c>dryRun: true</c> turns a deleting configuration into a report, but <c>dryRun: false</c> never overrides a
/// configured dry run (anyone who can publish a tick could otherwise switch deletion on); <c>maxAgeHours</c> is the
/// end-to-end age limit (the old tool's <c>--max_age_hours</c>).
/// </summary>
public sealed record SweepRequest(bool? DryRun = null, IReadOnlySet<ResourceType>? Types = null, double? MaxAgeHours = null)
{
    public static SweepRequest Configured { get; } = new();

    /// <exception cref="SweepRequestException">Not JSON, not an object, an unknown field or type, a bad value.</exception>
    public static SweepRequest Parse(ReadOnlySpan<byte> body)
    {
        if (body.Trim(" \t\r\n"u8).IsEmpty)
        {
            return Configured;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.ToArray());
        }
        catch (JsonException e)
        {
            throw new SweepRequestException($"sweep request is not JSON: {e.Message}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new SweepRequestException("sweep request must be a JSON object {\"dryRun\", \"types\", \"maxAgeHours\"}");
            }

            var request = Configured;
            foreach (var field in document.RootElement.EnumerateObject())
            {
                request = field.Name switch
                {
                    "dryRun" when field.Value.ValueKind is JsonValueKind.True or JsonValueKind.False => request with { DryRun = field.Value.GetBoolean() },
                    "dryRun" => throw new SweepRequestException("sweep request: dryRun must be true or false"),
                    "types" => request with { Types = ParseTypes(field.Value) },
                    "maxAgeHours" when field.Value.ValueKind == JsonValueKind.Number && field.Value.GetDouble() is > 0 and <= 24 * 365 and var hours =>
                        request with { MaxAgeHours = hours },
                    "maxAgeHours" => throw new SweepRequestException("sweep request: maxAgeHours must be a number of hours above 0"),
                    _ => throw new SweepRequestException($"sweep request: unknown field '{field.Name}' (use dryRun, types, maxAgeHours)"),
                };
            }

            return request;
        }
    }

    /// <summary>Parses a comma-separated list of type wire names (the CLI's <c>--types</c>).</summary>
    public static IReadOnlySet<ResourceType> ParseTypeList(string list)
    {
        ArgumentNullException.ThrowIfNull(list);
        return TypeSet(list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    /// <summary>The configuration this request sweeps with.</summary>
    public JanitorConfig Apply(JanitorConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config with
        {
            DryRun = config.DryRun || DryRun == true,
            Types = Types is null ? config.Types : new HashSet<ResourceType>(Types.Where(config.Types.Contains)),
            MaxAge = MaxAgeHours is { } hours ? config.MaxAge with { E2e = TimeSpan.FromHours(hours) } : config.MaxAge,
        };
    }

    private static HashSet<ResourceType> ParseTypes(JsonElement types)
    {
        if (types.ValueKind != JsonValueKind.Array || types.EnumerateArray().Any(t => t.ValueKind != JsonValueKind.String))
        {
            throw new SweepRequestException("sweep request: types must be an array of type names");
        }

        return TypeSet(types.EnumerateArray().Select(t => t.GetString()!));
    }

    private static HashSet<ResourceType> TypeSet(IEnumerable<string> names)
    {
        var set = new HashSet<ResourceType>();
        foreach (var name in names)
        {
            set.Add(ResourceTypes.TryParse(name, out var type)
                ? type
                : throw new SweepRequestException($"unknown resource type '{name}' (known: {ResourceTypes.WireNameList})"));
        }

        return set.Count > 0 ? set : throw new SweepRequestException("no resource types given");
    }
}
