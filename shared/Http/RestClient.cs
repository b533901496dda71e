using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kfci.Http;

/// <summary>
/// JSON over HTTP with kfci's retry policy. Each attempt builds a fresh request, so a retried call
/// never re-sends a consumed body; non-success answers become <see cref="ApiException"/>.
/// </summary>
public sealed class RestClient
{
    public RestClient(HttpClient http, RetryPolicy retry)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(retry);
        Http = http;
        Retry = retry;
    }

    public HttpClient Http { get; }

    public RetryPolicy Retry { get; }

    /// <summary>Sends with retries; the caller owns (and must dispose) the successful response.</summary>
    public async Task<HttpResponseMessage> SendAsync(
        Func<HttpRequestMessage> createRequest,
        CancellationToken cancellationToken,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        ArgumentNullException.ThrowIfNull(createRequest);
        return await Retry.ExecuteAsync(token => SendOnceAsync(createRequest, completion, token), cancellationToken);
    }

    /// <summary>One attempt, no retry; a non-success answer throws <see cref="ApiException"/>.</summary>
    public async ValueTask<HttpResponseMessage> SendOnceAsync(
        Func<HttpRequestMessage> createRequest, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(createRequest);
        using var request = createRequest();
        var response = await Http.SendAsync(request, completion, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            throw await ApiErrors.ReadAsync(response, cancellationToken);
        }
    }

    /// <summary>Sends an optional JSON body and returns the parsed JSON answer (null for an empty body).</summary>
    public async Task<JsonNode?> SendJsonAsync(HttpMethod method, string uri, JsonNode? body, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => JsonRequest(method, uri, body), cancellationToken);
        return await ReadJsonAsync(response, cancellationToken);
    }

    public Task<JsonNode?> GetJsonAsync(string uri, CancellationToken cancellationToken) =>
        SendJsonAsync(HttpMethod.Get, uri, null, cancellationToken);

    public static HttpRequestMessage JsonRequest(HttpMethod method, string uri, JsonNode? body)
    {
        var request = new HttpRequestMessage(method, uri);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, mediaType: new MediaTypeHeaderValue("application/json"));
        }

        return request;
    }

    public static async Task<JsonNode?> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        if (stream.CanSeek && stream.Length == 0)
        {
            return null;
        }

        try
        {
            return await JsonNode.ParseAsync(stream, cancellationToken: cancellationToken);
        }
        catch (JsonException) when (response.Content.Headers.ContentLength is 0)
        {
            return null;
        }
    }
}
