namespace Kfci.Dashboard;

/// <summary>Bounds on what one page reads, so no URL makes the dashboard read a whole database.</summary>
public static class DashboardLimits
{
    public const int RunsPerPage = 50;

    public const int DefaultBuilds = 50;

    /// <summary>TestGrid's own default width is 50 columns; 200 is what the benchmark measures.</summary>
    public const int MaxBuilds = 200;

    public const int DefaultWindowDays = 14;

    public const int MaxWindowDays = 60;

    /// <summary>Summary documents one page reads at most (a workflow of up to 250 tests is one document).</summary>
    public const int MaxSummaryDocuments = 5000;

    /// <summary>
    /// Compact test columns (one per workflow and build) a grid or the flakiness page reads at most: 200 builds of a job
    /// with 50 workflows each.
    /// </summary>
    public const int MaxColumns = 10_000;

    /// <summary>Test cases one page holds in memory at most (about 100 MB of the dashboard's 512 MiB).</summary>
    public const long MaxCases = 1_500_000;

    /// <summary>Builds of a grid without a compact column (written before columns existed) whose full summaries are read instead.</summary>
    public const int MaxFallbackRuns = 20;

    public const int Sweeps = 20;

    /// <summary>A log shown in the browser is cut here; the whole one stays in the bucket.</summary>
    public const long MaxLogBytes = 8 * 1024 * 1024;
}
