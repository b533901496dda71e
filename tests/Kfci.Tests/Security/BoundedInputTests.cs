using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using System.Xml;
using Kfci.Argo;
using Kfci.Functions.Uploader;
using Kfci.Prow;
using Kfci.ProwConfig;
using Kfci.Sources;
using Kfci.Tests.Workflows;
using Kfci.Workflows;

namespace Kfci.Tests.Security;

/// <summary>Findings: inputs a pull request or an event controls were unbounded, or reached places that interpret them.</summary>
public sealed class BoundedInputTests
{
    private const string Sha = "0123456789abcdef0123456789abcdef01234567";

    private sealed class InMemorySource(Dictionary<string, byte[]> files) : IRepositorySource
    {
        public int BytesRead { get; private set; }

        public Task<byte[]?> ReadFileAsync(RepositoryName repository, string commitSha, string path, long maxBytes, CancellationToken cancellationToken)
        {
            var bytes = files.GetValueOrDefault(path);
            BytesRead += bytes?.Length ?? 0;
            return Task.FromResult(bytes);
        }

        public Task<IReadOnlyList<string>> ChangedFilesAsync(ProwJobSpec job, CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<string>>([]);

        public Task<string> ResolveBranchAsync(RepositoryName repository, string branch, CancellationToken cancellationToken) => Task.FromResult(Sha);
    }

    /// <summary>
    /// 50,000 nested '[' overflowed the stack in YamlDotNet's recursive loader, which kills the process (no catch can
    /// help), so this runs the real command in a child process: before the fix it died with SIGABRT.
    /// </summary>
    [Fact]
    public async Task PlanCommand_FiftyThousandNestedBrackets_OneLineErrorNotACrash()
    {
        var config = Path.Combine(Directory.CreateTempSubdirectory("kfci-deep-").FullName, "prow_config.yaml");
        await File.WriteAllTextAsync(config, "workflows: " + new string('[', 50_000));
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "kfci")) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in new[] { "plan", "--prow-config", config, "--job-type", "periodic" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal(2, process.ExitCode);
        Assert.Contains("nested deeper than 32 levels", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Fact]
    public void ParseProwConfig_DeepNestingAnywhere_RefusedWithLocation()
    {
        var yaml = "ignored_by_kfci: " + new string('[', 40) + new string(']', 40);

        var e = Assert.Throws<ProwConfigException>(() => ProwConfigParser.Parse(yaml));

        Assert.Contains("nested deeper than 32 levels (line 1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseProwConfig_TooManyEntries_Refused()
    {
        var yaml = "workflows:\n" + string.Concat(Enumerable.Range(0, ProwConfigParser.MaxEntries + 1).Select(i => $"- name: e{i}\n  workflow: w.yaml\n"));

        var e = Assert.Throws<ProwConfigException>(() => ProwConfigParser.Parse(yaml));

        Assert.Contains($"more than the {ProwConfigParser.MaxEntries}", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Eight entries naming one workflow file just under 1 MiB: the run is refused before it holds them all.</summary>
    [Fact]
    public async Task BuildPlan_EntriesNamingAHugeWorkflow_RefusedAtTheRunBudget()
    {
        var workflow = WorkflowRendererTests.Example.Replace("      value: default-cluster", "      value: default-cluster\n" + LongValue(), StringComparison.Ordinal);
        var config = "workflows:\n" + string.Concat(Enumerable.Range(0, 8).Select(i => $"- name: e{i}\n  workflow: big.yaml\n"));
        var source = new InMemorySource(new() { ["prow_config.yaml"] = Encoding.UTF8.GetBytes(config), ["big.yaml"] = Encoding.UTF8.GetBytes(workflow) });
        var job = new ProwJobSpec(JobType.Periodic, "p", "1", new Refs { Org = "kubeflow", Repo = "kubeflow", BaseRef = "master", BaseSha = Sha }, []);

        var e = await Assert.ThrowsAsync<RunPlanningException>(() => RunPlan.BuildAsync(source, job, new Dictionary<string, string>(), WorkflowRendererTests.Options, CancellationToken.None));

        Assert.Contains($"more than {RunPlan.MaxRenderedBytes} bytes rendered", e.Message, StringComparison.Ordinal);
        Assert.True(source.BytesRead < 6 * BoundedYaml.MaxBytes, $"read {source.BytesRead} bytes");
    }

    // A parameter whose value is ~900 KB: a file under the per-file limit that renders to ~900 KB of JSON.
    private static string LongValue() => "    - name: blob\n      value: \"" + new string('a', 900_000) + "\"";

    /// <summary>A junit report far larger than any real one is not read to its end: it counts as one failure.</summary>
    [Fact]
    public async Task CountJunitFailures_OversizeReport_StopsAtTheCap()
    {
        await using var report = new RepeatingStream("<testsuite>", "<testcase name=\"t\"><failure/></testcase>", "</testsuite>", Junit.MaxReportCharacters + 1_000_000);

        var e = await Assert.ThrowsAsync<XmlException>(() => Junit.CountFailuresAsync(report, CancellationToken.None));

        Assert.Contains("MaxCharactersInDocument", e.Message, StringComparison.Ordinal);
        Assert.True(report.Position < Junit.MaxReportCharacters + 1_000_000, "read the whole report");
    }

    /// <summary>A few KB of base64 in status.compressedNodes that inflate to 200 MB: refused, not parsed.</summary>
    [Fact]
    public void PodNodes_CompressedNodesZipBomb_Refused()
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            gzip.Write("""{"wf-1": {"id": "wf-1", "name": "wf", "type": "Pod", "phase": "Succeeded"}"""u8);
            var spaces = new byte[1024 * 1024];
            Array.Fill(spaces, (byte)' ');
            for (var i = 0; i < 200; i++)
            {
                gzip.Write(spaces);
            }

            gzip.Write("}"u8);
        }

        var workflow = new JsonObject { ["status"] = new JsonObject { ["compressedNodes"] = Convert.ToBase64String(compressed.ToArray()) } };

        Assert.Empty(WorkflowOutcome.PodNodes(workflow));
    }

    [Fact]
    public void PodNodes_CompressedNodesOfRealSize_Read()
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write("""{"wf-1": {"id": "wf-1", "name": "wf", "type": "Pod", "phase": "Succeeded"}}"""u8);
        }

        var workflow = new JsonObject { ["status"] = new JsonObject { ["compressedNodes"] = Convert.ToBase64String(compressed.ToArray()) } };

        Assert.Single(WorkflowOutcome.PodNodes(workflow));
    }

    [Theory]
    [InlineData("ci-periodic\n")]
    [InlineData("ci-periodic\r\n")]
    public void ParseEvent_NameEndingInNewline_Refused(string name)
    {
        var data = Encoding.UTF8.GetBytes(new JsonObject { ["name"] = name }.ToJsonString());

        Assert.Throws<InvalidEventException>(() =>
            ProwEventParser.Parse(data, new Dictionary<string, string> { [ProwEventParser.EventTypeAttribute] = ProwEventParser.PeriodicEvent }, "1", DateTimeOffset.UnixEpoch));
    }

    /// <summary>Argo expands {{…}} and evaluates {{=…}} in env values: a PR title must arrive as text.</summary>
    [Fact]
    public void Render_PullTitleWithArgoExpression_ReachesTheStepAsInertText()
    {
        const string title = "fix {{=sprig.env('HOME')}} and {{{workflow.uid}}}";
        var job = WorkflowRendererTests.Presubmit();
        job = job with { Refs = job.Refs! with { Pulls = [job.Refs!.Pulls![0] with { Title = title }] } };

        var workflow = WorkflowRenderer.Render(Encoding.UTF8.GetBytes(WorkflowRendererTests.Example), job, WorkflowRendererTests.Entry(job), WorkflowRendererTests.Options, new Dictionary<string, string> { ["EXTRA"] = "{{workflow.name}}" });

        var env = workflow["spec"]!["templates"]![1]!["container"]!["env"]!.AsArray().OfType<JsonObject>().ToDictionary(e => e["name"]!.GetValue<string>(), e => e["value"]!.GetValue<string>());
        Assert.All(env.Values, v => Assert.DoesNotContain("{{", v, StringComparison.Ordinal));
        Assert.Equal(title, JsonNode.Parse(env["JOB_SPEC"])!["refs"]!["pulls"]![0]!["title"]!.GetValue<string>());
        Assert.Equal("fix { {=sprig.env('HOME')}} and { { {workflow.uid}}}", env["PULL_TITLE"]);
        Assert.Equal("{ {workflow.name}}", env["EXTRA"]);
    }

    [Theory]
    [InlineData("GITHUB_TOKEN", "abc")]
    [InlineData("db_password", "abc")]
    [InlineData("SOMETHING", "ghp_abcdefghijklmnopqrstuvwxyz0123456789")]
    [InlineData("KEY_FILE_CONTENT", "-----BEGIN RSA PRIVATE KEY-----\nMII")]
    public void Redact_SecretLookingEnv_HiddenInEveryContainer(string name, string value)
    {
        var workflow = new JsonObject
        {
            ["spec"] = new JsonObject
            {
                ["templates"] = new JsonArray(new JsonObject
                {
                    ["container"] = new JsonObject
                    {
                        ["env"] = new JsonArray(new JsonObject { ["name"] = "PLAIN", ["value"] = "visible" }, new JsonObject { ["name"] = name, ["value"] = value }),
                    },
                }),
            },
        };

        var redacted = SecretRedaction.Redact(workflow)!;

        var env = redacted["spec"]!["templates"]![0]!["container"]!["env"]!.AsArray();
        Assert.Equal("visible", env[0]!["value"]!.GetValue<string>());
        Assert.Equal(SecretRedaction.Redacted, env[1]!["value"]!.GetValue<string>());
        Assert.Equal(value, workflow["spec"]!["templates"]![0]!["container"]!["env"]![1]!["value"]!.GetValue<string>());
    }

    /// <summary>A stream of a head, a body repeated to a length, and a tail, generated as it is read.</summary>
    private sealed class RepeatingStream(string head, string body, string tail, long length) : Stream
    {
        private readonly byte[] _head = Encoding.UTF8.GetBytes(head);
        private readonly byte[] _body = Encoding.UTF8.GetBytes(body);
        private readonly byte[] _tail = Encoding.UTF8.GetBytes(tail);
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var written = 0;
            while (written < count && _position < length)
            {
                buffer[offset + written++] = ByteAt(_position++);
            }

            return written;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private byte ByteAt(long position)
        {
            if (position < _head.Length)
            {
                return _head[position];
            }

            var fromEnd = length - position;
            if (fromEnd <= _tail.Length)
            {
                return _tail[_tail.Length - fromEnd];
            }

            return _body[(position - _head.Length) % _body.Length];
        }
    }
}
