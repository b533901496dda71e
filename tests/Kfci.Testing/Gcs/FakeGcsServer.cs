using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kfci.Testing.Gcs;

/// <summary>
/// A faithful in-process fake of the GCS JSON API subset kfci uses, over real HTTP on 127.0.0.1:
/// buckets; objects with generations and <c>ifGenerationMatch</c>/<c>ifGenerationNotMatch</c>
/// preconditions (412 <c>conditionNotMet</c>); media, multipart and resumable uploads (308 with
/// <c>Range</c>, status queries, 256 KiB chunk granularity); metadata get, <c>alt=media</c> download with
/// <c>Range</c>; listing with prefix, delimiter and paging; delete. Object contents live on disk.
/// Inject failures through <see cref="Faults"/>; inspect traffic through <see cref="Requests"/>.
/// </summary>
public sealed class FakeGcsServer : IAsyncDisposable
{
    /// <summary>Where a handler leaves the name of the object a request writes, for <see cref="RecordedRequest.Object"/>.</summary>
    internal const string ObjectItem = "gcs.object";

    private readonly WebApplication _app;
    private readonly FakeGcsBackend _backend;
    private readonly Lock _gate = new();
    private readonly List<RecordedRequest> _requests = [];

    private FakeGcsServer(WebApplication app, FakeGcsBackend backend)
    {
        _app = app;
        _backend = backend;
    }

    /// <summary>The endpoint, e.g. <c>http://127.0.0.1:41234/</c>; give it to clients as <c>STORAGE_EMULATOR_HOST</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    public FaultQueue Faults { get; } = new();

    /// <summary>Largest page a listing returns (GCS: 1000); lower it to make tests cross page boundaries.</summary>
    public int MaxPageSize { get; set; } = 1000;

    /// <summary>Every request answered so far, in order of completion.</summary>
    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    public static async Task<FakeGcsServer> StartAsync(params string[] buckets)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0);
            kestrel.Limits.MaxRequestBodySize = null;
        });
        var app = builder.Build();
        var backend = new FakeGcsBackend();
        var server = new FakeGcsServer(app, backend);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        server.BaseAddress = new Uri(address.EndsWith('/') ? address : address + "/");
        foreach (var bucket in buckets)
        {
            backend.CreateBucket(bucket);
        }

        return server;
    }

    public void CreateBucket(string bucket) => _backend.CreateBucket(bucket);

    /// <summary>The object a request to a resumable session (<c>upload_id</c>) is uploading; null for any other request.</summary>
    public string? SessionObject(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Query["upload_id"].FirstOrDefault() is { } id ? _backend.SessionObject(id) : null;
    }

    /// <summary>Marks every open resumable session expired: their next request gets 410 Gone.</summary>
    public void ExpireUploadSessions() => _backend.ExpireSessions();

    public void ClearRequests()
    {
        lock (_gate)
        {
            _requests.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _backend.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var status = -1;
        try
        {
            if (await ApplyFaultAsync(context) is { } answered)
            {
                status = answered;
                return;
            }

            await new FakeGcsApi(_backend, context, MaxPageSize).HandleAsync();
            status = context.Response.StatusCode;
        }
        catch (GcsError e)
        {
            status = e.Status;
            await WriteErrorAsync(context, e);
        }
        catch (Exception e) when (e is IOException or BadHttpRequestException or OperationCanceledException)
        {
            // The client went away mid-request; there is nobody to answer.
            status = -1;
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException or InvalidOperationException)
        {
            // A request the fake cannot read is the client's fault, as GCS sees it: a 400 that names why.
            status = 400;
            await WriteErrorAsync(context, GcsError.BadRequest($"Unreadable request: {e.Message}"));
        }
        finally
        {
            Record(context.Request, status);
        }
    }

    /// <summary>Applies the first matching fault; the status it answered with (-1: dropped), or null to handle the request normally.</summary>
    private async Task<int?> ApplyFaultAsync(HttpContext context)
    {
        if (Faults.Take(context.Request) is not { } fault)
        {
            return null;
        }

        if (fault.Delay > TimeSpan.Zero)
        {
            await Task.Delay(fault.Delay, context.RequestAborted);
        }

        if (fault.DropConnection)
        {
            // Take part of the body first, so the client is mid-send when the connection dies.
            var buffer = new byte[64 * 1024];
            _ = await context.Request.Body.ReadAsync(buffer, context.RequestAborted);
            context.Abort();
            return -1;
        }

        if (fault.Status is not { } status)
        {
            return null;
        }

        if (fault.RetryAfter is { } after)
        {
            context.Response.Headers.RetryAfter = ((int)Math.Ceiling(after.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        await WriteErrorAsync(context, new GcsError(status, status == 429 ? "rateLimitExceeded" : "backendError", $"Injected fault: {status}."));
        return status;
    }

    internal static async Task WriteErrorAsync(HttpContext context, GcsError error)
    {
        if (context.Response.HasStarted)
        {
            context.Abort();
            return;
        }

        context.Response.StatusCode = error.Status;
        context.Response.ContentType = "application/json; charset=UTF-8";
        await context.Response.WriteAsync(error.ToJson().ToJsonString(), context.RequestAborted);
    }

    private void Record(HttpRequest request, int status)
    {
        var raw = request.HttpContext.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
        var query = raw.IndexOf('?', StringComparison.Ordinal);
        var entry = new RecordedRequest(
            request.Method,
            query < 0 ? raw : raw[..query],
            query < 0 ? string.Empty : raw[(query + 1)..],
            request.Headers.ContentRange.Count > 0 ? request.Headers.ContentRange.ToString() : null,
            request.ContentLength,
            status,
            request.HttpContext.Items.TryGetValue(ObjectItem, out var name) ? name as string : null);
        lock (_gate)
        {
            _requests.Add(entry);
        }
    }

    internal static JsonObject BucketJson(string bucket) => new()
    {
        ["kind"] = "storage#bucket",
        ["id"] = bucket,
        ["name"] = bucket,
        ["location"] = "US",
        ["storageClass"] = "STANDARD",
    };
}
