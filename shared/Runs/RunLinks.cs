namespace Kfci.Runs;

/// <summary>Keys of <see cref="RunRecord.Links"/> that kfci itself reads back, not only shows.</summary>
public static class RunLinks
{
    /// <summary>
    /// Crier's <c>gcs_path</c> of a Prow-owned build (<c>gs://bucket/path</c>): the folder Prow's pod writes, with
    /// Prow's own <c>path_prefix</c> and path strategy already applied, so kfci writes its artifacts exactly there.
    /// </summary>
    public const string ProwGcsPath = "gcs";
}
