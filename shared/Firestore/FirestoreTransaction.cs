namespace Kfci.Firestore;

/// <summary>How a transaction is retried when Firestore aborts it for contention. Immutable.</summary>
public sealed record FirestoreTransactionOptions
{
    public static FirestoreTransactionOptions Default { get; } = new();

    /// <summary>Attempts in all, the first included (the official clients use 5).</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>The whole transaction, all attempts and backoff included.</summary>
    public TimeSpan Deadline { get; init; } = TimeSpan.FromMinutes(2);
}

/// <summary>
/// One attempt of a read-write transaction, handed to the body of <see cref="FirestoreClient.RunTransactionAsync{T}"/>.
/// Reads go to the service inside the transaction (and lock what they read); writes are buffered and
/// committed together when the body returns. Not thread-safe: one body, one flow.
/// </summary>
public sealed class FirestoreTransaction
{
    private readonly FirestoreClient _client;
    private readonly List<FirestoreWrite> _writes = [];

    internal FirestoreTransaction(FirestoreClient client, string id, int attempt)
    {
        _client = client;
        Id = id;
        Attempt = attempt;
    }

    /// <summary>The service's transaction id (base64).</summary>
    public string Id { get; }

    /// <summary>1 for the first attempt, 2 after one abort, and so on.</summary>
    public int Attempt { get; }

    /// <summary>The writes buffered so far, in commit order.</summary>
    public IReadOnlyList<FirestoreWrite> Writes => _writes;

    /// <summary>Reads a document in the transaction; null when it does not exist.</summary>
    public Task<FirestoreDocument?> GetAsync(string path, CancellationToken cancellationToken = default) =>
        _client.GetInTransactionAsync(path, Id, cancellationToken);

    /// <summary>Runs a query in the transaction.</summary>
    public Task<IReadOnlyList<FirestoreDocument>> QueryAsync(FirestoreQuery query, CancellationToken cancellationToken = default) =>
        _client.QueryAsync(query, Id, cancellationToken);

    /// <summary>Buffers a write for the commit.</summary>
    public FirestoreTransaction Add(FirestoreWrite write)
    {
        ArgumentNullException.ThrowIfNull(write);
        _writes.Add(write);
        return this;
    }

    public FirestoreTransaction Create(string path, IReadOnlyDictionary<string, object?> fields) => Add(FirestoreWrite.Create(path, fields));

    public FirestoreTransaction Set(string path, IReadOnlyDictionary<string, object?> fields) => Add(FirestoreWrite.Set(path, fields));

    public FirestoreTransaction Update(string path, IReadOnlyDictionary<string, object?> fields) => Add(FirestoreWrite.Update(path, fields));

    public FirestoreTransaction Delete(string path) => Add(FirestoreWrite.Delete(path));
}
