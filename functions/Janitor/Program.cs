using Kfci.Configuration;
using Kfci.Functions.Janitor;
using Kfci.Hosting;
using Kfci.Janitor;

var builder = FunctionHost.CreateBuilder(args);
builder.Services.AddKfciAdapters();
builder.Services.AddJanitor();
builder.AddFunction<Function>("janitor");
return await builder.RunAsync();
