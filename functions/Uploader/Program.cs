using Kfci.Functions.Uploader;
using Kfci.Hosting;

var builder = FunctionHost.CreateBuilder(args);
builder.AddFunction<Function>("uploader");
return await builder.RunAsync();
