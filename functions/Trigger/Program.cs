using Kfci.Configuration;
using Kfci.Functions.Trigger;
using Kfci.Hosting;

var builder = FunctionHost.CreateBuilder(args);
builder.Services.AddKfciAdapters();
builder.Services.AddTrigger();
builder.AddFunction<Function>("trigger");
// The function resolves these only for valid events; created once at start, a missing setting stops the host instead.
builder.RequireAtStart<RunStarter>().RequireAtStart<RunAborter>();
return await builder.RunAsync();
