using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kfci.PubSub;

/// <summary>
/// The production <see cref="IEventPublisher"/>: concurrent publishes to the same topic share
/// <c>topics.publish</c> requests (see <see cref="PublisherBatchOptions"/>), and each caller gets its own
/// message id. A message for a lane with no request in flight is sent at once; batches form only while a
/// request is out, so batching costs a lone caller no latency. Batches are kept per topic and ordering key. Unordered batches are sent concurrently; the
/// batches of one ordering key are sent one after another, so the service sees the key's messages in call
/// order. If a batch of a key fails (after the shared retry policy gave up), the messages of that key already
/// queued behind it fail too rather than overtake it; the key publishes again once its queue has drained.
/// A singleton: dispose it to send what is still waiting.
/// </summary>
public sealed partial class BatchingEventPublisher : IEventPublisher, IAsyncDisposable
{
    private static readonly Task<bool> s_succeeded = Task.FromResult(true);

    private readonly PubSubClient _client;
    private readonly PublisherBatchOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Dictionary<(string TopicId, string? OrderingKey), Lane> _lanes = [];
    private readonly HashSet<Task> _sending = [];
    private bool _disposed;

    public BatchingEventPublisher(
        PubSubClient client,
        PublisherBatchOptions? options = null,
        ILogger<BatchingEventPublisher>? logger = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        options ??= PublisherBatchOptions.Default;
        options.Validate();
        _client = client;
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Topic/ordering-key queues currently held: each is dropped once its messages are sent.</summary>
    internal int LaneCount
    {
        get
        {
            lock (_gate)
            {
                return _lanes.Count;
            }
        }
    }

    public Task<string> PublishAsync(string topicId, OutgoingMessage message, CancellationToken cancellationToken = default)
    {
        PubSubNames.ValidateId(topicId, nameof(topicId));
        ArgumentNullException.ThrowIfNull(message);
        // Checked before batching: the service refuses a whole request for one bad message, failing its batch-mates too.
        if (PubSubLimits.Violation(message) is { } violation)
        {
            throw new ArgumentException($"Not published to '{topicId}': Pub/Sub would refuse this message: {violation}.", nameof(message));
        }

        var pending = new PendingMessage(message, PubSubJson.EncodedSize(message));
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Enqueue(LaneFor(topicId, message.OrderingKey), pending);
        }

        return pending.Completion.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Sends every waiting batch now and waits until all sends have finished, successful or not.</summary>
    public async ValueTask DisposeAsync()
    {
        Task[] sending;
        lock (_gate)
        {
            _disposed = true;
            foreach (var lane in _lanes.Values.Where(lane => lane.Open is not null).ToList())
            {
                Send(lane);
            }

            sending = [.. _sending];
        }

        await Task.WhenAll(sending).ConfigureAwait(false);
    }

    private Lane LaneFor(string topicId, string? orderingKey)
    {
        if (!_lanes.TryGetValue((topicId, orderingKey), out var lane))
        {
            lane = new Lane(topicId, orderingKey);
            _lanes.Add((topicId, orderingKey), lane);
        }

        return lane;
    }

    private void Enqueue(Lane lane, PendingMessage pending)
    {
        if (lane.Failure is { } failure)
        {
            pending.Completion.TrySetException(OrderingKeyFailed(lane, failure));
            return;
        }

        if (lane.Open is { } open && (open.Count >= _options.MaxMessages || lane.OpenBytes + pending.Size > _options.MaxBytes))
        {
            Send(lane);
        }

        if (lane.Open is null)
        {
            lane.Open = [];
            lane.OpenBytes = 0;
            if (lane.InFlight == 0)
            {
                // Nothing of this lane is on the wire, so nothing will arrive to share a request with sooner than a
                // send takes: waiting would only add the delay to a lone caller (one event at a time, as a push
                // subscription delivers them). Messages that come while this send is out do wait and share.
                lane.Open.Add(pending);
                lane.OpenBytes += pending.Size;
                Send(lane);
                return;
            }

            if (_options.MaxDelay > TimeSpan.Zero)
            {
                _ = SendLaterAsync(lane, lane.Open);
            }
        }

        lane.Open.Add(pending);
        lane.OpenBytes += pending.Size;
        if (lane.Open.Count >= _options.MaxMessages || lane.OpenBytes >= _options.MaxBytes || _options.MaxDelay == TimeSpan.Zero)
        {
            Send(lane);
        }
    }

    private async Task SendLaterAsync(Lane lane, List<PendingMessage> batch)
    {
        await Task.Delay(_options.MaxDelay, _time).ConfigureAwait(false);
        lock (_gate)
        {
            // The batch may have filled up and gone already; then a newer one is open and has its own timer.
            if (ReferenceEquals(lane.Open, batch))
            {
                Send(lane);
            }
        }
    }

    /// <summary>Takes the lane's open batch and starts sending it. Called under the lock.</summary>
    private void Send(Lane lane)
    {
        var batch = lane.Open!;
        lane.Open = null;
        lane.InFlight++;
        // Run outside the lock: the request is built and sent on the thread pool, not by the caller holding it.
        var previous = lane.OrderingKey is null ? s_succeeded : lane.Tail;
        var send = Task.Run(() => SendAfterAsync(previous, lane, batch));
        if (lane.OrderingKey is not null)
        {
            lane.Tail = send;
        }

        _sending.Add(send);
        send.ContinueWith(Forget, CancellationToken.None, TaskContinuationOptions.RunContinuationsAsynchronously, TaskScheduler.Default);
    }

    private void Forget(Task send)
    {
        lock (_gate)
        {
            _sending.Remove(send);
        }
    }

    private async Task<bool> SendAfterAsync(Task<bool> previous, Lane lane, List<PendingMessage> batch)
    {
        Exception? failure;
        IReadOnlyList<string>? ids = null;
        if (await previous.ConfigureAwait(false))
        {
            (ids, failure) = await PublishAsync(lane, batch).ConfigureAwait(false);
        }
        else
        {
            lock (_gate)
            {
                failure = OrderingKeyFailed(lane, lane.Failure!);
            }
        }

        // The lane is settled before any caller learns the outcome, so a caller that saw its ordered publish
        // fail and publishes again finds the key's queue drained rather than still paused.
        lock (_gate)
        {
            if (failure is not null && lane.OrderingKey is not null)
            {
                lane.Failure ??= failure;
            }

            lane.InFlight--;
            if (lane.InFlight == 0 && lane.Open is null)
            {
                // Drained: forget the lane, which also lifts a failed ordering key's pause.
                _lanes.Remove((lane.TopicId, lane.OrderingKey));
            }
            else if (lane.InFlight == 0 && !_disposed)
            {
                // The wire is free again: what gathered meanwhile goes now rather than at the end of its delay.
                Send(lane);
            }
        }

        for (var i = 0; i < batch.Count; i++)
        {
            if (ids is null)
            {
                batch[i].Completion.TrySetException(failure!);
            }
            else
            {
                batch[i].Completion.TrySetResult(ids[i]);
            }
        }

        return failure is null;
    }

    private async Task<(IReadOnlyList<string>? Ids, Exception? Failure)> PublishAsync(Lane lane, List<PendingMessage> batch)
    {
        try
        {
            // Not the callers' tokens: a batch is shared, and one caller giving up must not cancel the others' messages.
            var ids = await _client.PublishAsync(lane.TopicId, [.. batch.Select(p => p.Message)], CancellationToken.None).ConfigureAwait(false);
            LogPublished(batch.Count, lane.TopicId);
            return (ids, null);
        }
        catch (Exception e)
        {
            // Every failure belongs to the callers, whose tasks carry it; nothing may escape this background send.
            LogPublishFailed(e, batch.Count, lane.TopicId, lane.OrderingKey);
            return (null, e);
        }
    }

    private static InvalidOperationException OrderingKeyFailed(Lane lane, Exception cause) =>
        new($"Not published to '{lane.TopicId}': an earlier message with ordering key '{lane.OrderingKey}' failed, "
            + "and this one may not overtake it. Publish again once the earlier publishes have completed.", cause);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Published {Count} messages to {Topic}")]
    private partial void LogPublished(int count, string topic);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing {Count} messages to {Topic} (ordering key {OrderingKey}) failed")]
    private partial void LogPublishFailed(Exception exception, int count, string topic, string? orderingKey);

    private sealed record PendingMessage(OutgoingMessage Message, int Size)
    {
        public TaskCompletionSource<string> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>The queue of one topic and ordering key (null: the topic's unordered messages).</summary>
    private sealed class Lane(string topicId, string? orderingKey)
    {
        public string TopicId { get; } = topicId;

        public string? OrderingKey { get; } = orderingKey;

        /// <summary>The batch being filled; null when none is.</summary>
        public List<PendingMessage>? Open { get; set; }

        public int OpenBytes { get; set; }

        /// <summary>Batches handed to <see cref="Send"/> whose send has not finished.</summary>
        public int InFlight { get; set; }

        /// <summary>The last send of an ordered lane: the next batch of the key waits for it.</summary>
        public Task<bool> Tail { get; set; } = s_succeeded;

        /// <summary>Why the key's earlier publish failed; set until the lane drains.</summary>
        public Exception? Failure { get; set; }
    }
}
