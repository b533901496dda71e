using Kfci.Configuration;
using Kfci.Functions.Watcher;
using Kfci.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;

var builder = FunctionHost.CreateBuilder(args);
builder.Services.AddKfciAdapters();
builder.Services.TryAddSingleton(_ => WatcherSettings.Read(Environment.GetEnvironmentVariable));
builder.AddFunction<Function>("watcher");
return await builder.RunAsync();
