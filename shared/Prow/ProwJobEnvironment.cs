using System.Globalization;

namespace Kfci.Prow;

/// <summary>
/// The environment Prow gives a job's containers (<c>pkg/pod-utils/downwardapi/jobspec.go</c>), rebuilt from a
/// <see cref="ProwJobSpec"/> so that test code written for Prow runs unchanged under kfci.
/// </summary>
/// <remarks>
/// Left out on purpose: <c>ARTIFACTS</c> (pod-utilities decoration's path; kfci workflows get their artifacts
/// directory as a parameter) and <c>SRC_HOST</c>/<c>SRC_BASE</c> (not read by any kubeflow script, and kfci only
/// tests GitHub repositories, so they would carry no information).
/// </remarks>
public static class ProwJobEnvironment
{
    /// <summary>
    /// The variables for <paramref name="spec"/>, per Prow's table: every type gets <c>CI, JOB_NAME, JOB_TYPE,
    /// JOB_SPEC, BUILD_ID, BUILD_NUMBER, PROW_JOB_ID</c>; types with refs add <c>REPO_OWNER, REPO_NAME,
    /// PULL_BASE_REF, PULL_BASE_SHA, PULL_REFS</c>; presubmits add <c>PULL_NUMBER, PULL_PULL_SHA, PULL_HEAD_REF,
    /// PULL_TITLE</c> from the first pull. <paramref name="extra"/> (a trigger request's <c>envs</c>) is added, but
    /// never replaces a Prow variable: the job's identity must not be spoofable by an event.
    /// </summary>
    /// <returns>The variables sorted by name; never null.</returns>
    public static IReadOnlyDictionary<string, string> For(ProwJobSpec spec, IReadOnlyDictionary<string, string>? extra = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var env = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["CI"] = "true",
            ["JOB_NAME"] = spec.JobName,
            ["JOB_TYPE"] = spec.Type.ToProwString(),
            ["JOB_SPEC"] = spec.ToJson(),
            ["BUILD_ID"] = spec.BuildId,
            ["BUILD_NUMBER"] = spec.BuildId,
            ["PROW_JOB_ID"] = spec.ProwJobId,
        };

        if (spec.Type != JobType.Periodic && spec.Refs is { } refs)
        {
            env["REPO_OWNER"] = refs.Org;
            env["REPO_NAME"] = refs.Repo;
            env["PULL_BASE_REF"] = refs.BaseRef ?? "";
            env["PULL_BASE_SHA"] = refs.BaseSha ?? "";
            env["PULL_REFS"] = refs.ToPullRefs();
            if (spec.Type == JobType.Presubmit && refs.FirstPull is { } pull)
            {
                env["PULL_NUMBER"] = pull.Number.ToString(CultureInfo.InvariantCulture);
                env["PULL_PULL_SHA"] = pull.Sha;
                env["PULL_HEAD_REF"] = pull.HeadRef ?? "";
                env["PULL_TITLE"] = pull.Title ?? "";
            }
        }

        foreach (var (name, value) in extra ?? new Dictionary<string, string>())
        {
            env.TryAdd(name, value);
        }

        return env;
    }
}
