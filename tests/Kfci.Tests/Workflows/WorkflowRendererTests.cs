using System.Text;
using System.Text.Json.Nodes;
using Kfci.Prow;
using Kfci.ProwConfig;
using Kfci.Runs;
using Kfci.Testing;
using Kfci.Workflows;

namespace Kfci.Tests.Workflows;

public sealed class WorkflowRendererTests
{
    internal const string Example = """
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata:
          generateName: e2e-
          labels:
            team: notebooks
        spec:
          entrypoint: main
          arguments:
            parameters:
            - name: cluster
              value: default-cluster
            - name: test_dir
              value: /somewhere/else
          volumes:
          - name: test-data-volume
            persistentVolumeClaim:
              claimName: "{{workflow.parameters.nfs_claim}}"
          templates:
          - name: main
            steps:
            - - name: checkout
                template: checkout
          - name: checkout
            container:
              image: "{{workflow.parameters.step_image}}"
              command: [sh, -c, "echo {{workflow.parameters.repo_spec}}"]
              env:
              - name: JOB_NAME
                value: authors-own
              volumeMounts:
              - name: test-data-volume
                mountPath: /mnt/test-data-volume
        """;

    internal static readonly WorkflowRenderOptions Options = new() { Bucket = "kubernetes-jenkins" };

    internal static ProwJobSpec Presubmit(string jobName = "kubeflow-presubmit") => new(JobType.Presubmit, jobName, "1234567890", new Refs
    {
        Org = "kubeflow",
        Repo = "kubeflow",
        BaseRef = "master",
        BaseSha = "0123456789abcdef",
        Pulls = [new Pull { Number = 77, Sha = "123abcdef", Author = "someone" }],
    }, []);

    internal static PlanEntry Entry(ProwJobSpec job, string path = "testing/e2e.yaml", IReadOnlyDictionary<string, string>? parameters = null)
    {
        var entry = new WorkflowEntry { Index = 0, Name = "e2e", Workflow = path, Params = parameters ?? new Dictionary<string, string>() };
        return new PlanEntry(entry, true, "no include_dirs", WorkflowNames.For(job, ["e2e"])[0]);
    }

    private static JsonObject Render(string yaml, ProwJobSpec? job = null, PlanEntry? entry = null, IReadOnlyDictionary<string, string>? envs = null)
    {
        job ??= Presubmit();
        return WorkflowRenderer.Render(Encoding.UTF8.GetBytes(yaml), job, entry ?? Entry(job), Options, envs);
    }

    private static string? Parameter(JsonObject workflow, string name) =>
        workflow["spec"]!["arguments"]!["parameters"]!.AsArray().OfType<JsonObject>()
            .Single(p => p["name"]!.GetValue<string>() == name)["value"]?.GetValue<string>();

    private static string? Env(JsonObject container, string name) =>
        container["env"]!.AsArray().OfType<JsonObject>().SingleOrDefault(e => e["name"]!.GetValue<string>() == name)?["value"]?.GetValue<string>();

    [Fact]
    public void Render_Example_SetsNameNamespaceAndLabels()
    {
        var job = Presubmit();
        var workflow = Render(Example, job);

        var metadata = workflow["metadata"]!.AsObject();
        Assert.Equal(Entry(job).WorkflowName, metadata["name"]!.GetValue<string>());
        Assert.False(metadata.ContainsKey("generateName"));
        Assert.Equal("kubeflow-test-infra", metadata["namespace"]!.GetValue<string>());
        var labels = metadata["labels"]!.AsObject();
        Assert.Equal("notebooks", labels["team"]!.GetValue<string>());
        Assert.Equal("true", labels[WorkflowLabels.Managed]!.GetValue<string>());
        Assert.Equal(job.Run.RunId, labels[WorkflowLabels.RunId]!.GetValue<string>());
        Assert.Equal("77", labels["PULL_NUMBER"]!.GetValue<string>());
        Assert.Equal("kubeflow-presubmit", labels["JOB_NAME"]!.GetValue<string>());
        Assert.Equal("1234567890", labels["BUILD_NUMBER"]!.GetValue<string>());
        Assert.Equal("e2e", labels["workflow_template"]!.GetValue<string>());
        Assert.Empty(ArgoSchema.Errors(workflow));
    }

    [Fact]
    public void Render_Periodic_LabelsMissingVariablesNotset()
    {
        var job = new ProwJobSpec(JobType.Periodic, "ci-nightly", "42", null, []);
        var workflow = Render(Example, job);

        var labels = workflow["metadata"]!["labels"]!.AsObject();
        Assert.Equal(WorkflowRenderer.NotSet, labels["PULL_NUMBER"]!.GetValue<string>());
        Assert.Equal(WorkflowRenderer.NotSet, labels["REPO_OWNER"]!.GetValue<string>());
        Assert.Equal("", Parameter(workflow, "repo_spec"));
        Assert.Equal("", Parameter(workflow, "repo_url"));
    }

    [Fact]
    public void Render_Parameters_BuiltInsWinOverAuthorAndEntryParamsOverrideDefaults()
    {
        var job = Presubmit();
        var entry = Entry(job, parameters: new Dictionary<string, string> { ["cluster"] = "kf-ci-v1", ["extra"] = "1" });
        var workflow = Render(Example, job, entry);
        var name = entry.WorkflowName;

        Assert.Equal("kf-ci-v1", Parameter(workflow, "cluster"));
        Assert.Equal("1", Parameter(workflow, "extra"));
        Assert.Equal($"/mnt/test-data-volume/{name}", Parameter(workflow, "test_dir"));
        Assert.Equal($"/mnt/test-data-volume/{name}/src", Parameter(workflow, "src_dir"));
        Assert.Equal($"/mnt/test-data-volume/{name}/output", Parameter(workflow, "output_dir"));
        Assert.Equal($"/mnt/test-data-volume/{name}/output/artifacts", Parameter(workflow, "artifacts_dir"));
        Assert.Equal("kubeflow/kubeflow@123abcdef:77", Parameter(workflow, "repo_spec"));
        Assert.Equal("https://github.com/kubeflow/kubeflow.git", Parameter(workflow, "repo_url"));
        Assert.Equal("nfs-external", Parameter(workflow, "nfs_claim"));
        Assert.Equal("kubernetes-jenkins", Parameter(workflow, "bucket"));
        Assert.Equal(name, Parameter(workflow, "name"));
        Assert.Equal(
            "BUILD_ID=1234567890,BUILD_NUMBER=1234567890,JOB_NAME=kubeflow-presubmit,JOB_TYPE=presubmit,PULL_BASE_SHA=0123456789abcdef,PULL_NUMBER=77,PULL_PULL_SHA=123abcdef,REPO_NAME=kubeflow,REPO_OWNER=kubeflow",
            Parameter(workflow, "prow_env"));
    }

    [Fact]
    public void Render_GitRoot_RepoUrlIsLocalPath()
    {
        var job = Presubmit();
        var workflow = WorkflowRenderer.Render(Encoding.UTF8.GetBytes(Example), job, Entry(job), Options with { GitRoot = "/srv/git" });

        Assert.Equal("/srv/git/kubeflow/kubeflow", Parameter(workflow, "repo_url"));
    }

    [Fact]
    public void Render_EntryParamNamingBuiltIn_Throws()
    {
        var job = Presubmit();
        var entry = Entry(job, parameters: new Dictionary<string, string> { ["test_dir"] = "/tmp" });

        var e = Assert.Throws<WorkflowRenderException>(() => Render(Example, job, entry));
        Assert.Contains("test_dir", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_Templates_GetProwEnvWithoutOverridingAuthorAndStepLabels()
    {
        var job = Presubmit();
        var workflow = Render(Example, job, envs: new Dictionary<string, string> { ["EXTRA"] = "x", ["BUILD_ID"] = "spoofed" });

        var checkout = workflow["spec"]!["templates"]!.AsArray().OfType<JsonObject>().Single(t => t["name"]!.GetValue<string>() == "checkout");
        var container = checkout["container"]!.AsObject();
        Assert.Equal("authors-own", Env(container, "JOB_NAME"));
        Assert.Equal("1234567890", Env(container, "BUILD_ID"));
        Assert.Equal("x", Env(container, "EXTRA"));
        Assert.Equal(job.ToJson(), Env(container, "JOB_SPEC"));
        Assert.Equal("77", Env(container, "PULL_NUMBER"));
        var labels = checkout["metadata"]!["labels"]!.AsObject();
        Assert.Equal("checkout", labels["step_name"]!.GetValue<string>());
        Assert.Equal(Entry(job).WorkflowName, labels["workflow"]!.GetValue<string>());
    }

    [Fact]
    public void Render_DeadlineAndPodGc_DefaultedAndPodGcKeepsPods()
    {
        var workflow = Render(Example.Replace("  entrypoint: main", "  entrypoint: main\n  activeDeadlineSeconds: 600\n  podGC:\n    strategy: OnPodCompletion", StringComparison.Ordinal));
        var plain = Render(Example);

        Assert.Equal(600, workflow["spec"]!["activeDeadlineSeconds"]!.GetValue<long>());
        Assert.Equal(Options.ActiveDeadlineSeconds, plain["spec"]!["activeDeadlineSeconds"]!.GetValue<long>());
        Assert.Equal("OnWorkflowCompletion", workflow["spec"]!["podGC"]!["strategy"]!.GetValue<string>());
        Assert.Equal(Options.PodDeleteDelay, workflow["spec"]!["podGC"]!["deleteDelayDuration"]!.GetValue<string>());
    }

    [Fact]
    public void Render_SameInputs_SameObject()
    {
        Assert.Equal(Render(Example).ToJsonString(), Render(Example).ToJsonString());
    }

    [Theory]
    [InlineData("kubeflow/kubeflow", "kubeflow-kubeflow")]
    [InlineData("a very long value that certainly exceeds the sixty three character limit of labels", "a-very-long-value-that-certainly-exceeds-the-sixty-three-charac")]
    [InlineData("", WorkflowRenderer.NotSet)]
    [InlineData("-_.", WorkflowRenderer.NotSet)]
    [InlineData("ok_1.2", "ok_1.2")]
    [InlineData("héllo", "h-llo")]
    public void LabelValue_Text_ValidLabel(string text, string expected)
    {
        var value = WorkflowRenderer.LabelValue(text);

        Assert.Equal(expected, value);
        Assert.Matches("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$", value);
        Assert.True(value.Length <= 63);
    }

    [Theory]
    [InlineData("- a\n- b\n", "not a list")]
    [InlineData("just text\n", "single value")]
    [InlineData("", "empty document")]
    [InlineData("apiVersion: argoproj.io/v1alpha1\nkind: WorkflowTemplate\nspec: {}\n", "only kind: Workflow")]
    [InlineData("apiVersion: v1\nkind: Workflow\nspec: {}\n", "only kind: Workflow")]
    [InlineData("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\n", "spec mapping")]
    [InlineData("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec: {}\n---\napiVersion: v1\nkind: Pod\n", "more than one YAML document")]
    [InlineData("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nkind: Workflow\nspec: {}\n", "duplicate key")]
    [InlineData("a: [1, 2\n", "invalid YAML")]
    public void Render_NotOneWorkflow_ThrowsOneLine(string yaml, string expected)
    {
        var e = Assert.Throws<WorkflowRenderException>(() => Render(yaml));

        Assert.Contains(expected.Replace("not a list", "a list", StringComparison.Ordinal), e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        Assert.StartsWith("testing/e2e.yaml:", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_AliasBomb_ThrowsQuickly()
    {
        var bomb = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (var i = 1; i < 10; i++)
        {
            bomb.Append(System.Globalization.CultureInfo.InvariantCulture, $"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]\n");
        }

        var e = Assert.Throws<WorkflowRenderException>(() => Render(bomb.ToString()));
        Assert.Contains("alias", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_DeepNesting_Throws()
    {
        var deep = string.Concat(Enumerable.Repeat("[", 500)) + string.Concat(Enumerable.Repeat("]", 500));

        var e = Assert.Throws<WorkflowRenderException>(() => Render(deep));
        Assert.Contains("nested deeper", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_HugeFile_Throws()
    {
        var huge = Example + "\n#" + new string('x', 2 * 1024 * 1024) + "\n";

        var e = Assert.Throws<WorkflowRenderException>(() => Render(huge));
        Assert.Contains("bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_BrokenField_SchemaCatchesIt()
    {
        // The schema check itself must be able to fail, or the fixture theory below proves nothing.
        var workflow = Render(Example);
        workflow["spec"]!["activeDeadlineSeconds"] = "soon";

        Assert.NotEmpty(ArgoSchema.Errors(workflow));
    }

    /// <summary>
    /// Examples kfci refuses, knowingly: YamlDotNet rejects a multi-line double-quoted scalar inside a flow sequence
    /// indented less than the sequence (Go's YAML accepts it); and kfci refuses duplicate keys, which Go silently resolves.
    /// </summary>
    private static readonly Dictionary<string, string> s_refused = new(StringComparer.Ordinal)
    {
        ["ci.yaml"] = "multi-line double-quoted scalar",
        ["ci-output-artifact.yaml"] = "multi-line double-quoted scalar",
        ["influxdb-ci.yaml"] = "multi-line double-quoted scalar",
        ["k8s-orchestration.yaml"] = "multi-line double-quoted scalar",
        ["nested-workflow.yaml"] = "multi-line double-quoted scalar",
        ["sidecar.yaml"] = "multi-line double-quoted scalar",
        ["volumes-emptydir.yaml"] = "multi-line double-quoted scalar",
        ["k8s-patch-json-workflow.yaml"] = "duplicate key 'annotations'",
    };

    public static TheoryData<string> ArgoExamples()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(Fixtures.PathOf("argo/examples"), "*.yaml").Order(StringComparer.Ordinal))
        {
            var text = File.ReadAllText(file);
            if (text.Contains("\nkind: Workflow\n", StringComparison.Ordinal) && !text.Contains("\n---", StringComparison.Ordinal))
            {
                data.Add(Path.GetFileName(file));
            }
        }

        return data;
    }

    /// <summary>Everything the policy can grant, so the schema theory sees every example the parser accepts.</summary>
    internal static readonly WorkflowRenderOptions AllAllowed = Options with
    {
        Policy = WorkflowPolicy.Parse(
            """{"repositories": {"kubeflow/kubeflow": {"allow": ["hostPath", "privileged", "hostNamespaces", "podSpecPatch", "resourceTemplates", "clusterTemplates"]}}}"""),
    };

    [Theory]
    [InlineData("k8s-jobs.yaml", "a resource template")]
    [InlineData("pod-spec-patch.yaml", "a pod spec patch")]
    [InlineData("sidecar-dind.yaml", "a privileged container")]
    [InlineData("workflow-of-workflows.yaml", "a resource template")]
    public void Render_EscalatingArgoExample_RefusedByDefaultPolicy(string file, string reason)
    {
        var job = Presubmit();
        var bytes = File.ReadAllBytes(Fixtures.PathOf($"argo/examples/{file}"));

        var e = Assert.Throws<WorkflowRenderException>(() => WorkflowRenderer.Render(bytes, job, Entry(job, $"examples/{file}"), Options));

        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(ArgoExamples))]
    public void Render_ArgoExample_ValidAgainstArgoSchema(string file)
    {
        var job = Presubmit();
        var entry = Entry(job, $"examples/{file}");
        var bytes = File.ReadAllBytes(Fixtures.PathOf($"argo/examples/{file}"));
        if (s_refused.TryGetValue(file, out var reason))
        {
            Assert.Contains(reason, Assert.Throws<WorkflowRenderException>(() => WorkflowRenderer.Render(bytes, job, entry, AllAllowed)).Message, StringComparison.Ordinal);
            return;
        }

        var workflow = WorkflowRenderer.Render(bytes, job, entry, AllAllowed);

        Assert.Empty(ArgoSchema.Errors(workflow));
        Assert.Equal(entry.WorkflowName, workflow["metadata"]!["name"]!.GetValue<string>());
    }
}
