using System.Buffers;
using CloudNative.CloudEvents;
using Kfci.Hosting.Logging;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Kfci.Hosting;

/// <summary>
/// The host's one request handler: readiness on <c>GET /healthz</c>, and on <c>POST</c> to any path (push
/// endpoints may carry <c>/projects/P/topics/T</c>) authenticate, read, decode, call the function and map its
/// outcome to the status Pub/Sub acts on. Every refusal is a one-line body and one log line, never a stack trace.
/// </summary>
internal sealed class EventEndpoint(
    FunctionRegistration function,
    FunctionHostOptions options,
    PushAuthenticator? authenticator,
    IRejectionRecorder rejections,
    TimeProvider clock,
    ILogger<EventEndpoint> logger)
{
    public const string HealthPath = "/healthz";

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        var trace = TraceContext.FromHeaders(request.Headers["traceparent"], request.Headers["X-Cloud-Trace-Context"]);
        using var requestScope = logger.BeginScope(new EventLogScope(function.Name, request.Headers["ce-id"].FirstOrDefault(), trace, options.Project));
        if (request.Path == HealthPath && (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)))
        {
            await WriteAsync(context, StatusCodes.Status200OK, "ok");
            return;
        }

        if (!HttpMethods.IsPost(request.Method))
        {
            context.Response.Headers.Allow = "POST";
            await RefuseAsync(context, StatusCodes.Status405MethodNotAllowed, $"method {request.Method} not allowed; events are POSTed");
            return;
        }

        if (authenticator is not null)
        {
            PushAuthenticationResult authentication;
            try
            {
                authentication = await authenticator.AuthenticateAsync(request.Headers.Authorization.FirstOrDefault(), context.RequestAborted);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Google's signing keys were unreachable: not the pusher's fault, so let Pub/Sub retry.
                logger.LogError(e, "Could not verify the push token");
                await WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "could not verify the push token now; retry later");
                return;
            }

            if (!authentication.IsAllowed)
            {
                if (authentication.StatusCode == StatusCodes.Status401Unauthorized)
                {
                    context.Response.Headers.WWWAuthenticate = "Bearer";
                }

                await RefuseAsync(context, authentication.StatusCode, authentication.Failure!);
                return;
            }
        }

        ReadOnlyMemory<byte> body;
        DecodedEvent decoded;
        try
        {
            body = await ReadBodyAsync(request, options.MaxRequestBytes, context.RequestAborted);
            decoded = EventRequestDecoder.Decode(request.ContentType, CloudEventHeaders(request.Headers), request.Path.Value ?? "/", body);
        }
        catch (EventDecodingException e)
        {
            await RefuseAsync(context, e.StatusCode, e.Message);
            return;
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's own body limit, or a client that broke off mid-body.
            await RefuseAsync(context, e.StatusCode, e.StatusCode == StatusCodes.Status413PayloadTooLarge ? TooLarge() : "unreadable request body");
            return;
        }

        if (decoded.MessagePublished is null)
        {
            await RefuseAsync(context, StatusCodes.Status400BadRequest, $"unsupported event type '{decoded.Event.Type}'; expected {MessagePublishedData.CloudEventType}");
            return;
        }

        using var eventScope = logger.BeginScope(new EventLogScope(function.Name, decoded.Event.Id, null, null));
        var raw = new RawEventRequest(request.Path.Value ?? "/", request.ContentType, CloudEventHeaders(request.Headers).ToDictionary(StringComparer.OrdinalIgnoreCase), body);
        await HandleAsync(context, decoded.Event, decoded.MessagePublished, raw);
    }

    private async Task HandleAsync(HttpContext context, CloudEvent cloudEvent, MessagePublishedData data, RawEventRequest raw)
    {
        FunctionOutcome outcome;
        try
        {
            var instance = function.Create(context.RequestServices);
            outcome = await instance.HandleAsync(cloudEvent, data, context.RequestAborted);
        }
        catch (PermanentEventException e)
        {
            outcome = FunctionOutcome.Reject(e.Message);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The caller gave up (Pub/Sub's ack deadline passed); it will redeliver, and nobody reads this response.
            logger.LogWarning("Event {EventId} abandoned: the request was cancelled", cloudEvent.Id);
            return;
        }
        catch (Exception e)
        {
            logger.LogError(e, "Event {EventId} failed with an unhandled {ExceptionType}; Pub/Sub will redeliver it", cloudEvent.Id, e.GetType().Name);
            await WriteAsync(context, StatusCodes.Status500InternalServerError, $"internal error handling event {cloudEvent.Id}; it will be redelivered");
            return;
        }

        await RespondAsync(context, cloudEvent, outcome, raw);
    }

    private async Task RespondAsync(HttpContext context, CloudEvent cloudEvent, FunctionOutcome outcome, RawEventRequest raw)
    {
        switch (outcome.Kind)
        {
            case OutcomeKind.Success:
                context.Response.StatusCode = StatusCodes.Status204NoContent;
                break;
            case OutcomeKind.Rejected:
                logger.LogWarning("Event {EventId} rejected: {Reason}", cloudEvent.Id, outcome.Reason);
                try
                {
                    await rejections.RecordAsync(new RejectedEvent(function.Name, cloudEvent, outcome.Reason!, clock.GetUtcNow(), raw), context.RequestAborted);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Acknowledging an event whose record failed would lose it; let Pub/Sub deliver it again.
                    logger.LogError(e, "Event {EventId} could not be recorded as rejected; Pub/Sub will redeliver it", cloudEvent.Id);
                    await WriteAsync(context, StatusCodes.Status500InternalServerError, $"could not record rejected event {cloudEvent.Id}; it will be redelivered");
                    return;
                }

                await WriteAsync(context, StatusCodes.Status200OK, $"rejected: {OneLine(outcome.Reason!)}");
                break;
            case OutcomeKind.Transient:
                logger.LogWarning("Event {EventId} failed transiently, Pub/Sub will redeliver it: {Reason}", cloudEvent.Id, outcome.Reason);
                await WriteAsync(context, StatusCodes.Status503ServiceUnavailable, $"transient failure: {OneLine(outcome.Reason!)}");
                break;
        }
    }

    private async Task RefuseAsync(HttpContext context, int statusCode, string reason)
    {
        logger.LogWarning("Refused {Method} {Path} with {StatusCode}: {Reason}", context.Request.Method, context.Request.Path.Value, statusCode, reason);
        await WriteAsync(context, statusCode, reason);
    }

    private static async Task WriteAsync(HttpContext context, int statusCode, string text)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(OneLine(text) + "\n", context.RequestAborted);
    }

    private string TooLarge() => $"request body larger than {options.MaxRequestBytes} bytes (KFCI_MAX_REQUEST_BYTES)";

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");

    private static IEnumerable<KeyValuePair<string, string>> CloudEventHeaders(IHeaderDictionary headers) =>
        headers.Where(h => h.Key.StartsWith("ce-", StringComparison.OrdinalIgnoreCase)).Select(h => new KeyValuePair<string, string>(h.Key, h.Value.ToString()));

    /// <summary>Reads the whole body, refusing (413) as soon as it passes <paramref name="limit"/>, whatever Content-Length claimed.</summary>
    private async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            throw new EventDecodingException(StatusCodes.Status413PayloadTooLarge, TooLarge());
        }

        var buffer = new ArrayBufferWriter<byte>((int)Math.Min(request.ContentLength ?? 4096, limit) + 1);
        while (true)
        {
            var read = await request.Body.ReadAsync(buffer.GetMemory(4096), cancellationToken);
            if (read == 0)
            {
                return buffer.WrittenMemory;
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > limit)
            {
                throw new EventDecodingException(StatusCodes.Status413PayloadTooLarge, TooLarge());
            }
        }
    }
}
