using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Kfci.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kfci.Testing.Hosting;

/// <summary>
/// A function behind the real host on an in-memory server: requests go through decoding, authentication and
/// outcome mapping exactly as in the cloud. Logs are captured and rejections recorded in memory.
/// </summary>
public sealed class FunctionTestHost : IAsyncDisposable
{
    private FunctionTestHost(WebApplication app, CapturedLogs logs, RecordingRejections rejections)
    {
        App = app;
        Logs = logs;
        Rejections = rejections;
        Client = app.GetTestClient();
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public CapturedLogs Logs { get; }

    public RecordingRejections Rejections { get; }

    /// <summary>Messages of warnings and errors, in order.</summary>
    public IEnumerable<string> Warnings => Logs.Entries.Where(e => e.Level >= LogLevel.Warning).Select(e => e.Message);

    /// <summary>
    /// Starts a host serving <typeparamref name="TFunction"/> as "function under test". <paramref name="configure"/>
    /// runs after the defaults, so it may register fakes, an instance of the function, or more functions.
    /// </summary>
    public static async Task<FunctionTestHost> StartAsync<TFunction>(FunctionHostOptions? options = null, Action<FunctionHostBuilder>? configure = null)
        where TFunction : class, IMessagePublishedFunction
    {
        var builder = FunctionHost.CreateBuilder(options ?? new FunctionHostOptions());
        builder.WebHost.UseTestServer();
        var logs = new CapturedLogs();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        var rejections = new RecordingRejections();
        builder.Services.AddSingleton<IRejectionRecorder>(rejections);
        builder.AddFunction<TFunction>(Name<TFunction>());
        configure?.Invoke(builder);
        var app = builder.Build();
        await app.StartAsync();
        return new FunctionTestHost(app, logs, rejections);
    }

    /// <summary>The target name a test host gives <typeparamref name="TFunction"/>: its type name, lowercase.</summary>
    public static string Name<TFunction>() => typeof(TFunction).Name.ToLowerInvariant();

    /// <summary>POSTs a Pub/Sub push envelope carrying <paramref name="data"/>, as a push subscription would.</summary>
    public Task<HttpResponseMessage> PushAsync(string data, IReadOnlyDictionary<string, string>? attributes = null, string messageId = "test-message-1") =>
        Client.SendAsync(PushRequest(data, attributes, messageId));

    /// <summary>A push request as Pub/Sub sends it to <c>/projects/test-project/topics/test-topic</c>.</summary>
    public static HttpRequestMessage PushRequest(string data, IReadOnlyDictionary<string, string>? attributes = null, string messageId = "test-message-1")
    {
        var envelope = new
        {
            message = new
            {
                data = Convert.ToBase64String(Encoding.UTF8.GetBytes(data)),
                attributes = attributes ?? new Dictionary<string, string>(),
                messageId,
                publishTime = "2026-11-22T05:00:00.000Z",
            },
            subscription = "projects/test-project/subscriptions/test-subscription",
        };
        return new HttpRequestMessage(HttpMethod.Post, "/projects/test-project/topics/test-topic")
        {
            Content = new StringContent(JsonSerializer.Serialize(envelope), Encoding.UTF8, "application/json"),
        };
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.DisposeAsync();
    }
}

/// <summary>Collects log entries (level, category, message, exception) in memory.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    public ConcurrentQueue<(LogLevel Level, string Category, string Message, Exception? Exception)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Entries.Enqueue((logLevel, category, formatter(state, exception), exception));
    }
}

/// <summary>Records rejections in memory; set <see cref="Fail"/> to make recording throw, as an unavailable store would.</summary>
public sealed class RecordingRejections : IRejectionRecorder
{
    public ConcurrentQueue<RejectedEvent> Recorded { get; } = new();

    public bool Fail { get; set; }

    public Task RecordAsync(RejectedEvent rejection, CancellationToken cancellationToken)
    {
        if (Fail)
        {
            throw new IOException("rejection store unavailable");
        }

        Recorded.Enqueue(rejection);
        return Task.CompletedTask;
    }
}
