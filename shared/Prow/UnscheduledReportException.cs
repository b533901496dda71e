namespace Kfci.Prow;

/// <summary>
/// A crier report of a ProwJob that has no build yet: crier reports <c>triggered</c> as soon as the ProwJob exists, but
/// plank gives it a URL (and so crier a <c>gcs_path</c>) and a build id only when it schedules the pod. Such a report
/// names no build, so there is nothing to start or stop; the <c>pending</c> report that follows is the one that counts.
/// It is acknowledged, not rejected: nothing is wrong with it.
/// </summary>
public sealed class UnscheduledReportException : Exception
{
    public UnscheduledReportException(string reason)
        : base(reason)
    {
    }

    public UnscheduledReportException(string reason, Exception inner)
        : base(reason, inner)
    {
    }

    public UnscheduledReportException()
    {
    }
}
