using Kfci.Configuration;
using Kfci.Functions.Trigger;
using Kfci.Hosting;

var builder = FunctionHost.CreateBuilder(args);
builder.Services.AddKfciAdapters();
builder.Services.AddTrigger();
builder.AddFunction<Function>("trigger");
return await builder.RunAsync();
