using Kfci.Http;
using Microsoft.Extensions.Logging;

namespace Kfci.Firestore;

public sealed partial class FirestoreClient
{
    /// <summary>
    /// Runs <paramref name="body"/> in a read-write transaction and commits its buffered writes. When Firestore
    /// aborts the transaction for contention (<c>ABORTED</c>, at a read or at the commit) the whole body runs
    /// again in a new transaction, after the shared backoff, up to <see cref="FirestoreTransactionOptions.MaxAttempts"/>
    /// times; so the body must be safe to re-run (no side effects outside the transaction). Any other failure
    /// rolls the transaction back and propagates; the commit itself is never sent twice.
    /// </summary>
    /// <returns>What the body returned on the attempt that committed.</returns>
    /// <exception cref="ApiException">The last attempt was aborted (Reason <c>ABORTED</c>), or another API failure.</exception>
    public async Task<T> RunTransactionAsync<T>(
        Func<FirestoreTransaction, CancellationToken, Task<T>> body,
        FirestoreTransactionOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        options ??= FirestoreTransactionOptions.Default;
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxAttempts, 1);
        var retry = new RetryPolicy(
            _rest.Retry.Options with { MaxRetries = options.MaxAttempts - 1, AttemptTimeout = options.Deadline, Deadline = options.Deadline },
            retryOn: IsAborted);
        string? previous = null;
        var attempt = 0;
        return await retry.ExecuteAsync(
            async token =>
            {
                var transaction = new FirestoreTransaction(this, await BeginTransactionAsync(previous, token), ++attempt);
                previous = transaction.Id;
                return await RunAttemptAsync(transaction, body, token);
            },
            cancellationToken);
    }

    private async ValueTask<T> RunAttemptAsync<T>(
        FirestoreTransaction transaction, Func<FirestoreTransaction, CancellationToken, Task<T>> body, CancellationToken cancellationToken)
    {
        try
        {
            var result = await body(transaction, cancellationToken);
            await CommitAsync(transaction.Writes, transaction.Id, cancellationToken);
            return result;
        }
        catch (Exception e) when (IsAborted(e))
        {
            // An aborted transaction is already gone on the server: nothing to roll back.
            LogAborted(transaction.Attempt, e.Message);
            throw;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            await RollbackQuietlyAsync(transaction);
            throw;
        }
    }

    private async Task RollbackQuietlyAsync(FirestoreTransaction transaction)
    {
        // Not the caller's token: a cancelled body must still release its locks. Bounded by the single-attempt policy.
        try
        {
            await RollbackAsync(transaction.Id, CancellationToken.None);
        }
        catch (Exception e) when (e is ApiException || Transience.IsTransient(e) || e is Polly.Timeout.TimeoutRejectedException)
        {
            // The transaction expires on its own; the body's own failure is what the caller needs to see.
            LogRollbackFailed(transaction.Attempt, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Firestore transaction attempt {Attempt} aborted by contention: {Reason}")]
    private partial void LogAborted(int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Firestore transaction rollback after attempt {Attempt} failed: {Reason}")]
    private partial void LogRollbackFailed(int attempt, string reason);
}
