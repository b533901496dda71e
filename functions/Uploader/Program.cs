using Kfci.Configuration;
using Kfci.Functions.Uploader;
using Kfci.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;

var builder = FunctionHost.CreateBuilder(args);
builder.Services.AddKfciAdapters();
builder.Services.TryAddSingleton(_ => UploaderSettings.FromEnvironment());
builder.Services.TryAddSingleton<ResultsUploader>();
builder.AddFunction<Function>("uploader");
return await builder.RunAsync();
