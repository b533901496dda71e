using System.Text.Json.Nodes;
using Kfci.Cli.Engine;
using Kfci.Kubernetes;

namespace Kfci.Tests.Engine;

/// <summary>A local engine on a fresh temporary KFCI_HOME, and helpers to run YAML workflows to completion.</summary>
internal sealed class EngineHarness : IAsyncDisposable
{
    public const string Namespace = "kubeflow-test-infra";

    private EngineHarness(string home, LocalWorkflowEngine engine, List<JsonObject> published)
    {
        Home = home;
        Engine = engine;
        Published = published;
    }

    public string Home { get; }

    public LocalWorkflowEngine Engine { get; private set; }

    /// <summary>The Kubernetes events the engine handed to its sink, in order.</summary>
    public List<JsonObject> Published { get; }

    public EngineOptions Options => Engine.Options;

    public static EngineHarness Start(int maxParallelSteps = 4, int watchHistory = 5000)
    {
        var home = Directory.CreateTempSubdirectory("kfci-engine-").FullName;
        var published = new List<JsonObject>();
        var options = EngineOptions.ForHome(home) with { MaxParallelSteps = maxParallelSteps, WatchHistory = watchHistory };
        return new EngineHarness(home, new LocalWorkflowEngine(options, new RecordingSink(published)), published);
    }

    /// <summary>Stops this engine and starts another on the same state directory (an engine restart).</summary>
    public async Task RestartAsync()
    {
        await Engine.DisposeAsync();
        Engine = new LocalWorkflowEngine(EngineOptions.ForHome(Home), new RecordingSink(Published));
    }

    public static JsonObject Workflow(string yaml) => YamlJson.ParseObject(yaml);

    public Task<JsonObject> SubmitAsync(string yaml) => Engine.CreateWorkflowAsync(Namespace, Workflow(yaml), CancellationToken.None);

    /// <summary>Submits and waits until the workflow is completed; returns it as stored.</summary>
    public async Task<JsonObject> RunAsync(string yaml, TimeSpan? timeout = null)
    {
        var created = await SubmitAsync(yaml);
        return await WaitCompletedAsync(created.Name!, timeout);
    }

    public async Task<JsonObject> WaitCompletedAsync(string name, TimeSpan? timeout = null) =>
        await WaitAsync(name, w => w.Labels.GetValueOrDefault(ArgoNames.CompletedLabel) == "true", timeout);

    public async Task<JsonObject> WaitAsync(string name, Func<JsonObject, bool> condition, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var workflow = await Engine.GetWorkflowAsync(Namespace, name, CancellationToken.None) ?? throw new InvalidOperationException($"workflow {name} is gone");
            if (condition(workflow))
            {
                return workflow;
            }

            await Task.Delay(20, deadline.Token);
        }
    }

    public static IReadOnlyList<JsonObject> Nodes(JsonObject workflow) =>
        [.. (workflow["status"]?["nodes"] as JsonObject ?? []).Select(n => (JsonObject)n.Value!)];

    public static JsonObject Node(JsonObject workflow, string displayName) =>
        Nodes(workflow).Single(n => n["displayName"]?.ToString() == displayName);

    public static string? Phase(JsonObject workflow, string displayName) => Node(workflow, displayName)["phase"]?.ToString();

    public async Task<string> LogAsync(string pod)
    {
        await using var stream = await Engine.OpenPodLogAsync(Namespace, pod, PodLogOptions.Whole, CancellationToken.None);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Engine.DisposeAsync();
        try
        {
            Directory.Delete(Home, recursive: true);
        }
        catch (IOException)
        {
            // A step may still be letting go of a file; the temp directory is reclaimed later.
        }
    }

    private sealed class RecordingSink(List<JsonObject> published) : IArgoEventSink
    {
        public Task PublishAsync(JsonObject kubernetesEvent, CancellationToken cancellationToken)
        {
            lock (published)
            {
                published.Add(kubernetesEvent);
            }

            return Task.CompletedTask;
        }
    }
}
