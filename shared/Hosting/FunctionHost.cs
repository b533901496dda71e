using Kfci.Hosting.Logging;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Kfci.Hosting;

/// <summary>
/// Entry point of every function project: the Google Cloud Functions Framework contract on ASP.NET Core.
/// <code>
/// var builder = FunctionHost.CreateBuilder(args);
/// builder.AddFunction&lt;Function&gt;("trigger");
/// return await builder.RunAsync();
/// </code>
/// </summary>
public static class FunctionHost
{
    /// <summary>A builder configured from <paramref name="args"/> and the process environment.</summary>
    public static FunctionHostBuilder CreateBuilder(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var terminal = !Console.IsOutputRedirected;
        try
        {
            return CreateBuilder(FunctionHostOptions.Read(args, Environment.GetEnvironmentVariable, terminal));
        }
        catch (FunctionHostConfigurationException e)
        {
            // Reported by Build(), once logging exists, so the message reaches Cloud Logging as a proper entry.
            return new FunctionHostBuilder(new FunctionHostOptions { LogFormat = terminal ? LogFormat.Text : LogFormat.Json }, e);
        }
    }

    /// <summary>A builder with explicit options (tests, the local run).</summary>
    public static FunctionHostBuilder CreateBuilder(FunctionHostOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            options.Validate();
            return new FunctionHostBuilder(options, null);
        }
        catch (FunctionHostConfigurationException e)
        {
            return new FunctionHostBuilder(options, e);
        }
    }
}

/// <summary>Registers a project's functions and services, then builds the web application that serves the selected one.</summary>
public sealed class FunctionHostBuilder
{
    private readonly WebApplicationBuilder _web;
    private readonly List<FunctionRegistration> _functions = [];
    private readonly List<Type> _requiredAtStart = [];
    private readonly FunctionHostConfigurationException? _configurationError;

    internal FunctionHostBuilder(FunctionHostOptions options, FunctionHostConfigurationException? configurationError)
    {
        Options = options;
        _configurationError = configurationError;

        // The empty builder starts with nothing a function does not use (no appsettings files and their watchers,
        // no HTTPS, no routing): measurably faster start-up. kfci reads its settings from the environment.
        _web = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { Args = [] });
        _web.WebHost.UseKestrelCore();
        _web.Configuration.AddEnvironmentVariables();
        _web.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(options.BindAddress, options.Port);
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBytes;
            kestrel.AddServerHeader = false;
        });
        ConfigureLogging(_web.Logging, options.LogFormat);
    }

    public FunctionHostOptions Options { get; }

    public IServiceCollection Services => _web.Services;

    public ILoggingBuilder Logging => _web.Logging;

    /// <summary>The underlying web host, e.g. for <c>UseTestServer()</c> in tests.</summary>
    public IWebHostBuilder WebHost => _web.WebHost;

    /// <summary>
    /// Offers <typeparamref name="TFunction"/> under <paramref name="name"/> (also reachable by its type's full name).
    /// Only the function selected at <see cref="Build"/> serves; its instances are scoped to one request.
    /// </summary>
    public FunctionHostBuilder AddFunction<TFunction>(string name)
        where TFunction : class, IMessagePublishedFunction
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (_functions.Any(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase)))
        {
            throw new ArgumentException($"a function named '{name}' is already registered", nameof(name));
        }

        _functions.Add(FunctionRegistration.For<TFunction>(name));
        _web.Services.TryAddScoped<TFunction>();
        return this;
    }

    /// <summary>
    /// Has <see cref="Build"/> resolve <typeparamref name="TService"/> once, so that a setting it needs and lacks stops
    /// the host at start-up with one line instead of failing every event. The selected function itself is always resolved
    /// so; this is for what a function resolves later (e.g. only for valid events).
    /// </summary>
    public FunctionHostBuilder RequireAtStart<TService>()
        where TService : notnull
    {
        _requiredAtStart.Add(typeof(TService));
        return this;
    }

    /// <summary>
    /// Builds the application. Throws <see cref="FunctionHostConfigurationException"/> (after logging it, in one line) when
    /// the settings are invalid, the target names no registered function, or the function or a service required at start
    /// cannot be created from the configuration given (a missing project, bucket or cluster, say).
    /// </summary>
    public WebApplication Build()
    {
        _web.Services.TryAddSingleton(TimeProvider.System);
        _web.Services.TryAddSingleton<IRejectionRecorder, LoggingRejectionRecorder>();
        _web.Services.TryAddSingleton<IPushTokenValidator, GooglePushTokenValidator>();
        var app = _web.Build();
        FunctionRegistration function;
        try
        {
            function = _configurationError is null ? FunctionRegistration.Select(_functions, Options.Target) : throw _configurationError;
            CheckCanServe(app.Services, function);
        }
        catch (FunctionHostConfigurationException e)
        {
            app.Services.GetRequiredService<ILogger<FunctionHostBuilder>>().LogCritical("Cannot start the function host: {Problem}", e.Message);
            ((IDisposable)app).Dispose();
            throw;
        }

        var endpoint = CreateEndpoint(app.Services, function);
        app.Run(endpoint.InvokeAsync);
        app.Lifetime.ApplicationStarted.Register(() =>
            app.Logger.LogInformation("Serving function {Function} on {Urls}", function.Name, string.Join(' ', app.Urls)));
        return app;
    }

    /// <summary>Builds and runs until shut down; returns the process exit code (2 for a configuration error).</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken = default)
    {
        WebApplication app;
        try
        {
            app = Build();
        }
        catch (FunctionHostConfigurationException)
        {
            return 2;
        }

        await using (app)
        {
            await app.StartAsync(cancellationToken);
            await app.WaitForShutdownAsync(cancellationToken);
        }

        return 0;
    }

    /// <summary>Creates the function and every service required at start once, in a scope of their own, as a request would.</summary>
    private void CheckCanServe(IServiceProvider services, FunctionRegistration function)
    {
        using var scope = services.CreateScope();
        Type? current = function.Type;
        try
        {
            function.Create(scope.ServiceProvider);
            foreach (var type in _requiredAtStart)
            {
                current = type;
                scope.ServiceProvider.GetRequiredService(type);
            }
        }
        catch (Exception e) when (e is not FunctionHostConfigurationException)
        {
            // Adapters report a missing or bad setting as an exception whose message names the variable to set.
            throw new FunctionHostConfigurationException($"function {function.Name} cannot be created ({current.Name}): {e.Message.ReplaceLineEndings(" ")}", e);
        }
    }

    private EventEndpoint CreateEndpoint(IServiceProvider services, FunctionRegistration function)
    {
        var authenticator = Options.PushAudience is { } audience
            ? new PushAuthenticator(services.GetRequiredService<IPushTokenValidator>(), audience, Options.PushServiceAccount, Options.OnCloudRun, services.GetRequiredService<TimeProvider>())
            : null;
        return new EventEndpoint(
            function,
            Options,
            authenticator,
            services.GetRequiredService<IRejectionRecorder>(),
            services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<ILogger<EventEndpoint>>());
    }

    private static void ConfigureLogging(ILoggingBuilder logging, LogFormat format)
    {
        logging.ClearProviders();
        logging.SetMinimumLevel(LogLevel.Information);
        // Trace ids come from the request headers (EventLogScope), in the form Cloud Logging links.
        logging.Configure(factory => factory.ActivityTrackingOptions = ActivityTrackingOptions.None);
        // ASP.NET Core's per-request information lines would double every event's log volume.
        logging.AddFilter("Microsoft", LogLevel.Warning);
        logging.AddConsole(console => console.FormatterName = format == LogFormat.Json ? CloudLoggingFormatter.FormatterName : TextLineFormatter.FormatterName);
        logging.AddConsoleFormatter<CloudLoggingFormatter, ConsoleFormatterOptions>();
        logging.AddConsoleFormatter<TextLineFormatter, ConsoleFormatterOptions>();
    }
}
