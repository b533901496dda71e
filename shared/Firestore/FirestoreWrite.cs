using System.Text.Json.Nodes;

namespace Kfci.Firestore;

/// <summary>A condition the target document must meet for a write to apply. Build with the static members.</summary>
public sealed record FirestorePrecondition
{
    private FirestorePrecondition(bool? exists, FirestoreTimestamp? updateTime)
    {
        Exists = exists;
        UpdateTime = updateTime;
    }

    public static FirestorePrecondition MustExist { get; } = new(true, null);

    public static FirestorePrecondition MustNotExist { get; } = new(false, null);

    public bool? Exists { get; }

    public FirestoreTimestamp? UpdateTime { get; }

    /// <summary>The document must exist and still be at this version (its last <c>updateTime</c>).</summary>
    public static FirestorePrecondition LastUpdated(FirestoreTimestamp updateTime) => new(null, updateTime);

    internal JsonObject ToJson() => UpdateTime is { } time
        ? new JsonObject { ["updateTime"] = time.ToString() }
        : new JsonObject { ["exists"] = Exists };
}

/// <summary>A server-side change to one field (<c>FieldTransform</c>). Build with the static members.</summary>
public sealed record FieldTransform
{
    private FieldTransform(string fieldPath, string kind, JsonNode argument)
    {
        FieldPath = fieldPath;
        Kind = kind;
        Argument = argument;
    }

    /// <summary>Dotted field path (see <see cref="Firestore.FieldPath"/>).</summary>
    public string FieldPath { get; }

    /// <summary>The wire name of the transform, e.g. <c>increment</c>.</summary>
    public string Kind { get; }

    /// <summary>Whether applying it twice equals applying it once; decides whether a commit may be retried blindly.</summary>
    public bool IsIdempotent => Kind != "increment";

    internal JsonNode Argument { get; }

    public static FieldTransform Increment(string fieldPath, long by) => new(fieldPath, "increment", FirestoreValues.Encode(by));

    public static FieldTransform Increment(string fieldPath, double by) => new(fieldPath, "increment", FirestoreValues.Encode(by));

    public static FieldTransform Maximum(string fieldPath, object value) => new(fieldPath, "maximum", FirestoreValues.Encode(value));

    public static FieldTransform Minimum(string fieldPath, object value) => new(fieldPath, "minimum", FirestoreValues.Encode(value));

    /// <summary>Sets the field to the commit time.</summary>
    public static FieldTransform ServerTimestamp(string fieldPath) => new(fieldPath, "setToServerValue", "REQUEST_TIME");

    /// <summary>Appends each element not already present (the field becomes an array if it is not one).</summary>
    public static FieldTransform AppendMissingElements(string fieldPath, params IEnumerable<object?> elements) =>
        new(fieldPath, "appendMissingElements", Elements(elements));

    public static FieldTransform RemoveAllFromArray(string fieldPath, params IEnumerable<object?> elements) =>
        new(fieldPath, "removeAllFromArray", Elements(elements));

    internal JsonObject ToJson() => new()
    {
        ["fieldPath"] = Firestore.FieldPath.Encode(FieldPath),
        [Kind] = Argument.DeepClone(),
    };

    private static JsonObject Elements(IEnumerable<object?> elements) =>
        FirestoreValues.Encode(elements.ToList())["arrayValue"]!.DeepClone().AsObject();
}

/// <summary>
/// One write of a commit. Documents are named by their path under the database (<c>runs/abc</c>) or by full
/// resource name. Build with the static members; several go atomically through
/// <see cref="FirestoreClient.CommitAsync"/> or a transaction.
/// </summary>
public sealed record FirestoreWrite
{
    private FirestoreWrite(string path, WriteKind kind, IReadOnlyDictionary<string, object?>? fields, IReadOnlyList<FieldTransform>? transforms, FirestorePrecondition? precondition)
    {
        Path = path;
        Kind = kind;
        Fields = fields;
        Transforms = transforms ?? [];
        Precondition = precondition;
    }

    internal enum WriteKind
    {
        Set,
        Update,
        Delete,
        Transform,
    }

    public string Path { get; }

    /// <summary>For a set: the whole document. For an update: values by dotted field path.</summary>
    public IReadOnlyDictionary<string, object?>? Fields { get; }

    public IReadOnlyList<FieldTransform> Transforms { get; }

    public FirestorePrecondition? Precondition { get; }

    /// <summary>False when sending it twice could apply it twice (an increment without a precondition).</summary>
    public bool IsIdempotent =>
        Precondition is { UpdateTime: not null } or { Exists: false } || Transforms.All(t => t.IsIdempotent);

    internal WriteKind Kind { get; }

    /// <summary>Creates the document; the commit fails with <c>ALREADY_EXISTS</c> if it exists.</summary>
    public static FirestoreWrite Create(string path, IReadOnlyDictionary<string, object?> fields) =>
        new(path, WriteKind.Set, Guard(fields), null, FirestorePrecondition.MustNotExist);

    /// <summary>Creates or wholly replaces the document.</summary>
    public static FirestoreWrite Set(string path, IReadOnlyDictionary<string, object?> fields, FirestorePrecondition? precondition = null) =>
        new(path, WriteKind.Set, Guard(fields), null, precondition);

    /// <summary>
    /// Changes only the named fields (keys are dotted field paths; other fields are kept). Without a
    /// precondition the document must exist.
    /// </summary>
    public static FirestoreWrite Update(string path, IReadOnlyDictionary<string, object?> fields, FirestorePrecondition? precondition = null) =>
        new(path, WriteKind.Update, Guard(fields), null, precondition ?? FirestorePrecondition.MustExist);

    /// <summary>Deletes the document; without a precondition deleting a missing document succeeds.</summary>
    public static FirestoreWrite Delete(string path, FirestorePrecondition? precondition = null) =>
        new(path, WriteKind.Delete, null, null, precondition);

    /// <summary>Applies server-side field transforms (creating the document if it is missing, unless a precondition says otherwise).</summary>
    public static FirestoreWrite Transform(string path, IReadOnlyList<FieldTransform> transforms, FirestorePrecondition? precondition = null)
    {
        ArgumentNullException.ThrowIfNull(transforms);
        return transforms.Count == 0
            ? throw new ArgumentException("a transform write needs at least one field transform", nameof(transforms))
            : new(path, WriteKind.Transform, null, transforms, precondition);
    }

    /// <summary>The wire form, with <paramref name="resolve"/> turning the path into a full document name.</summary>
    internal JsonObject ToJson(Func<string, string> resolve)
    {
        var name = resolve(Path);
        var write = Kind switch
        {
            WriteKind.Set => new JsonObject { ["update"] = Document(name, Fields!) },
            WriteKind.Update => UpdateJson(name),
            WriteKind.Delete => new JsonObject { ["delete"] = name },
            _ => new JsonObject
            {
                ["transform"] = new JsonObject
                {
                    ["document"] = name,
                    ["fieldTransforms"] = new JsonArray([.. Transforms.Select(t => (JsonNode)t.ToJson())]),
                },
            },
        };
        if (Precondition is not null)
        {
            write["currentDocument"] = Precondition.ToJson();
        }

        return write;
    }

    private JsonObject UpdateJson(string name)
    {
        // Dotted keys become nested maps in the document and field paths in the mask: only those change.
        var root = new NestedFields();
        foreach (var (path, value) in Fields!)
        {
            Nest(root, FieldPath.Split(path), value, path);
        }

        return new JsonObject
        {
            ["update"] = Document(name, root),
            ["updateMask"] = new JsonObject
            {
                ["fieldPaths"] = new JsonArray([.. Fields!.Keys.Select(k => (JsonNode)FieldPath.Encode(k))]),
            },
        };
    }

    private static void Nest(NestedFields root, IReadOnlyList<string> segments, object? value, string path)
    {
        var map = root;
        foreach (var segment in segments.Take(segments.Count - 1))
        {
            if (!map.TryGetValue(segment, out var child))
            {
                child = new NestedFields();
                map[segment] = child;
            }

            // Only maps built here may gain keys: a caller's own map value is never modified.
            map = child as NestedFields ?? throw Overlap(path);
        }

        if (!map.TryAdd(segments[^1], value))
        {
            throw Overlap(path);
        }
    }

    private static ArgumentException Overlap(string path) =>
        new($"field path '{path}' overlaps another field path of the same update", nameof(path));

    private static JsonObject Document(string name, IReadOnlyDictionary<string, object?> fields) => new()
    {
        ["name"] = name,
        ["fields"] = FirestoreValues.EncodeFields(fields),
    };

    private static IReadOnlyDictionary<string, object?> Guard(IReadOnlyDictionary<string, object?> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        return fields;
    }
}

internal sealed class NestedFields() : Dictionary<string, object?>(StringComparer.Ordinal);

/// <summary>The outcome of one write: the document's new version (null after a delete) and any transform results.</summary>
public sealed record FirestoreWriteResult(FirestoreTimestamp? UpdateTime, IReadOnlyList<object?> TransformResults);

/// <summary>The outcome of a commit, one result per write in order.</summary>
public sealed record FirestoreCommitResult(FirestoreTimestamp CommitTime, IReadOnlyList<FirestoreWriteResult> WriteResults);
