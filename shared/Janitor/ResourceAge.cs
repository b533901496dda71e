namespace Kfci.Janitor;

/// <summary>How old a resource is, and from which timestamp that was worked out (for the reason text).</summary>
internal readonly record struct ResourceAge(TimeSpan? Value, string Description)
{
    /// <summary>Age from the creation time, else from when kfci first saw the resource, else unknown.</summary>
    public static ResourceAge Of(CloudResource resource, DateTimeOffset now) => resource switch
    {
        { Created: { } created } => Since(now, created, "created"),
        { FirstSeen: { } firstSeen } => Since(now, firstSeen, "first seen (no creation time)"),
        _ => Unknown,
    };

    /// <summary>A workflow's age runs from when it started; one that never started counts from its creation.</summary>
    public static ResourceAge OfWorkflow(CloudResource resource, DateTimeOffset now) =>
        resource.StartedAt is { } started ? Since(now, started, "started") : Of(resource, now);

    /// <summary>True when the age is known and strictly greater than <paramref name="limit"/>.</summary>
    public bool IsOver(TimeSpan limit) => Value > limit;

    private static ResourceAge Unknown { get; } =
        new(null, "no creation time and never seen before, so treated as just seen");

    private static ResourceAge Since(DateTimeOffset now, DateTimeOffset then, string what)
    {
        // A timestamp after --now (clock skew, a --now in the past) counts as age zero, never as negative.
        var age = now > then ? now - then : TimeSpan.Zero;
        return new ResourceAge(age, $"{what} {Durations.Format(age)} ago");
    }
}
