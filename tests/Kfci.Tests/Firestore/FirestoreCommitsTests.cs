using Kfci.Firestore;

namespace Kfci.Tests.Firestore;

public sealed class FirestoreCommitsTests
{
    [Fact]
    public void Chunk_ManySmallWrites_AtMost500ACommit()
    {
        var writes = Enumerable.Range(0, 1200).Select(i => FirestoreWrite.Set($"c/d{i}", new Dictionary<string, object?> { ["n"] = i })).ToList();

        var chunks = FirestoreCommits.Chunk(writes).ToList();

        Assert.Equal([500, 500, 200], chunks.Select(c => c.Count));
        Assert.Equal(writes, chunks.SelectMany(c => c));
    }

    [Fact]
    public void Chunk_NearlyFullDocuments_StayUnderTheRequestLimit()
    {
        // Twenty documents of about 0.9 MB each (names of 4-byte characters): 500 of them would be a 450 MB request.
        var name = string.Concat(Enumerable.Repeat("😀", 100));
        var writes = Enumerable.Range(0, 20).Select(i => FirestoreWrite.Set($"c/d{i}", new Dictionary<string, object?>
        {
            ["names"] = Enumerable.Repeat((object?)name, 2200).ToList(),
        })).ToList();

        var chunks = FirestoreCommits.Chunk(writes).ToList();

        Assert.All(chunks, c => Assert.True(c.Sum(FirestoreCommits.EstimateBytes) <= FirestoreCommits.MaxBytes));
        Assert.True(chunks.Count >= 3, $"{chunks.Count} commits");
        Assert.Equal(writes, chunks.SelectMany(c => c));
    }

    [Fact]
    public void Chunk_OneWriteOverTheLimit_GetsACommitOfItsOwn()
    {
        var big = FirestoreWrite.Set("c/big", new Dictionary<string, object?> { ["s"] = new string('x', 100) });

        var chunks = FirestoreCommits.Chunk([big, big, big], maxBytes: 10).ToList();

        Assert.Equal([1, 1, 1], chunks.Select(c => c.Count));
    }
}
