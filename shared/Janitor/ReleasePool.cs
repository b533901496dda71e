using System.Globalization;
using System.Text.RegularExpressions;

namespace Kfci.Janitor;

/// <summary>A Deployment Manager deployment as the release pool sees it.</summary>
/// <param name="Name">The deployment's name.</param>
/// <param name="InsertTime">Its <c>insertTime</c>; null when unknown.</param>
public sealed record PoolDeployment(string Name, DateTimeOffset? InsertTime);

/// <summary>The slot a new release deployment goes to.</summary>
/// <param name="Name">The deployment name to use, e.g. <c>kf-vmaster-n02</c>.</param>
/// <param name="Recycle">True when the slot is taken and its deployment must be deleted first.</param>
/// <param name="Reason">Why this slot, for the operator.</param>
public sealed record PoolSlot(string Name, bool Recycle, string Reason);

/// <summary>
/// Release pools: a fixed set of deployment names <c>{base}-n00 … {base}-n{size-1}</c> whose IAP redirect URIs were set
/// up by hand, so new releases cycle through them instead of inventing names.
/// </summary>
public static partial class ReleasePool
{
    /// <summary>Slots have two digits.</summary>
    public const int MaxSize = 100;

    /// <summary>
    /// The lowest free slot; when every slot is taken, the slot whose deployment is oldest (by insert time; deployments
    /// of unknown age are recycled only when none has a known one, lowest slot first). Deployments outside the pool
    /// (other bases, <c>-storage</c> twins, slots at or beyond <paramref name="size"/>) are ignored: the old selection
    /// could "recycle" a slot beyond the pool's size.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="baseName"/> is not a valid deployment name prefix, or <paramref name="size"/> is not 1 to 100.</exception>
    public static PoolSlot Next(string baseName, int size, IEnumerable<PoolDeployment> existing)
    {
        ArgumentNullException.ThrowIfNull(baseName);
        ArgumentNullException.ThrowIfNull(existing);
        if (!BaseName().IsMatch(baseName))
        {
            throw new ArgumentException($"pool base '{baseName}' is not a valid deployment name prefix: use lower-case letters, digits and dashes, starting with a letter (e.g. kf-vmaster or kf-v1-2; dots are not allowed)", nameof(baseName));
        }

        if (size is < 1 or > MaxSize)
        {
            throw new ArgumentException($"pool size {size} must be from 1 to {MaxSize} (slots are -n00 to -n99)", nameof(size));
        }

        var slots = Enumerable.Range(0, size).Select(i => $"{baseName}-n{i.ToString("00", CultureInfo.InvariantCulture)}").ToList();
        var taken = existing
            .Where(deployment => slots.Contains(deployment.Name, StringComparer.Ordinal))
            .GroupBy(deployment => deployment.Name, StringComparer.Ordinal)
            .ToDictionary(group => group.Key, group => group.Min(deployment => deployment.InsertTime), StringComparer.Ordinal);

        if (slots.FirstOrDefault(slot => !taken.ContainsKey(slot)) is { } free)
        {
            return new PoolSlot(free, Recycle: false, $"{free} is the lowest free slot of {size} ({taken.Count} taken)");
        }

        var oldest = slots
            .OrderBy(slot => taken[slot] is null)
            .ThenBy(slot => taken[slot])
            .ThenBy(slot => slot, StringComparer.Ordinal)
            .First();
        var age = taken[oldest] is { } inserted ? $"inserted {Rfc3339.Format(inserted)}" : "insert time unknown";
        return new PoolSlot(oldest, Recycle: true, $"all {size} slots are taken; {oldest} is the oldest ({age}) and is recycled");
    }

    [GeneratedRegex(@"^[a-z]([-a-z0-9]{0,55}[a-z0-9])?\z", RegexOptions.CultureInvariant)]
    private static partial Regex BaseName();
}
