using System.Collections;

namespace Kfci.Firestore;

/// <summary>
/// Splits many writes into commits Firestore accepts: requests well under the API's 10 MiB limit (a commit of many
/// documents near the 1 MiB document limit would be refused whole), and at most <see cref="MaxWrites"/> writes, kfci's
/// choice (Firestore's documented limits no longer count writes; 500 was its old limit and keeps a commit's latency small).
/// </summary>
public static class FirestoreCommits
{
    public const int MaxWrites = 500;

    /// <summary>Estimated bytes a commit may carry, leaving room for what the estimate does not count.</summary>
    public const long MaxBytes = 8L * 1024 * 1024;

    /// <summary>Room for a value's JSON wrapper (<c>{"stringValue": …}</c>, a map's <c>fields</c>) beside its content.</summary>
    private const int PerValue = 32;

    /// <summary>The writes in order, cut into commits; a single write larger than the limit gets a commit of its own.</summary>
    public static IEnumerable<IReadOnlyList<FirestoreWrite>> Chunk(IEnumerable<FirestoreWrite> writes, int maxWrites = MaxWrites, long maxBytes = MaxBytes)
    {
        ArgumentNullException.ThrowIfNull(writes);
        var chunk = new List<FirestoreWrite>();
        long bytes = 0;
        foreach (var write in writes)
        {
            var size = EstimateBytes(write);
            if (chunk.Count > 0 && (chunk.Count == maxWrites || bytes + size > maxBytes))
            {
                yield return chunk;
                chunk = [];
                bytes = 0;
            }

            chunk.Add(write);
            bytes += size;
        }

        if (chunk.Count > 0)
        {
            yield return chunk;
        }
    }

    /// <summary>About how many bytes the write adds to a commit request: its path and its fields' content and wrappers.</summary>
    public static long EstimateBytes(FirestoreWrite write)
    {
        ArgumentNullException.ThrowIfNull(write);
        return JsonBytes(write.Path) + PerValue + (write.Fields is { } fields ? Estimate(fields) : 0);
    }

    private static long Estimate(object? value) => PerValue + value switch
    {
        string text => JsonBytes(text),
        IReadOnlyDictionary<string, object?> map => map.Sum(pair => JsonBytes(pair.Key) + Estimate(pair.Value)),
        byte[] blob => blob.Length * 4 / 3,
        IEnumerable items => items.Cast<object?>().Sum(Estimate),
        _ => 0,
    };

    /// <summary>
    /// The text's size in the request body: System.Text.Json's default encoder writes ASCII letters, digits and most
    /// punctuation as they are, and everything else (non-ASCII, controls, HTML-sensitive and quote characters) as a
    /// six-byte <c>\uXXXX</c> per UTF-16 unit; a pull request chooses names full of the latter.
    /// </summary>
    private static long JsonBytes(string text)
    {
        long bytes = 0;
        foreach (var c in text)
        {
            bytes += c is >= ' ' and < (char)0x7F and not ('<' or '>' or '&' or '\'' or '"' or '\\' or '+' or '`') ? 1 : 6;
        }

        return bytes;
    }
}
