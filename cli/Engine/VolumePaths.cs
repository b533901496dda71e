using System.Text.RegularExpressions;

namespace Kfci.Cli.Engine;

/// <summary>
/// The checks Kubernetes makes on the names a workflow uses to reach host directories through the engine: a claim
/// name becomes a directory under the claims root and a sub-path a directory under a volume, so neither may leave it.
/// </summary>
public static partial class VolumePaths
{
    /// <summary>A DNS-1123 subdomain, as Kubernetes requires of PersistentVolumeClaim names.</summary>
    public static bool IsClaimName(string name) => ClaimName().IsMatch(name);

    /// <summary>Relative, and no segment is <c>..</c> (Kubernetes' validation of <c>volumeMounts[].subPath</c>).</summary>
    public static bool IsSubPath(string path) =>
        !path.StartsWith('/') && !path.Contains('\0', StringComparison.Ordinal) && path.Split('/').All(segment => segment != "..");

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*\z")]
    private static partial Regex ClaimName();
}
