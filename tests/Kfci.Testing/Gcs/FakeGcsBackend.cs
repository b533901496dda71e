using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Kfci.Testing.Gcs;

/// <summary>A GCS API error: the fake answers with Google's error body for it.</summary>
internal sealed class GcsError(int status, string reason, string message) : Exception(message)
{
    public int Status { get; } = status;

    public string Reason { get; } = reason;

    // GCS's own words, the only thing that tells a missing bucket from a missing object (both 404 notFound).
    public static GcsError NoBucket(string bucket) => new(404, "notFound", "The specified bucket does not exist.");

    public static GcsError NoObject(string bucket, string name) => new(404, "notFound", $"No such object: {bucket}/{name}");

    public static GcsError ConditionNotMet() => new(412, "conditionNotMet", "At least one of the pre-conditions you specified did not hold.");

    public static GcsError BadRequest(string message) => new(400, "invalid", message);

    public JsonObject ToJson() => new()
    {
        ["error"] = new JsonObject
        {
            ["code"] = Status,
            ["message"] = Message,
            ["errors"] = new JsonArray(new JsonObject { ["message"] = Message, ["domain"] = "global", ["reason"] = Reason }),
        },
    };
}

/// <summary>An object generation as the fake keeps it; its content is a file in the fake's directory.</summary>
internal sealed record FakeObject(
    string Bucket, string Name, long Generation, long Metageneration, string ContentType, string? CacheControl,
    IReadOnlyDictionary<string, string> Metadata, DateTimeOffset Updated, long Size, string Md5, string Crc32c, string File)
{
    public JsonObject ToJson()
    {
        var id = $"{Bucket}/{Name}/{Generation}";
        var json = new JsonObject
        {
            ["kind"] = "storage#object",
            ["id"] = id,
            ["selfLink"] = $"https://www.googleapis.com/storage/v1/b/{Bucket}/o/{Uri.EscapeDataString(Name)}",
            ["mediaLink"] = $"https://storage.googleapis.com/download/storage/v1/b/{Bucket}/o/{Uri.EscapeDataString(Name)}?generation={Generation}&alt=media",
            ["name"] = Name,
            ["bucket"] = Bucket,
            ["generation"] = Generation.ToString(CultureInfo.InvariantCulture),
            ["metageneration"] = Metageneration.ToString(CultureInfo.InvariantCulture),
            ["contentType"] = ContentType,
            ["storageClass"] = "STANDARD",
            ["size"] = Size.ToString(CultureInfo.InvariantCulture),
            ["md5Hash"] = Md5,
            ["crc32c"] = Crc32c,
            ["etag"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(id)),
            ["timeCreated"] = Rfc3339(Updated),
            ["updated"] = Rfc3339(Updated),
        };
        if (CacheControl is not null)
        {
            json["cacheControl"] = CacheControl;
        }

        if (Metadata.Count > 0)
        {
            var map = new JsonObject();
            foreach (var (key, value) in Metadata)
            {
                map[key] = value;
            }

            json["metadata"] = map;
        }

        return json;
    }

    // GCS writes RFC 3339 in UTC with milliseconds; the official client's parser refuses .NET's 7-digit "O" form.
    private static string Rfc3339(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}

/// <summary>What a write asks for: the object resource fields and the preconditions.</summary>
internal sealed record WriteRequest(
    string Bucket, string Name, string ContentType, string? CacheControl, IReadOnlyDictionary<string, string> Metadata, Preconditions Preconditions);

/// <summary><c>ifGenerationMatch</c> / <c>ifGenerationNotMatch</c>; 0 for a match means "no live object".</summary>
internal sealed record Preconditions(long? IfGenerationMatch, long? IfGenerationNotMatch)
{
    public bool Hold(FakeObject? current)
    {
        var generation = current?.Generation ?? 0;
        return (IfGenerationMatch is not { } match || match == generation)
            && (IfGenerationNotMatch is not { } notMatch || notMatch != generation);
    }
}

/// <summary>A resumable upload in progress: its persisted bytes are a file that grows with each chunk.</summary>
internal sealed class UploadSession(string id, WriteRequest write, string file)
{
    public string Id { get; } = id;

    public WriteRequest Write { get; } = write;

    public string File { get; } = file;

    public long Persisted { get; set; }

    public FakeObject? Result { get; set; }

    public bool Expired { get; set; }

    /// <summary>Serialises chunks of one session, as GCS does.</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);
}

/// <summary>
/// The fake's state: buckets, object generations (content on disk) and upload sessions, with GCS's
/// semantics for generations, preconditions and listing.
/// </summary>
internal sealed class FakeGcsBackend : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, SortedDictionary<string, FakeObject>> _buckets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, UploadSession> _sessions = new(StringComparer.Ordinal);
    private long _lastGeneration = (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks / 10;

    public FakeGcsBackend()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("kfci-fake-gcs-").FullName;
    }

    /// <summary>Where object contents and session files live.</summary>
    public string Directory { get; }

    public void CreateBucket(string bucket)
    {
        lock (_gate)
        {
            if (!_buckets.TryAdd(bucket, new SortedDictionary<string, FakeObject>(StringComparer.Ordinal)))
            {
                throw new GcsError(409, "conflict", $"Your previous request to create the named bucket succeeded and you already own it: {bucket}");
            }
        }
    }

    public bool BucketExists(string bucket)
    {
        lock (_gate)
        {
            return _buckets.ContainsKey(bucket);
        }
    }

    public FakeObject? Find(string bucket, string name)
    {
        lock (_gate)
        {
            return Objects(bucket).GetValueOrDefault(name);
        }
    }

    public FakeObject Get(string bucket, string name) => Find(bucket, name) ?? throw GcsError.NoObject(bucket, name);

    public void Delete(string bucket, string name, Preconditions preconditions)
    {
        FakeObject removed;
        lock (_gate)
        {
            var objects = Objects(bucket);
            removed = objects.GetValueOrDefault(name) ?? throw GcsError.NoObject(bucket, name);
            if (!preconditions.Hold(removed))
            {
                throw GcsError.ConditionNotMet();
            }

            objects.Remove(name);
        }

        File.Delete(removed.File);
    }

    /// <summary>Checks a write's preconditions now (GCS checks them when an upload starts and again when it ends).</summary>
    public void CheckPreconditions(WriteRequest write)
    {
        if (!write.Preconditions.Hold(Find(write.Bucket, write.Name)))
        {
            throw GcsError.ConditionNotMet();
        }
    }

    /// <summary>Streams a body to a new content file; the caller commits it or deletes it.</summary>
    public async Task<string> ReceiveAsync(Stream body, CancellationToken cancellationToken)
    {
        var file = NewFile();
        await using var target = new FileStream(file, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 81920, useAsync: true);
        await body.CopyToAsync(target, cancellationToken);
        return file;
    }

    /// <summary>
    /// Makes a received content file the object's new generation, if the preconditions still hold and the content
    /// matches the checksums the client declared (<c>x-goog-hash</c>), as GCS rejects a corrupted upload.
    /// </summary>
    public FakeObject Commit(WriteRequest write, string file, string? declaredHashes = null)
    {
        var (size, md5, crc32c) = Digest(file);
        if (DeclaredMismatch(declaredHashes, md5, crc32c) is { } mismatch)
        {
            File.Delete(file);
            throw GcsError.BadRequest(mismatch);
        }

        FakeObject? replaced;
        FakeObject created;
        lock (_gate)
        {
            var objects = Objects(write.Bucket);
            replaced = objects.GetValueOrDefault(write.Name);
            if (!write.Preconditions.Hold(replaced))
            {
                File.Delete(file);
                throw GcsError.ConditionNotMet();
            }

            _lastGeneration = Math.Max(_lastGeneration + 1, (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks / 10);
            created = new FakeObject(write.Bucket, write.Name, _lastGeneration, 1, write.ContentType, write.CacheControl,
                write.Metadata, DateTimeOffset.UtcNow, size, md5, crc32c, file);
            objects[write.Name] = created;
        }

        if (replaced is not null)
        {
            File.Delete(replaced.File);
        }

        return created;
    }

    public UploadSession StartSession(WriteRequest write)
    {
        Objects(write.Bucket);
        CheckPreconditions(write);
        var session = new UploadSession(Guid.NewGuid().ToString("N"), write, NewFile());
        File.WriteAllBytes(session.File, []);
        lock (_gate)
        {
            _sessions[session.Id] = session;
        }

        return session;
    }

    /// <summary>The session; 404 for an id never issued, 410 for one that expired.</summary>
    public UploadSession Session(string id)
    {
        lock (_gate)
        {
            var session = _sessions.GetValueOrDefault(id) ?? throw new GcsError(404, "notFound", $"No such upload session: {id}");
            return session.Expired ? throw new GcsError(410, "gone", "The upload session has expired; start a new one.") : session;
        }
    }

    /// <summary>The object a session uploads, or null for an unknown session.</summary>
    public string? SessionObject(string id)
    {
        lock (_gate)
        {
            return _sessions.GetValueOrDefault(id)?.Write.Name;
        }
    }

    public void ExpireSessions()
    {
        lock (_gate)
        {
            foreach (var session in _sessions.Values)
            {
                session.Expired = true;
            }
        }
    }

    public void CancelSession(UploadSession session)
    {
        lock (_gate)
        {
            _sessions.Remove(session.Id);
        }

        File.Delete(session.File);
    }

    /// <summary>
    /// One page of a listing: names in byte order after the page token, with names that contain the
    /// delimiter after the prefix rolled up into prefixes; maxResults counts items and prefixes together.
    /// </summary>
    public (List<FakeObject> Items, List<string> Prefixes, string? NextPageToken) List(
        string bucket, string prefix, string? delimiter, int maxResults, string? pageToken)
    {
        var after = pageToken is null ? null : Encoding.UTF8.GetString(Convert.FromBase64String(pageToken));
        var items = new List<FakeObject>();
        var prefixes = new List<string>();
        string? last = null;
        lock (_gate)
        {
            foreach (var (name, obj) in Objects(bucket))
            {
                // A token that names a prefix (ends with the delimiter) skips every name under it.
                if (!name.StartsWith(prefix, StringComparison.Ordinal)
                    || (after is not null && (string.CompareOrdinal(name, after) <= 0 || (IsRollup(after, delimiter) && name.StartsWith(after, StringComparison.Ordinal)))))
                {
                    continue;
                }

                var split = string.IsNullOrEmpty(delimiter) ? -1 : name.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal);
                var entry = split < 0 ? name : name[..(split + delimiter!.Length)];
                if (entry == last)
                {
                    continue;
                }

                if (items.Count + prefixes.Count == maxResults)
                {
                    return (items, prefixes, Convert.ToBase64String(Encoding.UTF8.GetBytes(last!)));
                }

                if (split < 0)
                {
                    items.Add(obj);
                }
                else
                {
                    prefixes.Add(entry);
                }

                last = entry;
            }
        }

        return (items, prefixes, null);
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A download still streaming a file; the temp directory is left to the OS.
        }
    }

    private static bool IsRollup(string entry, string? delimiter) =>
        !string.IsNullOrEmpty(delimiter) && entry.EndsWith(delimiter, StringComparison.Ordinal);

    private SortedDictionary<string, FakeObject> Objects(string bucket)
    {
        lock (_gate)
        {
            return _buckets.GetValueOrDefault(bucket) ?? throw GcsError.NoBucket(bucket);
        }
    }

    private string NewFile() => Path.Combine(Directory, Guid.NewGuid().ToString("N"));

    private static (long Size, string Md5, string Crc32c) Digest(string file)
    {
        using var stream = File.OpenRead(file);
#pragma warning disable CA5351 // md5Hash is GCS's integrity checksum in the object resource, not a security measure.
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
#pragma warning restore CA5351
        var crc = 0u;
        var buffer = new byte[81920];
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            md5.AppendData(buffer, 0, read);
            crc = Gcs.Crc32c.Append(crc, buffer.AsSpan(0, read));
        }

        return (stream.Length, Convert.ToBase64String(md5.GetHashAndReset()), Gcs.Crc32c.ToBase64(crc));
    }

    /// <summary><c>x-goog-hash: crc32c=…,md5=…</c> (one header or several); the first declared value that differs, described.</summary>
    private static string? DeclaredMismatch(string? declared, string md5, string crc32c)
    {
        foreach (var part in (declared ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var (kind, value) = eq > 0 ? (part[..eq].ToLowerInvariant(), part[(eq + 1)..]) : (part, "");
            var actual = kind switch { "crc32c" => crc32c, "md5" => md5, _ => null };
            if (actual is not null && actual != value)
            {
                return $"Provided {kind.ToUpperInvariant()} \"{value}\" doesn't match calculated {kind.ToUpperInvariant()} \"{actual}\".";
            }
        }

        return null;
    }
}
