using Kfci.Functions.Watcher;
using Kfci.Hosting;

var builder = FunctionHost.CreateBuilder(args);
builder.AddFunction<Function>("watcher");
return await builder.RunAsync();
