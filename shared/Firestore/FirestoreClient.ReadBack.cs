using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace Kfci.Firestore;

public sealed partial class FirestoreClient
{
    /// <summary>
    /// After a retried commit failed its precondition: whether the documents now hold exactly what the writes wrote (a
    /// set's fields, an update's masked fields, a delete's absence), i.e. an earlier attempt of this commit was applied
    /// and only its answer was lost. Returns the commit's result as the documents show it, or null for a real conflict.
    /// A concurrent writer that wrote the very same values is indistinguishable, and equivalent for the caller: the
    /// documents are as the caller wanted them.
    /// </summary>
    private async Task<FirestoreCommitResult?> ReadBackAsync(IReadOnlyList<FirestoreWrite> writes, CancellationToken cancellationToken)
    {
        var results = new List<FirestoreWriteResult>(writes.Count);
        var commitTime = default(FirestoreTimestamp);
        foreach (var write in writes)
        {
            if (write.Transforms.Count > 0)
            {
                return null;
            }

            var document = await GetJsonAsync(DocumentName(write.Path), cancellationToken);
            if (!Holds(write, document))
            {
                return null;
            }

            var updated = document is null ? (FirestoreTimestamp?)null : FirestoreDocument.Time(document["updateTime"]);
            if (updated is { } time && time.CompareTo(commitTime) > 0)
            {
                commitTime = time;
            }

            results.Add(new FirestoreWriteResult(updated, []));
        }

        return new FirestoreCommitResult(commitTime, results);
    }

    private static bool Holds(FirestoreWrite write, JsonNode? document)
    {
        if (write.Kind == FirestoreWrite.WriteKind.Delete)
        {
            return document is null;
        }

        if (document is null)
        {
            return false;
        }

        var stored = FirestoreValues.DecodeFields(document["fields"] as JsonObject);
        var written = FirestoreValues.DecodeFields(FirestoreValues.EncodeFields(write.Fields!));
        return write.Kind == FirestoreWrite.WriteKind.Set
            ? SameValue(written, stored)
            : write.Fields!.Keys.All(path => SameValue(At(written, FieldPath.Split(path)), At(stored, FieldPath.Split(path))));
    }

    /// <summary>A value by field path: an update's key <c>a.b</c> is nested in what it wrote as in what is stored.</summary>
    private static object? At(IReadOnlyDictionary<string, object?> fields, IReadOnlyList<string> segments)
    {
        object? current = fields;
        foreach (var segment in segments)
        {
            if (current is not IReadOnlyDictionary<string, object?> map || !map.TryGetValue(segment, out current))
            {
                return Absent.Value;
            }
        }

        return current;
    }

    /// <summary>Structural equality of decoded values; timestamps to the microsecond Firestore keeps.</summary>
    private static bool SameValue(object? a, object? b) => (a, b) switch
    {
        (DateTimeOffset x, DateTimeOffset y) => Math.Abs((x - y).Ticks) < TimeSpan.TicksPerMicrosecond,
        (IReadOnlyDictionary<string, object?> x, IReadOnlyDictionary<string, object?> y) =>
            x.Count == y.Count && x.All(kv => y.TryGetValue(kv.Key, out var other) && SameValue(kv.Value, other)),
        (IReadOnlyList<object?> x, IReadOnlyList<object?> y) => x.Count == y.Count && x.Zip(y).All(pair => SameValue(pair.First, pair.Second)),
        (byte[] x, byte[] y) => x.AsSpan().SequenceEqual(y),
        _ => Equals(a, b),
    };

    private sealed class Absent
    {
        public static Absent Value { get; } = new();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Firestore commit retried {Attempts} times; its precondition failure ({Reason}) was our own earlier attempt, applied but unanswered")]
    private partial void LogOwnWriteRecognised(int attempts, string reason);
}
