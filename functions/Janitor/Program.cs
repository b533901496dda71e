using Kfci.Functions.Janitor;
using Kfci.Hosting;

var builder = FunctionHost.CreateBuilder(args);
builder.AddFunction<Function>("janitor");
return await builder.RunAsync();
