using System.IO.Enumeration;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kfci.Storage;

/// <summary>
/// <see cref="IResultsStore"/> on a local directory, the embedded default of the local run. The directory
/// looks exactly like the bucket: object <c>logs/job/1/started.json</c> is the file of that relative path.
/// What a file cannot carry (content type, cache control, custom metadata, generation) lives in a hidden
/// sidecar tree, <c>.kfci-meta/objects/&lt;path&gt;.json</c>, never listed; temporary files live in
/// <c>.kfci-meta/tmp/</c> so a half-written object is never visible. Writes are atomic renames; create-only
/// writes use a no-overwrite move, so of two racing writers exactly one wins. It names itself as a bucket
/// (<see cref="Describe"/> is <c>gs://kfci-local/&lt;path&gt;</c>), so the aliases, links and metadata it holds read
/// exactly as they would in the cloud and Prow's readers given a copy of the directory parse it unchanged.
/// </summary>
/// <remarks>
/// Unlike a bucket, a directory cannot hold both an object <c>a</c> and an object <c>a/b</c>; writing the
/// second fails with <see cref="IOException"/>. <c>.kfci-meta</c> is reserved as a first path segment.
/// Within one process the content and its sidecar are committed together; across processes a reader may
/// briefly see new content with old metadata.
/// </remarks>
public sealed class LocalDirectoryResultsStore : IResultsStore
{
    public const string MetaDirectoryName = ".kfci-meta";

    /// <summary>The bucket the local stack's results directory stands in for.</summary>
    public const string DefaultBucket = "kfci-local";

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    private readonly string _metaRoot;
    private readonly string _tempRoot;
    private readonly Lock _commit = new();
    private readonly ILogger _logger;

    /// <param name="root">The results directory; created when missing.</param>
    /// <param name="logger">Where skipped create-only writes are logged.</param>
    /// <param name="bucket">The bucket the directory stands in for, as <see cref="Describe"/> names objects.</param>
    public LocalDirectoryResultsStore(string root, ILogger<LocalDirectoryResultsStore>? logger = null, string bucket = DefaultBucket)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        ArgumentException.ThrowIfNullOrWhiteSpace(bucket);
        Root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        Bucket = bucket;
        _metaRoot = Path.Combine(Root, MetaDirectoryName, "objects");
        _tempRoot = Path.Combine(Root, MetaDirectoryName, "tmp");
        Directory.CreateDirectory(_tempRoot);
        _logger = logger ?? NullLogger<LocalDirectoryResultsStore>.Instance;
    }

    public string Root { get; }

    /// <summary>The bucket name <see cref="Describe"/> uses.</summary>
    public string Bucket { get; }

    public string Describe(string path) => $"gs://{Bucket}/{path}";

    /// <summary>
    /// The file behind a <see cref="Describe"/>d name of this store (<c>gs://kfci-local/a/b</c> → <c>&lt;root&gt;/a/b</c>),
    /// for people on this machine; null for a name of another bucket or one outside the directory.
    /// </summary>
    public string? FileOf(string described)
    {
        ArgumentNullException.ThrowIfNull(described);
        var prefix = $"gs://{Bucket}/";
        if (!described.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var file = Path.GetFullPath(Path.Combine(Root, described[prefix.Length..]));
        return file == Root || file.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal) ? file : null;
    }

    public async Task<StoredObject?> WriteAsync(string path, Stream content, ObjectWriteOptions? options, CancellationToken cancellationToken)
    {
        var target = ContentPath(path);
        ArgumentNullException.ThrowIfNull(content);
        options ??= ObjectWriteOptions.Default;
        var temp = Path.Combine(_tempRoot, Guid.NewGuid().ToString("N"));
        try
        {
            long size;
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
            {
                await content.CopyToAsync(file, cancellationToken);
                size = file.Length;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            lock (_commit)
            {
                if (!TryMove(temp, target, overwrite: !options.CreateOnly))
                {
                    _logger.LogDebug("{Object} already exists; create-only write skipped", target);
                    return null;
                }

                var sidecar = new Sidecar(NextGeneration(path), options.ContentType ?? ObjectPaths.DefaultContentType, options.CacheControl,
                    options.Metadata?.ToDictionary(StringComparer.Ordinal) ?? [], DateTimeOffset.UtcNow);
                WriteSidecar(path, sidecar);
                return sidecar.ToStoredObject(path, size);
            }
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public Task<Stream?> OpenReadAsync(string path, CancellationToken cancellationToken)
    {
        var file = ContentPath(path);
        try
        {
            // FileShare.Delete: a concurrent overwrite (a rename over this name) must not wait for readers.
            Stream stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, useAsync: true);
            return Task.FromResult<Stream?>(stream);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException && !File.Exists(file))
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    public Task<StoredObject?> GetAsync(string path, CancellationToken cancellationToken) =>
        Task.FromResult(Stat(path, ContentPath(path)));

    public async IAsyncEnumerable<ResultsListEntry> ListAsync(
        string prefix, string? delimiter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ObjectPaths.ValidatePrefix(prefix);
        await Task.Yield();
        var seenPrefixes = new HashSet<string>(StringComparer.Ordinal);
        var entries = new List<(string Name, bool IsPrefix)>();
        foreach (var name in NamesUnder(prefix))
        {
            var split = string.IsNullOrEmpty(delimiter) ? -1 : name.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal);
            if (split < 0)
            {
                entries.Add((name, false));
            }
            else if (seenPrefixes.Add(name[..(split + delimiter!.Length)]))
            {
                entries.Add((name[..(split + delimiter.Length)], true));
            }
        }

        entries.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        foreach (var (name, isPrefix) in entries)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (isPrefix)
            {
                yield return new ResultsListEntry(name, null);
            }
            else if (Stat(name, Path.Combine(Root, name)) is { } item)
            {
                // A concurrent delete between enumeration and stat simply drops the entry, as a later GCS page would.
                yield return new ResultsListEntry(name, item);
            }
        }
    }

    public Task<bool> DeleteAsync(string path, CancellationToken cancellationToken)
    {
        var file = ContentPath(path);
        lock (_commit)
        {
            if (!File.Exists(file))
            {
                return Task.FromResult(false);
            }

            File.Delete(file);
            File.Delete(SidecarPath(path));
        }

        // A bucket has no empty folders, so neither does its local image.
        PruneEmptyDirectories(Path.GetDirectoryName(file)!, Root);
        PruneEmptyDirectories(Path.GetDirectoryName(SidecarPath(path))!, _metaRoot);
        return Task.FromResult(true);
    }

    private string ContentPath(string path)
    {
        ObjectPaths.Validate(path);
        if (path == MetaDirectoryName || path.StartsWith(MetaDirectoryName + "/", StringComparison.Ordinal))
        {
            throw new ArgumentException($"Object path '{path}' is reserved: the local store keeps its metadata under '{MetaDirectoryName}/'.", nameof(path));
        }

        return Path.Combine(Root, path);
    }

    private string SidecarPath(string path) => Path.Combine(_metaRoot, path + ".json");

    private StoredObject? Stat(string path, string file)
    {
        var info = new FileInfo(file);
        if (!info.Exists)
        {
            return null;
        }

        // A file placed by hand has no sidecar: it reads as an untyped object whose generation is its modification time.
        var sidecar = ReadSidecar(path) ?? new Sidecar(
            Microseconds(info.LastWriteTimeUtc), ObjectPaths.DefaultContentType, null, [], info.LastWriteTimeUtc);
        return sidecar.ToStoredObject(path, info.Length);
    }

    private Sidecar? ReadSidecar(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<Sidecar>(File.ReadAllBytes(SidecarPath(path)), s_json);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    private void WriteSidecar(string path, Sidecar sidecar)
    {
        var target = SidecarPath(path);
        var temp = Path.Combine(_tempRoot, Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(sidecar, s_json));
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Move(temp, target, overwrite: true);
    }

    /// <summary>Like GCS, generations are microsecond timestamps; a rewrite within the same microsecond still gets a new one.</summary>
    private long NextGeneration(string path)
    {
        var now = Microseconds(DateTime.UtcNow);
        return ReadSidecar(path) is { } previous && previous.Generation >= now ? previous.Generation + 1 : now;
    }

    private static long Microseconds(DateTime utc) => (utc - DateTime.UnixEpoch).Ticks / 10;

    /// <summary>Moves the finished temporary file into place; false when create-only lost to an existing object.</summary>
    private static bool TryMove(string temp, string target, bool overwrite)
    {
        try
        {
            // Without overwrite, .NET on Unix links then unlinks, so the existence check and the move are one atomic step.
            File.Move(temp, target, overwrite);
            return true;
        }
        catch (IOException) when (!overwrite && File.Exists(target))
        {
            return false;
        }
    }

    private IEnumerable<string> NamesUnder(string prefix)
    {
        var slash = prefix.LastIndexOf('/');
        var directory = slash < 0 ? Root : Path.Combine(Root, prefix[..slash]);
        if (!Directory.Exists(directory))
        {
            return [];
        }

        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = true };
        var metaDirectory = Path.Combine(Root, MetaDirectoryName);
        var rootLength = Root.Length + 1;
        var names = new FileSystemEnumerable<string>(directory, (ref FileSystemEntry e) => e.ToFullPath()[rootLength..], options)
        {
            ShouldIncludePredicate = (ref FileSystemEntry e) => !e.IsDirectory,
            ShouldRecursePredicate = (ref FileSystemEntry e) => !e.ToFullPath().Equals(metaDirectory, StringComparison.Ordinal),
        };
        return names
            .Select(name => Path.DirectorySeparatorChar == '/' ? name : name.Replace(Path.DirectorySeparatorChar, '/'))
            .Where(name => name.StartsWith(prefix, StringComparison.Ordinal));
    }

    private static void PruneEmptyDirectories(string directory, string stopAt)
    {
        try
        {
            while (directory.Length > stopAt.Length && !Directory.EnumerateFileSystemEntries(directory).Any())
            {
                Directory.Delete(directory);
                directory = Path.GetDirectoryName(directory)!;
            }
        }
        catch (Exception e) when (e is IOException or DirectoryNotFoundException)
        {
            // A concurrent write just reused the folder; leaving it is correct.
        }
    }

    /// <summary>The sidecar's JSON shape.</summary>
    private sealed record Sidecar(long Generation, string ContentType, string? CacheControl, Dictionary<string, string> Metadata, DateTimeOffset Updated)
    {
        public StoredObject ToStoredObject(string name, long size) =>
            new(name, size, Generation, ContentType, Metadata, Updated, CacheControl);
    }
}
