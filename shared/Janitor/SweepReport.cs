using System.Globalization;
using System.Text;

namespace Kfci.Janitor;

/// <summary>How a sweep ended, as the log metric (<c>sweep.finished</c>) and the CLI's exit code see it.</summary>
public static class SweepOutcomes
{
    /// <summary>Every type listed, every planned delete done (or already gone).</summary>
    public const string Succeeded = "succeeded";

    /// <summary>Some types or deletes failed; the rest were swept.</summary>
    public const string Partial = "partial";

    /// <summary>No type could even be listed.</summary>
    public const string Failed = "failed";
}

/// <summary>What a sweep did with one resource type.</summary>
/// <param name="Type">The type.</param>
/// <param name="Listed">Resources listed (0 when listing failed).</param>
/// <param name="Planned">Resources the plan would delete.</param>
/// <param name="Deleted">Deleted by this sweep (0 in a dry run).</param>
/// <param name="AlreadyGone">Planned, but the API answered 404: someone else deleted them first.</param>
/// <param name="Kept">Kept resources per rule id.</param>
/// <param name="Errors">The listing's failure, or each failed delete (first few), one line each.</param>
/// <param name="ErrorCount">How many errors in all (<paramref name="Errors"/> is capped).</param>
public sealed record TypeReport(
    ResourceType Type,
    int Listed,
    int Planned,
    int Deleted,
    int AlreadyGone,
    IReadOnlyDictionary<string, int> Kept,
    IReadOnlyList<string> Errors,
    int ErrorCount)
{
    /// <summary>Errors kept in a report per type: a Firestore document holds at most 1 MiB.</summary>
    public const int MaxErrors = 20;

    /// <summary>Why the type was not swept at all (<c>skipped: API unavailable …</c>); null when it was.</summary>
    public string? Skipped { get; init; }
}

/// <summary>One sweep's result: written to Firestore <c>sweeps/{id}</c> and summarised in the log.</summary>
public sealed record SweepReport(string Id, DateTimeOffset StartedAt, TimeSpan Duration, bool DryRun, IReadOnlyList<TypeReport> Types)
{
    public int Deleted => Types.Sum(type => type.Deleted);

    public int Planned => Types.Sum(type => type.Planned);

    public int Errors => Types.Sum(type => type.ErrorCount);

    public string Outcome =>
        Errors == 0 ? SweepOutcomes.Succeeded
        : Types.Count > 0 && Types.All(type => type.Listed == 0 && type.ErrorCount > 0) ? SweepOutcomes.Failed
        : SweepOutcomes.Partial;

    /// <summary>The Firestore document's fields.</summary>
    public IReadOnlyDictionary<string, object?> ToFields() => new Dictionary<string, object?>
    {
        ["id"] = Id,
        ["startedAt"] = StartedAt,
        ["durationSeconds"] = Duration.TotalSeconds,
        ["dryRun"] = DryRun,
        ["outcome"] = Outcome,
        ["planned"] = Planned,
        ["deleted"] = Deleted,
        ["errors"] = Errors,
        ["types"] = Types.ToDictionary(
            type => type.Type.WireName(),
            type => (object?)new Dictionary<string, object?>
            {
                ["listed"] = type.Listed,
                ["planned"] = type.Planned,
                ["deleted"] = type.Deleted,
                ["alreadyGone"] = type.AlreadyGone,
                ["kept"] = type.Kept.ToDictionary(pair => pair.Key, pair => (object?)pair.Value),
                ["errors"] = type.Errors.ToList(),
                ["errorCount"] = type.ErrorCount,
                ["skipped"] = type.Skipped,
            }),
    };

    /// <summary>The one-screen summary: a headline, a row per type, and the first error lines.</summary>
    public string Summary()
    {
        var text = new StringBuilder();
        var mode = DryRun ? " (dry run: nothing deleted)" : "";
        text.Append(CultureInfo.InvariantCulture, $"sweep {Id}{mode}: {Outcome} in {Duration.TotalSeconds:0.0}s, {Deleted} deleted of {Planned} planned, {Errors} errors\n");
        text.Append(CultureInfo.InvariantCulture, $"{"type",-20}{"listed",8}{"plan",8}{"deleted",9}{"gone",6}{"errors",8}  kept by rule\n");
        foreach (var type in Types)
        {
            var kept = string.Join(" ", type.Kept.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => $"{pair.Key}={pair.Value}"));
            text.Append(CultureInfo.InvariantCulture, $"{type.Type.WireName(),-20}{type.Listed,8}{type.Planned,8}{type.Deleted,9}{type.AlreadyGone,6}{type.ErrorCount,8}  {type.Skipped ?? kept}\n");
        }

        foreach (var error in Types.SelectMany(type => type.Errors.Select(e => $"{type.Type.WireName()}: {e}")).Take(10))
        {
            text.Append("  ! ").Append(error).Append('\n');
        }

        return text.ToString().TrimEnd();
    }
}
