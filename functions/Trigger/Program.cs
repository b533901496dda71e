using Kfci.Functions.Trigger;
using Kfci.Hosting;

var builder = FunctionHost.CreateBuilder(args);
builder.AddFunction<Function>("trigger");
return await builder.RunAsync();
