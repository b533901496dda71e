using System.Text;
using Kfci.Prow;
using Kfci.Sources;
using Kfci.Testing.Git;

namespace Kfci.Tests.Sources;

public sealed class LocalGitSourceTests : IDisposable
{
    private static readonly RepositoryName s_repo = new("kubeflow", "testing");

    private readonly TestGitRepository _origin = TestGitRepository.Create();
    private readonly List<IDisposable> _cleanup = [];

    public void Dispose()
    {
        foreach (var item in _cleanup)
        {
            item.Dispose();
        }

        _origin.Dispose();
    }

    private static ProwJobSpec Presubmit(string? baseSha, params (int Number, string Sha)[] pulls) =>
        new(pulls.Length > 1 ? JobType.Batch : JobType.Presubmit, "job", "1", new Refs
        {
            Org = "kubeflow",
            Repo = "testing",
            BaseRef = "master",
            BaseSha = baseSha,
            Pulls = [.. pulls.Select(p => new Pull { Number = p.Number, Sha = p.Sha })],
        }, []);

    private static ProwJobSpec Postsubmit(string sha) =>
        new(JobType.Postsubmit, "job", "1", new Refs { Org = "kubeflow", Repo = "testing", BaseRef = "master", BaseSha = sha }, []);

    private static Task<byte[]?> ReadAsync(LocalGitSource source, string sha, string path, long max = 1 << 20) =>
        source.ReadFileAsync(s_repo, sha, path, max, CancellationToken.None);

    private TestGitRepository Clone(params string[] options)
    {
        var clone = TestGitRepository.Clone(_origin, options);
        _cleanup.Add(clone);
        return clone;
    }

    [Fact]
    public async Task ReadFile_OverRootWithSymlinkedRepository_ReadsTheBlobAtThatCommit()
    {
        _origin.Write("prow_config.yaml", "workflows: []\n");
        var first = _origin.Commit();
        _origin.Write("prow_config.yaml", "workflows: [changed]\n");
        _origin.Commit();
        var root = Directory.CreateTempSubdirectory("kfci-gitroot-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "kubeflow"));
            File.CreateSymbolicLink(Path.Combine(root, "kubeflow", "testing"), _origin.Directory);

            var bytes = await ReadAsync(LocalGitSource.OverRoot(root), first, "./prow_config.yaml");

            Assert.Equal("workflows: []\n", Encoding.UTF8.GetString(bytes!));
            await Assert.ThrowsAsync<SourceNotFoundException>(() =>
                LocalGitSource.OverRoot(root).ReadFileAsync(new RepositoryName("kubeflow", "other"), first, "a", 10, CancellationToken.None));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task ReadFile_MissingPathOrDirectory_ReturnsNull()
    {
        _origin.Write("test/e2e.yaml", "x");
        var sha = _origin.Commit();
        var source = LocalGitSource.OverRepository(_origin.Directory);

        Assert.Null(await ReadAsync(source, sha, "prow_config.yaml"));
        Assert.Null(await ReadAsync(source, sha, "test"));
        Assert.Equal("x"u8.ToArray(), await ReadAsync(source, sha, "test/e2e.yaml"));
    }

    [Fact]
    public async Task ReadFile_MissingCommitWithoutRemote_SourceNotFound()
    {
        _origin.Commit();
        var source = LocalGitSource.OverRepository(_origin.Directory);

        var e = await Assert.ThrowsAsync<SourceNotFoundException>(() => ReadAsync(source, new string('a', 40), "x"));
        Assert.Contains("aaaaaaaa", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadFile_CommitOnlyOnOrigin_FetchedFromRemote()
    {
        _origin.Write("a.txt", "one");
        _origin.Commit();
        var clone = Clone();
        _origin.Git("checkout", "--quiet", "-b", "pr");
        _origin.Write("a.txt", "two");
        var unpublished = _origin.Commit();
        _origin.Git("checkout", "--quiet", "master");

        var bytes = await ReadAsync(LocalGitSource.OverRepository(clone.Directory), unpublished, "a.txt");

        Assert.Equal("two"u8.ToArray(), bytes);
        await Assert.ThrowsAsync<SourceNotFoundException>(() => ReadAsync(LocalGitSource.OverRepository(clone.Directory), new string('b', 40), "a.txt"));
    }

    [Fact]
    public async Task ResolveBranch_OriginBranchMovedSinceTheLastFetch_TheNewHeadNotTheStaleRef()
    {
        _origin.Write("a.txt", "one");
        _origin.Commit();
        var clone = Clone();
        _origin.Git("checkout", "--quiet", "-b", "release+v1");
        var first = _origin.Commit("release");
        var source = LocalGitSource.OverRepository(clone.Directory);
        Assert.Equal(first, await source.ResolveBranchAsync(s_repo, "release+v1", CancellationToken.None));

        // A commit pushed to the branch after kfci fetched it once.
        _origin.Write("a.txt", "two");
        var pushed = _origin.Commit("pushed");

        Assert.Equal(pushed, await source.ResolveBranchAsync(s_repo, "release+v1", CancellationToken.None));
    }

    [Fact]
    public async Task ResolveBranch_LocalOrOnlyOnOrigin_TheHeadNow_AndAMissingBranchIsNamed()
    {
        _origin.Write("a.txt", "one");
        var first = _origin.Commit();
        var clone = Clone();
        _origin.Git("checkout", "--quiet", "-b", "release/v1");
        var release = _origin.Commit("release");
        _origin.Git("checkout", "--quiet", "master");
        var source = LocalGitSource.OverRepository(clone.Directory);

        Assert.Equal(first, await source.ResolveBranchAsync(s_repo, "master", CancellationToken.None));
        Assert.Equal(release, await source.ResolveBranchAsync(s_repo, "release/v1", CancellationToken.None));
        var e = await Assert.ThrowsAsync<SourceNotFoundException>(() => source.ResolveBranchAsync(s_repo, "no-such-branch", CancellationToken.None));
        Assert.Contains("branch 'no-such-branch' of kubeflow/testing not found", e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => source.ResolveBranchAsync(s_repo, "--upload-pack=x", CancellationToken.None));
    }

    [Fact]
    public async Task ResolveBranch_OriginUnreachable_TransientNotMissing()
    {
        _origin.Write("a.txt", "one");
        _origin.Commit();
        var clone = Clone();
        clone.Git("remote", "set-url", "origin", Path.Combine(_origin.Directory, "gone"));
        var source = LocalGitSource.OverRepository(clone.Directory);

        var e = await Assert.ThrowsAsync<IOException>(() => source.ResolveBranchAsync(s_repo, "release/v2", CancellationToken.None));

        Assert.Contains("could not be reached", e.Message, StringComparison.Ordinal);
        Assert.True(Kfci.Http.Transience.IsTransient(e));
    }

    [Fact]
    public async Task ReadFile_LargerThanLimit_SourceLimitException()
    {
        _origin.Write("big.yaml", new byte[100_001]);
        var sha = _origin.Commit();
        var source = LocalGitSource.OverRepository(_origin.Directory);

        var e = await Assert.ThrowsAsync<SourceLimitException>(() => ReadAsync(source, sha, "big.yaml", 100_000));
        Assert.Contains("100001", e.Message, StringComparison.Ordinal);
        Assert.Equal(100_000, (await ReadAsync(source, sha, "big.yaml", 100_001))!.Length - 1);
    }

    [Theory]
    [InlineData("../outside")]
    [InlineData("a/../../outside")]
    [InlineData("/etc/passwd")]
    [InlineData("C:/x")]
    [InlineData("a\\..\\..\\b")]
    [InlineData("a\nb")]
    public async Task ReadFile_PathOutsideRepository_Rejected(string path)
    {
        var sha = _origin.Commit();

        await Assert.ThrowsAsync<ArgumentException>(() => ReadAsync(LocalGitSource.OverRepository(_origin.Directory), sha, path));
    }

    [Theory]
    [InlineData("HEAD")]
    [InlineData("--output=/tmp/x")]
    [InlineData("master")]
    public async Task ReadFile_NotASha_Rejected(string sha)
    {
        _origin.Commit();

        await Assert.ThrowsAsync<ArgumentException>(() => ReadAsync(LocalGitSource.OverRepository(_origin.Directory), sha, "a"));
    }

    [Fact]
    public async Task ChangedFiles_Presubmit_DiffsFromMergeBaseNotFromBaseTip()
    {
        _origin.Write("README.md", "r");
        _origin.Commit();
        _origin.Git("checkout", "--quiet", "-b", "pr");
        _origin.Write("py/new file ü.py", "x");
        _origin.Write("README.md", "changed");
        var head = _origin.Commit();
        _origin.Git("checkout", "--quiet", "master");
        _origin.Write("docs/later-on-master.md", "m");
        var baseSha = _origin.Commit();
        var source = LocalGitSource.OverRepository(_origin.Directory);

        Assert.Equal(["README.md", "py/new file ü.py"], await source.ChangedFilesAsync(Presubmit(baseSha, (1, head)), CancellationToken.None));
        Assert.Equal(["README.md", "py/new file ü.py"], await source.ChangedFilesAsync(Presubmit(null, (1, head)), CancellationToken.None));
    }

    [Fact]
    public async Task ChangedFiles_RenameAndDelete_ListBothOldAndNewPaths()
    {
        _origin.Write("old/a.py", "same content for a rename");
        _origin.Write("gone.txt", "g");
        var baseSha = _origin.Commit();
        _origin.Git("checkout", "--quiet", "-b", "pr");
        Directory.CreateDirectory(Path.Combine(_origin.Directory, "new"));
        _origin.Git("mv", "old/a.py", "new/a.py");
        _origin.Git("rm", "--quiet", "gone.txt");
        var head = _origin.Commit();
        _origin.Git("config", "diff.renames", "true");

        var files = await LocalGitSource.OverRepository(_origin.Directory).ChangedFilesAsync(Presubmit(baseSha, (1, head)), CancellationToken.None);

        Assert.Equal(["gone.txt", "new/a.py", "old/a.py"], files);
    }

    [Fact]
    public async Task ChangedFiles_Batch_UnionOfPulls()
    {
        var baseSha = _origin.Commit();
        _origin.Git("checkout", "--quiet", "-b", "one");
        _origin.Write("a/x", "1");
        var one = _origin.Commit();
        _origin.Git("checkout", "--quiet", "-b", "two", baseSha);
        _origin.Write("b/y", "2");
        _origin.Write("a/x", "2");
        var two = _origin.Commit();

        var files = await LocalGitSource.OverRepository(_origin.Directory).ChangedFilesAsync(Presubmit(baseSha, (1, one), (2, two)), CancellationToken.None);

        Assert.Equal(["a/x", "b/y"], files);
    }

    [Fact]
    public async Task ChangedFiles_PostsubmitMergeCommit_DiffsAgainstFirstParent()
    {
        _origin.Write("base.txt", "b");
        var root = _origin.Commit();
        _origin.Git("checkout", "--quiet", "-b", "feature");
        _origin.Write("feature/f.txt", "f");
        _origin.Commit();
        _origin.Git("checkout", "--quiet", "master");
        _origin.Write("main.txt", "m");
        _origin.Commit();
        _origin.Git("-c", "user.name=t", "-c", "user.email=t@t", "merge", "--quiet", "--no-ff", "--no-edit", "feature");
        var merge = _origin.Head();
        var source = LocalGitSource.OverRepository(_origin.Directory);

        Assert.Equal(["feature/f.txt"], await source.ChangedFilesAsync(Postsubmit(merge), CancellationToken.None));
        Assert.Equal(["base.txt"], await source.ChangedFilesAsync(Postsubmit(root), CancellationToken.None));
    }

    [Fact]
    public async Task ChangedFiles_Periodic_None()
    {
        var periodic = new ProwJobSpec(JobType.Periodic, "job", "1", null, []);

        Assert.Empty(await LocalGitSource.OverRepository(_origin.Directory).ChangedFilesAsync(periodic, CancellationToken.None));
    }

    [Fact]
    public async Task ChangedFiles_ShallowClonePostsubmit_DeepensForTheParent()
    {
        _origin.Write("a.txt", "1");
        _origin.Commit();
        _origin.Write("b.txt", "2");
        var head = _origin.Commit();
        var clone = Clone("--depth", "1");
        Assert.Equal("true", clone.Git("rev-parse", "--is-shallow-repository").Trim());

        var files = await LocalGitSource.OverRepository(clone.Directory).ChangedFilesAsync(Postsubmit(head), CancellationToken.None);

        Assert.Equal(["b.txt"], files);
        Assert.Equal("false", clone.Git("rev-parse", "--is-shallow-repository").Trim());
    }

    [Fact]
    public async Task ChangedFiles_ShallowClonePresubmit_DeepensUntilMergeBase()
    {
        _origin.Write("base.txt", "0");
        _origin.Commit();
        _origin.Git("checkout", "--quiet", "-b", "pr");
        _origin.Write("pr.txt", "p");
        var head = _origin.Commit();
        _origin.Git("checkout", "--quiet", "master");
        for (var i = 0; i < 3; i++)
        {
            _origin.Write("master.txt", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            _origin.Commit();
        }

        var baseSha = _origin.Head();
        var clone = Clone("--depth", "1", "--branch", "master");
        Assert.Equal("true", clone.Git("rev-parse", "--is-shallow-repository").Trim());

        var files = await LocalGitSource.OverRepository(clone.Directory).ChangedFilesAsync(Presubmit(baseSha, (7, head)), CancellationToken.None);

        Assert.Equal(["pr.txt"], files);
        Assert.Equal("false", clone.Git("rev-parse", "--is-shallow-repository").Trim());
    }

    [Fact]
    public async Task ChangedFiles_MissingHeadCommit_SourceNotFound()
    {
        var baseSha = _origin.Commit();

        await Assert.ThrowsAsync<SourceNotFoundException>(() =>
            LocalGitSource.OverRepository(_origin.Directory).ChangedFilesAsync(Presubmit(baseSha, (1, new string('c', 40))), CancellationToken.None));
    }
}
