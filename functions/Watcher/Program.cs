using Kfci.Configuration;
using Kfci.Functions.Watcher;
using Kfci.Hosting;
using Microsoft.Extensions.DependencyInjection;

var builder = FunctionHost.CreateBuilder(args);
builder.Services.AddKfciAdapters();
// Resolved when the host checks at start-up that the function can be created: a bad setting stops it with one line.
builder.Services.AddSingleton(_ => WatcherSettings.Read(Environment.GetEnvironmentVariable));
builder.AddFunction<Function>("watcher");
return await builder.RunAsync();
