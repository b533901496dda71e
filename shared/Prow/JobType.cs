namespace Kfci.Prow;

/// <summary>Prow's job types (<c>ProwJobType</c>).</summary>
public enum JobType
{
    Presubmit,
    Postsubmit,
    Periodic,
    Batch,
}

/// <summary>Prow's spelling of <see cref="JobType"/> values.</summary>
public static class JobTypes
{
    /// <summary>The lowercase name Prow uses in JSON and in <c>JOB_TYPE</c>.</summary>
    public static string ToProwString(this JobType type) => type switch
    {
        JobType.Presubmit => "presubmit",
        JobType.Postsubmit => "postsubmit",
        JobType.Periodic => "periodic",
        JobType.Batch => "batch",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a Prow job type"),
    };

    /// <summary>Parses Prow's exact lowercase spelling; anything else (including other casing) is rejected.</summary>
    public static bool TryParse(string? text, out JobType type) => ExactSpelling.TryParse(text, ToProwString, out type);

    /// <summary>True for the types that test a repository change and so carry refs with a base branch.</summary>
    public static bool HasRepository(this JobType type) => type is not JobType.Periodic;
}

/// <summary>Prow's job states (<c>ProwJobState</c>) as crier reports them.</summary>
public enum ProwJobState
{
    Scheduling,
    Triggered,
    Pending,
    Success,
    Failure,
    Aborted,
    Error,
}

/// <summary>Prow's spelling of <see cref="ProwJobState"/> values.</summary>
public static class ProwJobStates
{
    public static string ToProwString(this ProwJobState state) => state.ToString().ToLowerInvariant();

    /// <summary>Parses Prow's exact lowercase spelling.</summary>
    public static bool TryParse(string? text, out ProwJobState state) => ExactSpelling.TryParse(text, ToProwString, out state);

    /// <summary>States that mean "the build is starting"; the first of them for a build starts a kfci run.</summary>
    public static bool IsStart(this ProwJobState state) =>
        state is ProwJobState.Scheduling or ProwJobState.Triggered or ProwJobState.Pending;
}

/// <summary>Parses an enum by Prow's exact spelling of its values: Prow's JSON is case-sensitive, and so is kfci.</summary>
internal static class ExactSpelling
{
    public static bool TryParse<T>(string? text, Func<T, string> spell, out T value)
        where T : struct, Enum
    {
        foreach (var candidate in Enum.GetValues<T>())
        {
            if (string.Equals(text, spell(candidate), StringComparison.Ordinal))
            {
                value = candidate;
                return true;
            }
        }

        value = default;
        return false;
    }
}
