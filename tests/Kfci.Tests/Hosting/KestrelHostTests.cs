using System.Net;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Kfci.Hosting;
using Kfci.PubSub;

namespace Kfci.Tests.Hosting;

/// <summary>What only a real socket shows: Kestrel's own body limit and the loopback binding.</summary>
public sealed class KestrelHostTests
{
    private const string Envelope = """{"message":{"data":"eyJrIjoxfQ==","messageId":"m-1"}}""";

    [Fact]
    public async Task Post_ChunkedBodyOverTheLimit_OnKestrel_Answers413()
    {
        await using var host = await LoopbackHost.StartAsync(new ScriptedFunction(), maxRequestBytes: 1000);
        using var client = new HttpClient();
        using var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(Envelope.Replace("eyJrIjoxfQ==", Convert.ToBase64String(new byte[3000]), StringComparison.Ordinal))));
        content.Headers.ContentType = new("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, host.BaseUrl + "/") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Empty(host.Function.Received);
    }

    [Fact]
    public async Task Post_LargestLegalMessage_OnKestrel_IsHandled()
    {
        // 10 MB of data and 100 attributes at their size limits, with keys and values JSON must escape: about 14.8 MB
        // of envelope. A limit of 10 MiB on the body answered 413 to every delivery of any message from about 7.5 MB up.
        await using var host = await LoopbackHost.StartAsync(new ScriptedFunction());
        var data = new byte[PubSubLimits.MaxDataBytes];
        new Random(7).NextBytes(data);
        var attributes = Enumerable.Range(0, PubSubLimits.MaxAttributes).ToDictionary(
            i => $"{i:000}".PadRight(PubSubLimits.MaxAttributeKeyBytes, '\u0001'),
            _ => new string('\u0002', PubSubLimits.MaxAttributeValueBytes));
        // Escaped as JSON must (control characters as six-byte escapes), not as HTML-safe output would (which also escapes base64's '+').
        var envelope = JsonSerializer.SerializeToUtf8Bytes(
            new
            {
                message = new { data = Convert.ToBase64String(data), attributes, messageId = "big-1", publishTime = "2026-11-22T05:00:00Z" },
                subscription = "projects/p/subscriptions/s",
            },
            new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        using var client = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
        using var content = new ByteArrayContent(envelope);
        content.Headers.ContentType = new("application/json");

        using var response = await client.PostAsync(new Uri(host.BaseUrl + "/projects/p/topics/t"), content);

        Assert.True(envelope.Length > 14_000_000, $"the envelope is {envelope.Length} bytes");
        Assert.InRange(envelope.Length, 0, FunctionHostOptions.DefaultMaxRequestBytes);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var (_, received) = Assert.Single(host.Function.Received);
        Assert.Equal(data, received.Message.Data.ToArray());
        Assert.Equal(attributes, received.Message.Attributes);
    }

    [Fact]
    public async Task Post_OnKestrel_IsServedOnLoopback()
    {
        await using var host = await LoopbackHost.StartAsync(new ScriptedFunction());
        using var client = new HttpClient();

        using var response = await client.PostAsync(new Uri(host.BaseUrl + "/"), new StringContent(Envelope, Encoding.UTF8, "application/json"));

        Assert.StartsWith("http://127.0.0.1:", host.BaseUrl, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Single(host.Function.Received);
    }
}
