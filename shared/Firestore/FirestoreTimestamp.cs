using System.Globalization;
using System.Text.RegularExpressions;

namespace Kfci.Firestore;

/// <summary>
/// A point in time with nanosecond precision, as Firestore reports document times. Kept exact (rather
/// than rounded to a <see cref="DateTimeOffset"/> tick) because an <c>updateTime</c> precondition must
/// name the stored version precisely.
/// </summary>
public readonly partial record struct FirestoreTimestamp(long Seconds, int Nanos) : IComparable<FirestoreTimestamp>
{
    private const int NanosPerTick = 100;

    public static FirestoreTimestamp FromDateTimeOffset(DateTimeOffset value)
    {
        var ticks = value.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        var seconds = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out var remainder);
        if (remainder < 0)
        {
            seconds--;
            remainder += TimeSpan.TicksPerSecond;
        }

        return new FirestoreTimestamp(seconds, (int)remainder * NanosPerTick);
    }

    /// <summary>Parses RFC 3339 (<c>2024-01-02T03:04:05.123456789Z</c>, 0–9 fraction digits, any offset).</summary>
    /// <exception cref="FormatException">The text is not an RFC 3339 timestamp.</exception>
    public static FirestoreTimestamp Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var match = Rfc3339().Match(text);
        if (!match.Success)
        {
            throw new FormatException($"'{text}' is not an RFC 3339 timestamp");
        }

        var whole = DateTimeOffset.ParseExact(
            match.Groups["whole"].Value + match.Groups["zone"].Value.Replace("z", "Z", StringComparison.Ordinal),
            "yyyy-MM-dd'T'HH:mm:ssK",
            CultureInfo.InvariantCulture);
        var fraction = match.Groups["fraction"].Value;
        var nanos = fraction.Length == 0 ? 0 : int.Parse(fraction.PadRight(9, '0'), CultureInfo.InvariantCulture);
        return new FirestoreTimestamp(whole.ToUnixTimeSeconds(), nanos);
    }

    /// <summary>Truncated to the 100 ns resolution of <see cref="DateTimeOffset"/>, in UTC.</summary>
    public DateTimeOffset ToDateTimeOffset() =>
        DateTimeOffset.UnixEpoch.AddTicks((Seconds * TimeSpan.TicksPerSecond) + (Nanos / NanosPerTick));

    /// <summary>RFC 3339 in UTC with 0, 3, 6 or 9 fraction digits, as proto3 JSON writes timestamps.</summary>
    public override string ToString()
    {
        var whole = DateTimeOffset.FromUnixTimeSeconds(Seconds).ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        var fraction = Nanos switch
        {
            0 => string.Empty,
            _ when Nanos % 1_000_000 == 0 => "." + (Nanos / 1_000_000).ToString("D3", CultureInfo.InvariantCulture),
            _ when Nanos % 1_000 == 0 => "." + (Nanos / 1_000).ToString("D6", CultureInfo.InvariantCulture),
            _ => "." + Nanos.ToString("D9", CultureInfo.InvariantCulture),
        };
        return whole + fraction + "Z";
    }

    public int CompareTo(FirestoreTimestamp other) =>
        Seconds != other.Seconds ? Seconds.CompareTo(other.Seconds) : Nanos.CompareTo(other.Nanos);

    public static bool operator <(FirestoreTimestamp left, FirestoreTimestamp right) => left.CompareTo(right) < 0;

    public static bool operator >(FirestoreTimestamp left, FirestoreTimestamp right) => left.CompareTo(right) > 0;

    public static bool operator <=(FirestoreTimestamp left, FirestoreTimestamp right) => left.CompareTo(right) <= 0;

    public static bool operator >=(FirestoreTimestamp left, FirestoreTimestamp right) => left.CompareTo(right) >= 0;

    [GeneratedRegex(@"^(?<whole>\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2})(?:\.(?<fraction>\d{1,9}))?(?<zone>[Zz]|[+-]\d{2}:\d{2})\z", RegexOptions.CultureInvariant)]
    private static partial Regex Rfc3339();
}
