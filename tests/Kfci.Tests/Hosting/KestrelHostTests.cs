using System.Net;
using System.Text;

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
