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
    public static bool TryParse(string? text, out JobType type)
    {
        foreach (var candidate in Enum.GetValues<JobType>())
        {
            if (string.Equals(text, candidate.ToProwString(), StringComparison.Ordinal))
            {
                type = candidate;
                return true;
            }
        }

        type = default;
        return false;
    }

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
    public static bool TryParse(string? text, out ProwJobState state)
    {
        foreach (var candidate in Enum.GetValues<ProwJobState>())
        {
            if (string.Equals(text, candidate.ToProwString(), StringComparison.Ordinal))
            {
                state = candidate;
                return true;
            }
        }

        state = default;
        return false;
    }

    /// <summary>States that mean "the build is starting"; the first of them for a build starts a kfci run.</summary>
    public static bool IsStart(this ProwJobState state) =>
        state is ProwJobState.Scheduling or ProwJobState.Triggered or ProwJobState.Pending;
}
