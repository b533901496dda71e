using System.Collections.Concurrent;
using Kfci.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kfci.Tests.Hosting;

/// <summary>A function whose outcome a test scripts, recording every event it is handed.</summary>
public sealed class ScriptedFunction : IMessagePublishedFunction
{
    public Func<CloudEvent, MessagePublishedData, FunctionOutcome> Behaviour { get; set; } = (_, _) => FunctionOutcome.Success();

    public ConcurrentQueue<(CloudEvent Event, MessagePublishedData Data)> Received { get; } = new();

    public Task<FunctionOutcome> HandleAsync(CloudEvent cloudEvent, MessagePublishedData data, CancellationToken cancellationToken)
    {
        Received.Enqueue((cloudEvent, data));
        return Task.FromResult(Behaviour(cloudEvent, data));
    }
}

/// <summary>A second function type, so target selection has something to choose between.</summary>
public sealed class OtherFunction : IMessagePublishedFunction
{
    public Task<FunctionOutcome> HandleAsync(CloudEvent cloudEvent, MessagePublishedData data, CancellationToken cancellationToken) =>
        Task.FromResult(FunctionOutcome.Reject("other function"));
}

/// <summary>Collects log entries (level, message, exception) in memory.</summary>
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

/// <summary>Records rejections; optionally fails, to show the host then refuses to acknowledge.</summary>
public sealed class RecordingRejections : IRejectionRecorder
{
    public ConcurrentQueue<RejectedEvent> Recorded { get; } = new();

    public bool Fail { get; set; }

    public Task RecordAsync(RejectedEvent rejection, CancellationToken cancellationToken)
    {
        if (Fail)
        {
            throw new IOException("store unavailable");
        }

        Recorded.Enqueue(rejection);
        return Task.CompletedTask;
    }
}

/// <summary>A function host on an in-memory test server, with the scripted function, captured logs and recorded rejections.</summary>
public sealed class TestHost : IAsyncDisposable
{
    private TestHost(WebApplication app, ScriptedFunction function, CapturedLogs logs, RecordingRejections rejections)
    {
        App = app;
        Function = function;
        Logs = logs;
        Rejections = rejections;
        Client = app.GetTestClient();
    }

    public WebApplication App { get; }

    public ScriptedFunction Function { get; }

    public CapturedLogs Logs { get; }

    public RecordingRejections Rejections { get; }

    public HttpClient Client { get; }

    public IEnumerable<string> Warnings => Logs.Entries.Where(e => e.Level >= LogLevel.Warning).Select(e => e.Message);

    public static async Task<TestHost> StartAsync(FunctionHostOptions? options = null, Action<FunctionHostBuilder>? configure = null)
    {
        var builder = FunctionHost.CreateBuilder(options ?? new FunctionHostOptions());
        builder.WebHost.UseTestServer();
        var logs = new CapturedLogs();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        var function = new ScriptedFunction();
        var rejections = new RecordingRejections();
        builder.Services.AddSingleton(function);
        builder.Services.AddSingleton<IRejectionRecorder>(rejections);
        builder.AddFunction<ScriptedFunction>("scripted");
        configure?.Invoke(builder);
        var app = builder.Build();
        await app.StartAsync();
        return new TestHost(app, function, logs, rejections);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.DisposeAsync();
    }
}
