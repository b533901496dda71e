using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Kfci.Http;
using Kfci.Kubernetes;

namespace Kfci.Cli.Engine;

/// <summary>
/// The engine's etcd for workflows: one global resourceVersion, a bounded change history for watches, and a
/// JSON file per workflow under the state directory so finished workflows outlive the engine process. All
/// changes happen under one lock, so versions strictly increase and a watch misses nothing.
/// </summary>
internal sealed class WorkflowObjectStore
{
    private readonly Lock _lock = new();
    private readonly SortedDictionary<string, JsonObject> _objects = new(StringComparer.Ordinal);
    private readonly LinkedList<(long Version, WatchEvent Change)> _history = new();
    private readonly List<StoreWatch> _watches = [];
    private readonly string _directory;
    private readonly int _historyLimit;
    private long _version;

    public WorkflowObjectStore(string directory, int historyLimit)
    {
        _directory = directory;
        _historyLimit = Math.Max(1, historyLimit);
        Directory.CreateDirectory(directory);
        foreach (var file in Directory.EnumerateFiles(directory, "*.json", SearchOption.AllDirectories))
        {
            if (JsonNode.Parse(File.ReadAllText(file)) is JsonObject workflow && workflow.Name is { } name && workflow.Namespace is { } ns)
            {
                _objects[Key(ns, name)] = workflow;
                _version = Math.Max(_version, long.TryParse(workflow.ResourceVersion, CultureInfo.InvariantCulture, out var v) ? v : 0);
            }
        }
    }

    public IReadOnlyList<JsonObject> All()
    {
        lock (_lock)
        {
            return [.. _objects.Values.Select(o => (JsonObject)o.DeepClone())];
        }
    }

    public JsonObject Create(string ns, JsonObject body)
    {
        lock (_lock)
        {
            var metadata = body["metadata"] as JsonObject ?? [];
            body["metadata"] = metadata;
            if (metadata["name"] is null && metadata["generateName"]?.GetValue<string>() is { Length: > 0 } prefix)
            {
                metadata["name"] = prefix[..Math.Min(prefix.Length, 58)] + RandomSuffix();
            }

            var name = metadata["name"]?.GetValue<string>();
            if (string.IsNullOrEmpty(name) || name.Length > 253)
            {
                throw new ApiException(HttpStatusCode.UnprocessableEntity, StatusReasons.Invalid, "Workflow.argoproj.io is invalid: metadata.name: Required value: name or generateName is required");
            }

            if (_objects.ContainsKey(Key(ns, name)))
            {
                throw Errors.AlreadyExists(name);
            }

            metadata["namespace"] = ns;
            metadata["uid"] = Guid.NewGuid().ToString();
            metadata["creationTimestamp"] = ArgoNames.Timestamp(DateTimeOffset.UtcNow);
            metadata["generation"] = 1;

            // The engine names pods after node ids, which Argo calls v1 pod names and announces with this
            // annotation; readers (the Uploader) pick the naming scheme from it, as they would on a real cluster.
            var annotations = metadata["annotations"] as JsonObject ?? new JsonObject();
            annotations[ArgoNames.PodNameFormatAnnotation] = "v1";
            metadata["annotations"] = annotations;
            body["apiVersion"] = KubernetesWorkflowCluster.WorkflowApiVersion;
            body["kind"] = KubernetesWorkflowCluster.WorkflowKind;
            return Commit(ns, name, body, WatchEventType.Added);
        }
    }

    public JsonObject? Get(string ns, string name)
    {
        lock (_lock)
        {
            return _objects.GetValueOrDefault(Key(ns, name))?.DeepClone() as JsonObject;
        }
    }

    /// <summary>The workflows of <paramref name="ns"/> (all when null) that match, and the version of that snapshot.</summary>
    public (List<JsonObject> Items, long Version) List(string? ns, LabelSelector selector)
    {
        lock (_lock)
        {
            var items = _objects.Values
                .Where(o => (ns is null || o.Namespace == ns) && selector.Matches(o.Labels))
                .Select(o => (JsonObject)o.DeepClone())
                .ToList();
            return (items, _version);
        }
    }

    /// <summary>Applies <paramref name="change"/> to a copy; stores it with a new version unless nothing changed. 404 when missing.</summary>
    public JsonObject Update(string ns, string name, Action<JsonObject> change)
    {
        lock (_lock)
        {
            var current = _objects.GetValueOrDefault(Key(ns, name)) ?? throw Errors.NotFound(name);
            var updated = (JsonObject)current.DeepClone();
            change(updated);
            var metadata = (JsonObject)updated["metadata"]!;
            foreach (var field in new[] { "name", "namespace", "uid", "creationTimestamp", "resourceVersion", "generation" })
            {
                metadata[field] = current["metadata"]![field]?.DeepClone();
            }

            if (JsonNode.DeepEquals(updated, current))
            {
                return (JsonObject)current.DeepClone();
            }

            if (!JsonNode.DeepEquals(updated["spec"], current["spec"]))
            {
                metadata["generation"] = (current["metadata"]!["generation"]?.GetValue<int>() ?? 1) + 1;
            }

            return Commit(ns, name, updated, WatchEventType.Modified);
        }
    }

    public JsonObject? Delete(string ns, string name)
    {
        lock (_lock)
        {
            if (!_objects.TryGetValue(Key(ns, name), out var current))
            {
                return null;
            }

            var deleted = (JsonObject)current.DeepClone();
            _objects.Remove(Key(ns, name));
            File.Delete(FileOf(ns, name));
            deleted["metadata"]!["resourceVersion"] = (++_version).ToString(CultureInfo.InvariantCulture);
            Record(new WatchEvent(WatchEventType.Deleted, deleted));
            return (JsonObject)deleted.DeepClone();
        }
    }

    /// <summary>
    /// A watch of <paramref name="ns"/>: without a version, every current object first (synthetic ADDED); with one,
    /// the recorded changes after it. A version no longer in the history throws 410 Expired: replaying the current
    /// objects instead would hide the deletions in between, so the client must re-list, as with the API server.
    /// </summary>
    public StoreWatch Watch(string ns, long? fromVersion)
    {
        lock (_lock)
        {
            var watch = new StoreWatch(ns, this);
            if (fromVersion is { } from)
            {
                var oldest = _history.First?.Value.Version ?? _version + 1;
                if (from < oldest - 1)
                {
                    throw new ApiException(HttpStatusCode.Gone, StatusReasons.Expired, $"too old resource version: {from} ({oldest - 1})");
                }

                watch.Initial.AddRange(_history.Where(h => h.Version > from && h.Change.Resource.Namespace == ns).Select(h => h.Change));
            }
            else
            {
                watch.Initial.AddRange(_objects.Values.Where(o => o.Namespace == ns).Select(o => new WatchEvent(WatchEventType.Added, (JsonObject)o.DeepClone(), IsSynthetic: true)));
            }

            _watches.Add(watch);
            return watch;
        }
    }

    internal void Unsubscribe(StoreWatch watch)
    {
        lock (_lock)
        {
            _watches.Remove(watch);
        }
    }

    private JsonObject Commit(string ns, string name, JsonObject body, WatchEventType type)
    {
        body["metadata"]!["resourceVersion"] = (++_version).ToString(CultureInfo.InvariantCulture);
        _objects[Key(ns, name)] = body;
        Persist(ns, name, body);
        Record(new WatchEvent(type, (JsonObject)body.DeepClone()));
        return (JsonObject)body.DeepClone();
    }

    private void Record(WatchEvent change)
    {
        _history.AddLast((_version, change));
        while (_history.Count > _historyLimit)
        {
            _history.RemoveFirst();
        }

        foreach (var watch in _watches.Where(w => w.Namespace == change.Resource.Namespace))
        {
            watch.Events.Writer.TryWrite(new WatchEvent(change.Type, (JsonObject)change.Resource.DeepClone()));
        }
    }

    private void Persist(string ns, string name, JsonObject body)
    {
        var file = FileOf(ns, name);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var temporary = file + ".tmp";
        File.WriteAllText(temporary, body.ToJsonString());
        File.Move(temporary, file, overwrite: true);
    }

    private string FileOf(string ns, string name) => Path.Combine(_directory, ns, name + ".json");

    private static string Key(string ns, string name) => ns + "/" + name;

    private static string RandomSuffix()
    {
        const string Alphabet = "bcdfghjklmnpqrstvwxz2456789";
        return string.Concat(Enumerable.Range(0, 5).Select(_ => Alphabet[System.Security.Cryptography.RandomNumberGenerator.GetInt32(Alphabet.Length)]));
    }
}

/// <summary>One subscribed watch of the store: what to send first, then each change as it happens. Dispose to unsubscribe.</summary>
internal sealed class StoreWatch(string ns, WorkflowObjectStore store) : IDisposable
{
    public string Namespace { get; } = ns;

    public List<WatchEvent> Initial { get; } = [];

    public Channel<WatchEvent> Events { get; } = Channel.CreateUnbounded<WatchEvent>();

    public void Dispose() => store.Unsubscribe(this);
}

/// <summary>The Kubernetes failures the engine answers with, shaped like the API server's.</summary>
internal static class Errors
{
    /// <summary>A missing object: its Status names it (<c>details.name</c>, <c>details.kind</c>), unlike a missing resource type's.</summary>
    public static ApiException NotFound(string name, string resource = "workflows.argoproj.io") =>
        new KubernetesApiException(HttpStatusCode.NotFound, StatusReasons.NotFound, $"{resource} \"{name}\" not found", name) { DetailsKind = resource.Split('.', 2)[0] };

    public static ApiException AlreadyExists(string name) =>
        new(HttpStatusCode.Conflict, StatusReasons.AlreadyExists, $"workflows.argoproj.io \"{name}\" already exists");

    public static ApiException BadRequest(string message) => new(HttpStatusCode.BadRequest, "BadRequest", message);
}
