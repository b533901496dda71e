using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace Kfci.Testing.Kubernetes;

/// <summary>An object as stored: the JSON text (what readers outside the lock use) and its labels.</summary>
internal sealed record StoredObject(JsonObject Node, string Json, IReadOnlyDictionary<string, string> Labels, long ResourceVersion)
{
    public static StoredObject Freeze(JsonObject node, long resourceVersion)
    {
        var labels = node["metadata"]?["labels"] is JsonObject l
            ? l.Where(p => p.Value is JsonValue).ToDictionary(p => p.Key, p => p.Value!.ToString(), StringComparer.Ordinal)
            : new Dictionary<string, string>(StringComparer.Ordinal);
        return new StoredObject(node, node.ToJsonString(), labels, resourceVersion);
    }
}

/// <summary>One change, as etcd would record it; <see cref="Previous"/> lets lists be rebuilt at an older version.</summary>
internal sealed record HistoryEntry(long ResourceVersion, FakeResource Resource, string Namespace, string Key, string Type, StoredObject Object, StoredObject? Previous);

/// <summary>A live watch: what to send first, then whatever arrives on <see cref="Events"/>.</summary>
internal sealed class WatchSubscription(FakeResource resource, string? ns) : IDisposable
{
    public FakeResource Resource { get; } = resource;

    public string? Namespace { get; } = ns;

    public Channel<HistoryEntry> Events { get; } = Channel.CreateUnbounded<HistoryEntry>();

    public List<HistoryEntry> Initial { get; } = [];

    public Action? Unsubscribe { get; set; }

    public void Dispose() => Unsubscribe?.Invoke();
}

/// <summary>
/// The fake's etcd: every object of every resource, one global resourceVersion, a bounded change history
/// (older versions answer 410 Expired, as after an etcd compaction) and the subscribed watches. All state
/// changes happen under one lock, so versions are strictly increasing and watches miss nothing.
/// </summary>
internal sealed class FakeObjectStore(int historyLimit)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<FakeResource, SortedDictionary<string, StoredObject>> _objects =
        FakeResource.All.ToDictionary(r => r, _ => new SortedDictionary<string, StoredObject>(StringComparer.Ordinal));

    private readonly LinkedList<HistoryEntry> _history = new();
    private readonly List<WatchSubscription> _watches = [];
    private long _resourceVersion;
    private long _compactedThrough;

    public long ResourceVersion
    {
        get
        {
            lock (_lock)
            {
                return _resourceVersion;
            }
        }
    }

    public static string Key(string ns, string name) => $"{ns}/{name}";

    public StoredObject? Get(FakeResource resource, string ns, string name)
    {
        lock (_lock)
        {
            return _objects[resource].GetValueOrDefault(Key(ns, name));
        }
    }

    public StoredObject Create(FakeResource resource, string ns, JsonObject body)
    {
        lock (_lock)
        {
            var metadata = body["metadata"] as JsonObject ?? [];
            body["metadata"] = metadata;
            if (metadata["name"] is null && metadata["generateName"]?.GetValue<string>() is { Length: > 0 } generateName)
            {
                metadata["name"] = ObjectNames.Generate(generateName);
            }

            var name = metadata["name"]?.GetValue<string>();
            if (resource.Namespaced)
            {
                // Admission (NamespaceLifecycle) runs before validation and storage.
                var owner = _objects[FakeResource.Namespaces].GetValueOrDefault(Key("", ns)) ?? throw FakeStatusException.NotFound(FakeResource.Namespaces, ns);
                if (IsTerminating(owner))
                {
                    throw FakeStatusException.NamespaceTerminating(resource, name ?? "", ns);
                }
            }

            ObjectNames.Validate(resource, name);
            if (metadata["resourceVersion"] is JsonValue { } given && given.ToString().Length > 0)
            {
                // etcd storage refuses it with a plain error, which the API server answers as a 500 without a reason.
                throw new FakeStatusException(500, "", "resourceVersion should not be set on objects to be created");
            }

            var key = Key(ns, name!);
            if (_objects[resource].ContainsKey(key))
            {
                throw FakeStatusException.AlreadyExists(resource, name!);
            }

            var version = ++_resourceVersion;
            if (resource.Namespaced)
            {
                metadata["namespace"] = ns;
            }

            metadata["uid"] = Guid.NewGuid().ToString();
            metadata["resourceVersion"] = Text(version);
            metadata["generation"] = 1L;
            metadata["creationTimestamp"] = Timestamp(DateTimeOffset.UtcNow);
            body["apiVersion"] = resource.ApiVersion;
            body["kind"] = resource.Kind;
            var stored = StoredObject.Freeze(body, version);
            _objects[resource][key] = stored;
            Record(new HistoryEntry(version, resource, ns, key, "ADDED", stored, null));
            return stored;
        }
    }

    /// <summary>
    /// Replaces the object with <paramref name="change"/>'s result. A change that alters nothing stores nothing
    /// and bumps no version, as the API server skips no-op updates.
    /// </summary>
    public StoredObject Update(FakeResource resource, string ns, string name, Func<JsonObject, JsonObject> change)
    {
        lock (_lock)
        {
            var key = Key(ns, name);
            var current = _objects[resource].GetValueOrDefault(key) ?? throw FakeStatusException.NotFound(resource, name);
            var updated = change((JsonObject)JsonNode.Parse(current.Json)!);
            PreserveIdentity(current.Node, updated);
            if (JsonNode.DeepEquals(updated, current.Node))
            {
                return current;
            }

            var version = ++_resourceVersion;
            var metadata = (JsonObject)updated["metadata"]!;
            metadata["resourceVersion"] = Text(version);
            if (!JsonNode.DeepEquals(Without(updated, "metadata"), Without(current.Node, "metadata")))
            {
                metadata["generation"] = (long.TryParse(current.Node["metadata"]?["generation"]?.ToString(), CultureInfo.InvariantCulture, out var generation) ? generation : 1) + 1;
            }

            var stored = StoredObject.Freeze(updated, version);
            _objects[resource][key] = stored;
            Record(new HistoryEntry(version, resource, ns, key, "MODIFIED", stored, current));
            return stored;
        }
    }

    /// <summary>
    /// Deletes an object and returns it as deleted. A namespace is not removed: it turns Terminating (a
    /// <c>deletionTimestamp</c>, <c>status.phase</c> Terminating) until <see cref="FinishNamespaceTermination"/>
    /// plays the namespace controller; deleting it again changes nothing.
    /// </summary>
    public StoredObject Delete(FakeResource resource, string ns, string name)
    {
        lock (_lock)
        {
            var key = Key(ns, name);
            var current = _objects[resource].GetValueOrDefault(key) ?? throw FakeStatusException.NotFound(resource, name);
            return resource == FakeResource.Namespaces ? BeginTermination(key, current) : Remove(resource, ns, key, current);
        }
    }

    /// <summary>What the namespace controller does for a Terminating namespace: deletes its content, then the namespace.</summary>
    public void FinishNamespaceTermination(string name)
    {
        lock (_lock)
        {
            var key = Key("", name);
            var current = _objects[FakeResource.Namespaces].GetValueOrDefault(key) ?? throw new InvalidOperationException($"namespace {name} does not exist");
            if (!IsTerminating(current))
            {
                throw new InvalidOperationException($"namespace {name} is not Terminating; delete it first");
            }

            DeleteContents(name);
            Remove(FakeResource.Namespaces, "", key, current);
        }
    }

    internal static bool IsTerminating(StoredObject ns) => ns.Node["metadata"]?["deletionTimestamp"] is not null;

    private StoredObject BeginTermination(string key, StoredObject current)
    {
        if (IsTerminating(current))
        {
            return current;
        }

        var version = ++_resourceVersion;
        var terminating = (JsonObject)JsonNode.Parse(current.Json)!;
        terminating["metadata"]!["resourceVersion"] = Text(version);
        terminating["metadata"]!["deletionTimestamp"] = Timestamp(DateTimeOffset.UtcNow);
        terminating["status"] = new JsonObject { ["phase"] = "Terminating" };
        var stored = StoredObject.Freeze(terminating, version);
        _objects[FakeResource.Namespaces][key] = stored;
        Record(new HistoryEntry(version, FakeResource.Namespaces, "", key, "MODIFIED", stored, current));
        return stored;
    }

    private StoredObject Remove(FakeResource resource, string ns, string key, StoredObject current)
    {
        var version = ++_resourceVersion;
        var deleted = (JsonObject)JsonNode.Parse(current.Json)!;
        deleted["metadata"]!["resourceVersion"] = Text(version);
        var stored = StoredObject.Freeze(deleted, version);
        _objects[resource].Remove(key);
        Record(new HistoryEntry(version, resource, ns, key, "DELETED", stored, current));
        return stored;
    }

    /// <summary>
    /// A page of objects, oldest key first. <paramref name="continueToken"/> resumes the snapshot the first page saw;
    /// <paramref name="exactVersion"/> lists the state at that version. Both answer 410 Expired once compacted away.
    /// </summary>
    public (List<StoredObject> Items, long ResourceVersion, string? Continue, long Remaining) List(
        FakeResource resource, string? ns, Func<StoredObject, bool> filter, int limit, string? continueToken, long? exactVersion)
    {
        lock (_lock)
        {
            var (version, after) = continueToken is null ? (exactVersion ?? _resourceVersion, null) : ParseContinue(continueToken);
            if (version < _compactedThrough)
            {
                throw continueToken is null
                    ? FakeStatusException.Expired($"too old resource version: {version} ({_compactedThrough + 1})")
                    : FakeStatusException.Expired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.");
            }

            var all = StateAt(resource, version)
                .Where(p => (ns is null || p.Key.StartsWith(ns + "/", StringComparison.Ordinal)) && (after is null || string.CompareOrdinal(p.Key, after) > 0))
                .Where(p => filter(p.Value))
                .ToList();
            var page = limit > 0 ? all.Take(limit).ToList() : all;
            var more = page.Count < all.Count;
            var token = more ? EncodeContinue(version, page[^1].Key) : null;
            return (page.Select(p => p.Value).ToList(), version, token, all.Count - page.Count);
        }
    }

    /// <summary>Subscribes a watch; a <paramref name="fromVersion"/> older than the history throws 410 Expired.</summary>
    public WatchSubscription Watch(FakeResource resource, string? ns, long? fromVersion)
    {
        var subscription = new WatchSubscription(resource, ns);
        lock (_lock)
        {
            if (fromVersion is { } from)
            {
                if (from < _compactedThrough)
                {
                    throw FakeStatusException.Expired($"too old resource version: {from} ({_compactedThrough + 1})");
                }

                subscription.Initial.AddRange(_history.Where(e => e.ResourceVersion > from && Concerns(subscription, e)));
            }
            else
            {
                subscription.Initial.AddRange(_objects[resource]
                    .Where(p => ns is null || p.Key.StartsWith(ns + "/", StringComparison.Ordinal))
                    .Select(p => new HistoryEntry(p.Value.ResourceVersion, resource, ns ?? "", p.Key, "ADDED", p.Value, null)));
            }

            _watches.Add(subscription);
            subscription.Unsubscribe = () =>
            {
                lock (_lock)
                {
                    _watches.Remove(subscription);
                }
            };
        }

        return subscription;
    }

    /// <summary>The version a bookmark may promise: only when everything up to it has been handed to the watch.</summary>
    public long? BookmarkVersion(WatchSubscription subscription)
    {
        lock (_lock)
        {
            return subscription.Events.Reader.Count == 0 ? _resourceVersion : null;
        }
    }

    /// <summary>Forgets all history, as an etcd compaction does: any older resourceVersion now answers 410.</summary>
    public void Compact()
    {
        lock (_lock)
        {
            _history.Clear();
            _compactedThrough = _resourceVersion;
        }
    }

    private void Record(HistoryEntry entry)
    {
        _history.AddLast(entry);
        while (_history.Count > historyLimit)
        {
            _compactedThrough = _history.First!.Value.ResourceVersion;
            _history.RemoveFirst();
        }

        foreach (var watch in _watches)
        {
            if (Concerns(watch, entry))
            {
                watch.Events.Writer.TryWrite(entry);
            }
        }
    }

    private static bool Concerns(WatchSubscription watch, HistoryEntry entry) =>
        watch.Resource == entry.Resource && (watch.Namespace is null || watch.Namespace == entry.Namespace);

    private void DeleteContents(string ns)
    {
        foreach (var resource in FakeResource.All.Where(r => r.Namespaced))
        {
            foreach (var (key, current) in _objects[resource].Where(p => p.Key.StartsWith(ns + "/", StringComparison.Ordinal)).ToList())
            {
                var version = ++_resourceVersion;
                _objects[resource].Remove(key);
                Record(new HistoryEntry(version, resource, ns, key, "DELETED", current, current));
            }
        }
    }

    // The objects as they were at a version: the current state with later history undone, newest first.
    private SortedDictionary<string, StoredObject> StateAt(FakeResource resource, long version)
    {
        if (version >= _resourceVersion)
        {
            return _objects[resource];
        }

        var state = new SortedDictionary<string, StoredObject>(_objects[resource], StringComparer.Ordinal);
        for (var node = _history.Last; node is not null && node.Value.ResourceVersion > version; node = node.Previous)
        {
            var entry = node.Value;
            if (entry.Resource != resource)
            {
                continue;
            }

            if (entry.Previous is null)
            {
                state.Remove(entry.Key);
            }
            else
            {
                state[entry.Key] = entry.Previous;
            }
        }

        return state;
    }

    private static void PreserveIdentity(JsonObject current, JsonObject updated)
    {
        var metadata = updated["metadata"] as JsonObject ?? [];
        updated["metadata"] = metadata;
        foreach (var field in new[] { "name", "namespace", "uid", "creationTimestamp", "generation", "resourceVersion", "deletionTimestamp" })
        {
            if (current["metadata"]?[field] is { } value)
            {
                metadata[field] = value.DeepClone();
            }
            else
            {
                metadata.Remove(field);
            }
        }

        updated["apiVersion"] = current["apiVersion"]?.DeepClone();
        updated["kind"] = current["kind"]?.DeepClone();
    }

    private static JsonObject Without(JsonObject obj, string field)
    {
        var copy = (JsonObject)obj.DeepClone();
        copy.Remove(field);
        return copy;
    }

    private static string EncodeContinue(long version, string lastKey) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(new JsonObject { ["rv"] = version, ["start"] = lastKey }.ToJsonString()));

    private static (long Version, string After) ParseContinue(string token)
    {
        try
        {
            var json = JsonNode.Parse(Convert.FromBase64String(token))!;
            return (json["rv"]!.GetValue<long>(), json["start"]!.GetValue<string>());
        }
        catch (Exception e) when (e is FormatException or JsonException or NullReferenceException or InvalidOperationException)
        {
            throw FakeStatusException.BadRequest($"continue key is not valid: {e.Message}");
        }
    }

    internal static string Text(long version) => version.ToString(CultureInfo.InvariantCulture);

    internal static string Timestamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
