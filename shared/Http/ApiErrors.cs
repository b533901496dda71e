using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Kfci.Http;

/// <summary>Turns an error response of a Google or Kubernetes REST API into an <see cref="ApiException"/>.</summary>
public static class ApiErrors
{
    private const int MaxBodyChars = 2048;

    public static async Task<ApiException> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        var body = await ReadBodyPrefixAsync(response, cancellationToken);
        var (reason, message) = Parse(body);
        var request = response.RequestMessage is { } r ? $"{r.Method} {r.RequestUri?.AbsolutePath}" : "request";
        var text = $"{request} failed: {(int)response.StatusCode} {reason ?? response.StatusCode.ToString()}: {message}";
        return new ApiException(response.StatusCode, reason, text, RetryAfter(response.Headers.RetryAfter));
    }

    /// <summary>Reads the service's reason and message from the error shapes Google and Kubernetes APIs use.</summary>
    public static (string? Reason, string Message) Parse(string body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return (null, "(empty body)");
        }

        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                // Google: {"error":{"code":409,"message":"...","status":"ABORTED","errors":[{"reason":"conflict"}]}}
                var reason = Str(error, "status");
                if (error.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array && errors.GetArrayLength() > 0)
                {
                    reason ??= Str(errors[0], "reason");
                }

                return (reason, Str(error, "message") ?? body);
            }

            if (root.ValueKind == JsonValueKind.Object && Str(root, "kind") == "Status")
            {
                // Kubernetes: {"kind":"Status","status":"Failure","reason":"AlreadyExists","message":"...","code":409}
                return (Str(root, "reason"), Str(root, "message") ?? body);
            }
        }
        catch (JsonException)
        {
            // Not JSON (an HTML error page from a proxy, say): the text itself is the message.
        }

        return (null, body.Length > 200 ? body[..200] : body);
    }

    internal static TimeSpan? RetryAfter(RetryConditionHeaderValue? header)
    {
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }

    internal static TimeSpan? RetryAfter(string? headerValue) =>
        int.TryParse(headerValue, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0
            ? TimeSpan.FromSeconds(seconds)
            : null;

    private static string? Str(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private static async Task<string> ReadBodyPrefixAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var reader = new StreamReader(stream);
            var buffer = new char[MaxBodyChars];
            var read = await reader.ReadBlockAsync(buffer.AsMemory(), cancellationToken);
            return new string(buffer, 0, read);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            return string.Empty;
        }
    }

    internal static bool IsSuccess(HttpStatusCode status) => (int)status is >= 200 and < 300;
}
