using System.Collections.Concurrent;
using CloudNative.CloudEvents;
using Kfci.Hosting;
using Kfci.Testing.Hosting;
using Microsoft.Extensions.DependencyInjection;

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

/// <summary>The scripted function behind the real host on an in-memory server.</summary>
public sealed class TestHost : IAsyncDisposable
{
    private readonly FunctionTestHost _host;

    private TestHost(FunctionTestHost host, ScriptedFunction function)
    {
        _host = host;
        Function = function;
    }

    public ScriptedFunction Function { get; }

    public HttpClient Client => _host.Client;

    public CapturedLogs Logs => _host.Logs;

    public RecordingRejections Rejections => _host.Rejections;

    public IEnumerable<string> Warnings => _host.Warnings;

    public static async Task<TestHost> StartAsync(FunctionHostOptions? options = null, Action<FunctionHostBuilder>? configure = null)
    {
        var function = new ScriptedFunction();
        var host = await FunctionTestHost.StartAsync<ScriptedFunction>(options, builder =>
        {
            builder.Services.AddSingleton(function);
            configure?.Invoke(builder);
        });
        return new TestHost(host, function);
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}
