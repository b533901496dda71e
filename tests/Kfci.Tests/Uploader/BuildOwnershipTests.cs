using System.Text;
using System.Xml.Linq;
using Kfci.Functions.Uploader;
using Kfci.Prow;
using Kfci.Runs;
using Kfci.Testing;
using Kfci.Tests.Storage;

namespace Kfci.Tests.Uploader;

/// <summary>
/// Who writes what in a build folder: Prow's pod owns the metadata of a Prow-owned build (kfci writes only under
/// <c>artifacts/</c>), kfci the whole folder of its own; junit names TestGrid can keep a history of; the NFS artifacts
/// collected as the cloud deployment does.
/// </summary>
[Collection(EmulatorCollection.Name)]
public sealed class BuildOwnershipTests(EmulatorFixture emulators, FakeGcsFixture gcs) : IClassFixture<FakeGcsFixture>, IDisposable
{
    private const string ProwFinished = """{"timestamp": 1595279434, "passed": true, "result": "SUCCESS", "metadata": {"uploader": "sidecar"}}""";

    private readonly string _nfs = Directory.CreateTempSubdirectory("kfci-nfs-").FullName;

    private readonly List<string> _readOnly = [];

    public void Dispose()
    {
        foreach (var directory in _readOnly)
        {
            if (OperatingSystem.IsWindows())
            {
                break;
            }

            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        Directory.Delete(_nfs, recursive: true);
    }

    [Fact]
    public async Task ProwOwnedBuild_WritesOnlyUnderArtifacts_AndLeavesProwsFilesAlone()
    {
        await using var h = await UploaderHarness.StartAsync(emulators, gcs.Server, _nfs);
        var spec = UploaderHarness.Spec(JobType.Presubmit);
        var dir = $"pr-logs/pull/kubeflow_kubeflow/4242/kubeflow-e2e/{spec.BuildId}";
        var prowFiles = new Dictionary<string, string>
        {
            [$"{dir}/started.json"] = """{"timestamp": 1595277241}""",
            [$"{dir}/finished.json"] = ProwFinished,
            [$"{dir}/build-log.txt"] = "kfci wait output\n",
            ["pr-logs/directory/kubeflow-e2e/latest-build.txt"] = "1",
        };
        var generations = new Dictionary<string, long>();
        foreach (var (path, content) in prowFiles)
        {
            using var stream = new MemoryStream(Encoding.UTF8.GetBytes(content));
            generations[path] = (await h.Store.WriteAsync(path, stream, null, default))!.Generation;
        }

        WriteArtifact("e2e", "junit_unit.xml", """<testsuite tests="1" failures="1"><testcase name="t"><failure>broken</failure></testcase></testsuite>""");
        var run = await h.AddCompletedRunAsync(
            spec,
            [("e2e", "Failed", [new TestStep("checkout"), new TestStep("test", "Failed", "exit code 1")])],
            r => r with { Source = "crier", Owner = BuildOwners.Prow });

        await h.DeliverOkAsync(RunEventTypes.Submitted, run);
        await h.DeliverOkAsync(RunEventTypes.Completed, run);
        await h.DeliverOkAsync(RunEventTypes.Completed, run, "m-redelivered");

        foreach (var (path, content) in prowFiles)
        {
            Assert.Equal(content, await h.ReadTextAsync(path));
            Assert.Equal(generations[path], (await h.Store.GetAsync(path, default))!.Generation);
        }

        var kfciWrote = (await h.ListAsync()).Except(prowFiles.Keys).ToList();
        Assert.All(kfciWrote, name => Assert.StartsWith($"{dir}/artifacts/", name, StringComparison.Ordinal));
        Assert.Contains($"{dir}/artifacts/junit_e2e.xml", kfciWrote);
        Assert.Contains($"{dir}/artifacts/junit_e2e__junit_unit.xml", kfciWrote);
        Assert.Contains($"{dir}/artifacts/e2e.yaml", kfciWrote);
        Assert.Contains($"{dir}/artifacts/logs/e2e/test.log", kfciWrote);
        Assert.Contains($"{dir}/artifacts/kfci-build-log.txt", kfciWrote);
        Assert.Contains("\"FAILURE\"", (await h.ReadTextAsync($"{dir}/artifacts/kfci-finished.json"))!, StringComparison.Ordinal);

        var stored = (await h.Runs.GetAsync(run.RunId, default))!;
        Assert.Equal((RunState.Finished, RunResults.Failure, BuildOwners.Prow), (stored.State, stored.Result, stored.Owner));
    }

    [Fact]
    public async Task ProwOwnedBuild_ArtifactsGoWhereCriersGcsPathSays_AnotherBucketIsRefused()
    {
        // Prow's path_prefix and path strategy are Prow's business: its gcs_path is the folder, whatever kfci's layout says.
        await using var h = await UploaderHarness.StartAsync(emulators, gcs.Server, _nfs);
        var bucket = h.Settings.ResultsBucket!;
        var spec = UploaderHarness.Spec(JobType.Periodic);
        var folder = $"prow-prefix/logs/kubeflow-e2e/{spec.BuildId}";
        var run = await h.AddCompletedRunAsync(
            spec,
            [("wf", "Succeeded", [new TestStep("only")])],
            r => r with { Source = "crier", Owner = BuildOwners.Prow, Links = new Dictionary<string, string> { [RunLinks.ProwGcsPath] = $"gs://{bucket}/{folder}" } });

        await h.DeliverOkAsync(RunEventTypes.Completed, run);

        var names = await h.ListAsync();
        Assert.Contains($"{folder}/artifacts/kfci-finished.json", names);
        Assert.All(names, n => Assert.StartsWith($"{folder}/artifacts/", n, StringComparison.Ordinal));
        Assert.Equal($"gs://{bucket}/{folder}", (await h.Runs.GetAsync(run.RunId, default))!.ResultsPath);

        var elsewhere = await h.AddCompletedRunAsync(
            UploaderHarness.Spec(JobType.Periodic),
            [("wf2", "Succeeded", [new TestStep("only")])],
            r => r with { Source = "crier", Owner = BuildOwners.Prow, Links = new Dictionary<string, string> { [RunLinks.ProwGcsPath] = "gs://someone-elses-bucket/logs/j/1" } });
        var refused = await h.DeliverAsync(RunEventTypes.Completed, elsewhere, "m-elsewhere");
        Assert.True(refused.IsSuccessStatusCode, "a permanent refusal is acknowledged, not redelivered");
        Assert.Contains("not kfci's results bucket", string.Join("\n", h.Host.Logs.Entries.Select(e => e.Message)), StringComparison.Ordinal);
        Assert.DoesNotContain(await h.ListAsync(), n => n.Contains("/logs/j/1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task KfciOwnedBuild_StillWritesTheWholeFolder()
    {
        await using var h = await UploaderHarness.StartAsync(emulators, gcs.Server, _nfs);
        var spec = UploaderHarness.Spec(JobType.Postsubmit);
        var run = await h.AddCompletedRunAsync(spec, [("wf", "Succeeded", [new TestStep("only")])]);
        Assert.Equal(BuildOwners.Kfci, run.Owner);

        await h.DeliverOkAsync(RunEventTypes.Completed, run);

        var dir = $"logs/kubeflow-e2e/{spec.BuildId}";
        var names = await h.ListAsync();
        Assert.Contains($"{dir}/started.json", names);
        Assert.Contains($"{dir}/finished.json", names);
        Assert.Contains($"{dir}/build-log.txt", names);
        Assert.Contains("logs/kubeflow-e2e/latest-build.txt", names);
    }

    [Fact]
    public void MayWrite_ProwOwnedBuild_OnlyArtifacts()
    {
        var prow = new BuildResults(JobType.Periodic, "logs/j/1", new JobSpecRefs(null, null), ProwOwned: true);
        Assert.True(prow.MayWrite("logs/j/1/artifacts/junit_a.xml"));
        Assert.False(prow.MayWrite("logs/j/1/finished.json"));
        Assert.False(prow.MayWrite("logs/j/1/build-log.txt"));
        Assert.False(prow.MayWrite("logs/j/1/artifacts/../finished.json"));
        Assert.False(prow.MayWrite("logs/j/latest-build.txt"));
        var kfci = prow with { ProwOwned = false };
        Assert.True(kfci.MayWrite("logs/j/1/finished.json"));
        Assert.False(kfci.MayWrite("logs/j/10/finished.json"));
    }

    [Fact]
    public async Task SynthesizedJunit_TwoBuildsOfTheSameJob_HaveIdenticalSuiteAndTestNames()
    {
        await using var h = await UploaderHarness.StartAsync(emulators, gcs.Server);
        var names = new List<(string Suite, string[] Tests)>();
        foreach (var (workflow, buildId) in new[] { ("e2e-1ac7ffe-2446", "1001"), ("e2e-9bd1c2a-7781", "1002") })
        {
            var spec = UploaderHarness.Spec(JobType.Postsubmit, buildId: buildId);
            var run = await h.AddCompletedRunAsync(
                spec,
                [(workflow, "Failed", [new TestStep("checkout"), new TestStep("test", "Failed", "exit 1"), new TestStep($"{workflow}.onExit")])],
                r => r with { Workflows = [r.Workflows[0] with { EntryName = "e2e", TestTarget = "kubeflow-e2e-target" }] });

            await h.DeliverOkAsync(RunEventTypes.Completed, run, "m-" + buildId);

            var report = XDocument.Parse((await h.ReadTextAsync($"logs/kubeflow-e2e/{buildId}/artifacts/junit_{workflow}.xml"))!);
            var suite = report.Root!.Attribute("name")!.Value;
            Assert.All(report.Root.Elements("testcase"), c => Assert.Equal(suite, c.Attribute("classname")!.Value));
            names.Add((suite, report.Root.Elements("testcase").Select(c => c.Attribute("name")!.Value).ToArray()));
        }

        Assert.Equal("kubeflow-e2e-target", names[0].Suite);
        Assert.Equal(["onExit", "test", "checkout"], names[0].Tests); // start order: the harness starts later steps first
        Assert.Equal(names[0].Suite, names[1].Suite);
        Assert.Equal(names[0].Tests, names[1].Tests);
    }

    [Fact]
    public async Task CloudMode_CollectsArtifactsDirFromTheReadOnlyShare_AsTheDeploymentConfiguresIt()
    {
        WriteArtifact("wf", "junit_e2e.xml", """<testsuite tests="2" failures="1"><testcase name="a"/><testcase name="b"><failure>x</failure></testcase></testsuite>""");
        WriteArtifact("wf", "reports/coverage.txt", "91%");
        WriteArtifact("wf", "big.bin", new string('x', 4096));
        WriteArtifact("wf", "../secret-of-the-workflow.txt", "inside the workflow's directory");
        var outside = Path.Combine(_nfs, "other-workflow-secret.txt");
        File.WriteAllText(outside, "another workflow's file");
        var artifacts = ArtifactsDirectory.PathOf(_nfs, "wf");
        File.CreateSymbolicLink(Path.Combine(artifacts, "escape.txt"), outside);
        File.CreateSymbolicLink(Path.Combine(artifacts, "passwd"), "/etc/passwd");
        File.CreateSymbolicLink(Path.Combine(artifacts, "inside.txt"), Path.Combine(_nfs, "wf", "output", "secret-of-the-workflow.txt"));
        Directory.CreateSymbolicLink(Path.Combine(artifacts, "root"), "/");
        MakeReadOnly(Path.Combine(_nfs, "wf"), Path.Combine(_nfs, "wf", "output"), artifacts, Path.Combine(artifacts, "reports"));

        // As Terraform deploys it: KFCI_NFS_ROOT names the share Cloud Run mounts read-only; the store is the GCS bucket.
        var environment = new Dictionary<string, string> { ["KFCI_NFS_ROOT"] = _nfs };
        var deployed = UploaderSettings.FromEnvironment(name => environment.GetValueOrDefault(name));
        await using var h = await UploaderHarness.StartAsync(emulators, gcs.Server, tweak: s => s with
        {
            NfsRoot = deployed.NfsRoot,
            ArtifactLimits = new ArtifactLimits { MaxFileBytes = 1024 },
        });
        var spec = UploaderHarness.Spec(JobType.Periodic);
        var run = await h.AddCompletedRunAsync(spec, [("wf", "Succeeded", [new TestStep("only")])]);

        await h.DeliverOkAsync(RunEventTypes.Completed, run);

        var dir = $"logs/kubeflow-e2e/{spec.BuildId}/artifacts";
        var names = await h.ListAsync(dir + "/");
        Assert.Contains($"{dir}/junit_wf__junit_e2e.xml", names);
        Assert.Equal("91%", await h.ReadTextAsync($"{dir}/wf/reports/coverage.txt"));
        Assert.Equal("inside the workflow's directory", await h.ReadTextAsync($"{dir}/wf/inside.txt"));
        Assert.DoesNotContain($"{dir}/wf/escape.txt", names);
        Assert.DoesNotContain($"{dir}/wf/passwd", names);
        Assert.DoesNotContain(names, n => n.StartsWith($"{dir}/wf/root/", StringComparison.Ordinal));
        Assert.DoesNotContain($"{dir}/wf/big.bin", names);
        var log = (await h.ReadTextAsync($"logs/kubeflow-e2e/{spec.BuildId}/build-log.txt"))!;
        Assert.Contains("big.bin: 4096 bytes, more than the 1024 allowed per file", log, StringComparison.Ordinal);
        Assert.Contains("escape.txt: a symbolic link", log, StringComparison.Ordinal);
        Assert.Equal(RunResults.Failure, (await h.Runs.GetAsync(run.RunId, default))!.Result);
    }

    [Fact]
    public async Task CloudMode_ArtifactNamedAsGcsRefuses_IsLeftOutAndTheRunFinishes()
    {
        // The code under test names its files: a newline is a legal file name and an illegal object name.
        WriteArtifact("wf", "report\nx.txt", "odd");
        WriteArtifact("wf", "fine.txt", "ok");
        await using var h = await UploaderHarness.StartAsync(emulators, gcs.Server, tweak: s => s with { NfsRoot = _nfs });
        var spec = UploaderHarness.Spec(JobType.Periodic);
        var run = await h.AddCompletedRunAsync(spec, [("wf", "Succeeded", [new TestStep("only")])]);

        await h.DeliverOkAsync(RunEventTypes.Completed, run);

        Assert.Equal(RunState.Finished, (await h.Runs.GetAsync(run.RunId, default))!.State);
        Assert.Equal("ok", await h.ReadTextAsync($"logs/kubeflow-e2e/{spec.BuildId}/artifacts/wf/fine.txt"));
        var log = (await h.ReadTextAsync($"logs/kubeflow-e2e/{spec.BuildId}/build-log.txt"))!;
        Assert.Contains("wf: artifact left out: report?x.txt: its object name would have control characters", log, StringComparison.Ordinal);
    }

    private void WriteArtifact(string workflow, string relative, string content)
    {
        var path = Path.GetFullPath(Path.Combine(ArtifactsDirectory.PathOf(_nfs, workflow), relative));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    // Listed, not walked: a walk could follow the test's own link to '/'.
    private void MakeReadOnly(params string[] directories)
    {
        foreach (var directory in directories.Reverse())
        {
            if (OperatingSystem.IsWindows())
            {
                return;
            }

            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserExecute);
            _readOnly.Add(directory);
        }
    }
}
