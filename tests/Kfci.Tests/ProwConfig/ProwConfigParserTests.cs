using System.Diagnostics;
using System.Text;
using Kfci.ProwConfig;
using Kfci.Testing;

namespace Kfci.Tests.ProwConfig;

public sealed class ProwConfigParserTests
{
    public static TheoryData<string, int> EveryFixture() => new()
    {
        { "kserve_kserve.yaml", 0 },
        { "kubeflow_examples.yaml", 5 },
        { "kubeflow_fairing.yaml", 1 },
        { "kubeflow_katib.yaml", 0 },
        { "kubeflow_kfctl.yaml", 1 },
        { "kubeflow_kubeflow.yaml", 61 },
        { "kubeflow_manifests.yaml", 0 },
        { "kubeflow_mpi-operator.yaml", 0 },
        { "kubeflow_pipelines.yaml", 0 },
        { "kubeflow_pytorch-operator.yaml", 2 },
        { "kubeflow_testing.yaml", 0 },
        { "kubeflow_training-operator.yaml", 0 },
        { "history/kserve_kserve@638fff6.yaml", 2 },
        { "history/kubeflow_katib@33f8395.yaml", 1 },
        { "history/kubeflow_kubeflow@9741891.yaml", 14 },
        { "history/kubeflow_manifests@e144160.yaml", 6 },
        { "history/kubeflow_testing@9d395fc.yaml", 3 },
        { "history/kubeflow_training-operator@7cdc253.yaml", 2 },
    };

    internal static ProwConfigFile Fixture(string name) =>
        ProwConfigParser.Parse(File.ReadAllBytes(Fixtures.PathOf($"prow_config/{name}")), name);

    [Fact]
    public void EveryFixture_IsListed()
    {
        var dir = Fixtures.PathOf("prow_config");
        var files = Directory.EnumerateFiles(dir, "*.yaml", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(dir, f).Replace('\\', '/')).Order(StringComparer.Ordinal);

        Assert.Equal(files, EveryFixture().Select(row => (string)row[0]).Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(EveryFixture))]
    public void Parse_Fixture_HasExpectedEntriesAllUnsupported(string name, int count)
    {
        var config = Fixture(name);

        Assert.Equal(count, config.Workflows.Count);
        Assert.Equal(Enumerable.Range(0, count), config.Workflows.Select(w => w.Index));
        Assert.All(config.Workflows, w => Assert.False(string.IsNullOrWhiteSpace(w.Name)));
        Assert.All(config.Workflows, w => Assert.StartsWith("unsupported: ", w.UnsupportedReason, StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_KubeflowKubeflow_ReadsPyFuncEntries()
    {
        var config = Fixture("kubeflow_kubeflow.yaml");
        var first = config.Workflows[0];

        Assert.Equal(["kubeflow/testing/py", "kubeflow/kubeflow/py"], config.PythonPaths);
        Assert.Equal("common-ui", first.Name);
        Assert.Equal("kubeflow.kubeflow.ci.common_ui_tests.create_workflow", first.PyFunc);
        Assert.Equal(["presubmit"], first.JobTypes);
        Assert.Equal(["releasing/version/*", "components/crud-web-apps/common/frontend/kubeflow-common-lib/*"], first.IncludeDirs);
        Assert.Empty(first.Kwargs);
        Assert.Contains("py_func", first.UnsupportedReason, StringComparison.Ordinal);
        Assert.True(config.Workflows.GroupBy(w => w.Name).Any(g => g.Count() > 1), "real configs reuse names");
    }

    [Fact]
    public void Parse_KsonnetAndTektonEntries_ReadParamsAndPaths()
    {
        var fairing = Fixture("kubeflow_fairing.yaml").Workflows[0];
        var examples = Fixture("kubeflow_examples.yaml").Workflows;
        var kfctl = Fixture("kubeflow_kfctl.yaml").Workflows[0];

        Assert.Equal("kubeflow/fairing/tests/workflows", fairing.AppDir);
        Assert.Equal("workflows", fairing.Component);
        Assert.Equal("gcr.io/kubeflow-ci", fairing.Params["registry"]);
        Assert.Contains("ksonnet", fairing.UnsupportedReason, StringComparison.Ordinal);
        Assert.Equal("kubeflow/examples/mnist/tests/mnist-nb-pipeline-run.yaml", examples[4].TektonRun);
        Assert.Contains("tekton_run", examples[4].UnsupportedReason, StringComparison.Ordinal);
        Assert.Equal("false", kfctl.Kwargs["build_and_apply"]);
        Assert.Equal(["periodic"], kfctl.JobTypes);
    }

    [Fact]
    public void Parse_KfciAdditions_ReadWorkflowAndExcludeDirsAndKeepUnknownKeys()
    {
        const string yaml = """
            workflows:
              - name: e2e
                workflow: ./test/../test/e2e.yaml
                job_types: presubmit
                include_dirs: [py/*]
                exclude_dirs:
                  - docs/*
                params: {registry: gcr.io/x, nested: {a: 1}, empty: }
                future_key: [1, 2]
            """;

        var entry = Assert.Single(ProwConfigParser.Parse(yaml).Workflows);

        Assert.Equal("test/e2e.yaml", entry.Workflow);
        Assert.True(entry.IsSupported);
        Assert.Null(entry.UnsupportedReason);
        Assert.Equal(["presubmit"], entry.JobTypes);
        Assert.Equal(["docs/*"], entry.ExcludeDirs);
        Assert.Equal("""{"a":"1"}""", entry.Params["nested"]);
        Assert.Equal("", entry.Params["empty"]);
        Assert.Equal(new List<object?> { "1", "2" }, entry.Other["future_key"]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("# only a comment\n")]
    [InlineData("workflows:")]
    [InlineData("python_paths: [a/b/c]")]
    public void Parse_NoWorkflows_IsEmpty(string yaml) =>
        Assert.Empty(ProwConfigParser.Parse(yaml).Workflows);

    [Theory]
    [InlineData("workflows:\n  - name: a\n    workflow: ../outside.yaml", "leaves the repository", 3)]
    [InlineData("workflows:\n  - name: a\n    workflow: a/../../outside.yaml", "leaves the repository", 3)]
    [InlineData("workflows:\n  - name: a\n    workflow: /etc/passwd", "must be relative", 3)]
    [InlineData("workflows:\n  - name: a\n    workflow: C:/x.yaml", "must be relative", 3)]
    [InlineData("workflows:\n  - name: a\n    workflow: .", "names the repository root", 3)]
    [InlineData("workflows:\n  - job_types: [presubmit]", "has no name", 2)]
    [InlineData("workflows: {a: 1}", "must be a list", 1)]
    [InlineData("workflows:\n  - name: [a]", "must be a single value", 2)]
    [InlineData("- a\n- b", "must be a mapping", 1)]
    [InlineData("workflows: [\n  - name: a", "invalid YAML at line", 2)]
    [InlineData("workflows:\n  - name: a\n   bad: indent", "invalid YAML at line 3", 3)]
    [InlineData("a: 1\n---\nb: 2", "2 YAML documents", 0)]
    public void Parse_InvalidConfig_OneLineErrorWithLocation(string yaml, string message, int line)
    {
        var e = Assert.Throws<ProwConfigException>(() => ProwConfigParser.Parse(yaml, "prow_config.yaml"));

        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        if (line > 0)
        {
            Assert.Contains($"line {line}", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Parse_BillionLaughs_FailsFastWithClearError()
    {
        var yaml = new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (var level = 'b'; level <= 'i'; level++)
        {
            var previous = (char)(level - 1);
            yaml.Append(level).Append(": &").Append(level).Append(" [")
                .Append(string.Join(",", Enumerable.Repeat($"*{previous}", 9))).Append("]\n");
        }

        yaml.Append("workflows:\n  - name: bomb\n    kwargs: {x: *i}\n");
        var started = Stopwatch.StartNew();

        var e = Assert.Throws<ProwConfigException>(() => ProwConfigParser.Parse(yaml.ToString()));

        Assert.Contains("alias", e.Message, StringComparison.Ordinal);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(1), $"took {started.Elapsed}");
    }

    [Fact]
    public void Parse_FewAliasesExpandingHugely_FailsOnExpandedSize()
    {
        // 80 aliases stay under the alias limit, but four levels of 20 expand to 160,000 nodes when the entry is read.
        var yaml = new StringBuilder("a: &a [x]\n");
        foreach (var (level, previous) in new[] { ('b', 'a'), ('c', 'b'), ('d', 'c') })
        {
            yaml.Append(level).Append(": &").Append(level).Append(" [").Append(string.Join(",", Enumerable.Repeat($"*{previous}", 20))).Append("]\n");
        }

        yaml.Append("workflows:\n  - name: bomb\n    kwargs: {x: [").Append(string.Join(",", Enumerable.Repeat("*d", 20))).Append("]}\n");

        var e = Assert.Throws<ProwConfigException>(() => ProwConfigParser.Parse(yaml.ToString()));

        Assert.Contains("expanded", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_TooLarge_Rejected()
    {
        var bytes = Encoding.UTF8.GetBytes("# " + new string('x', ProwConfigParser.MaxBytes));

        var e = Assert.Throws<ProwConfigException>(() => ProwConfigParser.Parse(bytes));

        Assert.Contains("more than", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_InvalidUtf8_Rejected() =>
        Assert.Throws<ProwConfigException>(() => ProwConfigParser.Parse([0x77, 0xff, 0xfe]));
}
