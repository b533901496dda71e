using System.Threading.Channels;
using Kfci.Kubernetes;
using Kfci.Testing.Hosting;
using Kfci.Testing.Kubernetes;
using Microsoft.Extensions.Logging;
using static Kfci.Tests.Kubernetes.KubernetesWorkflowClusterTests;

namespace Kfci.Tests.Kubernetes;

/// <summary>Workflow watches against the fake: live events, bookmarks, resuming, and re-listing after 410 Gone.</summary>
public sealed class KubernetesWatchTests : IAsyncLifetime
{
    private const string Ns = "kubeflow-test-infra";
    private static readonly WatchOptions s_fastWatch = new() { ReconnectDelay = TimeSpan.FromMilliseconds(50) };

    private FakeKubernetesServer _server = null!;
    private KubernetesWorkflowCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeKubernetesServer.StartAsync(new FakeKubernetesOptions { BookmarkInterval = TimeSpan.FromMilliseconds(200) });
        _server.CreateNamespace(Ns);
        _cluster = _server.CreateCluster(FastRetry);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Watch_FromNow_ListsExistingThenDeliversAddedModifiedDeletedAndBookmarks()
    {
        await _cluster.CreateWorkflowAsync(Ns, Workflow("existing"), CancellationToken.None);
        await using var watch = new WatchCollector(_cluster.WatchWorkflowsAsync(Ns, s_fastWatch, CancellationToken.None));

        var existing = await watch.NextAsync(e => e.Resource.Name == "existing");
        Assert.Equal((WatchEventType.Added, true), (existing.Type, existing.IsSynthetic));
        await WaitForWatchRequestAsync(1);

        await _cluster.CreateWorkflowAsync(Ns, Workflow("live"), CancellationToken.None);
        var added = await watch.NextAsync(e => e.Resource.Name == "live");
        _server.SetWorkflowPhase(Ns, "live", "Running");
        var modified = await watch.NextAsync(e => e.Resource.Name == "live");
        await _cluster.DeleteWorkflowAsync(Ns, "live", CancellationToken.None);
        var deleted = await watch.NextAsync(e => e.Resource.Name == "live");
        var bookmark = await watch.NextAsync(e => e.Type == WatchEventType.Bookmark);

        Assert.Equal((WatchEventType.Added, false), (added.Type, added.IsSynthetic));
        Assert.Equal(WatchEventType.Modified, modified.Type);
        Assert.Equal("Running", modified.Resource.Phase);
        Assert.Equal(WatchEventType.Deleted, deleted.Type);
        Assert.Equal(_server.ResourceVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), bookmark.ResourceVersion);
        var request = _server.Requests.First(r => r.Query.Contains("watch=true", StringComparison.Ordinal));
        Assert.Contains("allowWatchBookmarks=true", request.Query, StringComparison.Ordinal);
        Assert.Contains("resourceVersion=", request.Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Watch_HistoryCompactedWhileDisconnected_RelistsAndLosesNoUpdate()
    {
        foreach (var name in new[] { "a", "b", "c" })
        {
            await _cluster.CreateWorkflowAsync(Ns, Workflow(name), CancellationToken.None);
        }

        await using var watch = new WatchCollector(_cluster.WatchWorkflowsAsync(Ns, s_fastWatch, CancellationToken.None));
        await watch.NextAsync(e => e.Resource.Name == "c");
        await WaitForWatchRequestAsync(1);
        _server.SetWorkflowPhase(Ns, "a", "Running");
        await watch.NextAsync(e => e.Resource.Name == "a" && e.Type == WatchEventType.Modified);

        // Keep the watch away while changes happen and the history they are in is compacted away.
        _server.InjectFault(new FakeFault { When = r => r.Query["watch"] == "true", StatusCode = 503, Times = int.MaxValue });
        _server.DropWatches();
        _server.SetWorkflowPhase(Ns, "b", "Succeeded");
        await _cluster.DeleteWorkflowAsync(Ns, "c", CancellationToken.None);
        await _cluster.CreateWorkflowAsync(Ns, Workflow("d"), CancellationToken.None);
        _server.CompactHistory();
        _server.ClearFaults();

        var relisted = new Dictionary<string, WatchEvent>();
        while (relisted.Count < 3)
        {
            var e = await watch.NextAsync(e => e.Resource.Name is "b" or "c" or "d");
            relisted[e.Resource.Name!] = e;
        }

        var (b, c, d) = (relisted["b"], relisted["c"], relisted["d"]);
        Assert.Equal((WatchEventType.Modified, true, "Succeeded"), (b.Type, b.IsSynthetic, b.Resource.Phase));
        Assert.Equal((WatchEventType.Deleted, true), (c.Type, c.IsSynthetic));
        Assert.Equal((WatchEventType.Added, true), (d.Type, d.IsSynthetic));

        // After the re-list the watch continues live from the list's resourceVersion.
        _server.SetWorkflowPhase(Ns, "d", "Running");
        var live = await watch.NextAsync(e => e.Resource.Name == "d");
        Assert.Equal((WatchEventType.Modified, false), (live.Type, live.IsSynthetic));
        await AssertConsumerViewMatchesServerAsync(watch);
    }

    [Fact]
    public async Task Watch_FromExpiredResourceVersion_RelistsEverything()
    {
        var first = await _cluster.CreateWorkflowAsync(Ns, Workflow("one"), CancellationToken.None);
        await _cluster.CreateWorkflowAsync(Ns, Workflow("two"), CancellationToken.None);
        _server.CompactHistory();

        await using var watch = new WatchCollector(_cluster.WatchWorkflowsAsync(Ns, s_fastWatch with { ResourceVersion = first.ResourceVersion }, CancellationToken.None));

        var one = await watch.NextAsync(e => e.Resource.Name == "one");
        var two = await watch.NextAsync(e => e.Resource.Name == "two");
        Assert.True(one.IsSynthetic && two.IsSynthetic);
        Assert.Contains(_server.Requests, r => r.Method == "GET" && r.Query.Contains("limit=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Watch_410StatusOnConnect_Relists()
    {
        var created = await _cluster.CreateWorkflowAsync(Ns, Workflow("x"), CancellationToken.None);
        _server.InjectFault(new FakeFault { When = r => r.Query["watch"] == "true", StatusCode = 410 });

        await using var watch = new WatchCollector(_cluster.WatchWorkflowsAsync(Ns, s_fastWatch with { ResourceVersion = created.ResourceVersion }, CancellationToken.None));

        var x = await watch.NextAsync(e => e.Resource.Name == "x");
        Assert.True(x.IsSynthetic);
        await _cluster.CreateWorkflowAsync(Ns, Workflow("y"), CancellationToken.None);
        Assert.False((await watch.NextAsync(e => e.Resource.Name == "y")).IsSynthetic);
    }

    [Fact]
    public async Task Watch_RelistMeetsExpiredContinueToken_StartsTheListOverAndGoesOn()
    {
        // Defect: a 410 for the continue token of a re-list's second page ended the watch.
        var first = await _cluster.CreateWorkflowAsync(Ns, Workflow("a"), CancellationToken.None);
        await _cluster.CreateWorkflowAsync(Ns, Workflow("b"), CancellationToken.None);
        await _cluster.CreateWorkflowAsync(Ns, Workflow("c"), CancellationToken.None);
        _server.CompactHistory();
        var expired = new FakeFault { Method = "GET", When = r => r.Query.ContainsKey("continue") && r.Query["watch"] != "true", StatusCode = 410 };
        _server.InjectFault(expired);

        await using var watch = new WatchCollector(_cluster.WatchWorkflowsAsync(Ns, s_fastWatch with { ResourceVersion = first.ResourceVersion, ListPageSize = 2 }, CancellationToken.None));

        Assert.True((await watch.NextAsync(e => e.Resource.Name == "a")).IsSynthetic);
        Assert.True((await watch.NextAsync(e => e.Resource.Name == "b")).IsSynthetic);
        Assert.True((await watch.NextAsync(e => e.Resource.Name == "c")).IsSynthetic);
        await _cluster.CreateWorkflowAsync(Ns, Workflow("d"), CancellationToken.None);
        Assert.False((await watch.NextAsync(e => e.Resource.Name == "d")).IsSynthetic);
        Assert.Equal(1, expired.Hits);
        Assert.Equal(3, watch.Seen.Count(e => e.IsSynthetic));
    }

    [Fact]
    public async Task Watch_RelistFailingBeyondTheRetryPolicy_KeepsTryingWithBackoff()
    {
        // Defect: once the retry policy gave up on a re-list, the watch ended for good.
        var first = await _cluster.CreateWorkflowAsync(Ns, Workflow("one"), CancellationToken.None);
        await _cluster.CreateWorkflowAsync(Ns, Workflow("two"), CancellationToken.None);
        _server.CompactHistory();
        var outage = new FakeFault { Method = "GET", When = r => r.Query["watch"] != "true", StatusCode = 503, Times = (FastRetry.MaxRetries + 1) * 2 };
        _server.InjectFault(outage);

        await using var watch = new WatchCollector(_cluster.WatchWorkflowsAsync(Ns, s_fastWatch with { ResourceVersion = first.ResourceVersion }, CancellationToken.None));

        Assert.True((await watch.NextAsync(e => e.Resource.Name == "one")).IsSynthetic);
        Assert.Equal(outage.Times, outage.Hits);
    }

    [Fact]
    public async Task Watch_ArgoCrdMissing_EndsWithTheConfigurationError()
    {
        await using var noArgo = await FakeKubernetesServer.StartAsync(new FakeKubernetesOptions { ServedResources = [FakeResource.Namespaces] });
        using var cluster = noArgo.CreateCluster(FastRetry);

        await Assert.ThrowsAsync<KubernetesConfigurationException>(async () =>
        {
            await foreach (var _ in cluster.WatchWorkflowsAsync(Ns, s_fastWatch with { ResourceVersion = "1" }, CancellationToken.None))
            {
            }
        });
    }

    [Fact]
    public async Task Watch_ServerEndsRequestAtTimeout_ResumesWithoutLoss()
    {
        var options = s_fastWatch with { RequestTimeout = TimeSpan.FromSeconds(1) };
        await using var watch = new WatchCollector(_cluster.WatchWorkflowsAsync(Ns, options, CancellationToken.None));
        await WaitForWatchRequestAsync(1);
        await WaitForWatchRequestAsync(2);

        await _cluster.CreateWorkflowAsync(Ns, Workflow("after-timeout"), CancellationToken.None);

        var added = await watch.NextAsync(e => e.Resource.Name == "after-timeout");
        Assert.Equal((WatchEventType.Added, false), (added.Type, added.IsSynthetic));
        Assert.Contains("timeoutSeconds=1", _server.Requests.First(r => r.Query.Contains("watch=true", StringComparison.Ordinal)).Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Watch_ServerEndsEachWatchBeforeAnyEvent_ReconnectsQuietlyWithGrowingPauses()
    {
        // Defects: KubernetesClient reports an empty watch body as HttpRequestException(EndOfStreamException), which
        // was logged and handled as a dropped connection; read as the plain end of a request, it must still not be
        // asked again in a tight loop.
        var logs = new CapturedLogs();
        using var loggers = LoggerFactory.Create(logging => logging.AddProvider(logs));
        using var cluster = KubernetesWorkflowCluster.Create(_server.Configuration, FastRetry, loggers.CreateLogger<KubernetesWorkflowCluster>());
        _server.InjectFault(new FakeFault { When = r => r.Query["watch"] == "true", EmptyBody = true, Times = 4 });
        var options = s_fastWatch with { ReconnectDelay = TimeSpan.FromMilliseconds(100), MaxReconnectDelay = TimeSpan.FromMilliseconds(200) };

        await using var watch = new WatchCollector(cluster.WatchWorkflowsAsync(Ns, options, CancellationToken.None));
        await WaitForWatchRequestAsync(5);
        await _cluster.CreateWorkflowAsync(Ns, Workflow("after-empty-watches"), CancellationToken.None);
        var added = await watch.NextAsync(e => e.Resource.Name == "after-empty-watches");

        var watches = _server.Requests.Where(r => r.Query.Contains("watch=true", StringComparison.Ordinal)).Select(r => r.ReceivedAt).ToList();
        // Pauses of 100, 200, 200 and 200 ms between the five requests.
        Assert.True(watches[4] - watches[0] >= TimeSpan.FromMilliseconds(650), $"five watch requests within {(watches[4] - watches[0]).TotalMilliseconds} ms");
        Assert.Equal((WatchEventType.Added, false), (added.Type, added.IsSynthetic));
        Assert.DoesNotContain(logs.Entries, e => e.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task Watch_LongerThanTheAttemptTimeout_IsNotCut()
    {
        var cluster = _server.CreateCluster(FastRetry with { AttemptTimeout = TimeSpan.FromMilliseconds(300) });
        await using var watch = new WatchCollector(cluster.WatchWorkflowsAsync(Ns, s_fastWatch, CancellationToken.None));
        await WaitForWatchRequestAsync(1);
        var watchRequests = _server.Requests.Count(r => r.Query.Contains("watch=true", StringComparison.Ordinal));

        await Task.Delay(1000);
        await _cluster.CreateWorkflowAsync(Ns, Workflow("late"), CancellationToken.None);

        Assert.False((await watch.NextAsync(e => e.Resource.Name == "late")).IsSynthetic);
        Assert.Equal(watchRequests, _server.Requests.Count(r => r.Query.Contains("watch=true", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Watch_LabelSelector_ObjectLeavingSelectionArrivesAsDeleted()
    {
        await using var watch = new WatchCollector(_cluster.WatchWorkflowsAsync(Ns, s_fastWatch with { LabelSelector = "workflows.argoproj.io/completed!=true" }, CancellationToken.None));
        await WaitForWatchRequestAsync(1);
        await _cluster.CreateWorkflowAsync(Ns, Workflow("sel"), CancellationToken.None);
        await watch.NextAsync(e => e.Resource.Name == "sel");

        _server.SetWorkflowPhase(Ns, "sel", "Succeeded");

        var left = await watch.NextAsync(e => e.Resource.Name == "sel");
        Assert.Equal((WatchEventType.Deleted, false), (left.Type, left.IsSynthetic));
    }

    private async Task AssertConsumerViewMatchesServerAsync(WatchCollector watch)
    {
        var server = await _cluster.ListWorkflowsAsync(Ns, ListOptions.All, CancellationToken.None).ToDictionaryAsync(w => w.Name!, w => w.ResourceVersion);
        var view = new Dictionary<string, string?>();
        foreach (var e in watch.Seen.Where(e => e.Type != WatchEventType.Bookmark))
        {
            if (e.Type == WatchEventType.Deleted)
            {
                view.Remove(e.Resource.Name!);
            }
            else
            {
                view[e.Resource.Name!] = e.ResourceVersion;
            }
        }

        Assert.Equal(server.OrderBy(p => p.Key, StringComparer.Ordinal), view.OrderBy(p => p.Key, StringComparer.Ordinal));
    }

    private async Task WaitForWatchRequestAsync(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (_server.Requests.Count(r => r.Query.Contains("watch=true", StringComparison.Ordinal)) < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"no watch request #{count}");
            await Task.Delay(20);
        }
    }

    /// <summary>Runs a watch in the background and lets a test wait for the events it expects.</summary>
    private sealed class WatchCollector : IAsyncDisposable
    {
        private readonly CancellationTokenSource _cancel = new();
        private readonly Channel<WatchEvent> _events = Channel.CreateUnbounded<WatchEvent>();
        private readonly Task _pump;

        public WatchCollector(IAsyncEnumerable<WatchEvent> watch)
        {
            _pump = Task.Run(async () =>
            {
                try
                {
                    await foreach (var e in watch.WithCancellation(_cancel.Token))
                    {
                        Seen.Add(e);
                        await _events.Writer.WriteAsync(e);
                    }
                }
                catch (Exception e)
                {
                    _events.Writer.TryComplete(e);
                }
            });
        }

        public List<WatchEvent> Seen { get; } = [];

        /// <summary>The next event matching; events before it that do not match are skipped.</summary>
        public async Task<WatchEvent> NextAsync(Func<WatchEvent, bool> match)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (true)
            {
                var e = await _events.Reader.ReadAsync(timeout.Token);
                if (match(e))
                {
                    return e;
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _cancel.CancelAsync();
            await _pump;
            _cancel.Dispose();
        }
    }
}
