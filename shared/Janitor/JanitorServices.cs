using Kfci.Configuration;
using Kfci.Firestore;
using Kfci.Http;
using Kfci.Janitor.Gcp;
using Kfci.Kubernetes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kfci.Janitor;

/// <summary>Registers the janitor's adapters and sweep, for the function and the CLI alike (after <c>AddKfciAdapters</c>).</summary>
public static class JanitorServices
{
    public static IServiceCollection AddJanitor(this IServiceCollection services, Func<string, string?>? getEnv = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        getEnv ??= Environment.GetEnvironmentVariable;
        // Resolved with the function at start-up, so a local Janitor that would reach real Google Cloud refuses to start.
        services.TryAddSingleton(_ => GcpEndpoints.FromEnvironment(getEnv));
        services.TryAddSingleton(OperationPolling.Default);
        services.TryAddSingleton(SweepOptions.Default);
        services.TryAddSingleton(_ => LoadConfig(getEnv));
        services.TryAddSingleton<ISweepStore>(sp => new FirestoreSweepStore(() => sp.GetRequiredService<FirestoreClient>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IResourceApi, KubernetesResources>(sp => new KubernetesResources(() => sp.GetRequiredService<IWorkflowCluster>())));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IResourceApi, ComputeApi>(sp => new ComputeApi(Client(sp, e => e.Compute), Polling(sp), Clock(sp))));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IResourceApi, ContainerApi>(sp => new ContainerApi(Client(sp, e => e.Container), Polling(sp), Clock(sp))));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IResourceApi, DeploymentManagerApi>(sp => new DeploymentManagerApi(Client(sp, e => e.DeploymentManager), Polling(sp), Clock(sp))));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IResourceApi, IamApi>(sp => new IamApi(Client(sp, e => e.Iam))));
        services.TryAddSingleton(sp => new Sweeper(
            sp.GetServices<IResourceApi>(), sp.GetRequiredService<ISweepStore>(), Clock(sp),
            sp.GetService<ILogger<Sweeper>>() ?? NullLogger<Sweeper>.Instance, sp.GetRequiredService<SweepOptions>()));
        services.TryAddSingleton(sp => new SweepRunner(
            sp.GetRequiredService<Sweeper>(), sp.GetRequiredService<ISweepStore>(), Clock(sp),
            sp.GetService<ILogger<SweepRunner>>() ?? NullLogger<SweepRunner>.Instance));
        return services;
    }

    /// <summary>The configuration file named by <c>KFCI_JANITOR_CONFIG</c>; there is no default scope to fall back on.</summary>
    /// <exception cref="JanitorConfigException">The variable is unset, or the file is invalid or names no scope.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static JanitorConfig LoadConfig(Func<string, string?> getEnv)
    {
        ArgumentNullException.ThrowIfNull(getEnv);
        return getEnv(KfciEnvironment.JanitorConfig) is { Length: > 0 } path
            ? JanitorConfigYaml.Load(path)
            : throw new JanitorConfigException(
                $"{KfciEnvironment.JanitorConfig} is not set: the Janitor sweeps only what it is configured for; point it at a YAML file naming projects, testCluster and zones/regions");
    }

    private static RestClient Client(IServiceProvider services, Func<GcpEndpoints, GoogleEndpoint> pick) =>
        pick(services.GetRequiredService<GcpEndpoints>()).CreateClient(services.GetService<RetryOptions>());

    private static OperationPolling Polling(IServiceProvider services) => services.GetRequiredService<OperationPolling>();

    private static TimeProvider Clock(IServiceProvider services) => services.GetRequiredService<TimeProvider>();
}
