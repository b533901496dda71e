using System.Globalization;

namespace Kfci.Hosting.Logging;

/// <summary>
/// The trace a request belongs to, from W3C <c>traceparent</c> or Google's <c>X-Cloud-Trace-Context</c>,
/// so log lines join the request's trace in Cloud Logging.
/// </summary>
public sealed record TraceContext(string TraceId, string? SpanId, bool Sampled)
{
    /// <summary>Parses the headers (traceparent first); null when neither is present and well formed.</summary>
    public static TraceContext? FromHeaders(string? traceParent, string? cloudTraceContext) =>
        FromTraceParent(traceParent) ?? FromCloudTraceContext(cloudTraceContext);

    // traceparent: 00-<32 hex trace id>-<16 hex span id>-<2 hex flags>
    private static TraceContext? FromTraceParent(string? header)
    {
        var parts = header?.Trim().Split('-');
        if (parts is not { Length: >= 4 } || parts[1].Length != 32 || parts[2].Length != 16 || !IsHex(parts[1]) || !IsHex(parts[2])
            || !byte.TryParse(parts[3], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var flags))
        {
            return null;
        }

        return new TraceContext(parts[1].ToLowerInvariant(), parts[2].ToLowerInvariant(), (flags & 1) == 1);
    }

    // X-Cloud-Trace-Context: <32 hex trace id>[/<decimal span id>][;o=<0|1>]; Cloud Logging wants the span in 16 hex digits.
    private static TraceContext? FromCloudTraceContext(string? header)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return null;
        }

        var options = header.Split(';', 2);
        var ids = options[0].Trim().Split('/', 2);
        if (ids[0].Length != 32 || !IsHex(ids[0]))
        {
            return null;
        }

        string? spanId = ids.Length == 2 && ulong.TryParse(ids[1], NumberStyles.None, CultureInfo.InvariantCulture, out var span)
            ? span.ToString("x16", CultureInfo.InvariantCulture)
            : null;
        var sampled = options.Length == 2 && options[1].Trim() == "o=1";
        return new TraceContext(ids[0].ToLowerInvariant(), spanId, sampled);
    }

    private static bool IsHex(string text) => text.All(char.IsAsciiHexDigit);
}
