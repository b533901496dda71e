using Kfci.Cli.Local;
using Kfci.Configuration;
using Kfci.Kubernetes;
using Kfci.PubSub;
using Kfci.Runs;
using Kfci.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Kfci.Cli.CommandLine;

/// <summary>
/// Which chain an on-call command talks to, and its adapters. <c>--project</c> (or <c>KFCI_PROJECT</c>) names a real
/// project, reached with the environment's settings (<c>KFCI_RESULTS_BUCKET</c>, <c>KFCI_CLUSTER_ENDPOINT</c>, emulator
/// hosts, ...); without either, the local stack's state in KFCI_HOME supplies everything. The same adapters as the
/// functions (<see cref="KfciServices"/>), so the command reads exactly what they write.
/// </summary>
public sealed class CliContext : IDisposable
{
    private readonly ServiceProvider _services;

    private CliContext(Func<string, string?> getEnv, string description)
    {
        GetEnv = getEnv;
        Description = description;
        _services = new ServiceCollection().AddKfciAdapters(getEnv).BuildServiceProvider();
    }

    public Func<string, string?> GetEnv { get; }

    /// <summary>"the local stack (KFCI_HOME)" or "project P", for messages.</summary>
    public string Description { get; }

    public string Project => KfciServices.RequireProject(GetEnv);

    public IRunStore Runs => _services.GetRequiredService<IRunStore>();

    public PubSubClient PubSub => _services.GetRequiredService<PubSubClient>();

    public IResultsStore Results => _services.GetRequiredService<IResultsStore>();

    public IWorkflowCluster Cluster => _services.GetRequiredService<IWorkflowCluster>();

    /// <summary>
    /// A results path as people on this machine read it: on the local stack, <c>gs://kfci-local/dir</c> followed by the
    /// directory that holds it; elsewhere unchanged (resolving no store, so a cloud command needs no bucket for it).
    /// </summary>
    public string ResultsForPeople(string resultsPath)
    {
        ArgumentNullException.ThrowIfNull(resultsPath);
        return string.IsNullOrEmpty(GetEnv(KfciEnvironment.ResultsDirectory))
            || Results is not LocalDirectoryResultsStore local || local.FileOf(resultsPath) is not { } file
            ? resultsPath
            : $"{resultsPath} ({file})";
    }

    /// <summary>The chain <paramref name="project"/> names, else the one the environment names, else the local stack.</summary>
    /// <exception cref="CliException">No project and no local stack.</exception>
    public static CliContext Resolve(string? project, Func<string, string?>? baseEnv = null)
    {
        baseEnv ??= Environment.GetEnvironmentVariable;
        // An installed copy (a Prow job's image) runs outside any checkout: it has no local stack, only the named project.
        var paths = KfciPaths.TryDiscoverHome(baseEnv);
        var local = paths is null ? null : LocalStackState.Load(paths.Home);
        var named = string.IsNullOrWhiteSpace(project) ? baseEnv(KfciEnvironment.Project) : project;
        if (local is not null && (string.IsNullOrWhiteSpace(named) || named == local.Project))
        {
            var environment = LocalChain.Environment(local, paths!);
            return new CliContext(name => environment.TryGetValue(name, out var value) ? value : baseEnv(name), $"the local stack ({paths!.Home})");
        }

        if (string.IsNullOrWhiteSpace(named))
        {
            throw new CliException($"no project: pass --project P (or set {KfciEnvironment.Project}), or start the local stack with 'kfci local up'");
        }

        return new CliContext(name => name == KfciEnvironment.Project ? named : baseEnv(name), $"project {named}");
    }

    public void Dispose() => _services.Dispose();
}
