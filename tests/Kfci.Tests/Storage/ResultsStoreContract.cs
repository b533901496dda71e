using System.Security.Cryptography;
using System.Text;
using Kfci.Storage;

namespace Kfci.Tests.Storage;

/// <summary>
/// The semantics every <see cref="IResultsStore"/> must have. Each implementation runs this same suite
/// (see the derived classes), which is what makes the local directory a faithful stand-in for the bucket.
/// </summary>
public abstract class ResultsStoreContract
{
    protected abstract IResultsStore Store { get; }

    [Fact]
    public async Task WriteAsync_WithMetadata_RoundTripsContentAndMetadata()
    {
        var options = new ObjectWriteOptions
        {
            ContentType = "application/json",
            CacheControl = "no-cache",
            Metadata = new Dictionary<string, string> { ["link"] = "https://prow.example/view/1" },
        };

        var written = await Store.WriteAsync("logs/job/1/started.json", Text("{\"timestamp\":1}"), options, default);

        Assert.NotNull(written);
        var stored = await Store.GetAsync("logs/job/1/started.json", default);
        Assert.NotNull(stored);
        Assert.Equal(written, stored with { Metadata = written.Metadata }, new StoredObjectComparer());
        Assert.Equal("application/json", stored.ContentType);
        Assert.Equal("no-cache", stored.CacheControl);
        Assert.Equal("https://prow.example/view/1", stored.Metadata["link"]);
        Assert.Equal(15, stored.Size);
        Assert.Equal("{\"timestamp\":1}", await ReadTextAsync("logs/job/1/started.json"));
    }

    [Fact]
    public async Task WriteAsync_NoOptions_DefaultsToOctetStreamWithoutMetadata()
    {
        var written = await Store.WriteAsync("a/plain", Text("x"), null, default);

        Assert.Equal(ObjectPaths.DefaultContentType, written!.ContentType);
        Assert.Empty(written.Metadata);
        Assert.Null(written.CacheControl);
    }

    [Fact]
    public async Task WriteAsync_Overwrite_ReplacesContentWithNewGeneration()
    {
        var first = await Store.WriteAsync("a/b.txt", Text("one"), null, default);
        var second = await Store.WriteAsync("a/b.txt", Text("two!"), null, default);

        Assert.True(second!.Generation > first!.Generation);
        Assert.Equal("two!", await ReadTextAsync("a/b.txt"));
        Assert.Equal(4, (await Store.GetAsync("a/b.txt", default))!.Size);
    }

    [Fact]
    public async Task WriteAsync_CreateOnlyOnExisting_ReturnsNullAndKeepsOriginal()
    {
        var original = await Store.WriteAsync("logs/job/1/finished.json", Text("original"), null, default);

        var result = await Store.WriteAsync("logs/job/1/finished.json", Text("intruder"), new ObjectWriteOptions { CreateOnly = true }, default);

        Assert.Null(result);
        Assert.Equal("original", await ReadTextAsync("logs/job/1/finished.json"));
        Assert.Equal(original!.Generation, (await Store.GetAsync("logs/job/1/finished.json", default))!.Generation);
    }

    [Fact]
    public async Task WriteAsync_CreateOnlyOnAbsent_Creates()
    {
        var result = await Store.WriteAsync("new/object", Text("fresh"), new ObjectWriteOptions { CreateOnly = true }, default);

        Assert.NotNull(result);
        Assert.Equal("fresh", await ReadTextAsync("new/object"));
    }

    [Fact]
    public async Task WriteAsync_CreateOnlyRacedByManyWriters_ExactlyOneWins()
    {
        var create = new ObjectWriteOptions { CreateOnly = true };
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            Task.Run(() => Store.WriteAsync("race/latest-build.txt", Text($"writer {i}"), create, default))));

        var winner = Assert.Single(results, r => r is not null);
        var content = await ReadTextAsync("race/latest-build.txt");
        Assert.StartsWith("writer ", content, StringComparison.Ordinal);
        Assert.Equal(winner!.Generation, (await Store.GetAsync("race/latest-build.txt", default))!.Generation);
    }

    [Fact]
    public async Task WriteAsync_EmptyStream_CreatesEmptyObject()
    {
        var written = await Store.WriteAsync("empty", new MemoryStream(), null, default);

        Assert.Equal(0, written!.Size);
        Assert.Equal(string.Empty, await ReadTextAsync("empty"));
    }

    [Theory]
    [InlineData(256 * 1024)]
    [InlineData(3 * 256 * 1024)]
    [InlineData((3 * 256 * 1024) + 12345)]
    public async Task WriteAsync_NonSeekableStreamOfSeveralChunks_RoundTrips(int length)
    {
        var written = await Store.WriteAsync("big/log.txt", new GeneratedStream(length), null, default);

        Assert.Equal(length, written!.Size);
        await using var read = await Store.OpenReadAsync("big/log.txt", default);
        Assert.Equal(GeneratedStream.Sha256(length), await SHA256.HashDataAsync(read!));
    }

    [Fact]
    public async Task WriteAsync_SeekableStreamNotAtStart_WritesFromCurrentPosition()
    {
        var stream = new MemoryStream(Encoding.UTF8.GetBytes("skip:keep"));
        stream.Position = 5;

        await Store.WriteAsync("positioned", stream, null, default);

        Assert.Equal("keep", await ReadTextAsync("positioned"));
    }

    [Theory]
    [InlineData("logs/job/1/with space.txt")]
    [InlineData("logs/ünïcødé/日本語/😀.txt")]
    [InlineData("logs/hash#frag")]
    [InlineData("logs/question?x=1&y=2")]
    [InlineData("logs/percent%2Fnot-a-slash%20")]
    [InlineData("logs/plus+sign")]
    [InlineData(".hidden/.file")]
    public async Task WriteAsync_UnusualNames_RoundTripThroughWriteGetListRead(string name)
    {
        await Store.WriteAsync(name, Text(name), null, default);

        Assert.Equal(name, (await Store.GetAsync(name, default))!.Name);
        Assert.Equal(name, await ReadTextAsync(name));
        var listed = await ToListAsync(Store.ListAsync(name, null, default));
        Assert.Equal(name, Assert.Single(listed).Name);
        Assert.True(await Store.DeleteAsync(name, default));
    }

    [Theory]
    [InlineData("")]
    [InlineData("/absolute")]
    [InlineData("a//b")]
    [InlineData("a/../b")]
    [InlineData("../escape")]
    [InlineData("./a")]
    [InlineData("a/")]
    [InlineData("a\nb")]
    public async Task WriteAsync_InvalidPath_ThrowsArgumentException(string path)
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.WriteAsync(path, Text("x"), null, default));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.GetAsync(path, default));
    }

    [Fact]
    public async Task GetAsync_Missing_ReturnsNull()
    {
        Assert.Null(await Store.GetAsync("no/such/object", default));
        Assert.Null(await Store.OpenReadAsync("no/such/object", default));
    }

    [Fact]
    public async Task DeleteAsync_Existing_RemovesItAndReturnsTrue()
    {
        await Store.WriteAsync("gone/soon.txt", Text("x"), null, default);

        Assert.True(await Store.DeleteAsync("gone/soon.txt", default));

        Assert.Null(await Store.GetAsync("gone/soon.txt", default));
        Assert.Empty(await ToListAsync(Store.ListAsync("gone/", "/", default)));
    }

    [Fact]
    public async Task DeleteAsync_Missing_ReturnsFalse()
    {
        Assert.False(await Store.DeleteAsync("never/was", default));
    }

    [Fact]
    public async Task ListAsync_WithDelimiter_GroupsPrefixesInNameOrder()
    {
        foreach (var name in new[] { "logs/job/2/build-log.txt", "logs/job/10/started.json", "logs/job/1/started.json", "logs/job/1/artifacts/junit.xml", "logs/job/latest-build.txt", "logs/other/1/x", "pr-logs/x" })
        {
            await Store.WriteAsync(name, Text(name), null, default);
        }

        var entries = await ToListAsync(Store.ListAsync("logs/job/", "/", default));

        Assert.Equal(["logs/job/1/", "logs/job/10/", "logs/job/2/", "logs/job/latest-build.txt"], entries.Select(e => e.Name));
        Assert.Equal([true, true, true, false], entries.Select(e => e.IsPrefix));
        Assert.Equal("logs/job/latest-build.txt".Length, entries[3].Item!.Size);
    }

    [Fact]
    public async Task ListAsync_WithoutDelimiter_ListsEveryObjectStartingWithPrefix()
    {
        foreach (var name in new[] { "logs/job/1/a", "logs/job/1/b/c", "logs/job/10/a", "logs/job/2/a", "logs/job1" })
        {
            await Store.WriteAsync(name, Text("x"), null, default);
        }

        var entries = await ToListAsync(Store.ListAsync("logs/job/1", null, default));

        Assert.Equal(["logs/job/1/a", "logs/job/1/b/c", "logs/job/10/a"], entries.Select(e => e.Name));
        Assert.All(entries, e => Assert.False(e.IsPrefix));
    }

    [Fact]
    public async Task ListAsync_EmptyPrefixWithDelimiter_ListsTopLevel()
    {
        await Store.WriteAsync("top.txt", Text("x"), null, default);
        await Store.WriteAsync("logs/a", Text("x"), null, default);
        await Store.WriteAsync("pr-logs/b", Text("x"), null, default);

        var entries = await ToListAsync(Store.ListAsync(string.Empty, "/", default));

        Assert.Equal(["logs/", "pr-logs/", "top.txt"], entries.Select(e => e.Name));
    }

    [Fact]
    public async Task ListAsync_ManyEntries_ReturnsAllInOrder()
    {
        var names = Enumerable.Range(0, 23).Select(i => $"many/{i:D3}").ToList();
        await Task.WhenAll(names.Select(n => Store.WriteAsync(n, Text(n), null, default)));

        var entries = await ToListAsync(Store.ListAsync("many/", "/", default));

        Assert.Equal(names, entries.Select(e => e.Name));
    }

    [Fact]
    public async Task ListAsync_NoMatch_IsEmpty()
    {
        Assert.Empty(await ToListAsync(Store.ListAsync("nothing/here/", "/", default)));
    }

    [Fact]
    public async Task ListAsync_PrefixEscapingRoot_ThrowsArgumentException()
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => ToListAsync(Store.ListAsync("../", "/", default)));
    }

    protected static MemoryStream Text(string text) => new(Encoding.UTF8.GetBytes(text));

    protected async Task<string> ReadTextAsync(string path)
    {
        await using var stream = await Store.OpenReadAsync(path, default);
        Assert.NotNull(stream);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }

    protected static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> source)
    {
        var list = new List<T>();
        await foreach (var item in source)
        {
            list.Add(item);
        }

        return list;
    }

    /// <summary>Compares what both stores must agree on; timestamps may differ in precision.</summary>
    private sealed class StoredObjectComparer : IEqualityComparer<StoredObject>
    {
        public bool Equals(StoredObject? x, StoredObject? y) =>
            x is not null && y is not null && x.Name == y.Name && x.Size == y.Size && x.Generation == y.Generation
            && x.ContentType == y.ContentType && x.CacheControl == y.CacheControl && (x.Updated - y.Updated).Duration() < TimeSpan.FromSeconds(1);

        public int GetHashCode(StoredObject obj) => obj.Name.GetHashCode(StringComparison.Ordinal);
    }
}

/// <summary>The contract against <see cref="GcsResultsStore"/> on the fake, with 256 KiB chunks and 2-entry pages so every path crosses boundaries.</summary>
public sealed class GcsResultsStoreContractTests : ResultsStoreContract, IClassFixture<FakeGcsFixture>
{
    public GcsResultsStoreContractTests(FakeGcsFixture fixture)
    {
        ArgumentNullException.ThrowIfNull(fixture);
        fixture.Server.MaxPageSize = 2;
        Store = fixture.NewStore();
    }

    protected override IResultsStore Store { get; }
}

/// <summary>The contract against <see cref="LocalDirectoryResultsStore"/> on a fresh temporary directory.</summary>
public sealed class LocalDirectoryResultsStoreContractTests : ResultsStoreContract, IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("kfci-results-");

    public LocalDirectoryResultsStoreContractTests() => Store = new LocalDirectoryResultsStore(_root.FullName);

    protected override IResultsStore Store { get; }

    [Fact]
    public async Task WriteAsync_Objects_LayOutLikeTheBucketWithSidecarsHidden()
    {
        await Store.WriteAsync("logs/job/1/started.json", Text("{}"), new ObjectWriteOptions { ContentType = "application/json" }, default);

        Assert.True(File.Exists(Path.Combine(_root.FullName, "logs", "job", "1", "started.json")));
        var visible = Directory.EnumerateFileSystemEntries(_root.FullName).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal([".kfci-meta", "logs"], visible);
        Assert.Equal(["logs/"], (await ToListAsync(Store.ListAsync(string.Empty, "/", default))).Select(e => e.Name));
    }

    [Fact]
    public void Describe_NamesTheBucketItStandsIn_AndFileOfMapsBack()
    {
        var local = (LocalDirectoryResultsStore)Store;

        Assert.Equal("gs://kfci-local/pr-logs/directory/job/1.txt", local.Describe("pr-logs/directory/job/1.txt"));
        Assert.Equal(Path.Combine(_root.FullName, "pr-logs", "directory", "job", "1.txt"), local.FileOf(local.Describe("pr-logs/directory/job/1.txt")));
        Assert.Equal("gs://kubeflow-ci/logs/j/2", new LocalDirectoryResultsStore(_root.FullName, bucket: "kubeflow-ci").Describe("logs/j/2"));
    }

    [Theory]
    [InlineData("gs://other-bucket/logs/j/1")]
    [InlineData("gs://kfci-local/../outside")]
    [InlineData("/tmp/logs/j/1")]
    public void FileOf_AnotherBucketOrOutsideTheDirectory_IsNull(string described)
    {
        Assert.Null(((LocalDirectoryResultsStore)Store).FileOf(described));
    }

    [Fact]
    public async Task DeleteAsync_LastObjectInFolder_RemovesEmptyFolders()
    {
        await Store.WriteAsync("logs/job/1/started.json", Text("{}"), null, default);

        await Store.DeleteAsync("logs/job/1/started.json", default);

        Assert.False(Directory.Exists(Path.Combine(_root.FullName, "logs")));
    }

    [Fact]
    public async Task GetAsync_FilePlacedByHand_ReadsAsUntypedObject()
    {
        Directory.CreateDirectory(Path.Combine(_root.FullName, "manual"));
        await File.WriteAllTextAsync(Path.Combine(_root.FullName, "manual", "note.txt"), "hi");

        var stored = await Store.GetAsync("manual/note.txt", default);

        Assert.Equal(2, stored!.Size);
        Assert.Equal(ObjectPaths.DefaultContentType, stored.ContentType);
        Assert.True(stored.Generation > 0);
    }

    [Fact]
    public async Task WriteAsync_ReservedMetaPath_ThrowsArgumentException()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Store.WriteAsync(".kfci-meta/objects/x.json", Text("x"), null, default));
    }

    public void Dispose() => _root.Delete(recursive: true);
}
