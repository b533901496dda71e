using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Kfci.Prow;

/// <summary>
/// The identity of one kfci run: one build of one Prow job. Everything kfci derives from an event (run id, Firestore
/// document, workflow name salt) comes from here, so a redelivered event lands on the same run.
/// </summary>
public sealed record RunIdentity
{
    private const int MaxLength = 63;
    private const int HashLength = 8;
    private const int MaxBuildLength = 20;

    /// <exception cref="ArgumentException">Either part is empty.</exception>
    public RunIdentity(string jobName, string buildId)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobName);
        ArgumentException.ThrowIfNullOrEmpty(buildId);
        JobName = jobName;
        BuildId = buildId;
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes($"{jobName}\n{buildId}"));
        RunId = ComposeRunId(jobName, buildId, Convert.ToHexStringLower(digest)[..HashLength]);
        NameSalt = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"salt\n{RunId}")))[..4];
    }

    public string JobName { get; }

    public string BuildId { get; }

    /// <summary>
    /// <c>{job}-{build}-{hash8}</c>, lowercase, at most 63 characters of <c>[a-z0-9-]</c>: a valid Firestore document
    /// id and label value. The readable parts may be shortened; the hash of the exact (job, build) pair keeps it unique.
    /// </summary>
    public string RunId { get; }

    /// <summary>Four hex characters replacing kubeflow's random workflow-name salt, so the same event gives the same names.</summary>
    public string NameSalt { get; }

    public override string ToString() => RunId;

    private static string ComposeRunId(string jobName, string buildId, string hash)
    {
        var build = Sanitize(buildId);
        if (build.Length > MaxBuildLength)
        {
            build = build[^MaxBuildLength..];
        }

        var jobRoom = MaxLength - HashLength - build.Length - 2;
        var job = Sanitize(jobName);
        job = job.Length > jobRoom ? job[..jobRoom] : job;
        return string.Join('-', new[] { job.Trim('-'), build.Trim('-'), hash }.Where(part => part.Length > 0));
    }

    private static string Sanitize(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text.ToLower(CultureInfo.InvariantCulture))
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) ? c : '-');
        }

        return builder.ToString();
    }
}
