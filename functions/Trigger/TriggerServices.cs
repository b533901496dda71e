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
        services.TryAddScoped<RunStarter>();
        services.TryAddScoped<RunAborter>();
        return services;
    }

    /// <summary>Local git repositories under <c>KFCI_GIT_ROOT</c> when set (the local stack), else the GitHub API.</summary>
    private static IRepositorySource CreateSource(IServiceProvider services, Func<string, string?> getEnv) =>
        services.GetRequiredService<TriggerSettings>().Render.GitRoot is { } root
            ? LocalGitSource.OverRoot(root)
            : GitHubSource.Create(getEnv, services.GetService<ILogger<GitHubSource>>());
}
