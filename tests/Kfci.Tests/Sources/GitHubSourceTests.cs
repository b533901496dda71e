using System.Globalization;
using System.Text;
using Kfci.Http;
using Kfci.Prow;
using Kfci.Sources;
using Kfci.Testing.Gcs;
using Kfci.Testing.GitHub;
using Kfci.Testing.Hosting;
using Microsoft.Extensions.Logging;

namespace Kfci.Tests.Sources;

public sealed class GitHubSourceTests : IAsyncLifetime
{
    private const string Token = "ghp_secret-token-value";
    private const string Sha = "0123456789abcdef0123456789abcdef01234567";
    private static readonly RepositoryName s_repo = new("kubeflow", "testing");

    private readonly CapturedLogs _logs = new();
    private FakeGitHubServer _server = null!;
    private FakeGitHubRepository _repository = null!;
    private GitHubSource _source = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeGitHubServer.StartAsync();
        _repository = _server.AddRepository("kubeflow", "testing");
        _repository.AddCommit(Sha, new Dictionary<string, byte[]>
        {
            ["prow_config.yaml"] = "workflows: []\n"u8.ToArray(),
            ["test/dir with space/é.yaml"] = "kind: Workflow\n"u8.ToArray(),
        });
        _source = NewSource();
    }

    public async Task DisposeAsync()
    {
        _source.Dispose();
        _logs.Dispose();
        await _server.DisposeAsync();
    }

    private GitHubSource NewSource(TimeSpan? maxRateLimitWait = null) =>
        new(_server.BaseAddress, Token, new RetryPolicy(RetryOptions.Default with { MaxRetries = 3, BaseDelay = TimeSpan.FromMilliseconds(5) }), logger: _logs.CreateLogger("github"))
        {
            MaxRateLimitWait = maxRateLimitWait ?? TimeSpan.FromSeconds(30),
        };

    private static ProwJobSpec Presubmit(params int[] pulls) =>
        new(pulls.Length > 1 ? JobType.Batch : JobType.Presubmit, "job", "1", new Refs
        {
            Org = "kubeflow",
            Repo = "testing",
            BaseRef = "master",
            BaseSha = Sha,
            Pulls = [.. pulls.Select(n => new Pull { Number = n, Sha = Sha })],
        }, []);

    private static ProwJobSpec Postsubmit(string sha) =>
        new(JobType.Postsubmit, "job", "1", new Refs { Org = "kubeflow", Repo = "testing", BaseRef = "master", BaseSha = sha }, []);

    private static List<FakeFileChange> Files(int count, string prefix = "f") =>
        [.. Enumerable.Range(0, count).Select(i => new FakeFileChange($"{prefix}/{i.ToString("D4", CultureInfo.InvariantCulture)}.py"))];

    [Fact]
    public async Task ReadFile_Existing_RawBytesWithBearerToken()
    {
        var bytes = await _source.ReadFileAsync(s_repo, Sha, "test/dir with space/é.yaml", 1000, CancellationToken.None);

        Assert.Equal("kind: Workflow\n", Encoding.UTF8.GetString(bytes!));
        var request = Assert.Single(_server.Requests);
        Assert.Equal($"Bearer {Token}", request.Authorization);
        Assert.Contains("/contents/test/dir%20with%20space/%C3%A9.yaml?ref=" + Sha, request.Target, StringComparison.Ordinal);
        Assert.Equal(_server.RateLimit - 1, _source.LastRateLimit!.Remaining);
    }

    [Fact]
    public async Task ReadFile_MissingFileOrDirectory_NullButMissingCommitOrRepo_NotFound()
    {
        Assert.Null(await _source.ReadFileAsync(s_repo, Sha, "nope.yaml", 1000, CancellationToken.None));
        Assert.Null(await _source.ReadFileAsync(s_repo, Sha, "test", 1000, CancellationToken.None));
        await Assert.ThrowsAsync<SourceNotFoundException>(() => _source.ReadFileAsync(s_repo, new string('f', 40), "prow_config.yaml", 1000, CancellationToken.None));
        await Assert.ThrowsAsync<SourceNotFoundException>(() => _source.ReadFileAsync(new RepositoryName("kubeflow", "nope"), Sha, "prow_config.yaml", 1000, CancellationToken.None));
    }

    [Fact]
    public async Task ReadFile_OverLimit_SourceLimitException()
    {
        _repository.AddCommit(Sha, new Dictionary<string, byte[]> { ["big"] = new byte[5000] });

        await Assert.ThrowsAsync<SourceLimitException>(() => _source.ReadFileAsync(s_repo, Sha, "big", 4999, CancellationToken.None));
        Assert.Equal(5000, (await _source.ReadFileAsync(s_repo, Sha, "big", 5000, CancellationToken.None))!.Length);
    }

    [Theory]
    [InlineData("../etc/passwd")]
    [InlineData("/abs")]
    [InlineData("a/../../b")]
    [InlineData("https://evil.example/x")]
    public async Task ReadFile_HostilePath_RejectedWithoutARequest(string path)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _source.ReadFileAsync(s_repo, Sha, path, 1000, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => _source.ReadFileAsync(s_repo, "../../x", "a", 1000, CancellationToken.None));
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task ReadFile_Repeated_ConditionalRequestAnswered304WithoutSpendingRateLimit()
    {
        var first = await _source.ReadFileAsync(s_repo, Sha, "prow_config.yaml", 1000, CancellationToken.None);
        var remaining = _server.RateLimitRemaining;

        var second = await _source.ReadFileAsync(s_repo, Sha, "prow_config.yaml", 1000, CancellationToken.None);

        Assert.Equal(first, second);
        Assert.Equal(remaining, _server.RateLimitRemaining);
        var requests = _server.Requests;
        Assert.Null(requests[0].IfNoneMatch);
        Assert.NotNull(requests[1].IfNoneMatch);
        Assert.Equal(304, requests[1].Status);
    }

    [Fact]
    public async Task ReadFile_CacheFull_LeastRecentlyUsedForgotten()
    {
        using var small = new GitHubSource(_server.BaseAddress, Token, cacheEntries: 1);

        await small.ReadFileAsync(s_repo, Sha, "prow_config.yaml", 1000, CancellationToken.None);
        await small.ReadFileAsync(s_repo, Sha, "test/dir with space/é.yaml", 1000, CancellationToken.None);
        await small.ReadFileAsync(s_repo, Sha, "prow_config.yaml", 1000, CancellationToken.None);
        await small.ReadFileAsync(s_repo, Sha, "prow_config.yaml", 1000, CancellationToken.None);

        Assert.Equal([null, null, null, 304], _server.Requests.Select(r => r.IfNoneMatch is null ? (int?)null : r.Status));
    }

    [Fact]
    public async Task ChangedFiles_PullWith350Files_FollowsLinkPagesAndKeepsRenamedFromPaths()
    {
        var files = Files(349);
        files.Add(new FakeFileChange("new/place.py", "renamed", "old/place.py"));
        _repository.AddPull(7, files);

        var changed = await _source.ChangedFilesAsync(Presubmit(7), CancellationToken.None);

        Assert.Equal(351, changed.Count);
        Assert.Contains("old/place.py", changed);
        Assert.Contains("new/place.py", changed);
        Assert.Equal(changed.Order(StringComparer.Ordinal), changed);
        Assert.Equal(4, _server.Requests.Count);
        Assert.All(_server.Requests, r => Assert.Contains("per_page=100", r.Target, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ChangedFiles_LinkToAnotherHost_NotFollowed()
    {
        _repository.AddPull(9, Files(150));
        _server.LinkOrigin = new Uri("http://127.0.0.2:1/");

        await Assert.ThrowsAsync<InvalidDataException>(() => _source.ChangedFilesAsync(Presubmit(9), CancellationToken.None));
        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task ChangedFiles_PullOverGitHubsCap_TruncatedAndReported()
    {
        _repository.AddPull(8, Files(3100));

        var changed = await _source.ChangedFilesAsync(Presubmit(8), CancellationToken.None);

        Assert.Equal(GitHubSource.MaxListedFiles, changed.Count);
        Assert.Contains(_logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("truncated", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ChangedFiles_BatchAndPostsubmitAndPeriodic()
    {
        _repository.AddPull(1, [new("a/x")]);
        _repository.AddPull(2, [new("a/x"), new("b/y")]);
        var merge = new string('e', 40);
        _repository.AddCommit(merge, new Dictionary<string, byte[]>(), Files(150, "post"));

        Assert.Equal(["a/x", "b/y"], await _source.ChangedFilesAsync(Presubmit(1, 2), CancellationToken.None));
        Assert.Equal(150, (await _source.ChangedFilesAsync(Postsubmit(merge), CancellationToken.None)).Count);
        Assert.Empty(await _source.ChangedFilesAsync(new ProwJobSpec(JobType.Periodic, "p", "1", null, []), CancellationToken.None));
        await Assert.ThrowsAsync<SourceNotFoundException>(() => _source.ChangedFilesAsync(Postsubmit(new string('d', 40)), CancellationToken.None));
        await Assert.ThrowsAsync<SourceNotFoundException>(() => _source.ChangedFilesAsync(Presubmit(99), CancellationToken.None));
    }

    [Fact]
    public async Task Faults_ServerErrorsDropsAndSecondaryRateLimit_Retried()
    {
        _server.Faults.Enqueue(new Fault(status: 500));
        _server.Faults.Enqueue(Fault.Drop());
        _server.Faults.Enqueue(new Fault(status: 429) { RetryAfter = TimeSpan.Zero });

        var bytes = await _source.ReadFileAsync(s_repo, Sha, "prow_config.yaml", 1000, CancellationToken.None);

        Assert.NotNull(bytes);
        Assert.Equal([500, -1, 429, 200], _server.Requests.Select(r => r.Status));
    }

    [Fact]
    public async Task RateLimit_ExhaustedWithFarReset_FailsTransientWithReasonAndNoToken()
    {
        _server.ExhaustRateLimit(TimeSpan.FromHours(1));

        var e = await Assert.ThrowsAsync<GitHubRateLimitException>(() => _source.ReadFileAsync(s_repo, Sha, "prow_config.yaml", 1000, CancellationToken.None));

        Assert.Contains("rate limit", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, e.Message, StringComparison.Ordinal);
        Assert.Single(_server.Requests);
        Assert.Equal(0, _source.LastRateLimit!.Remaining);
        Assert.NotNull(e.Reset);
    }

    [Fact]
    public async Task RateLimit_ExhaustedWithFarReset_RememberedSoTheNextEventFailsWithoutARequest()
    {
        _server.ExhaustRateLimit(TimeSpan.FromHours(1));
        await Assert.ThrowsAsync<GitHubRateLimitException>(() => _source.ReadFileAsync(s_repo, Sha, "prow_config.yaml", 1000, CancellationToken.None));

        var again = await Assert.ThrowsAsync<GitHubRateLimitException>(() => _source.ResolveBranchAsync(s_repo, "master", CancellationToken.None));

        Assert.True(Transience.IsTransient(again));
        Assert.InRange(again.RetryAfter!.Value, TimeSpan.FromMinutes(59), TimeSpan.FromMinutes(61));
        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task RateLimit_PrimaryAnswered429WithFarReset_TransientUntilTheResetAndNotRetried()
    {
        _server.PrimaryLimitStatus = 429;
        _server.ExhaustRateLimit(TimeSpan.FromHours(1));

        var e = await Assert.ThrowsAsync<GitHubRateLimitException>(() => _source.ResolveBranchAsync(s_repo, "master", CancellationToken.None));

        Assert.True(Transience.IsTransient(e));
        Assert.InRange(e.RetryAfter!.Value, TimeSpan.FromMinutes(59), TimeSpan.FromMinutes(61));
        Assert.Equal([429], _server.Requests.Select(r => r.Status));
    }

    [Theory]
    [InlineData(403)]
    [InlineData(429)]
    public async Task RateLimit_SecondaryWithoutRetryAfter_WaitsAtLeastAMinuteSoFailsTransientWithoutHammering(int status)
    {
        _server.Faults.Enqueue(new Fault(status: status, count: 10));

        var e = await Assert.ThrowsAsync<GitHubRateLimitException>(() => _source.ReadFileAsync(s_repo, Sha, "prow_config.yaml", 1000, CancellationToken.None));

        Assert.True(Transience.IsTransient(e));
        Assert.True(e.RetryAfter >= TimeSpan.FromMinutes(1), $"waits {e.RetryAfter}");
        Assert.Contains("secondary", e.Message, StringComparison.Ordinal);
        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task RateLimit_SecondaryWithShortRetryAfter_WaitsThatLongAndSucceeds()
    {
        _server.Faults.Enqueue(new Fault(status: 403) { RetryAfter = TimeSpan.FromSeconds(1) });

        Assert.NotNull(await _source.ReadFileAsync(s_repo, Sha, "prow_config.yaml", 1000, CancellationToken.None));

        Assert.Equal([403, 200], _server.Requests.Select(r => r.Status));
    }

    [Fact]
    public async Task RateLimit_ExhaustedWithNearReset_WaitsAndSucceeds()
    {
        _server.ExhaustRateLimit(TimeSpan.FromMilliseconds(200));

        var bytes = await _source.ReadFileAsync(s_repo, Sha, "prow_config.yaml", 1000, CancellationToken.None);

        Assert.NotNull(bytes);
        Assert.Equal([403, 200], _server.Requests.Select(r => r.Status));
    }

    [Fact]
    public async Task Errors_PermanentFailure_NotRetriedAndTokenNeverInMessage()
    {
        _server.Faults.Enqueue(new Fault(status: 401, count: 10));

        var e = await Assert.ThrowsAsync<ApiException>(() => _source.ReadFileAsync(s_repo, Sha, "prow_config.yaml", 1000, CancellationToken.None));

        Assert.DoesNotContain(Token, e.ToString(), StringComparison.Ordinal);
        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task ResolveBranch_BranchWithSlash_ItsHeadNowNotARememberedOne()
    {
        var next = new string('b', 40);
        _repository.SetBranch("release/v1.2", Sha);

        Assert.Equal(Sha, await _source.ResolveBranchAsync(s_repo, "release/v1.2", CancellationToken.None));
        _repository.SetBranch("release/v1.2", next);
        Assert.Equal(next, await _source.ResolveBranchAsync(s_repo, "release/v1.2", CancellationToken.None));

        Assert.All(_server.Requests, r => Assert.EndsWith("/repos/kubeflow/testing/branches/release/v1.2", r.Target, StringComparison.Ordinal));
        Assert.Equal([200, 200], _server.Requests.Select(r => r.Status));
    }

    [Fact]
    public async Task ResolveBranch_MissingBranch_PermanentErrorNamingIt()
    {
        var e = await Assert.ThrowsAsync<SourceNotFoundException>(() => _source.ResolveBranchAsync(s_repo, "no-such-branch", CancellationToken.None));

        Assert.Contains("'no-such-branch'", e.Message, StringComparison.Ordinal);
        Assert.Contains("kubeflow/testing", e.Message, StringComparison.Ordinal);
        Assert.Single(_server.Requests);
    }

    [Theory]
    [InlineData("-x")]
    [InlineData("a..b")]
    [InlineData("a b")]
    [InlineData("https://evil.example/")]
    public async Task ResolveBranch_HostileName_RejectedWithoutARequest(string branch)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _source.ResolveBranchAsync(s_repo, branch, CancellationToken.None));
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task Requests_AreOctokits_WithItsUserAgentAndRawMediaType()
    {
        await _source.ReadFileAsync(s_repo, Sha, "prow_config.yaml", 1000, CancellationToken.None);

        var request = Assert.Single(_server.Requests);
        Assert.Contains("kfci", request.UserAgent, StringComparison.Ordinal);
        Assert.Contains("Octokit", request.UserAgent, StringComparison.Ordinal);
        Assert.Equal("application/vnd.github.v3.raw", request.Accept);
    }

    [Fact]
    public void Create_FromEnvironment_RejectsPlainHttpOffLoopback()
    {
        using var fromEnv = GitHubSource.Create(name => name == "KFCI_GITHUB_API_URL" ? _server.BaseAddress.AbsoluteUri : null);
        Assert.NotNull(fromEnv);

        var e = Assert.Throws<InvalidOperationException>(() => GitHubSource.Create(name => name == "KFCI_GITHUB_API_URL" ? "http://github.example/" : null));
        Assert.Contains("KFCI_GITHUB_API_URL", e.Message, StringComparison.Ordinal);
    }
}
