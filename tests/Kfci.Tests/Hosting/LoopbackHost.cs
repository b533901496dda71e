using System.Net;
using Kfci.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kfci.Tests.Hosting;

/// <summary>A function host on Kestrel at a free loopback port: what the emulator pushes to, and where Kestrel's own limits apply.</summary>
internal sealed class LoopbackHost<TFunction> : IAsyncDisposable
    where TFunction : class, IMessagePublishedFunction
{
    private readonly WebApplication _app;

    public LoopbackHost(WebApplication app, TFunction function)
    {
        _app = app;
        Function = function;
        BaseUrl = app.Urls.Single().TrimEnd('/');
    }

    public TFunction Function { get; }

    public string BaseUrl { get; }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}

internal static class LoopbackHost
{
    public static async Task<LoopbackHost<TFunction>> StartAsync<TFunction>(TFunction function, long maxRequestBytes = FunctionHostOptions.DefaultMaxRequestBytes)
        where TFunction : class, IMessagePublishedFunction
    {
        var builder = FunctionHost.CreateBuilder(new FunctionHostOptions { Port = 0, BindAddress = IPAddress.Loopback, MaxRequestBytes = maxRequestBytes });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(function);
        builder.AddFunction<TFunction>("loopback");
        var app = builder.Build();
        await app.StartAsync();
        return new LoopbackHost<TFunction>(app, function);
    }
}
