using System.Net;
using System.Text.Json.Nodes;
using Kfci.Configuration;
using Kfci.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kfci.Firestore;

/// <summary>
/// Firestore over its REST v1 API, for one database. Documents are named by their path under the database
/// (<c>runs/abc</c>, <c>runs/abc/steps/build</c>) or by full resource name. Reads and idempotent writes are
/// retried on transient failures and contention (<c>ABORTED</c>) by the shared <see cref="RetryPolicy"/>; a commit
/// whose repetition could apply twice (an unconditioned increment, or any transactional commit) is sent once, because
/// a commit that timed out may still have been applied. A missing database is a configuration error
/// (<see cref="FirestoreDatabaseNotFoundException"/>), never an absent document. A singleton: thread-safe.
/// </summary>
public sealed partial class FirestoreClient
{
    public const string ProductionBase = "https://firestore.googleapis.com/";

    public const string DefaultDatabase = "(default)";

    private readonly RestClient _rest;
    private readonly RetryPolicy _once;
    private readonly RetryPolicy _onlyAborted;
    private readonly RetryPolicy _inTransaction;
    private readonly ILogger _logger;

    /// <exception cref="ArgumentException">No project id was given.</exception>
    public FirestoreClient(RestClient rest, string projectId, string? databaseId = null, ILogger<FirestoreClient>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(rest);
        if (string.IsNullOrWhiteSpace(projectId))
        {
            throw new ArgumentException(
                $"Firestore needs a Google Cloud project id: pass one or set {KfciEnvironment.Project}.", nameof(projectId));
        }

        _rest = rest;
        _once = new RetryPolicy(rest.Retry.Options with { MaxRetries = 0 });

        // ABORTED promises the write was not applied, so even a write that must not land twice can be sent again.
        _onlyAborted = new RetryPolicy(rest.Retry.Options, retryOn: IsAborted);

        // Inside a transaction ABORTED means the transaction is gone: the whole transaction is re-run, not the read.
        _inTransaction = new RetryPolicy(
            rest.Retry.Options, retryOn: e => !IsAborted(e) && (e is Polly.Timeout.TimeoutRejectedException || Transience.IsTransient(e)));
        _logger = logger ?? NullLogger<FirestoreClient>.Instance;
        ProjectId = projectId;
        DatabaseId = string.IsNullOrWhiteSpace(databaseId) ? DefaultDatabase : databaseId;
        DatabaseName = $"projects/{ProjectId}/databases/{DatabaseId}";
        DocumentsRoot = DatabaseName + "/documents";
    }

    public string ProjectId { get; }

    public string DatabaseId { get; }

    /// <summary><c>projects/{project}/databases/{database}</c>.</summary>
    public string DatabaseName { get; }

    /// <summary><c>projects/{project}/databases/{database}/documents</c>: the parent of top-level collections.</summary>
    public string DocumentsRoot { get; }

    /// <summary>
    /// A client for production Firestore, or for the emulator when <c>FIRESTORE_EMULATOR_HOST</c> is set (then
    /// without credentials: the emulator accepts anonymous requests). Project and database default to
    /// <c>KFCI_PROJECT</c> and <c>KFCI_FIRESTORE_DATABASE</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">No project id was given or configured.</exception>
    public static FirestoreClient Create(
        string? projectId = null,
        string? databaseId = null,
        RetryOptions? retry = null,
        IAccessTokenSource? tokens = null,
        ILogger<FirestoreClient>? logger = null,
        Func<string, string?>? getEnv = null)
    {
        getEnv ??= Environment.GetEnvironmentVariable;
        projectId ??= getEnv(KfciEnvironment.Project);
        if (string.IsNullOrWhiteSpace(projectId))
        {
            throw new InvalidOperationException(
                $"No Google Cloud project for Firestore: set {KfciEnvironment.Project} (e.g. export {KfciEnvironment.Project}=my-project).");
        }

        var endpoint = GoogleEndpoint.Resolve(KfciEnvironment.FirestoreEmulatorHost, ProductionBase, getEnv);
        return new FirestoreClient(endpoint.CreateClient(retry, tokens), projectId, databaseId ?? getEnv(KfciEnvironment.FirestoreDatabase), logger);
    }

    /// <summary>The full resource name of a document path.</summary>
    /// <exception cref="ArgumentException">The path is not a document path of this database.</exception>
    public string DocumentName(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var relative = path.StartsWith(DocumentsRoot + "/", StringComparison.Ordinal) ? path[(DocumentsRoot.Length + 1)..]
            : path.StartsWith("projects/", StringComparison.Ordinal) ? throw new ArgumentException($"'{path}' is not in database {DatabaseName}", nameof(path))
            : path.Trim('/');
        var segments = relative.Split('/');
        if (segments.Length % 2 != 0 || segments.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException($"'{path}' is not a document path (collection/id[/collection/id...])", nameof(path));
        }

        return DocumentsRoot + "/" + relative;
    }

    /// <summary>A <c>referenceValue</c> to store in a field.</summary>
    public DocumentReference Reference(string path) => new(DocumentName(path));

    /// <summary>Reads a document; null when it does not exist.</summary>
    public async Task<FirestoreDocument?> GetAsync(string path, CancellationToken cancellationToken = default)
    {
        var json = await GetJsonAsync(DocumentName(path), cancellationToken);
        return json is null ? null : FirestoreDocument.FromJson(json);
    }

    /// <summary>A document's JSON; null when it does not exist (never when the database does not).</summary>
    private async Task<JsonNode?> GetJsonAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            return await _rest.Retry.ExecuteAsync(
                async token =>
                {
                    using var response = await SendOnceAsync(() => new HttpRequestMessage(HttpMethod.Get, DocumentUri(name)), token);
                    return await RestClient.ReadJsonAsync(response, token);
                },
                cancellationToken);
        }
        catch (ApiException e) when (e.IsNotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// Creates the document unless it exists. True when this call created it, false when it already existed.
    /// Retried on transient failures (safe thanks to the precondition): if an attempt was applied but its
    /// answer lost, the retry's conflict is recognised as this caller's own write (the document holds exactly its fields).
    /// </summary>
    public async Task<bool> CreateIfAbsentAsync(string path, IReadOnlyDictionary<string, object?> fields, CancellationToken cancellationToken = default)
    {
        try
        {
            await CommitAsync([FirestoreWrite.Create(path, fields)], cancellationToken);
            return true;
        }
        catch (FirestorePreconditionException e) when (e.Reason == "ALREADY_EXISTS")
        {
            return false;
        }
    }

    /// <summary>Creates or wholly replaces the document; returns its new version.</summary>
    public async Task<FirestoreTimestamp> SetAsync(string path, IReadOnlyDictionary<string, object?> fields, CancellationToken cancellationToken = default) =>
        UpdateTimeOf(await CommitAsync([FirestoreWrite.Set(path, fields)], cancellationToken));

    /// <summary>
    /// Changes only the given fields (keys are dotted field paths) of an existing document, optionally only if it
    /// is still at version <paramref name="ifUpdateTime"/>; returns the new version.
    /// </summary>
    /// <exception cref="FirestorePreconditionException">The document is missing, or changed since <paramref name="ifUpdateTime"/>.</exception>
    public async Task<FirestoreTimestamp> UpdateAsync(
        string path,
        IReadOnlyDictionary<string, object?> fields,
        FirestoreTimestamp? ifUpdateTime = null,
        CancellationToken cancellationToken = default)
    {
        var precondition = ifUpdateTime is { } time ? FirestorePrecondition.LastUpdated(time) : FirestorePrecondition.MustExist;
        return UpdateTimeOf(await CommitAsync([FirestoreWrite.Update(path, fields, precondition)], cancellationToken));
    }

    /// <summary>Deletes the document. Without a precondition, deleting a missing document succeeds.</summary>
    /// <exception cref="FirestorePreconditionException">The precondition did not hold.</exception>
    public Task DeleteAsync(string path, FirestorePrecondition? precondition = null, CancellationToken cancellationToken = default) =>
        CommitAsync([FirestoreWrite.Delete(path, precondition)], cancellationToken);

    /// <summary>Applies the writes atomically and in order: all of them or, on any failure, none.</summary>
    /// <exception cref="FirestorePreconditionException">A write's precondition did not hold; nothing was written.</exception>
    public Task<FirestoreCommitResult> CommitAsync(IReadOnlyList<FirestoreWrite> writes, CancellationToken cancellationToken = default) =>
        CommitAsync(writes, transaction: null, cancellationToken);

    /// <summary>The documents matching the query, in its order.</summary>
    public Task<IReadOnlyList<FirestoreDocument>> QueryAsync(FirestoreQuery query, CancellationToken cancellationToken = default) =>
        QueryAsync(query, transaction: null, cancellationToken);

    internal async Task<FirestoreCommitResult> CommitAsync(IReadOnlyList<FirestoreWrite> writes, string? transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writes);
        var body = new JsonObject { ["writes"] = new JsonArray([.. writes.Select(w => (JsonNode)w.ToJson(DocumentName))]) };
        if (transaction is not null)
        {
            body["transaction"] = transaction;
        }

        // A transactional commit cannot be repeated (the transaction ends with the first one to arrive; its owner re-runs
        // the whole transaction), and a repeated increment would count twice unless the service said it was not applied;
        // everything else converges when sent again.
        var policy = transaction is not null ? _once : writes.All(w => w.IsIdempotent) ? _rest.Retry : _onlyAborted;
        var attempts = 0;
        try
        {
            var response = await PostAsync(DatabaseUri("documents:commit"), body, policy, cancellationToken, () => attempts++);
            return new FirestoreCommitResult(
                FirestoreDocument.Time(response?["commitTime"]),
                [.. (response?["writeResults"] as JsonArray ?? []).Select(WriteResult)]);
        }
        catch (ApiException e) when (FirestorePreconditionException.Matches(e))
        {
            // A retry follows an attempt whose answer never came: if that attempt was applied, the retry's precondition
            // fails on our own write. Only a read tells a lost reply from a real conflict.
            if (attempts > 1 && await ReadBackAsync(writes, cancellationToken) is { } applied)
            {
                LogOwnWriteRecognised(attempts, e.Message);
                return applied;
            }

            throw FirestorePreconditionException.From(e);
        }
    }

    internal async Task<IReadOnlyList<FirestoreDocument>> QueryAsync(FirestoreQuery query, string? transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var parent = query.Parent is null ? DocumentsRoot : DocumentName(query.Parent);
        var body = new JsonObject { ["structuredQuery"] = query.ToJson() };
        if (transaction is not null)
        {
            body["transaction"] = transaction;
        }

        // The answer is a JSON array of {document, readTime}; items without a document only report progress.
        var response = await PostStreamAsync(DocumentUri(parent) + ":runQuery", body, transaction is null ? _rest.Retry : _inTransaction, cancellationToken);
        return [.. response
            .Where(item => item?["document"] is not null)
            .Select(item => FirestoreDocument.FromJson(item!["document"]))];
    }

    /// <summary>Reads documents inside a transaction (the emulator cannot take a transaction on a plain GET).</summary>
    internal async Task<FirestoreDocument?> GetInTransactionAsync(string path, string transaction, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["documents"] = new JsonArray(DocumentName(path)),
            ["transaction"] = transaction,
        };
        var response = await PostStreamAsync(DatabaseUri("documents:batchGet"), body, _inTransaction, cancellationToken);
        var found = response.Select(item => item?["found"]).FirstOrDefault(doc => doc is not null);
        return found is null ? null : FirestoreDocument.FromJson(found);
    }

    internal async Task<string> BeginTransactionAsync(string? retrying, CancellationToken cancellationToken)
    {
        var readWrite = new JsonObject();
        if (retrying is not null)
        {
            // Lets the service give the retry priority over the contender that aborted it.
            readWrite["retryTransaction"] = retrying;
        }

        var body = new JsonObject { ["options"] = new JsonObject { ["readWrite"] = readWrite } };
        var response = await PostAsync(DatabaseUri("documents:beginTransaction"), body, _rest.Retry, cancellationToken);
        return response?["transaction"]?.GetValue<string>() ?? throw new FormatException("beginTransaction answered without a transaction");
    }

    internal async Task RollbackAsync(string transaction, CancellationToken cancellationToken)
    {
        var body = new JsonObject { ["transaction"] = transaction };
        await PostAsync(DatabaseUri("documents:rollback"), body, _once, cancellationToken);
    }

    private async Task<JsonNode?> PostAsync(string uri, JsonObject body, RetryPolicy policy, CancellationToken cancellationToken, Action? onAttempt = null) =>
        await policy.ExecuteAsync(
            async token =>
            {
                onAttempt?.Invoke();
                using var response = await SendOnceAsync(() => RestClient.JsonRequest(HttpMethod.Post, uri, body), token);
                return await RestClient.ReadJsonAsync(response, token);
            },
            cancellationToken);

    /// <summary>
    /// A streaming method's answer (runQuery, batchGet: a JSON array of messages). The status line is sent before the
    /// stream, so an error met part-way arrives as a last <c>{"error": …}</c> element under a 200: it is thrown here, inside
    /// the retry policy, so a cut-short answer is retried or fails rather than reading as a complete, shorter one.
    /// </summary>
    private async Task<JsonArray> PostStreamAsync(string uri, JsonObject body, RetryPolicy policy, CancellationToken cancellationToken) =>
        await policy.ExecuteAsync(
            async token =>
            {
                using var response = await SendOnceAsync(() => RestClient.JsonRequest(HttpMethod.Post, uri, body), token);
                var answer = await RestClient.ReadJsonAsync(response, token);
                if (answer is not JsonArray items)
                {
                    throw new ApiException(HttpStatusCode.BadGateway, null, $"POST {uri} answered {answer?.GetValueKind().ToString() ?? "nothing"}, not the array of a streamed answer");
                }

                if (items.FirstOrDefault(item => item?["error"] is JsonObject) is { } failed)
                {
                    throw StreamError(uri, (JsonObject)failed!["error"]!);
                }

                return items;
            },
            cancellationToken);

    private static ApiException StreamError(string uri, JsonObject error)
    {
        var code = error["code"] is JsonValue value && value.TryGetValue<int>(out var c) ? c : 500;
        var (reason, message) = ApiErrors.Parse(new JsonObject { ["error"] = error.DeepClone() }.ToJsonString());
        return new ApiException((HttpStatusCode)code, reason, $"POST {uri} failed part-way: {code} {reason}: {message}");
    }

    /// <summary>One request; a 404 for the database itself becomes <see cref="FirestoreDatabaseNotFoundException"/> (never retried).</summary>
    private async ValueTask<HttpResponseMessage> SendOnceAsync(Func<HttpRequestMessage> createRequest, CancellationToken cancellationToken)
    {
        try
        {
            return await _rest.SendOnceAsync(createRequest, HttpCompletionOption.ResponseContentRead, cancellationToken);
        }
        catch (ApiException e) when (FirestoreDatabaseNotFoundException.IsMissingDatabase(e))
        {
            throw FirestoreDatabaseNotFoundException.For(DatabaseName, e);
        }
    }

    private string DatabaseUri(string method) => $"v1/{DatabaseName}/{method}";

    private string DocumentUri(string name)
    {
        // Ids are free text ("a b", "x?y"): escape the document path, not the fixed prefix with "(default)".
        var relative = name.Length > DocumentsRoot.Length ? name[(DocumentsRoot.Length + 1)..] : string.Empty;
        var escaped = string.Join('/', relative.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.EscapeDataString));
        return escaped.Length == 0 ? $"v1/{DocumentsRoot}" : $"v1/{DocumentsRoot}/{escaped}";
    }

    private static FirestoreWriteResult WriteResult(JsonNode? result) => new(
        result?["updateTime"] is { } time ? FirestoreTimestamp.Parse(time.GetValue<string>()) : null,
        [.. (result?["transformResults"] as JsonArray ?? []).Select(FirestoreValues.Decode)]);

    private static FirestoreTimestamp UpdateTimeOf(FirestoreCommitResult result) =>
        result.WriteResults[0].UpdateTime ?? result.CommitTime;

    internal static bool IsAborted(Exception e) => e is ApiException { Status: HttpStatusCode.Conflict, Reason: "ABORTED" };
}
