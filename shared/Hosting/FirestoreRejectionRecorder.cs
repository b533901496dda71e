using System.Security.Cryptography;
using System.Text;
using Kfci.Firestore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kfci.Hosting;

/// <summary>
/// Keeps every rejected event in Firestore <c>rejections/{id}</c> (function, event, reason, time and the raw request,
/// body included up to Firestore's document limit), so an operator can find and replay it after the log has rotated;
/// and logs it like <see cref="LoggingRejectionRecorder"/>. The id derives from the function and the event id, so a
/// redelivered rejection overwrites its own record instead of adding one. Where no Firestore is configured (a bare
/// local host, tests) it only logs: a rejection must never turn into a failure for want of a database.
/// </summary>
public sealed class FirestoreRejectionRecorder(IServiceProvider services, LoggingRejectionRecorder log, ILogger<FirestoreRejectionRecorder> logger) : IRejectionRecorder
{
    public const string Collection = "rejections";

    /// <summary>Firestore documents hold at most 1 MiB; leave room for the other fields.</summary>
    public const int MaxStoredBodyBytes = 900 * 1024;

    private FirestoreClient? _firestore;
    private bool _unavailable;

    public async Task RecordAsync(RejectedEvent rejection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rejection);
        await log.RecordAsync(rejection, cancellationToken);
        if (Firestore() is not { } firestore)
        {
            return;
        }

        // A failure here propagates: the host then answers 5xx and Pub/Sub redelivers, so the event is not lost.
        await firestore.SetAsync($"{Collection}/{DocumentId(rejection)}", Fields(rejection), cancellationToken);
    }

    /// <summary>The record's document id: readable function name plus a hash of the event id (which may hold any character).</summary>
    public static string DocumentId(RejectedEvent rejection)
    {
        ArgumentNullException.ThrowIfNull(rejection);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(rejection.Event.Id ?? string.Empty)))[..24];
        return $"{rejection.Function.ToLowerInvariant()}-{hash}";
    }

    private static Dictionary<string, object?> Fields(RejectedEvent rejection)
    {
        var body = rejection.Request.Body;
        return new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["function"] = rejection.Function,
            ["eventId"] = rejection.Event.Id,
            ["eventType"] = rejection.Event.Type,
            ["eventSource"] = rejection.Event.Source?.ToString(),
            ["reason"] = rejection.Reason,
            ["rejectedAt"] = rejection.RejectedAt,
            ["path"] = rejection.Request.Path,
            ["contentType"] = rejection.Request.ContentType,
            ["headers"] = rejection.Request.Headers.ToDictionary(h => h.Key, h => (object?)h.Value, StringComparer.Ordinal),
            ["bodyBytes"] = (long)body.Length,
            ["bodyTruncated"] = body.Length > MaxStoredBodyBytes,
            ["body"] = body.Length > MaxStoredBodyBytes ? body[..MaxStoredBodyBytes] : body,
        };
    }

    private FirestoreClient? Firestore()
    {
        if (_firestore is not null || _unavailable)
        {
            return _firestore;
        }

        try
        {
            return _firestore = services.GetRequiredService<FirestoreClient>();
        }
        catch (InvalidOperationException e)
        {
            _unavailable = true;
            logger.LogWarning("Rejected events are only logged, not stored in Firestore: {Reason}", e.Message);
            return null;
        }
    }
}
