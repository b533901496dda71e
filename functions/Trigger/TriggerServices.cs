using Kfci.Configuration;
using Kfci.ProwJobs;
using Kfci.Sources;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Kfci.Functions.Trigger;

/// <summary>The Trigger's own services, beside the shared adapters (<c>AddKfciAdapters</c>).</summary>
public static class TriggerServices
{
    /// <summary>Registers the settings, the run steps, and (unless one is registered) the repository source from the environment.</summary>
    public static IServiceCollection AddTrigger(this IServiceCollection services, Func<string, string?>? getEnv = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        getEnv ??= Environment.GetEnvironmentVariable;
        services.TryAddSingleton(_ => TriggerSettings.FromEnvironment(getEnv));
        services.TryAddSingleton(sp => CreateSource(sp, getEnv));
        services.TryAddSingleton(sp => new CachingRepositorySource(sp.GetRequiredService<IRepositorySource>()));
        services.TryAddSingleton(sp => new JobResolver(sp.GetRequiredService<IRepositorySource>(), new Lazy<ProwJobConfigSource?>(() => CreateProwJobs(sp, getEnv))));
        services.TryAddScoped<RunStarter>();
        services.TryAddScoped<RunAborter>();
        return services;
    }

    /// <summary>Prow's job configuration at <c>KFCI_PROW_JOBS</c>; null when unset (periodic events must then carry refs). Made lazily by <see cref="JobResolver"/>.</summary>
    private static ProwJobConfigSource? CreateProwJobs(IServiceProvider services, Func<string, string?> getEnv) =>
        getEnv(KfciEnvironment.ProwJobs) is { Length: > 0 } location
            ? ProwJobConfigSource.Create(
                location,
                services.GetRequiredService<IRepositorySource>(),
                bucket => KfciServices.CreateResultsStore(services, name => name switch
                {
                    KfciEnvironment.ResultsBucket => bucket,
                    KfciEnvironment.ResultsDirectory => null,
                    _ => getEnv(name),
                }),
                services.GetService<TimeProvider>())
            : null;

    /// <summary>Local git repositories under <c>KFCI_GIT_ROOT</c> when set (the local stack), else the GitHub API.</summary>
    private static IRepositorySource CreateSource(IServiceProvider services, Func<string, string?> getEnv) =>
        services.GetRequiredService<TriggerSettings>().Render.GitRoot is { } root
            ? LocalGitSource.OverRoot(root)
            : GitHubSource.Create(getEnv, services.GetService<ILogger<GitHubSource>>());
}
