using System.Globalization;
using System.Text;
using Kfci.Prow;

namespace Kfci.ProwConfig;

/// <summary>
/// Names of the workflows of one run, in kubeflow's form
/// <c>{JOB_NAME}-{name}[-{PULL_NUMBER}-{PULL_PULL_SHA:7} | -{PULL_BASE_SHA:7}]-{BUILD_ID[-4:]}-{salt4}</c>, made safe:
/// every name is a DNS-1123 label (lowercase alphanumerics and '-', at most 63 characters), the front
/// (<c>{JOB_NAME}-{name}</c>) is shortened first so the distinguishing suffix survives, the salt comes from the run
/// identity so a redelivered event gives the same names, and names are unique within the run.
/// </summary>
public static class WorkflowNames
{
    public const int MaxLength = 63;

    /// <summary>
    /// The names for the entries called <paramref name="entryNames"/> (in config order) in the run of
    /// <paramref name="job"/>. Names are computed for every entry, selected or not, so they never depend on which
    /// files changed. If any two would collide (real configs reuse names, and shortening can merge fronts), every name
    /// gets its entry index before the salt, which makes them unique by construction.
    /// </summary>
    /// <returns>One name per entry, same order; never null.</returns>
    public static IReadOnlyList<string> For(ProwJobSpec job, IReadOnlyList<string> entryNames)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(entryNames);
        var middle = Middle(job);
        var build = Sanitize(job.BuildId.Length > 4 ? job.BuildId[^4..] : job.BuildId);
        var salt = job.Run.NameSalt;

        var names = entryNames.Select(name => Compose(job.JobName, name, middle, build, null, salt)).ToList();
        if (names.Distinct(StringComparer.Ordinal).Count() == names.Count)
        {
            return names;
        }

        return entryNames.Select((name, index) => Compose(job.JobName, name, middle, build, index, salt)).ToList();
    }

    /// <summary>kubeflow's per-type part: presubmit PR number and head sha, postsubmit base sha, nothing otherwise.</summary>
    private static string Middle(ProwJobSpec job)
    {
        var refs = job.Refs;
        var parts = new List<string>();
        if (job.Type == JobType.Presubmit && refs?.FirstPull is { } pull)
        {
            parts.Add(pull.Number.ToString(CultureInfo.InvariantCulture));
            if (!string.IsNullOrEmpty(pull.Sha))
            {
                parts.Add(Short(pull.Sha));
            }
        }
        else if (job.Type == JobType.Postsubmit && !string.IsNullOrEmpty(refs?.BaseSha))
        {
            parts.Add(Short(refs.BaseSha));
        }

        return string.Concat(parts.Select(part => "-" + Sanitize(part)));
    }

    private static string Compose(string jobName, string entryName, string middle, string build, int? index, string salt)
    {
        var suffix = new StringBuilder(middle);
        foreach (var part in new[] { build, index?.ToString(CultureInfo.InvariantCulture), salt })
        {
            if (!string.IsNullOrEmpty(part))
            {
                suffix.Append('-').Append(part);
            }
        }

        var front = Sanitize($"{jobName}-{entryName}");
        var room = MaxLength - suffix.Length;
        front = (front.Length > room ? front[..room] : front).Trim('-');
        return (front.Length == 0 ? "wf" + suffix : front + suffix).Trim('-');
    }

    private static string Short(string sha) => sha.Length > 7 ? sha[..7] : sha;

    /// <summary>Lowercase; anything outside <c>[a-z0-9]</c> becomes '-', runs of '-' collapse, no '-' at the ends.</summary>
    private static string Sanitize(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text.ToLower(CultureInfo.InvariantCulture))
        {
            var safe = char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) ? c : '-';
            if (safe != '-' || (builder.Length > 0 && builder[^1] != '-'))
            {
                builder.Append(safe);
            }
        }

        return builder.ToString().Trim('-');
    }
}
