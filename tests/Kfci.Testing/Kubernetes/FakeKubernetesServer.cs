using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using k8s;
using Kfci.Http;
using Kfci.Kubernetes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kfci.Testing.Kubernetes;

/// <summary>Settings of a <see cref="FakeKubernetesServer"/>. Immutable.</summary>
public sealed record FakeKubernetesOptions
{
    /// <summary>Changes kept for watches and continue tokens; older resourceVersions answer 410 Expired.</summary>
    public int HistoryLimit { get; init; } = 1000;

    /// <summary>How often an idle watch that asked for bookmarks gets one.</summary>
    public TimeSpan BookmarkInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>When set, requests without <c>Authorization: Bearer</c> this token get 401.</summary>
    public string? RequiredBearerToken { get; init; }

    public int LogChunkBytes { get; init; } = 4096;

    /// <summary>Serve https with this certificate instead of plain http.</summary>
    public X509Certificate2? ServerCertificate { get; init; }

    /// <summary>With <see cref="ServerCertificate"/>: insist on a client certificate (any; its subject is recorded).</summary>
    public bool RequireClientCertificate { get; init; }

    /// <summary>
    /// The resource types the server knows; the others answer the 404 of a missing type. Leave out
    /// <see cref="FakeResource.Workflows"/> for a cluster without Argo's CRD.
    /// </summary>
    public IReadOnlyList<FakeResource> ServedResources { get; init; } = FakeResource.All;

    /// <summary>When set, every request is authorized by it (after authentication) and refused with 403 as RBAC would.</summary>
    public IFakeKubernetesAuthorizer? Authorizer { get; init; }
}

/// <summary>
/// A Kubernetes API server for tests: in-process Kestrel on 127.0.0.1 (a free port) serving Argo
/// <c>workflows</c>, pods and their logs, events and namespaces with the real semantics — one global
/// resourceVersion, <c>Status</c> error bodies (404, 409, 410, 422), label and field selectors, paged lists
/// with continue tokens, merge patch, watches with bookmarks and 410 Expired for compacted versions. Tests
/// (and later a fake Argo controller) change objects server-side with the methods here, inject faults with
/// <see cref="InjectFault"/> and read <see cref="Requests"/>. Starts with the <c>default</c> namespace.
/// </summary>
public sealed class FakeKubernetesServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly FakeObjectStore _store;
    private readonly FakeKubernetesHandlers _handlers;
    private readonly ConcurrentDictionary<string, string> _podLogs = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly List<FakeFault> _faults = [];
    private readonly CancellationTokenSource _stopping = new();
    private CancellationTokenSource _dropWatches = new();

    private FakeKubernetesServer(WebApplication app, FakeKubernetesOptions options)
    {
        _app = app;
        Options = options;
        _store = new FakeObjectStore(options.HistoryLimit);
        _handlers = new FakeKubernetesHandlers(_store, options, _podLogs);
        CreateNamespace("default");
    }

    public FakeKubernetesOptions Options { get; }

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>KubernetesClient's configuration for this server (its scheme, the configured token if any; https trusts nothing yet).</summary>
    public KubernetesClientConfiguration Configuration => new()
    {
        Host = BaseAddress.ToString(),
        AccessToken = Options.RequiredBearerToken,
    };

    /// <summary>The current (latest) resourceVersion.</summary>
    public long ResourceVersion => _store.ResourceVersion;

    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    public static async Task<FakeKubernetesServer> StartAsync(FakeKubernetesOptions? options = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        options ??= new FakeKubernetesOptions();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => UseTls(listen, options)));
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(2));
        var app = builder.Build();
        var server = new FakeKubernetesServer(app, options);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseAddress = new Uri(address.EndsWith('/') ? address : address + "/");
        return server;
    }

    /// <summary>A client of the real adapter pointed at this server.</summary>
    public KubernetesWorkflowCluster CreateCluster(RetryOptions? retry = null) =>
        KubernetesWorkflowCluster.Create(Configuration, retry);

    public void InjectFault(FakeFault fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        lock (_faults)
        {
            _faults.Add(fault);
        }
    }

    public void ClearFaults()
    {
        lock (_faults)
        {
            _faults.Clear();
        }
    }

    public JsonObject CreateNamespace(string name, IReadOnlyDictionary<string, string>? labels = null)
    {
        var metadata = new JsonObject { ["name"] = name };
        if (labels is not null)
        {
            metadata["labels"] = Labels(labels);
        }

        return Create(FakeResource.Namespaces, "", new JsonObject { ["metadata"] = metadata, ["status"] = new JsonObject { ["phase"] = "Active" } });
    }

    /// <summary>Creates any object server-side (as another client would); returns it as stored.</summary>
    public JsonObject Create(FakeResource resource, string ns, JsonObject obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        return Parse(_store.Create(resource, ns, (JsonObject)obj.DeepClone()));
    }

    /// <summary>The object as stored now, or null.</summary>
    public JsonObject? Get(FakeResource resource, string ns, string name) =>
        _store.Get(resource, ns, name) is { } stored ? Parse(stored) : null;

    /// <summary>Changes an object server-side, emitting MODIFIED with a new resourceVersion (none if nothing changed).</summary>
    public JsonObject Update(FakeResource resource, string ns, string name, Action<JsonObject> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        return Parse(_store.Update(resource, ns, name, current =>
        {
            change(current);
            return current;
        }));
    }

    /// <summary>Deletes server-side; a namespace only turns Terminating (see <see cref="FinishNamespaceTermination"/>).</summary>
    public void Delete(FakeResource resource, string ns, string name) => _store.Delete(resource, ns, name);

    /// <summary>
    /// Plays the namespace controller for a deleted (Terminating) namespace: its content is deleted, then the namespace
    /// itself. Until then creating anything in it is 403 Forbidden and creating a namespace of the name 409 AlreadyExists.
    /// </summary>
    public void FinishNamespaceTermination(string name) => _store.FinishNamespaceTermination(name);

    /// <summary>
    /// Moves a workflow to <paramref name="phase"/> the way Argo's controller does: <c>status.phase</c>, the
    /// <c>workflows.argoproj.io/phase</c> and <c>/completed</c> labels, <c>startedAt</c> on leaving Pending,
    /// <c>finishedAt</c> and the Completed condition on Succeeded, Failed or Error.
    /// </summary>
    public JsonObject SetWorkflowPhase(string ns, string name, string phase, string? message = null) =>
        Update(FakeResource.Workflows, ns, name, workflow => ArgoStatus.SetPhase(workflow, phase, message, DateTimeOffset.UtcNow));

    /// <summary>Adds a pod with one container per log entry, whose logs the log endpoint serves.</summary>
    public JsonObject AddPod(string ns, string name, IReadOnlyDictionary<string, string> containerLogs, string phase = "Succeeded", IReadOnlyDictionary<string, string>? labels = null)
    {
        ArgumentNullException.ThrowIfNull(containerLogs);
        var metadata = new JsonObject { ["name"] = name };
        if (labels is not null)
        {
            metadata["labels"] = Labels(labels);
        }

        var containers = new JsonArray([.. containerLogs.Keys.Select(c => (JsonNode)new JsonObject { ["name"] = c, ["image"] = "busybox" })]);
        var pod = Create(FakeResource.Pods, ns, new JsonObject
        {
            ["metadata"] = metadata,
            ["spec"] = new JsonObject { ["containers"] = containers },
            ["status"] = new JsonObject { ["phase"] = phase },
        });
        foreach (var (container, log) in containerLogs)
        {
            _podLogs[LogKey(ns, name, container)] = log;
        }

        return pod;
    }

    /// <summary>Records a core/v1 Event about an object, as the controller or kubelet would.</summary>
    public JsonObject AddEvent(string ns, string involvedKind, string involvedName, string reason, string message, string type = "Normal")
    {
        var now = FakeObjectStore.Timestamp(DateTimeOffset.UtcNow);
        return Create(FakeResource.Events, ns, new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = $"{involvedName}.{Guid.NewGuid():N}"[..Math.Min(253, involvedName.Length + 17)] },
            ["involvedObject"] = new JsonObject { ["kind"] = involvedKind, ["namespace"] = ns, ["name"] = involvedName },
            ["reason"] = reason,
            ["message"] = message,
            ["type"] = type,
            ["count"] = 1,
            ["firstTimestamp"] = now,
            ["lastTimestamp"] = now,
        });
    }

    /// <summary>
    /// Server-side changes of one resource, for in-process fakes of controllers (e.g. a fake Argo controller
    /// reacting to created workflows): first every existing object as ADDED, then each change as it happens.
    /// </summary>
    public async IAsyncEnumerable<FakeChange> WatchChangesAsync(FakeResource resource, string? ns, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var subscription = _store.Watch(resource, ns, fromVersion: null);
        foreach (var entry in subscription.Initial)
        {
            yield return new FakeChange(entry.Type, Parse(entry.Object));
        }

        while (true)
        {
            var entry = await subscription.Events.Reader.ReadAsync(cancellationToken);
            yield return new FakeChange(entry.Type, Parse(entry.Object));
        }
    }

    /// <summary>Forgets the change history (an etcd compaction): watches and continue tokens from before now get 410.</summary>
    public void CompactHistory() => _store.Compact();

    /// <summary>Cuts every open watch connection mid-stream, as a restarting API server or a proxy would.</summary>
    public void DropWatches()
    {
        var old = Interlocked.Exchange(ref _dropWatches, new CancellationTokenSource());
        old.Cancel();
        old.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _stopping.Dispose();
        _dropWatches.Dispose();
    }

    private static void UseTls(ListenOptions listen, FakeKubernetesOptions options)
    {
        if (options.ServerCertificate is not { } certificate)
        {
            return;
        }

        listen.UseHttps(https =>
        {
            https.ServerCertificate = certificate;
            if (options.RequireClientCertificate)
            {
                https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                https.ClientCertificateValidation = (_, _, _) => true;
            }
        });
    }

    internal static string LogKey(string ns, string pod, string container) => $"{ns}/{pod}/{container}";

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        _requests.Enqueue(new RecordedRequest(request.Method, request.Path.Value ?? "", request.QueryString.Value ?? "", request.Headers.Authorization.ToString() is { Length: > 0 } a ? a : null, context.Connection.ClientCertificate?.Subject, DateTimeOffset.UtcNow));
        try
        {
            if (Options.RequiredBearerToken is { } token && request.Headers.Authorization.ToString() != $"Bearer {token}")
            {
                throw new FakeStatusException(401, "Unauthorized", "Unauthorized");
            }

            if (Options.Authorizer is { } authorizer)
            {
                FakeAuthorization.Check(authorizer, request);
            }

            if (await ApplyFaultAsync(context))
            {
                return;
            }

            var drop = _dropWatches.Token;
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, drop);
            await _handlers.HandleAsync(context, stop.Token);
            if (drop.IsCancellationRequested)
            {
                context.Abort();
            }
        }
        catch (FakeStatusException e) when (!context.Response.HasStarted)
        {
            await FakeKubernetesHandlers.WriteAsync(context.Response, e.Code, e.ToStatus().ToJsonString());
        }
    }

    /// <summary>Applies the first matching fault; true when it answered (or dropped) the request itself.</summary>
    private async Task<bool> ApplyFaultAsync(HttpContext context)
    {
        FakeFault? fault;
        lock (_faults)
        {
            fault = _faults.FirstOrDefault(f => f.TryClaim(context.Request));
        }

        if (fault is null)
        {
            return false;
        }

        if (fault.Latency > TimeSpan.Zero)
        {
            await Task.Delay(fault.Latency, context.RequestAborted);
        }

        if (fault.DropConnection)
        {
            context.Abort();
            return true;
        }

        if (fault.EmptyBody)
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json";
            return true;
        }

        if (fault.StatusCode is not { } code)
        {
            return false;
        }

        if (fault.RetryAfter is { } after)
        {
            context.Response.Headers.RetryAfter = ((int)Math.Ceiling(after.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        var status = FakeStatusException.Status(code, FakeStatusException.ReasonFor(code), $"injected fault: {code}");
        await FakeKubernetesHandlers.WriteAsync(context.Response, code, status.ToJsonString());
        return true;
    }

    private static JsonObject Parse(StoredObject stored) => (JsonObject)JsonNode.Parse(stored.Json)!;


    private static JsonObject Labels(IReadOnlyDictionary<string, string> labels) =>
        new(labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value)));
}
