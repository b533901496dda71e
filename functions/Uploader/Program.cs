using Kfci.Configuration;
using Kfci.Functions.Uploader;
using Kfci.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

var builder = FunctionHost.CreateBuilder(args);
builder.Services.AddKfciAdapters();
builder.Services.TryAddSingleton(_ => UploaderSettings.FromEnvironment());
builder.Services.TryAddSingleton<ResultsUploader>();
builder.Services.TryAddSingleton<Kfci.Functions.Uploader.GitHub.ICommitStatusReporter>(services =>
{
    // Commit statuses need a token with repo:status (a secret mounted as KFCI_GITHUB_TOKEN); without one, none are set.
    var token = Environment.GetEnvironmentVariable(KfciEnvironment.GitHubToken);
    if (string.IsNullOrWhiteSpace(token))
    {
        return new Kfci.Functions.Uploader.GitHub.NoCommitStatusReporter();
    }

    var api = new Uri(Environment.GetEnvironmentVariable(KfciEnvironment.GitHubApiUrl) is { Length: > 0 } url ? url : "https://api.github.com/");
    return new Kfci.Functions.Uploader.GitHub.OctokitCommitStatusReporter(
        Kfci.Functions.Uploader.GitHub.OctokitCommitStatusReporter.CreateClient(api, token.Trim()),
        services.GetRequiredService<Microsoft.Extensions.Logging.ILogger<Kfci.Functions.Uploader.GitHub.OctokitCommitStatusReporter>>());
});
builder.AddFunction<Function>("uploader");
return await builder.RunAsync();
