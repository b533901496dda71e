using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;
using Kfci.Http;
using Kfci.Kubernetes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kfci.Cli.Engine;

/// <summary>Where the engine sends the Kubernetes event of each finished workflow (the cloud's logging sink to Pub/Sub).</summary>
public interface IArgoEventSink
{
    Task PublishAsync(JsonObject kubernetesEvent, CancellationToken cancellationToken);
}

/// <summary>
/// The cluster on a laptop: an <see cref="IWorkflowCluster"/> that runs Argo workflows on the host (see
/// <see cref="WorkflowRun"/>) and answers like the Kubernetes adapter does — workflows with Argo's status and
/// labels, one pod per step named after its node id with the step's log as container <c>main</c>'s log, and the
/// controller's events. Workflows and logs live under <see cref="EngineOptions.StateDirectory"/>, so they survive
/// the process (a workflow that was running when the engine stopped is marked Error on the next start).
/// </summary>
public sealed class LocalWorkflowEngine : IWorkflowCluster, IRunHost, IAsyncDisposable
{
    private const int EventLimit = 20000;

    private readonly WorkflowObjectStore _store;
    private readonly IArgoEventSink? _sink;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, (WorkflowRun Run, Task Task)> _runs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, JsonObject> _namespaces = new(StringComparer.Ordinal);
    private readonly Lock _eventsLock = new();
    private readonly List<JsonObject> _events = [];
    private long _eventVersion;

    public LocalWorkflowEngine(EngineOptions options, IArgoEventSink? sink = null, ILogger<LocalWorkflowEngine>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        _sink = sink;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        Slots = new SemaphoreSlim(Math.Max(1, options.MaxParallelSteps));
        _store = new WorkflowObjectStore(Path.Combine(options.StateDirectory, "workflows"), options.WatchHistory);
        AddNamespace("default");
        foreach (var workflow in _store.All())
        {
            AddNamespace(workflow.Namespace!);
            if (!ArgoNames.IsFinal(workflow.Phase))
            {
                _store.Update(workflow.Namespace!, workflow.Name!, w => WorkflowRun.SetPhase(w, "Error", "the local engine stopped while the workflow ran", DateTimeOffset.UtcNow));
            }
        }
    }

    public EngineOptions Options { get; }

    public SemaphoreSlim Slots { get; }

    /// <summary>Completes when every workflow started so far has finished (for tests and orderly shutdown).</summary>
    public Task IdleAsync() => Task.WhenAll(_runs.Values.Select(r => r.Task));

    public Task<JsonObject> CreateWorkflowAsync(string ns, JsonObject workflow, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(ns);
        ArgumentNullException.ThrowIfNull(workflow);
        var body = (JsonObject)workflow.DeepClone();
        body.Remove("status");
        AddNamespace(ns);
        var created = _store.Create(ns, body);
        var name = created.Name!;
        if (SpecValidator.FindUnsupported(created) is { } problem)
        {
            var now = DateTimeOffset.UtcNow;
            _store.Update(ns, name, w => WorkflowRun.SetPhase(w, "Failed", $"invalid spec: {problem}", now));
            var failed = _store.Get(ns, name)!;
            var finishing = WorkflowFinishedAsync(failed, "WorkflowFailed", $"invalid spec: {problem}");
            _runs[Key(ns, name)] = (null!, finishing);
            return Task.FromResult(created);
        }

        var run = new WorkflowRun(this, created);
        var task = Task.Run(async () =>
        {
            try
            {
                await run.RunAsync();
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Workflow {Namespace}/{Workflow} failed in the engine", ns, name);
            }
            finally
            {
                run.Dispose();
            }
        }, CancellationToken.None);
        _runs[Key(ns, name)] = (run, task);
        return Task.FromResult(created);
    }

    public Task<JsonObject?> GetWorkflowAsync(string ns, string name, CancellationToken cancellationToken) =>
        Task.FromResult(_store.Get(ns, name));

    public async IAsyncEnumerable<JsonObject> ListWorkflowsAsync(string ns, ListOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        await Task.CompletedTask;
        foreach (var item in _store.List(ns, Selector(options.LabelSelector)).Items)
        {
            yield return item;
        }
    }

    /// <summary>The matching workflows and the store's version at that moment (what a list's metadata.resourceVersion says).</summary>
    public (IReadOnlyList<JsonObject> Items, string ResourceVersion) ListSnapshot(string ns, string? labelSelector)
    {
        var (items, version) = _store.List(ns, Selector(labelSelector));
        return (items, version.ToString(CultureInfo.InvariantCulture));
    }

    public Task<JsonObject> PatchWorkflowAsync(string ns, string name, JsonObject mergePatch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(mergePatch);
        var expected = mergePatch["metadata"]?["resourceVersion"]?.ToString();
        var patched = _store.Update(ns, name, current =>
        {
            if (expected is not null && expected != current.ResourceVersion)
            {
                throw new ApiException(HttpStatusCode.Conflict, StatusReasons.Conflict, $"Operation cannot be fulfilled on workflows.argoproj.io \"{name}\": the object has been modified; please apply your changes to the latest version and try again");
            }

            Merge(current, mergePatch);
        });
        if (patched["spec"]?["shutdown"]?.ToString() is { Length: > 0 } strategy && _runs.TryGetValue(Key(ns, name), out var active) && active.Run is not null)
        {
            active.Run.Shutdown(strategy);
        }

        return Task.FromResult(patched);
    }

    public Task<bool> DeleteWorkflowAsync(string ns, string name, CancellationToken cancellationToken)
    {
        if (_runs.TryGetValue(Key(ns, name), out var active))
        {
            active.Run?.Abandon();
        }

        return Task.FromResult(_store.Delete(ns, name) is not null);
    }

    /// <summary>
    /// Unlike <see cref="KubernetesWorkflowCluster"/>, one watch of the engine's store, not a resuming one: a
    /// resourceVersion the store no longer holds throws 410 Expired, which <see cref="EngineApi"/> sends in-band
    /// as the API server does, so clients over HTTP re-list.
    /// </summary>
    public async IAsyncEnumerable<WatchEvent> WatchWorkflowsAsync(string ns, WatchOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var selector = Selector(options.LabelSelector);
        long? from = long.TryParse(options.ResourceVersion, CultureInfo.InvariantCulture, out var version) && version > 0 ? version : null;
        using var watch = _store.Watch(ns, from);
        // Which objects this watcher currently sees, so label changes turn into ADDED/DELETED as the API server's watch cache does.
        var visible = new HashSet<string>(StringComparer.Ordinal);
        foreach (var change in watch.Initial)
        {
            if (Filter(change, selector, visible) is { } shown)
            {
                yield return shown;
            }
        }

        await foreach (var change in watch.Events.Reader.ReadAllAsync(cancellationToken))
        {
            if (Filter(change, selector, visible) is { } shown)
            {
                yield return shown;
            }
        }
    }

    public Task<JsonObject?> GetPodAsync(string ns, string name, CancellationToken cancellationToken) =>
        Task.FromResult(FindPod(ns, name));

    public async Task<Stream> OpenPodLogAsync(string ns, string pod, PodLogOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        _ = FindPod(ns, pod) ?? throw Errors.NotFound(pod, "pods");
        if (options.Container is { Length: > 0 } container && container != ArgoNames.MainContainer)
        {
            throw Errors.BadRequest($"container {container} is not valid for pod {pod}");
        }

        if (options.Previous)
        {
            throw Errors.BadRequest($"previous terminated container \"{ArgoNames.MainContainer}\" in pod \"{pod}\" not found");
        }

        var path = LogPath(ns, pod);
        var bytes = File.Exists(path) ? await File.ReadAllBytesAsync(path, cancellationToken) : [];
        if (options.TailLines is { } tail)
        {
            bytes = Encoding.UTF8.GetBytes(Tail(Encoding.UTF8.GetString(bytes), tail));
        }

        if (options.LimitBytes is { } limit && limit >= 0 && limit < bytes.Length)
        {
            bytes = bytes[..(int)limit];
        }

        return new MemoryStream(bytes, writable: false);
    }

    public async IAsyncEnumerable<JsonObject> ListEventsAsync(string ns, string involvedObjectName, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.CompletedTask;
        List<JsonObject> matching;
        lock (_eventsLock)
        {
            matching = [.. _events.Where(e => e["metadata"]?["namespace"]?.ToString() == ns && e["involvedObject"]?["name"]?.ToString() == involvedObjectName).Select(e => (JsonObject)e.DeepClone())];
        }

        foreach (var e in matching)
        {
            yield return e;
        }
    }

    public async IAsyncEnumerable<JsonObject> ListNamespacesAsync(ListOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        await Task.CompletedTask;
        var selector = Selector(options.LabelSelector);
        foreach (var ns in _namespaces.Values.OrderBy(n => n.Name, StringComparer.Ordinal).Where(n => selector.Matches(n.Labels)))
        {
            yield return (JsonObject)ns.DeepClone();
        }
    }

    public Task<bool> DeleteNamespaceAsync(string name, CancellationToken cancellationToken)
    {
        if (!_namespaces.TryRemove(name, out _))
        {
            return Task.FromResult(false);
        }

        foreach (var workflow in _store.List(name, LabelSelector.Parse(null)).Items)
        {
            _ = DeleteWorkflowAsync(name, workflow.Name!, cancellationToken);
        }

        return Task.FromResult(true);
    }

    /// <summary>Adds a namespace (the engine's namespaces are a plain set; a workflow's namespace is added when it is created).</summary>
    public void AddNamespace(string name, IReadOnlyDictionary<string, string>? labels = null) =>
        _namespaces.GetOrAdd(name, n => new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Namespace",
            ["metadata"] = new JsonObject
            {
                ["name"] = n,
                ["creationTimestamp"] = ArgoNames.Timestamp(DateTimeOffset.UtcNow),
                ["labels"] = new JsonObject((labels ?? new Dictionary<string, string>()).Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))),
            },
            ["status"] = new JsonObject { ["phase"] = "Active" },
        });

    public async ValueTask DisposeAsync()
    {
        foreach (var (run, _) in _runs.Values)
        {
            run?.Shutdown("Terminate");
        }

        await IdleAsync();
        Slots.Dispose();
    }

    void IRunHost.UpdateWorkflow(string ns, string name, Action<JsonObject> change) => _store.Update(ns, name, change);

    public string LogPath(string ns, string pod) => Path.Combine(Options.StateDirectory, "logs", ns, pod + ".log");

    public void RecordEvent(string ns, string kind, string name, string? uid, string reason, string message, string type)
    {
        var now = ArgoNames.Timestamp(DateTimeOffset.UtcNow);
        lock (_eventsLock)
        {
            var version = ++_eventVersion;
            _events.Add(new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "Event",
                ["metadata"] = new JsonObject
                {
                    ["name"] = $"{name}.{version:x}{Guid.NewGuid().ToString("N")[..8]}",
                    ["namespace"] = ns,
                    ["uid"] = Guid.NewGuid().ToString(),
                    ["resourceVersion"] = version.ToString(CultureInfo.InvariantCulture),
                    ["creationTimestamp"] = now,
                },
                ["involvedObject"] = new JsonObject
                {
                    ["kind"] = kind,
                    ["namespace"] = ns,
                    ["name"] = name,
                    ["uid"] = uid,
                    ["apiVersion"] = kind == "Workflow" ? KubernetesWorkflowCluster.WorkflowApiVersion : "v1",
                },
                ["reason"] = reason,
                ["message"] = message,
                ["source"] = new JsonObject { ["component"] = kind == "Workflow" ? "workflow-controller" : "kubelet", ["host"] = "localhost" },
                ["firstTimestamp"] = now,
                ["lastTimestamp"] = now,
                ["count"] = 1,
                ["type"] = type,
                ["eventTime"] = null,
                ["reportingComponent"] = kind == "Workflow" ? "workflow-controller" : "kubelet",
                ["reportingInstance"] = "",
            });
            if (_events.Count > EventLimit)
            {
                _events.RemoveRange(0, _events.Count - EventLimit);
            }
        }
    }

    public async Task WorkflowFinishedAsync(JsonObject workflow, string reason, string message)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        var ns = workflow.Namespace!;
        var name = workflow.Name!;
        RecordEvent(ns, "Workflow", name, workflow.Uid, reason, message, reason == "WorkflowSucceeded" ? "Normal" : "Warning");
        var emptyDirs = Path.Combine(Options.StateDirectory, "emptydir", ns, name);
        if (Directory.Exists(emptyDirs))
        {
            Directory.Delete(emptyDirs, recursive: true);
        }

        if (_sink is null)
        {
            return;
        }

        JsonObject? kubernetesEvent;
        lock (_eventsLock)
        {
            kubernetesEvent = _events.LastOrDefault(e => e["involvedObject"]?["name"]?.ToString() == name && e["reason"]?.ToString() == reason)?.DeepClone() as JsonObject;
        }

        try
        {
            await _sink.PublishAsync(kubernetesEvent!, CancellationToken.None);
        }
        catch (Exception e) when (e is ApiException or HttpRequestException or IOException or TaskCanceledException or InvalidOperationException)
        {
            // The cloud's sink loses events too; the Watcher's ticks reconcile from workflow state.
            _logger.LogWarning("Could not publish the {Reason} event of workflow {Namespace}/{Workflow}: {Error}", reason, ns, name, e.Message);
        }
    }

    private JsonObject? FindPod(string ns, string name)
    {
        foreach (var workflow in _store.List(ns, LabelSelector.Parse(null)).Items)
        {
            if (workflow["status"]?["nodes"]?[name] is JsonObject node && node["type"]?.ToString() == "Pod")
            {
                return PodOf(workflow, node);
            }
        }

        return null;
    }

    private static JsonObject PodOf(JsonObject workflow, JsonObject node)
    {
        var template = (workflow["spec"]?["templates"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(t => t["name"]?.ToString() == node["templateName"]?.ToString());
        var container = (template?["container"] ?? template?["script"]) as JsonObject;
        var phase = node["phase"]?.ToString() switch
        {
            "Succeeded" => "Succeeded",
            "Failed" or "Error" => "Failed",
            "Running" => "Running",
            _ => "Pending",
        };
        var exitCode = int.TryParse(node["outputs"]?["exitCode"]?.ToString(), CultureInfo.InvariantCulture, out var code) ? code : (phase == "Failed" ? 1 : 0);
        var state = phase is "Succeeded" or "Failed"
            ? new JsonObject
            {
                ["terminated"] = new JsonObject
                {
                    ["exitCode"] = exitCode,
                    ["reason"] = exitCode == 0 ? "Completed" : "Error",
                    ["message"] = node["message"]?.DeepClone(),
                    ["startedAt"] = node["startedAt"]?.DeepClone(),
                    ["finishedAt"] = node["finishedAt"]?.DeepClone(),
                },
            }
            : phase == "Running" ? new JsonObject { ["running"] = new JsonObject { ["startedAt"] = node["startedAt"]?.DeepClone() } }
            : new JsonObject { ["waiting"] = new JsonObject { ["reason"] = "ContainerCreating" } };
        return new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JsonObject
            {
                ["name"] = node["id"]?.DeepClone(),
                ["namespace"] = workflow.Namespace,
                ["uid"] = ArgoNames.NodeId(workflow.Uid ?? "", node["id"]?.ToString() ?? ""),
                ["creationTimestamp"] = node["startedAt"]?.DeepClone(),
                ["labels"] = new JsonObject
                {
                    [ArgoNames.WorkflowLabel] = workflow.Name,
                    [ArgoNames.CompletedLabel] = phase is "Succeeded" or "Failed" ? "true" : "false",
                },
                ["annotations"] = new JsonObject
                {
                    ["workflows.argoproj.io/node-name"] = node["name"]?.DeepClone(),
                    ["workflows.argoproj.io/node-id"] = node["id"]?.DeepClone(),
                },
                ["ownerReferences"] = new JsonArray(new JsonObject
                {
                    ["apiVersion"] = KubernetesWorkflowCluster.WorkflowApiVersion,
                    ["kind"] = KubernetesWorkflowCluster.WorkflowKind,
                    ["name"] = workflow.Name,
                    ["uid"] = workflow.Uid,
                }),
            },
            ["spec"] = new JsonObject
            {
                ["nodeName"] = "localhost",
                ["containers"] = new JsonArray(new JsonObject
                {
                    ["name"] = ArgoNames.MainContainer,
                    ["image"] = container?["image"]?.DeepClone(),
                    ["command"] = container?["command"]?.DeepClone(),
                    ["args"] = container?["args"]?.DeepClone(),
                }),
            },
            ["status"] = new JsonObject
            {
                ["phase"] = phase,
                ["startTime"] = node["startedAt"]?.DeepClone(),
                ["message"] = node["message"]?.DeepClone(),
                ["containerStatuses"] = new JsonArray(new JsonObject
                {
                    ["name"] = ArgoNames.MainContainer,
                    ["image"] = container?["image"]?.DeepClone(),
                    ["ready"] = phase == "Running",
                    ["restartCount"] = 0,
                    ["state"] = state,
                }),
            },
        };
    }

    private static WatchEvent? Filter(WatchEvent change, LabelSelector selector, HashSet<string> visible)
    {
        var key = change.Resource.Name ?? "";
        var matches = selector.Matches(change.Resource.Labels);
        var was = visible.Contains(key);
        if (change.Type == WatchEventType.Deleted)
        {
            visible.Remove(key);
            return was || matches ? change : null;
        }

        if (matches)
        {
            visible.Add(key);
            return was || change.Type == WatchEventType.Added ? change : change with { Type = WatchEventType.Added };
        }

        visible.Remove(key);
        return was ? change with { Type = WatchEventType.Deleted } : null;
    }

    private static LabelSelector Selector(string? text)
    {
        try
        {
            return LabelSelector.Parse(text);
        }
        catch (FormatException e)
        {
            throw Errors.BadRequest(e.Message);
        }
    }

    private static void Merge(JsonObject target, JsonObject patch)
    {
        foreach (var (name, value) in patch.ToList())
        {
            if (value is null)
            {
                target.Remove(name);
            }
            else if (value is JsonObject child && target[name] is JsonObject existing)
            {
                Merge(existing, child);
            }
            else
            {
                target[name] = value.DeepClone();
            }
        }
    }

    private static string Tail(string log, int count)
    {
        var complete = log.EndsWith('\n') ? log[..^1].Split('\n') : log.Split('\n');
        var kept = complete.Skip(Math.Max(0, complete.Length - count)).ToList();
        return kept.Count == 0 || log.Length == 0 ? "" : string.Join('\n', kept) + (log.EndsWith('\n') ? "\n" : "");
    }

    private static string Key(string ns, string name) => ns + "/" + name;
}
