using System.Text.RegularExpressions;
using Kfci.Configuration;
using Kfci.Prow;
using Kfci.Sources;
using Kfci.Storage;

namespace Kfci.ProwJobs;

/// <summary>
/// Where Prow's job configuration lives, read the way Prow's <c>sub</c> reads its own: a file on this machine (the
/// local stack), an object in Cloud Storage (<c>gs://BUCKET/OBJECT</c>, e.g. where a config-upload job copies it), or a
/// file in a repository at the head of a branch (<c>ORG/REPO@BRANCH:PATH</c>, e.g.
/// <c>kubernetes/test-infra@master:config/jobs/kubeflow/kubeflow-periodics.yaml</c>). The parsed configuration is
/// kept for <see cref="MaxAge"/>, so a burst of periodic events reads it once.
/// </summary>
public sealed partial class ProwJobConfigSource : IDisposable
{
    /// <summary>A job configuration file larger than this is not one (Prow's largest are a few hundred kilobytes).</summary>
    public const long MaxBytes = 1024 * 1024;

    private readonly Func<CancellationToken, Task<byte[]?>> _read;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private (ProwJobConfig Config, DateTimeOffset ReadAt)? _cached;

    private ProwJobConfigSource(string location, Func<CancellationToken, Task<byte[]?>> read, TimeProvider? time)
    {
        Location = location;
        _read = read;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The location as configured, for messages.</summary>
    public string Location { get; }

    /// <summary>How long a read configuration is used before it is read again.</summary>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Parses a configured location.</summary>
    /// <param name="location">A file path, <c>gs://BUCKET/OBJECT</c> or <c>ORG/REPO@BRANCH:PATH</c>.</param>
    /// <param name="repositories">Reads repository files (for <c>ORG/REPO@BRANCH:PATH</c>).</param>
    /// <param name="bucket">The results store of a bucket (for <c>gs://</c>).</param>
    /// <param name="time">Clock for <see cref="MaxAge"/>.</param>
    /// <exception cref="InvalidOperationException">The location is none of the three forms.</exception>
    public static ProwJobConfigSource Create(string location, IRepositorySource repositories, Func<string, IResultsStore> bucket, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(location);
        ArgumentNullException.ThrowIfNull(repositories);
        ArgumentNullException.ThrowIfNull(bucket);
        location = location.Trim();
        if (GcsObject().Match(location) is { Success: true } gcs)
        {
            var store = new Lazy<IResultsStore>(() => bucket(gcs.Groups["bucket"].Value));
            return new ProwJobConfigSource(location, token => ReadObjectAsync(store.Value, gcs.Groups["object"].Value, token), time);
        }

        if (RepositoryFile().Match(location) is { Success: true } file && RepositoryName.IsValidPart(file.Groups["org"].Value) && RepositoryName.IsValidPart(file.Groups["repo"].Value)
            && GitRefName.IsSafe(file.Groups["branch"].Value))
        {
            var repository = new RepositoryName(file.Groups["org"].Value, file.Groups["repo"].Value);
            var branch = file.Groups["branch"].Value;
            var path = file.Groups["path"].Value;
            return new ProwJobConfigSource(location, async token => await repositories.ReadFileAsync(repository, await repositories.ResolveBranchAsync(repository, branch, token), path, MaxBytes, token), time);
        }

        if (Path.IsPathFullyQualified(location))
        {
            return new ProwJobConfigSource(location, token => ReadLocalFileAsync(location, token), time);
        }

        // The value is not repeated: a setting that is not a location may hold anything, the configuration's own text included.
        throw new InvalidOperationException(
            $"{KfciEnvironment.ProwJobs} ({location.Length} characters) is not a Prow job configuration location: use an absolute file path, gs://BUCKET/OBJECT or ORG/REPO@BRANCH:PATH");
    }

    /// <summary>The configuration, read again when older than <see cref="MaxAge"/>.</summary>
    /// <exception cref="ProwJobConfigException">It does not exist, is too large, or is not a valid job configuration.</exception>
    public async Task<ProwJobConfig> LoadAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var now = _time.GetUtcNow();
            if (_cached is { } cached && now - cached.ReadAt < MaxAge)
            {
                return cached.Config;
            }

            byte[]? bytes;
            try
            {
                bytes = await _read(cancellationToken);
            }
            catch (Exception e) when (e is SourceNotFoundException or SourceLimitException or ArgumentException)
            {
                throw new ProwJobConfigException($"cannot read Prow's job configuration {Location}: {e.Message}", e);
            }

            var config = ProwJobConfig.Parse(bytes ?? throw new ProwJobConfigException($"Prow's job configuration {Location} does not exist"), Location);
            _cached = (config, now);
            return config;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private static async Task<byte[]?> ReadObjectAsync(IResultsStore store, string name, CancellationToken cancellationToken)
    {
        await using var stream = await store.OpenReadAsync(name, cancellationToken);
        return stream is null
            ? null
            : await GitProcess.ReadBoundedAsync(stream, MaxBytes, cancellationToken) ?? throw new SourceLimitException($"{store.Describe(name)} is more than {MaxBytes} bytes");
    }

    private static async Task<byte[]?> ReadLocalFileAsync(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        await using var stream = File.OpenRead(path);
        return await GitProcess.ReadBoundedAsync(stream, MaxBytes, cancellationToken) ?? throw new SourceLimitException($"{path} is more than {MaxBytes} bytes");
    }

    [GeneratedRegex("^gs://(?<bucket>[a-z0-9][a-z0-9._-]{1,221}[a-z0-9])/(?<object>[^\\s]+)\\z")]
    private static partial Regex GcsObject();

    [GeneratedRegex("^(?<org>[A-Za-z0-9._-]+)/(?<repo>[A-Za-z0-9._-]+)@(?<branch>[^:\\s]+):(?<path>[^:\\s]+)\\z")]
    private static partial Regex RepositoryFile();
}
