using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;

namespace Kfci.Cli.Local;

/// <summary>
/// The local stack's Firestore state on disk (<c>KFCI_HOME/firestore/</c>): exports made through the emulator's own
/// export endpoint, each in its own directory, sealed by a manifest of file sizes and SHA-256 sums written last. An
/// export without a manifest (the exporter died part-way) or whose files no longer match it is never imported: it is
/// moved to <c>corrupt/</c> with a one-line warning, and the next older good export is used instead.
/// </summary>
public sealed class FirestoreSnapshots(string home)
{
    public const string ManifestName = "kfci-manifest.json";

    /// <summary>How many good exports are kept: the newest, plus older ones to fall back on if it turns out unreadable.</summary>
    public const int Kept = 3;

    private static readonly HttpClient s_http = new() { Timeout = TimeSpan.FromSeconds(60) };
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public string Directory { get; } = Path.Combine(home, "firestore");

    private string ExportsDirectory => Path.Combine(Directory, "exports");

    private string CorruptDirectory => Path.Combine(Directory, "corrupt");

    /// <summary>
    /// Exports <paramref name="project"/>'s databases from the emulator at <paramref name="emulator"/> into a new
    /// directory and seals it; then drops all but the newest <see cref="Kept"/> good exports. Safe to run from several
    /// processes at once: each writes its own directory, and only sealed ones count.
    /// </summary>
    public async Task<FirestoreSnapshot> ExportAsync(Uri emulator, string project, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(emulator);
        var exportedAt = DateTimeOffset.UtcNow;
        var target = Path.Combine(ExportsDirectory, $"{exportedAt:yyyyMMdd'T'HHmmss.fffffff'Z'}-{Environment.ProcessId}");
        System.IO.Directory.CreateDirectory(target);

        // The emulator's own export (the endpoint behind 'gcloud emulators firestore' --export-on-exit): it writes the
        // managed-export format that --import-data reads back, into a fresh firestore_export_* directory under target.
        var request = new { database = $"projects/{project}/databases/(default)", export_directory = target };
        using var response = await s_http.PostAsJsonAsync(new Uri(emulator, $"emulator/v1/projects/{project}:export"), request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            TryDelete(target);
            throw new InvalidOperationException($"the Firestore emulator refused the export ({(int)response.StatusCode}): {body.ReplaceLineEndings(" ")}");
        }

        var manifest = Seal(target, exportedAt);
        Prune();
        return new FirestoreSnapshot(target, manifest.MetadataFile, exportedAt);
    }

    /// <summary>
    /// The newest sealed exports whose files still match their manifests, newest first; broken ones are set aside. An
    /// unfinished export older than a sealed one is removed without a warning: a save that a later, finished save
    /// superseded (the periodic save cut off by <c>local down</c>'s own).
    /// </summary>
    public IEnumerable<FirestoreSnapshot> Good(TextWriter warnings)
    {
        ArgumentNullException.ThrowIfNull(warnings);
        var sealedNewer = false;
        foreach (var directory in ExportDirectoriesNewestFirst())
        {
            var isSealed = File.Exists(Path.Combine(directory, ManifestName));
            var (snapshot, problem) = Verify(directory);
            if (snapshot is not null)
            {
                yield return snapshot;
            }
            else if (!isSealed && sealedNewer)
            {
                TryDelete(directory);
            }
            else
            {
                SetAside(directory, problem!, warnings);
            }

            sealedNewer |= isSealed;
        }
    }

    /// <summary>The newest good export, or null when there is none (a fresh KFCI_HOME); does not verify sums.</summary>
    public FirestoreSnapshot? Newest() => ExportDirectoriesNewestFirst().Select(ReadManifest).FirstOrDefault(m => m is not null);

    /// <summary>Moves an export the emulator could not import to <c>corrupt/</c>, with a one-line warning.</summary>
    public void SetAside(FirestoreSnapshot snapshot, string why, TextWriter warnings)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        SetAside(snapshot.Directory, why, warnings);
    }

    /// <summary>Removes every export (and set-aside one): the next start is from nothing.</summary>
    public void DeleteAll() => TryDelete(Directory);

    private IEnumerable<string> ExportDirectoriesNewestFirst() =>
        System.IO.Directory.Exists(ExportsDirectory)
            ? System.IO.Directory.EnumerateDirectories(ExportsDirectory).OrderDescending(StringComparer.Ordinal)
            : [];

    private static ExportManifest Seal(string directory, DateTimeOffset exportedAt)
    {
        var files = System.IO.Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Select(path => new ManifestFile(Path.GetRelativePath(directory, path), new FileInfo(path).Length, Sha256(path)))
            .OrderBy(f => f.Path, StringComparer.Ordinal)
            .ToList();
        var metadata = files.SingleOrDefault(f => f.Path.EndsWith(".overall_export_metadata", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"the Firestore emulator's export in {directory} has no overall_export_metadata file");
        var manifest = new ExportManifest(exportedAt, metadata.Path, files);

        // Written last and renamed into place: a directory with a manifest is a whole export.
        var path = Path.Combine(directory, ManifestName);
        File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(manifest, s_json));
        File.Move(path + ".tmp", path, overwrite: true);
        return manifest with { MetadataFile = Path.Combine(directory, metadata.Path) };
    }

    private static (FirestoreSnapshot? Snapshot, string? Problem) Verify(string directory)
    {
        var manifestPath = Path.Combine(directory, ManifestName);
        if (!File.Exists(manifestPath))
        {
            return (null, "an unfinished export (no manifest)");
        }

        ExportManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<ExportManifest>(File.ReadAllText(manifestPath), s_json);
        }
        catch (JsonException e)
        {
            return (null, $"its manifest is unreadable ({e.Message})");
        }

        if (manifest is null || manifest.Files is not { Count: > 0 })
        {
            return (null, "its manifest lists no files");
        }

        foreach (var file in manifest.Files)
        {
            var path = Path.Combine(directory, file.Path);
            if (!File.Exists(path))
            {
                return (null, $"{file.Path} is missing");
            }

            if (new FileInfo(path).Length != file.Bytes || Sha256(path) != file.Sha256)
            {
                return (null, $"{file.Path} does not match its checksum");
            }
        }

        return (new FirestoreSnapshot(directory, Path.Combine(directory, manifest.MetadataFile), manifest.ExportedAt), null);
    }

    private static FirestoreSnapshot? ReadManifest(string directory)
    {
        try
        {
            var manifest = JsonSerializer.Deserialize<ExportManifest>(File.ReadAllText(Path.Combine(directory, ManifestName)), s_json);
            return manifest is null ? null : new FirestoreSnapshot(directory, Path.Combine(directory, manifest.MetadataFile), manifest.ExportedAt);
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return null;
        }
    }

    private void Prune()
    {
        // Sealed exports beyond the newest few go; unsealed ones younger than a minute may be another exporter's
        // work in progress, so only older ones are removed here (a start sets any left over aside).
        var sealedSeen = 0;
        foreach (var directory in ExportDirectoriesNewestFirst())
        {
            var isSealed = File.Exists(Path.Combine(directory, ManifestName));
            var stale = !isSealed && System.IO.Directory.GetCreationTimeUtc(directory) < DateTime.UtcNow.AddMinutes(-1);
            if ((isSealed && ++sealedSeen > Kept) || stale)
            {
                TryDelete(directory);
            }
        }
    }

    private void SetAside(string directory, string why, TextWriter warnings)
    {
        System.IO.Directory.CreateDirectory(CorruptDirectory);
        var target = Path.Combine(CorruptDirectory, Path.GetFileName(directory));
        TryDelete(target);
        System.IO.Directory.Move(directory, target);
        warnings.WriteLine($"warning: Firestore export {Path.GetFileName(directory)} is unusable ({why}); kept aside in {target}");
    }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static void TryDelete(string directory)
    {
        try
        {
            if (System.IO.Directory.Exists(directory))
            {
                System.IO.Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
            // Another exporter may be pruning the same directory; whatever is left goes on the next prune.
        }
    }

    private sealed record ExportManifest(DateTimeOffset ExportedAt, string MetadataFile, IReadOnlyList<ManifestFile> Files);

    private sealed record ManifestFile(string Path, long Bytes, string Sha256);
}

/// <summary>One sealed Firestore export: its directory, the file the emulator's <c>--import-data</c> takes, and when it was made.</summary>
public sealed record FirestoreSnapshot(string Directory, string MetadataFile, DateTimeOffset ExportedAt)
{
    public string Age(DateTimeOffset now)
    {
        var age = now - ExportedAt;
        return age.TotalSeconds < 90 ? $"{Math.Max(0, age.TotalSeconds):0} s"
            : age.TotalMinutes < 90 ? $"{age.TotalMinutes:0} min"
            : age.TotalHours < 48 ? $"{age.TotalHours:0} h"
            : $"{age.TotalDays.ToString("0", CultureInfo.InvariantCulture)} days";
    }
}
