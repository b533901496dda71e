using System.Globalization;
using System.Text.Json.Nodes;
using Kfci.Http;

namespace Kfci.Janitor.Gcp;

/// <summary>How long-running delete operations are waited on.</summary>
public sealed record OperationPolling
{
    public static OperationPolling Default { get; } = new();

    /// <summary>First wait before re-reading an operation; doubled up to <see cref="MaxInterval"/>.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A delete not done by then fails (cluster deletes take minutes; the old tool waited 15–20).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(20);
}

/// <summary>A long-running operation finished with an error, or did not finish in time.</summary>
public sealed class GcpOperationException(string message) : Exception(message)
{
    public GcpOperationException()
        : this("operation failed")
    {
    }

    public GcpOperationException(string message, Exception innerException)
        : this(message + ": " + innerException?.Message)
    {
    }
}

/// <summary>What every Google adapter of the janitor shares: paging, reading fields, waiting on operations.</summary>
internal static class GcpRest
{
    /// <summary>Every page of a list call, following <c>nextPageToken</c>.</summary>
    public static async IAsyncEnumerable<JsonObject> PagesAsync(RestClient rest, string uri, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? token = null;
        do
        {
            var pageUri = token is null ? uri : $"{uri}{(uri.Contains('?', StringComparison.Ordinal) ? '&' : '?')}pageToken={Uri.EscapeDataString(token)}";
            var page = await rest.GetJsonAsync(pageUri, cancellationToken) as JsonObject ?? [];
            yield return page;
            token = Str(page, "nextPageToken");
        }
        while (!string.IsNullOrEmpty(token));
    }

    /// <summary>DELETE; the operation it answers with, or null when the resource was already gone (404).</summary>
    public static async Task<JsonObject?> DeleteAsync(RestClient rest, string uri, CancellationToken cancellationToken)
    {
        try
        {
            return await rest.SendJsonAsync(HttpMethod.Delete, uri, null, cancellationToken) as JsonObject ?? [];
        }
        catch (ApiException e) when (e.IsNotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// Re-reads <paramref name="operation"/> at <paramref name="pollUri"/> (given the operation's name) until its status is
    /// DONE, with growing waits, then throws if <paramref name="errorOf"/> finds an error in it.
    /// </summary>
    public static async Task WaitAsync(
        RestClient rest,
        JsonObject operation,
        Func<string, string> pollUri,
        Func<JsonObject, string?> errorOf,
        string what,
        OperationPolling polling,
        TimeProvider clock,
        CancellationToken cancellationToken)
    {
        var deadline = clock.GetUtcNow() + polling.Timeout;
        var interval = polling.Interval;
        while (Str(operation, "status") != "DONE")
        {
            var name = Str(operation, "name") ?? throw new GcpOperationException($"{what}: the API answered with an operation without a name");
            if (clock.GetUtcNow() >= deadline)
            {
                throw new GcpOperationException($"{what}: operation {name} not done after {Durations.Format(polling.Timeout)}");
            }

            await Task.Delay(interval, clock, cancellationToken);
            interval = interval * 2 < polling.MaxInterval ? interval * 2 : polling.MaxInterval;
            operation = await rest.GetJsonAsync(pollUri(name), cancellationToken) as JsonObject ?? [];
        }

        if (errorOf(operation) is { } error)
        {
            throw new GcpOperationException($"{what}: {error}");
        }
    }

    /// <summary>Compute and Deployment Manager: <c>error.errors[].message</c>, joined.</summary>
    public static string? ErrorList(JsonObject operation) =>
        operation["error"]?["errors"] is JsonArray { Count: > 0 } errors
            ? string.Join("; ", errors.Select(e => Str(e as JsonObject, "message") ?? Str(e as JsonObject, "code") ?? "error"))
            : null;

    public static string? Str(JsonObject? node, string name) =>
        node?[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    public static DateTimeOffset? Time(JsonObject? node, string name) =>
        Str(node, name) is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time
            : null;

    /// <summary>A <c>{"key":"value"}</c> label map; empty when absent.</summary>
    public static IReadOnlyDictionary<string, string> Labels(JsonNode? labels) =>
        labels is JsonObject map
            ? map.Where(pair => pair.Value is JsonValue).ToDictionary(pair => pair.Key, pair => pair.Value!.ToString(), StringComparer.Ordinal)
            : new Dictionary<string, string>();

    public static string Escape(string segment) => Uri.EscapeDataString(segment);
}
