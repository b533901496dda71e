using Kfci.Configuration;
using Kfci.Functions.Watcher;
using Kfci.Hosting;
using Microsoft.Extensions.DependencyInjection;

WatcherSettings settings;
try
{
    // Read at start-up, so a bad setting stops the instance with one line instead of failing every event.
    settings = WatcherSettings.Read(Environment.GetEnvironmentVariable);
}
catch (InvalidOperationException e)
{
    await Console.Error.WriteLineAsync($"Cannot start the watcher: {e.Message}");
    return 2;
}

var builder = FunctionHost.CreateBuilder(args);
builder.Services.AddKfciAdapters();
builder.Services.AddSingleton(settings);
builder.AddFunction<Function>("watcher");
return await builder.RunAsync();
