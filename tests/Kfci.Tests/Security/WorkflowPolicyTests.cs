using System.Text;
using System.Text.Json.Nodes;
using Kfci.Prow;
using Kfci.Tests.Workflows;
using Kfci.Workflows;

namespace Kfci.Tests.Security;

/// <summary>Finding: the renderer kept whatever the pull request wrote (service account, host access, privilege, deadline).</summary>
public sealed class WorkflowPolicyTests
{
    private const string Template = """
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata:
          generateName: e2e-
        spec:
          entrypoint: main
        SPEC
          templates:
          - name: main
        TEMPLATE
            container:
              image: busybox
              command: [sh, -c, "true"]
        CONTAINER
        """;

    private static readonly WorkflowRenderOptions s_options = WorkflowRendererTests.Options;

    private static string Workflow(string spec = "", string template = "", string container = "") => Template
        .Replace("SPEC", Indent(spec, 2), StringComparison.Ordinal)
        .Replace("TEMPLATE", Indent(template, 4), StringComparison.Ordinal)
        .Replace("CONTAINER", Indent(container, 6), StringComparison.Ordinal);

    private static string Indent(string text, int spaces) =>
        string.Join('\n', text.Split('\n').Select(line => line.Length == 0 ? line : new string(' ', spaces) + line));

    private static WorkflowPolicy Allowing(params string[] privileges) => WorkflowPolicy.Parse(new JsonObject
    {
        ["repositories"] = new JsonObject { ["kubeflow/kubeflow"] = new JsonObject { ["allow"] = new JsonArray([.. privileges.Select(p => JsonValue.Create(p))]) } },
    }.ToJsonString());

    private static JsonObject Render(string yaml, WorkflowRenderOptions? options = null, ProwJobSpec? job = null)
    {
        job ??= WorkflowRendererTests.Presubmit();
        return WorkflowRenderer.Render(Encoding.UTF8.GetBytes(yaml), job, WorkflowRendererTests.Entry(job), options ?? s_options);
    }

    private static string Refusal(string yaml, WorkflowRenderOptions? options = null) =>
        Assert.Throws<WorkflowRenderException>(() => Render(yaml, options)).Message;

    public static TheoryData<string, string, string, string, string> Escalations() => new()
    {
        { "hostNetwork: true", "", "", "spec.hostNetwork", "hostNamespaces" },
        { "hostPID: true", "", "", "spec.hostPID", "hostNamespaces" },
        { "hostIPC: true", "", "", "spec.hostIPC", "hostNamespaces" },
        { "volumes:\n- name: root\n  hostPath: {path: /}", "", "", "spec.volumes[0].hostPath", "hostPath" },
        { "", "volumes:\n- name: sock\n  hostPath: {path: /var/run/docker.sock}", "", "spec.templates[0].volumes[0].hostPath", "hostPath" },
        { "", "", "securityContext: {privileged: true}", "spec.templates[0].container.securityContext", "privileged" },
        { "", "", "securityContext: {allowPrivilegeEscalation: true}", "spec.templates[0].container.securityContext", "privileged" },
        { "", "", "securityContext: {capabilities: {add: [SYS_ADMIN]}}", "spec.templates[0].container.securityContext", "privileged" },
        { "securityContext: {seccompProfile: {type: Unconfined}}", "", "", "spec.securityContext", "privileged" },
        { "podSpecPatch: '{\"hostNetwork\": true}'", "", "", "spec.podSpecPatch", "podSpecPatch" },
        { "", "podSpecPatch: '{}'", "", "spec.templates[0].podSpecPatch", "podSpecPatch" },
        { "templateDefaults:\n  securityContext: {privileged: true}", "", "", "spec.templateDefaults.securityContext", "privileged" },
    };

    [Theory]
    [MemberData(nameof(Escalations))]
    public void Render_EscalatingField_RefusedWithPathAndPrivilege(string spec, string template, string container, string path, string privilege)
    {
        var message = Refusal(Workflow(spec, template, container));

        Assert.Contains("refused by the workflow policy for kubeflow/kubeflow", message, StringComparison.Ordinal);
        Assert.Contains(path, message, StringComparison.Ordinal);
        Assert.Contains($"'{privilege}'", message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', message);
    }

    [Theory]
    [MemberData(nameof(Escalations))]
    public void Render_EscalatingFieldAllowedForRepository_Renders(string spec, string template, string container, string path, string privilege)
    {
        _ = path;
        var options = s_options with { Policy = Allowing(privilege) };

        Assert.NotNull(Render(Workflow(spec, template, container), options));
    }

    [Fact]
    public void Render_ResourceTemplate_Refused()
    {
        const string yaml = """
            apiVersion: argoproj.io/v1alpha1
            kind: Workflow
            metadata: {generateName: r-}
            spec:
              entrypoint: main
              templates:
              - name: main
                resource:
                  action: create
                  manifest: |
                    apiVersion: rbac.authorization.k8s.io/v1
                    kind: ClusterRoleBinding
            """;

        Assert.Contains("spec.templates[0].resource: a resource template", Refusal(yaml), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("templateRef: {name: t, template: x, clusterScope: true}", "ClusterWorkflowTemplate")]
    [InlineData("templateRef: {name: t, template: x}", "WorkflowTemplate outside the workflow file")]
    public void Render_TemplateRefInStep_Refused(string reference, string reason)
    {
        var yaml = $$"""
            apiVersion: argoproj.io/v1alpha1
            kind: Workflow
            metadata: {generateName: r-}
            spec:
              entrypoint: main
              templates:
              - name: main
                steps:
                - - name: call
                    {{reference}}
            """;

        var message = Refusal(yaml);

        Assert.Contains("spec.templates[0].steps[0][0].templateRef", message, StringComparison.Ordinal);
        Assert.Contains(reason, message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_WorkflowTemplateRef_Refused()
    {
        const string yaml = """
            apiVersion: argoproj.io/v1alpha1
            kind: Workflow
            metadata: {generateName: r-}
            spec:
              workflowTemplateRef: {name: deployer, clusterScope: true}
            """;

        Assert.Contains("spec.workflowTemplateRef", Refusal(yaml), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("serviceAccountName: argo-server", "", "spec.serviceAccountName")]
    [InlineData("", "serviceAccountName: deployer", "spec.templates[0].serviceAccountName")]
    [InlineData("executor: {serviceAccountName: deployer}", "", "spec.executor.serviceAccountName")]
    public void Render_OtherServiceAccount_RefusedEvenWhenEverythingIsAllowed(string spec, string template, string path)
    {
        var options = s_options with { Policy = Allowing("hostPath", "privileged", "hostNamespaces", "podSpecPatch", "resourceTemplates", "clusterTemplates") };

        var message = Refusal(Workflow(spec, template), options);

        Assert.Contains(path, message, StringComparison.Ordinal);
        Assert.Contains("workflows run as service account 'default'", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_NamesItsOwnAccount_Renders()
    {
        var options = s_options with { Policy = WorkflowPolicy.Parse("""{"serviceAccount": "pr-workflows"}""") };

        var workflow = Render(Workflow("serviceAccountName: pr-workflows"), options);

        Assert.Equal("pr-workflows", workflow["spec"]!["serviceAccountName"]!.GetValue<string>());
    }

    [Fact]
    public void Render_NoPolicy_RunsAsRestrictedDefaultAccount()
    {
        var workflow = Render(Workflow());

        Assert.Equal(WorkflowPolicy.DefaultServiceAccount, workflow["spec"]!["serviceAccountName"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(JobType.Postsubmit, "kubeflow/kubeflow", "deployer")]
    [InlineData(JobType.Periodic, "kubeflow/kubeflow", "deployer")]
    [InlineData(JobType.Presubmit, "kubeflow/kubeflow", "pr-workflows")]
    [InlineData(JobType.Batch, "kubeflow/kubeflow", "pr-workflows")]
    [InlineData(JobType.Postsubmit, "kubeflow/other", "pr-workflows")]
    public void ServiceAccountFor_TrustedOnlyForMergedCodeOfTrustedRepositories(JobType type, string repository, string expected)
    {
        var policy = WorkflowPolicy.Parse("""{"serviceAccount": "pr-workflows", "trustedServiceAccount": "deployer", "trustedRepositories": ["kubeflow/kubeflow"]}""");
        var parts = repository.Split('/');
        var job = new ProwJobSpec(type, "job", "1", new Refs
        {
            Org = parts[0],
            Repo = parts[1],
            BaseRef = "master",
            BaseSha = "0123456789abcdef",
            Pulls = type is JobType.Presubmit or JobType.Batch ? [new Pull { Number = 1, Sha = "123abcdef" }] : null,
        }, []);

        Assert.Equal(expected, policy.ServiceAccountFor(job));
    }

    [Theory]
    [InlineData("activeDeadlineSeconds: 31536000", 14400)]
    [InlineData("activeDeadlineSeconds: 600", 600)]
    [InlineData("activeDeadlineSeconds: '{{workflow.parameters.forever}}'", 10800)]
    [InlineData("", 10800)]
    public void Render_Deadline_CappedByPolicy(string spec, long expected)
    {
        var workflow = Render(Workflow(spec));

        Assert.Equal(expected, workflow["spec"]!["activeDeadlineSeconds"]!.GetValue<long>());
    }

    [Theory]
    [InlineData("[]", "must be a JSON object")]
    [InlineData("""{"serviceAccount": "Not A Name"}""", "serviceAccount must be a Kubernetes service account name")]
    [InlineData("""{"repositories": {"a/b": {"allow": ["root"]}}}""", "unknown privilege 'root'")]
    [InlineData("""{"trustedRepositories": ["not-a-repo\n"]}""", "is not owner/repo")]
    [InlineData("""{"maxDeadlineSecond": 1}""", "unknown field 'maxDeadlineSecond'")]
    [InlineData("""{"maxDeadlineSeconds": -1}""", "maxDeadlineSeconds must be a positive whole number")]
    public void Parse_InvalidPolicy_RefusesToStart(string json, string reason)
    {
        var e = Assert.Throws<InvalidOperationException>(() => WorkflowPolicy.Parse(json));

        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.StartsWith(WorkflowPolicy.EnvironmentVariable, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromEnvironment_Unset_IsTheSafeDefault()
    {
        Assert.Same(WorkflowPolicy.Default, WorkflowPolicy.FromEnvironment(_ => null));
        Assert.Equal(WorkflowPrivileges.None, WorkflowPolicy.Default.PrivilegesFor(WorkflowRendererTests.Presubmit()));
    }

    [Fact]
    public void RenderOptionsFromEnvironment_ReadsThePolicy()
    {
        var options = WorkflowRenderOptions.FromEnvironment(name => name == WorkflowPolicy.EnvironmentVariable ? """{"serviceAccount": "pr"}""" : null);

        Assert.Equal("pr", options.Policy.ServiceAccount);
    }
}
