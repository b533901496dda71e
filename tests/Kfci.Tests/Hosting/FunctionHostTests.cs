using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using CloudNative.CloudEvents;
using Kfci.Hosting;
using Kfci.PubSub;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kfci.Tests.Hosting;

public sealed class FunctionHostTests
{
    private static readonly JsonSerializerOptions s_jsonEscapingOnly = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private const string Envelope = """{"message":{"data":"eyJrIjoxfQ==","attributes":{"a":"b"},"messageId":"m-1","publishTime":"2026-11-22T05:00:00Z"},"subscription":"projects/p/subscriptions/s"}""";

    private static HttpRequestMessage Push(string body = Envelope, string path = "/projects/p/topics/t", string contentType = "application/json") =>
        new(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, contentType) };

    [Fact]
    public async Task Post_PushEnvelope_HandsTypedDataToTheFunctionAndAnswers204()
    {
        await using var host = await TestHost.StartAsync();

        using var response = await host.Client.SendAsync(Push());

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var (cloudEvent, data) = Assert.Single(host.Function.Received);
        Assert.Equal("m-1", cloudEvent.Id);
        Assert.Equal("//pubsub.googleapis.com/projects/p/topics/t", cloudEvent.Source?.ToString());
        Assert.Equal("""{"k":1}""", data.Message.TextData);
        Assert.Equal("b", data.Message.Attributes["a"]);
    }

    [Fact]
    public async Task Post_BinaryModeCloudEvent_IsHandled()
    {
        await using var host = await TestHost.StartAsync();
        using var request = Push("""{"message":{"data":"eA==","messageId":"m-7"},"subscription":"projects/p/subscriptions/s"}""", path: "/");
        request.Headers.Add("ce-id", "ce-7");
        request.Headers.Add("ce-source", "//pubsub.googleapis.com/projects/p/topics/t");
        request.Headers.Add("ce-type", MessagePublishedData.CloudEventType);
        request.Headers.Add("ce-specversion", "1.0");

        using var response = await host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("ce-7", Assert.Single(host.Function.Received).Event.Id);
    }

    [Fact]
    public async Task Post_FunctionRejects_Acknowledges200RecordsRawEventAndWarns()
    {
        await using var host = await TestHost.StartAsync();
        host.Function.Behaviour = (_, _) => FunctionOutcome.Reject("not a Prow event");

        using var response = await host.Client.SendAsync(Push());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("not a Prow event", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var rejection = Assert.Single(host.Rejections.Recorded);
        Assert.Equal("scriptedfunction", rejection.Function);
        Assert.Equal("not a Prow event", rejection.Reason);
        Assert.Equal(Envelope, Encoding.UTF8.GetString(rejection.Request.Body.Span));
        Assert.Equal("/projects/p/topics/t", rejection.Request.Path);
        Assert.Contains(host.Warnings, w => w.Contains("m-1", StringComparison.Ordinal) && w.Contains("not a Prow event", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Post_FunctionThrowsPermanentEventException_IsARejection()
    {
        await using var host = await TestHost.StartAsync();
        host.Function.Behaviour = (_, _) => throw new PermanentEventException("unknown repository");

        using var response = await host.Client.SendAsync(Push());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("unknown repository", Assert.Single(host.Rejections.Recorded).Reason);
    }

    [Fact]
    public async Task Post_RejectionCannotBeRecorded_Answers500SoPubSubRedelivers()
    {
        await using var host = await TestHost.StartAsync();
        host.Function.Behaviour = (_, _) => FunctionOutcome.Reject("bad");
        host.Rejections.Fail = true;

        using var response = await host.Client.SendAsync(Push());

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
    }

    [Fact]
    public async Task Post_FunctionReportsTransientFailure_Answers503()
    {
        await using var host = await TestHost.StartAsync();
        host.Function.Behaviour = (_, _) => FunctionOutcome.Transient("cluster said 429");

        using var response = await host.Client.SendAsync(Push());

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Empty(host.Rejections.Recorded);
        Assert.Contains(host.Warnings, w => w.Contains("cluster said 429", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Post_FunctionThrows_Answers500WithoutStackTraceAndLogsOnceWithEventId()
    {
        await using var host = await TestHost.StartAsync();
        host.Function.Behaviour = (_, _) => throw new InvalidOperationException("secret internals");

        using var response = await host.Client.SendAsync(Push());

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("secret internals", body, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", body, StringComparison.Ordinal);
        var error = Assert.Single(host.Logs.Entries, e => e.Level >= LogLevel.Error);
        Assert.Contains("m-1", error.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(error.Exception);
    }

    [Theory]
    [InlineData("{\"message\":", "application/json", HttpStatusCode.BadRequest)]
    [InlineData(Envelope, "text/plain", HttpStatusCode.UnsupportedMediaType)]
    [InlineData("""{"specversion":"1.0","id":"x","source":"s"}""", "application/cloudevents+json", HttpStatusCode.BadRequest)]
    [InlineData("""{"specversion":"0.3","id":"x","source":"s","type":"t"}""", "application/cloudevents+json", HttpStatusCode.BadRequest)]
    [InlineData("""{"specversion":"1.0","id":"x","source":"s","type":"com.example.other"}""", "application/cloudevents+json", HttpStatusCode.BadRequest)]
    public async Task Post_MalformedRequest_Answers4xxWithOneLineReasonAndOneLogLine(string body, string contentType, HttpStatusCode expected)
    {
        await using var host = await TestHost.StartAsync();

        using var response = await host.Client.SendAsync(Push(body, contentType: contentType));

        Assert.Equal(expected, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Single(text.TrimEnd('\n').Split('\n'));
        Assert.NotEmpty(text.Trim());
        Assert.Empty(host.Function.Received);
        Assert.Single(host.Warnings);
    }

    [Fact]
    public async Task Post_MissingCloudEventHeader_Answers400NamingIt()
    {
        await using var host = await TestHost.StartAsync();
        using var request = Push(path: "/");
        request.Headers.Add("ce-id", "1");
        request.Headers.Add("ce-type", MessagePublishedData.CloudEventType);
        request.Headers.Add("ce-specversion", "1.0");

        using var response = await host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("ce-source", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PUT")]
    [InlineData("GET")]
    [InlineData("DELETE")]
    public async Task NonPost_Answers405WithAllowHeader(string method)
    {
        await using var host = await TestHost.StartAsync();

        using var response = await host.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/"));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Contains("POST", response.Content.Headers.Allow);
        Assert.Single(host.Warnings);
    }

    [Fact]
    public async Task GetHealthz_Answers200()
    {
        await using var host = await TestHost.StartAsync();

        using var response = await host.Client.GetAsync(new Uri("/healthz", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Post_BodyOverTheLimit_Answers413WithoutCallingTheFunction()
    {
        await using var host = await TestHost.StartAsync(new FunctionHostOptions { MaxRequestBytes = 100 });
        var big = Envelope.Replace("eyJrIjoxfQ==", Convert.ToBase64String(new byte[200]), StringComparison.Ordinal);

        using var declared = await host.Client.SendAsync(Push(big));
        using var chunked = await host.Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/") { Content = new UnsizedContent(big) });

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, chunked.StatusCode);
        Assert.Empty(host.Function.Received);
        Assert.Equal(2, host.Warnings.Count(w => w.Contains("413", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Post_BodyAtTheLimit_IsHandled()
    {
        await using var host = await TestHost.StartAsync(new FunctionHostOptions { MaxRequestBytes = Encoding.UTF8.GetByteCount(Envelope) });

        using var response = await host.Client.SendAsync(Push());

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    [Fact]
    public async Task Build_TargetSelectsAmongSeveralFunctions()
    {
        await using var host = await TestHost.StartAsync(
            new FunctionHostOptions { Target = "other" },
            builder => builder.AddFunction<OtherFunction>("other"));

        using var response = await host.Client.SendAsync(Push());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(host.Function.Received);
        Assert.Equal("other", Assert.Single(host.Rejections.Recorded).Function);
    }

    [Fact]
    public async Task Build_TargetByTypeFullName_SelectsIt()
    {
        await using var host = await TestHost.StartAsync(
            new FunctionHostOptions { Target = typeof(ScriptedFunction).FullName },
            builder => builder.AddFunction<OtherFunction>("other"));

        using var response = await host.Client.SendAsync(Push());

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    [Theory]
    [InlineData("nope", "unknown function target 'nope'")]
    [InlineData(null, "several functions")]
    public async Task Build_BadOrMissingTargetAmongSeveral_FailsListingKnownTargets(string? target, string expected)
    {
        var error = await Assert.ThrowsAsync<FunctionHostConfigurationException>(() => TestHost.StartAsync(
            new FunctionHostOptions { Target = target },
            builder => builder.AddFunction<OtherFunction>("other")));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("scriptedfunction, other", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddFunction_DuplicateName_Throws()
    {
        var builder = FunctionHost.CreateBuilder(new FunctionHostOptions());
        builder.AddFunction<OtherFunction>("x");

        Assert.Throws<ArgumentException>(() => builder.AddFunction<ScriptedFunction>("X"));
    }

    /// <summary>Content without a length, so the body arrives chunked and only the read itself can enforce the limit.</summary>
    private sealed class UnsizedContent : HttpContent
    {
        private readonly byte[] _bytes;

        public UnsizedContent(string text)
        {
            _bytes = Encoding.UTF8.GetBytes(text);
            Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(_bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    [Fact]
    public async Task Post_LargestLegalMessage_IsHandled()
    {
        // 10 MB of data and 100 attributes at their size limits, with keys and values JSON must escape: about 14 MB
        // of envelope. A limit of 10 MiB on the body answered 413 to every delivery of any message from about 7.5 MB up.
        await using var host = await TestHost.StartAsync();
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
            s_jsonEscapingOnly);
        using var content = new ByteArrayContent(envelope);
        content.Headers.ContentType = new("application/json");

        using var response = await host.Client.PostAsync(new Uri("/projects/p/topics/t", UriKind.Relative), content);

        Assert.True(envelope.Length > 14_000_000, $"the envelope is {envelope.Length} bytes");
        Assert.InRange(envelope.Length, 0, FunctionHostOptions.DefaultMaxRequestBytes);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var (_, received) = Assert.Single(host.Function.Received);
        Assert.Equal(data, received.Message.Data.ToArray());
        Assert.Equal(attributes, received.Message.Attributes);
    }
}
