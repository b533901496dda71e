using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Kfci.Http;

/// <summary>How hard an adapter tries before it gives up. Immutable; start from <see cref="Default"/>.</summary>
public sealed record RetryOptions
{
    public static RetryOptions Default { get; } = new();

    /// <summary>One attempt, no retry: for callers that own their retrying (e.g. Pub/Sub redelivery).</summary>
    public static RetryOptions None { get; } = new() { MaxRetries = 0 };

    public int MaxRetries { get; init; } = 5;

    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Upper bound on a server's <c>Retry-After</c> that we are willing to sleep through.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The whole call, all attempts and waits included.</summary>
    public TimeSpan Deadline { get; init; } = TimeSpan.FromMinutes(2);
}

/// <summary>
/// The one retry policy of kfci: jittered exponential backoff for transient failures (408, 429, 5xx,
/// resets, timeouts), honouring <c>Retry-After</c>, bounded per attempt and overall. A 4xx that cannot
/// change on retry is never retried.
/// </summary>
public sealed class RetryPolicy
{
    private readonly ResiliencePipeline _pipeline;

    /// <param name="options">Attempts, backoff and timeouts.</param>
    /// <param name="timeProvider">Clock for delays and timeouts; the system clock when null.</param>
    /// <param name="retryOn">
    /// Which failures to retry instead of the transient ones, for callers whose unit of retry is larger than
    /// one HTTP call (e.g. a Firestore transaction retried on <c>ABORTED</c>); null means <see cref="Transience"/>.
    /// </param>
    public RetryPolicy(RetryOptions options, TimeProvider? timeProvider = null, Func<Exception, bool>? retryOn = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        var builder = new ResiliencePipelineBuilder { TimeProvider = timeProvider ?? TimeProvider.System };
        builder.AddTimeout(options.Deadline);
        if (options.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.BaseDelay,
                MaxDelay = options.MaxDelay,
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is { } e
                    && (retryOn?.Invoke(e)
                        ?? (e is TimeoutRejectedException || Transience.IsTransient(e, args.Context.CancellationToken)))),
                DelayGenerator = args => ValueTask.FromResult(ServerRequestedDelay(args.Outcome.Exception)),
            });
        }

        builder.AddTimeout(options.AttemptTimeout);
        _pipeline = builder.Build();
    }

    public static RetryPolicy Default { get; } = new(RetryOptions.Default);

    public RetryOptions Options { get; }

    public ValueTask<T> ExecuteAsync<T>(Func<CancellationToken, ValueTask<T>> action, CancellationToken cancellationToken) =>
        _pipeline.ExecuteAsync(action, cancellationToken);

    public ValueTask ExecuteAsync(Func<CancellationToken, ValueTask> action, CancellationToken cancellationToken) =>
        _pipeline.ExecuteAsync(action, cancellationToken);

    private TimeSpan? ServerRequestedDelay(Exception? exception) =>
        exception is ApiException { RetryAfter: { } after }
            ? (after < Options.MaxRetryAfter ? after : Options.MaxRetryAfter)
            : null;
}
