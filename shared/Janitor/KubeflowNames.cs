using System.Text.RegularExpressions;

namespace Kfci.Janitor;

/// <summary>An auto-deployed Kubeflow instance a resource belongs to.</summary>
/// <param name="Version">The version in its one spelling: lower case, dots as dashes, <c>master</c> as <c>vmaster</c> (<c>v1.2</c> → <c>v1-2</c>).</param>
/// <param name="Instance">The instance: <c>kf-{Version}-{uid}</c>, without a <c>-storage</c> suffix, so a deployment and its storage twin are one instance.</param>
public sealed record KubeflowInstance(string Version, string Instance);

/// <summary>What Kubeflow's deployment names mean: release-pool slots and auto-deployed instances.</summary>
public static partial class KubeflowNames
{
    /// <summary>
    /// True for a release-pool slot such as <c>kf-v0-4-n00</c>, <c>kf-v1.2-n03-storage</c> or <c>kf-vmaster-n01</c>, and for
    /// everything named after one (<c>kf-vmaster-n00-storage-artifact-store</c>, <c>kf-vmaster-n00-admin@…</c>,
    /// <c>kf-vmaster-n00-ip</c>): people's long-lived release clusters and their parts, which the old cleanup_ci.py
    /// excluded by prefix. The slot ends at a dash or the end of the name, so <c>kf-vmaster-n001</c> is not one.
    /// </summary>
    public static bool IsReleasePoolSlot(string name) => ReleasePoolSlot().IsMatch(name);

    /// <summary>True for a name of an auto-deployed Kubeflow instance (<c>kf-vmaster-0922-abc</c>, <c>kf-v1-2-…</c>); release-pool slots match too.</summary>
    public static bool IsAutoDeployName(string name) => AutoDeployPrefix().IsMatch(name);

    /// <summary>The instance an auto-deploy name belongs to; null when <see cref="IsAutoDeployName"/> is false.</summary>
    /// <remarks>
    /// Version parts have at most three digits, so the <c>MMDD</c> of a uid (<c>kf-v1-2-0922-abc</c>) is not read as part
    /// of the version. Resources named after an instance (<c>kf-vmaster-0922-abc-pvc-1</c>) belong to it when the uid has
    /// the <c>MMDD-xxx</c> shape of <c>create_unique_kf_instance.py</c>, so they do not count as instances of their own.
    /// </remarks>
    public static KubeflowInstance? ParseInstance(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!IsAutoDeployName(name))
        {
            return null;
        }

        var stem = name.EndsWith(StorageSuffix, StringComparison.Ordinal) ? name[..^StorageSuffix.Length] : name;
        var match = VersionAndRest().Match(stem);
        if (!match.Success)
        {
            // IsAutoDeployName allows version parts of any length; such a name is an instance of its own.
            return new KubeflowInstance(NormalizeVersion(AutoDeployPrefix().Match(name).Groups["version"].Value), stem);
        }

        var version = NormalizeVersion(match.Groups["version"].Value);
        var rest = match.Groups["rest"].Value;
        var uid = UniqueSuffix().Match(rest) is { Success: true } unique ? unique.Groups["uid"].Value : rest;
        return new KubeflowInstance(version, $"kf-{version}-{uid}");
    }

    /// <summary>One spelling per version: <c>v1.2</c> and <c>v1-2</c> are the same, as are <c>master</c> and <c>vmaster</c>.</summary>
    public static string NormalizeVersion(string version)
    {
        ArgumentNullException.ThrowIfNull(version);
        var lower = version.ToLowerInvariant().Replace('.', '-');
        return lower == "master" ? "vmaster" : lower;
    }

    private const string StorageSuffix = "-storage";

    [GeneratedRegex(@"^kf-(v\d+([.-]\d+)*|vmaster|master)-n\d{2}(-|\z)", RegexOptions.CultureInvariant)]
    private static partial Regex ReleasePoolSlot();

    [GeneratedRegex(@"^kf-(?<version>v\d+([.-]\d+)*|vmaster|master)-", RegexOptions.CultureInvariant)]
    private static partial Regex AutoDeployPrefix();

    [GeneratedRegex(@"^kf-(?<version>v\d+([.-]\d{1,3})*|vmaster|master)-(?<rest>.*)\z", RegexOptions.CultureInvariant)]
    private static partial Regex VersionAndRest();

    [GeneratedRegex(@"^(?<uid>\d{4}-[0-9a-z]{3})(-.*)?\z", RegexOptions.CultureInvariant)]
    private static partial Regex UniqueSuffix();
}
