using System.Text.Json.Nodes;
using Kfci.Cli.Engine;
using Kfci.Http;
using Kfci.Kubernetes;
using static Kfci.Tests.Engine.EngineHarness;

namespace Kfci.Tests.Engine;

public sealed class LocalWorkflowEngineTests
{
    [Fact]
    public async Task Steps_GroupsInSequenceWithParameters_SucceedWithArgoNodes()
    {
        await using var harness = Start();
        var workflow = await harness.RunAsync("""
            metadata: {name: steps-demo}
            spec:
              entrypoint: main
              arguments:
                parameters: [{name: greeting, value: hello}]
              templates:
              - name: main
                steps:
                - - name: first
                    template: say
                    arguments: {parameters: [{name: word, value: "{{workflow.parameters.greeting}}"}]}
                  - name: second
                    template: say
                    arguments: {parameters: [{name: word, value: "{{workflow.name}}"}]}
                - - name: third
                    template: say
                    arguments: {parameters: [{name: word, value: "{{steps.first.outputs.result}}-{{steps.second.outputs.result}}"}]}
              - name: say
                inputs: {parameters: [{name: word}]}
                container: {image: alpine, command: [sh, -c], args: ["echo {{inputs.parameters.word}}; echo noise >&2"]}
            """);

        Assert.Equal("Succeeded", workflow.Phase);
        Assert.Equal("true", workflow.Labels[ArgoNames.CompletedLabel]);
        Assert.Equal("Succeeded", workflow.Labels[ArgoNames.PhaseLabel]);
        Assert.NotNull(workflow["status"]?["startedAt"]);
        Assert.NotNull(workflow["status"]?["finishedAt"]);
        var root = Node(workflow, "steps-demo");
        Assert.Equal("Steps", root["type"]?.ToString());
        Assert.Equal("steps-demo", root["id"]?.ToString());
        Assert.Equal("StepGroup", Node(workflow, "[0]")["type"]?.ToString());
        var third = Node(workflow, "third");
        Assert.Equal("Pod", third["type"]?.ToString());
        Assert.Equal("steps-demo[1].third", third["name"]?.ToString());
        Assert.Equal(ArgoNames.NodeId("steps-demo", "steps-demo[1].third"), third["id"]?.ToString());
        Assert.Equal("hello-steps-demo", third["outputs"]?["result"]?.ToString());
        Assert.Equal("say", third["templateName"]?.ToString());
        Assert.Equal(2, Node(workflow, "[0]")["children"]!.AsArray().Count);

        var log = await harness.LogAsync(third["id"]!.ToString());
        Assert.Contains("hello-steps-demo\n", log, StringComparison.Ordinal);
        Assert.Contains("noise\n", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_TakenName_ThrowsAlreadyExists()
    {
        await using var harness = Start();
        const string Yaml = "metadata: {name: twice}\nspec: {entrypoint: a, templates: [{name: a, container: {image: x, command: ['true']}}]}";
        await harness.SubmitAsync(Yaml);
        var error = await Assert.ThrowsAsync<ApiException>(() => harness.SubmitAsync(Yaml));
        Assert.True(error.IsAlreadyExists);
        await harness.WaitCompletedAsync("twice");
    }

    [Fact]
    public async Task FailingStep_FailsWorkflowAndLaterGroupsDoNotRun()
    {
        await using var harness = Start();
        var workflow = await harness.RunAsync("""
            metadata: {name: failing}
            spec:
              entrypoint: main
              templates:
              - name: main
                steps:
                - - {name: boom, template: fail}
                - - {name: never, template: ok}
              - name: fail
                container: {image: alpine, command: [sh, -c, "echo about to fail; exit 3"]}
              - name: ok
                container: {image: alpine, command: ["true"]}
            """);

        Assert.Equal("Failed", workflow.Phase);
        Assert.Equal("Failed", workflow.Labels[ArgoNames.PhaseLabel]);
        var boom = Node(workflow, "boom");
        Assert.Equal("Error (exit code 3)", boom["message"]?.ToString());
        Assert.Equal($"child '{boom["id"]}' failed", workflow["status"]?["message"]?.ToString());
        Assert.DoesNotContain(Nodes(workflow), n => n["displayName"]?.ToString() == "never");

        var pod = await harness.Engine.GetPodAsync(Namespace, boom["id"]!.ToString(), CancellationToken.None);
        Assert.NotNull(pod);
        Assert.Equal("Failed", pod.Phase);
        Assert.Equal("failing", pod.Labels[ArgoNames.WorkflowLabel]);
        Assert.Equal(3, pod["status"]?["containerStatuses"]?[0]?["state"]?["terminated"]?["exitCode"]?.GetValue<int>());
        Assert.Equal("about to fail\n", await harness.LogAsync(pod.Name!));

        var events = await harness.Engine.ListEventsAsync(Namespace, "failing", CancellationToken.None).ToListAsync();
        Assert.Contains(events, e => e["reason"]?.ToString() == "WorkflowFailed" && e["type"]?.ToString() == "Warning");
        Assert.Contains(events, e => e["reason"]?.ToString() == "LocalEngine" && e["message"]!.ToString().Contains("not pulled", StringComparison.Ordinal));
        Assert.Equal("WorkflowFailed", Assert.Single(harness.Published)["reason"]?.ToString());
    }

    [Fact]
    public async Task Dag_DependsWhenAndOmitted_FollowArgoRules()
    {
        await using var harness = Start();
        var workflow = await harness.RunAsync("""
            metadata: {name: dag}
            spec:
              entrypoint: main
              templates:
              - name: main
                dag:
                  tasks:
                  - {name: A, template: echo, arguments: {parameters: [{name: m, value: "5"}]}}
                  - {name: B, template: fail, dependencies: [A]}
                  - {name: C, template: echo, depends: "B.Failed", arguments: {parameters: [{name: m, value: "{{tasks.A.outputs.result}}"}]}}
                  - {name: D, template: echo, depends: "B.Succeeded", arguments: {parameters: [{name: m, value: x}]}}
                  - {name: E, template: echo, depends: "A", when: "{{tasks.A.outputs.result}} > 7", arguments: {parameters: [{name: m, value: x}]}}
                  - {name: F, template: echo, depends: "C && (E || D)", arguments: {parameters: [{name: m, value: done}]}}
              - name: echo
                inputs: {parameters: [{name: m}]}
                container: {image: alpine, command: [echo, "{{inputs.parameters.m}}"]}
              - name: fail
                container: {image: alpine, command: ["false"]}
            """);

        // B's failure is handled by C's depends, so the DAG succeeds (Argo's enhanced depends).
        Assert.Equal("Succeeded", workflow.Phase);
        Assert.Equal("DAG", Node(workflow, "dag")["type"]?.ToString());
        Assert.Equal("Failed", Phase(workflow, "B"));
        Assert.Equal("5", Node(workflow, "C")["outputs"]?["result"]?.ToString());
        Assert.Equal("Omitted", Phase(workflow, "D"));
        Assert.Equal("Skipped", Phase(workflow, "E"));
        Assert.Equal("Skipped", Node(workflow, "E")["type"]?.ToString());
        Assert.Equal("Succeeded", Phase(workflow, "F"));
    }

    [Fact]
    public async Task Dag_UnhandledFailure_FailsAndStopsScheduling()
    {
        await using var harness = Start();
        var workflow = await harness.RunAsync("""
            metadata: {name: dag-fail}
            spec:
              entrypoint: main
              templates:
              - name: main
                dag:
                  tasks:
                  - {name: A, template: fail}
                  - {name: B, template: ok, dependencies: [A]}
              - {name: ok, container: {image: alpine, command: ["true"]}}
              - {name: fail, container: {image: alpine, command: ["false"]}}
            """);

        Assert.Equal("Failed", workflow.Phase);
        Assert.Equal("Omitted", Phase(workflow, "B"));
    }

    [Fact]
    public async Task RetryStrategy_RetriesUntilSuccessWithinLimit()
    {
        await using var harness = Start();
        // Steps see the host read-only: the attempts are counted on a claim, which outlives each attempt's sandbox.
        var workflow = await harness.RunAsync("""
            metadata: {name: retry}
            spec:
              entrypoint: flaky
              volumes: [{name: state, persistentVolumeClaim: {claimName: retry-state}}]
              templates:
              - name: flaky
                retryStrategy: {limit: "3"}
                script:
                  image: alpine
                  command: [sh]
                  volumeMounts: [{name: state, mountPath: /state}]
                  source: |
                    echo x >> /state/attempts
                    test $(wc -l < /state/attempts) -ge 3
            """);

        Assert.Equal("Succeeded", workflow.Phase);
        var retry = Node(workflow, "retry");
        Assert.Equal("Retry", retry["type"]?.ToString());
        Assert.Equal(3, retry["children"]!.AsArray().Count);
        Assert.Equal("Failed", Phase(workflow, "retry(0)"));
        Assert.Equal("Succeeded", Phase(workflow, "retry(2)"));
    }

    [Fact]
    public async Task RetryStrategy_ExhaustedLimit_FailsWithNoMoreRetries()
    {
        await using var harness = Start();
        var workflow = await harness.RunAsync("""
            metadata: {name: retry-out}
            spec:
              entrypoint: main
              templates:
              - {name: main, retryStrategy: {limit: 1}, container: {image: alpine, command: ["false"]}}
            """);

        Assert.Equal("Failed", workflow.Phase);
        Assert.Equal("No more retries left", Node(workflow, "retry-out")["message"]?.ToString());
        Assert.Equal(2, Nodes(workflow).Count(n => n["type"]?.ToString() == "Pod"));
    }

    [Fact]
    public async Task OnExit_RunsAfterFailureWithWorkflowStatus()
    {
        await using var harness = Start();
        var workflow = await harness.RunAsync("""
            metadata: {name: exit}
            spec:
              entrypoint: main
              onExit: report
              templates:
              - {name: main, container: {image: alpine, command: ["false"]}}
              - {name: report, container: {image: alpine, command: [echo, "status={{workflow.status}}"]}}
            """);

        Assert.Equal("Failed", workflow.Phase);
        var exit = Node(workflow, "exit.onExit");
        Assert.Equal("Succeeded", exit["phase"]?.ToString());
        Assert.Equal("status=Failed", exit["outputs"]?["result"]?.ToString());
    }

    [Fact]
    public async Task Shutdown_Terminate_KillsRunningStepAndSkipsOnExit()
    {
        await using var harness = Start();
        var created = await harness.SubmitAsync("""
            metadata: {name: stop-me}
            spec:
              entrypoint: main
              onExit: report
              templates:
              - {name: main, container: {image: alpine, command: [sleep, "60"]}}
              - {name: report, container: {image: alpine, command: [echo, exit]}}
            """);
        await harness.WaitAsync(created.Name!, w => Nodes(w).Any(n => n["phase"]?.ToString() == "Running" && n["type"]?.ToString() == "Pod"));

        await harness.Engine.PatchWorkflowAsync(Namespace, "stop-me", JsonNode.Parse("""{"spec":{"shutdown":"Terminate"}}""")!.AsObject(), CancellationToken.None);
        var workflow = await harness.WaitCompletedAsync("stop-me", TimeSpan.FromSeconds(10));

        Assert.Equal("Failed", workflow.Phase);
        Assert.Equal("Stopped with strategy 'Terminate'", workflow["status"]?["message"]?.ToString());
        Assert.Equal("Stopped with strategy 'Terminate'", Node(workflow, "stop-me")["message"]?.ToString());
        Assert.DoesNotContain(Nodes(workflow), n => n["name"]?.ToString() == "stop-me.onExit");
    }

    [Fact]
    public async Task Shutdown_Stop_KillsRunningStepButRunsOnExit()
    {
        await using var harness = Start();
        var created = await harness.SubmitAsync("""
            metadata: {name: stop-gently}
            spec:
              entrypoint: main
              onExit: report
              templates:
              - {name: main, container: {image: alpine, command: [sleep, "60"]}}
              - {name: report, container: {image: alpine, command: [echo, "{{workflow.status}}"]}}
            """);
        await harness.WaitAsync(created.Name!, w => Nodes(w).Any(n => n["phase"]?.ToString() == "Running" && n["type"]?.ToString() == "Pod"));

        await harness.Engine.PatchWorkflowAsync(Namespace, "stop-gently", JsonNode.Parse("""{"spec":{"shutdown":"Stop"}}""")!.AsObject(), CancellationToken.None);
        var workflow = await harness.WaitCompletedAsync("stop-gently", TimeSpan.FromSeconds(10));

        Assert.Equal("Failed", workflow.Phase);
        Assert.Equal("Failed", Node(workflow, "stop-gently.onExit")["outputs"]?["result"]?.ToString());
    }

    [Fact]
    public async Task ActiveDeadlineSeconds_Workflow_TimesOutAndPublishesWorkflowTimedOut()
    {
        await using var harness = Start();
        var workflow = await harness.RunAsync("""
            metadata: {name: slow}
            spec:
              entrypoint: main
              activeDeadlineSeconds: 1
              templates:
              - {name: main, container: {image: alpine, command: [sleep, "60"]}}
            """, TimeSpan.FromSeconds(10));

        Assert.Equal("Failed", workflow.Phase);
        Assert.Equal("Step exceeded its deadline", workflow["status"]?["message"]?.ToString());
        Assert.Equal("WorkflowTimedOut", Assert.Single(harness.Published)["reason"]?.ToString());
    }

    [Fact]
    public async Task ActiveDeadlineSeconds_Template_KillsTheStep()
    {
        await using var harness = Start();
        var workflow = await harness.RunAsync("""
            metadata: {name: slow-step}
            spec:
              entrypoint: main
              templates:
              - {name: main, activeDeadlineSeconds: "1", container: {image: alpine, command: [sleep, "60"]}}
            """, TimeSpan.FromSeconds(10));

        Assert.Equal("Failed", workflow.Phase);
        Assert.Equal("Pod was active on the node longer than the specified deadline", Node(workflow, "slow-step")["message"]?.ToString());
    }

    [Theory]
    [InlineData("sidecars: [{name: s, image: nginx}]", "spec.templates[0].sidecars")]
    [InlineData("daemon: true", "spec.templates[0].daemon")]
    [InlineData("podSpecPatch: '{}'", "spec.templates[0].podSpecPatch")]
    [InlineData("outputs: {artifacts: [{name: a, path: /tmp/a}]}", "spec.templates[0].outputs.artifacts")]
    public async Task UnsupportedField_FailsWorkflowNamingTheField(string field, string path)
    {
        await using var harness = Start();
        var workflow = await harness.RunAsync($$"""
            metadata: {name: unsupported}
            spec:
              entrypoint: main
              templates:
              - name: main
                {{field}}
                container: {image: alpine, command: ["true"]}
            """);

        Assert.Equal("Failed", workflow.Phase);
        Assert.Equal($"invalid spec: the local engine does not support {path}", workflow["status"]?["message"]?.ToString());
        Assert.Equal("WorkflowFailed", Assert.Single(harness.Published)["reason"]?.ToString());
    }

    [Fact]
    public async Task ResourceTemplate_FailsNamingTheField()
    {
        await using var harness = Start();
        var workflow = await harness.RunAsync("""
            metadata: {name: resource}
            spec:
              entrypoint: main
              templates:
              - {name: main, resource: {action: create, manifest: "kind: ConfigMap"}}
            """);

        Assert.Equal("Failed", workflow.Phase);
        Assert.Contains("spec.templates[0].resource", workflow["status"]?["message"]?.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Volumes_PvcAndEmptyDir_AreSeenAtTheirMountPath()
    {
        Assert.True(StepProcess.FindBubblewrap() is not null, "bubblewrap (bwrap) is not installed: run scripts/setup.sh");
        await using var harness = Start();
        var workflow = await harness.RunAsync("""
            metadata: {name: volumes}
            spec:
              entrypoint: main
              volumes:
              - {name: nfs, persistentVolumeClaim: {claimName: nfs-external}}
              - {name: scratch, emptyDir: {}}
              - {name: other, persistentVolumeClaim: {claimName: other-claim}}
              templates:
              - name: main
                steps:
                - - {name: write, template: write}
                - - {name: read, template: read}
              - name: write
                container:
                  image: alpine
                  command: [sh, -c, "mkdir -p /mnt/test-data-volume/{{workflow.name}}/output/artifacts && echo junit > /mnt/test-data-volume/{{workflow.name}}/output/artifacts/junit.xml && echo shared > /scratch/x && echo o > /data/other/y"]
                  volumeMounts:
                  - {name: nfs, mountPath: /mnt/test-data-volume}
                  - {name: scratch, mountPath: /scratch}
                  - {name: other, mountPath: /data/other}
              - name: read
                container:
                  image: alpine
                  command: [cat, /scratch/x]
                  workingDir: /scratch
                  volumeMounts: [{name: scratch, mountPath: /scratch}]
            """);

        Assert.Equal("Succeeded", workflow.Phase);
        Assert.Equal("shared", Node(workflow, "read")["outputs"]?["result"]?.ToString());
        Assert.Equal("junit\n", File.ReadAllText(Path.Combine(harness.Options.NfsRoot, "volumes", "output", "artifacts", "junit.xml")));
        Assert.Equal("o\n", File.ReadAllText(Path.Combine(harness.Options.PvcRoot, "other-claim", "y")));
        Assert.False(Directory.Exists("/scratch"));
    }

    [Fact]
    public async Task WithItems_LoopsRunInParallelWithItemFields()
    {
        await using var harness = Start();
        var workflow = await harness.RunAsync("""
            metadata: {name: loops}
            spec:
              entrypoint: main
              templates:
              - name: main
                steps:
                - - name: each
                    template: echo
                    arguments: {parameters: [{name: m, value: "{{item.os}}-{{item.v}}"}]}
                    withItems: [{os: debian, v: 9}, {os: ubuntu, v: 20}]
              - name: echo
                inputs: {parameters: [{name: m}]}
                container: {image: alpine, command: [echo, "{{inputs.parameters.m}}"]}
            """);

        Assert.Equal("Succeeded", workflow.Phase);
        var results = Nodes(workflow).Where(n => n["type"]?.ToString() == "Pod").Select(n => n["outputs"]?["result"]?.ToString()).Order().ToList();
        Assert.Equal(["debian-9", "ubuntu-20"], results);
        Assert.Contains(Nodes(workflow), n => n["displayName"]?.ToString() == """each(0:{"os":"debian","v":9})""");
    }

    [Fact]
    public async Task MissingTool_ErrorsTheStepSayingSo()
    {
        await using var harness = Start();
        var workflow = await harness.RunAsync("""
            metadata: {name: no-tool}
            spec:
              entrypoint: main
              templates:
              - {name: main, container: {image: docker/whalesay, command: [cowsay-not-installed, hi]}}
            """);

        Assert.Equal("Error", workflow.Phase);
        Assert.Contains("cowsay-not-installed", Node(workflow, "no-tool")["message"]?.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Watch_FromCreation_SeesEveryChangeUntilCompleted()
    {
        await using var harness = Start();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var seen = new List<WatchEvent>();
        var watching = Task.Run(async () =>
        {
            await foreach (var change in harness.Engine.WatchWorkflowsAsync(Namespace, new WatchOptions { LabelSelector = "app=kfci" }, cancel.Token))
            {
                seen.Add(change);
                if (change.Resource.Labels.GetValueOrDefault(ArgoNames.CompletedLabel) == "true")
                {
                    return;
                }
            }
        });
        await harness.SubmitAsync("metadata: {name: other}\nspec: {entrypoint: a, templates: [{name: a, container: {image: x, command: ['true']}}]}");
        await harness.SubmitAsync("metadata: {name: watched, labels: {app: kfci}}\nspec: {entrypoint: a, templates: [{name: a, container: {image: x, command: ['true']}}]}");
        await watching;

        Assert.All(seen, e => Assert.Equal("watched", e.Resource.Name));
        Assert.Equal(WatchEventType.Added, seen[0].Type);
        Assert.Equal("Succeeded", seen[^1].Resource.Phase);
        var versions = seen.Select(e => long.Parse(e.ResourceVersion!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(versions.Order(), versions);
    }

    [Fact]
    public async Task Restart_KeepsFinishedWorkflowsAndLogs_AndMarksInterruptedOnesError()
    {
        await using var harness = Start();
        var done = await harness.RunAsync("metadata: {name: kept}\nspec: {entrypoint: a, templates: [{name: a, container: {image: x, command: [echo, kept-log]}}]}");
        var created = await harness.SubmitAsync("metadata: {name: interrupted}\nspec: {entrypoint: a, templates: [{name: a, container: {image: x, command: [sleep, '60']}}]}");
        await harness.WaitAsync(created.Name!, w => Nodes(w).Any(n => n["phase"]?.ToString() == "Running" && n["type"]?.ToString() == "Pod"));

        await harness.RestartAsync();

        var kept = await harness.Engine.GetWorkflowAsync(Namespace, "kept", CancellationToken.None);
        Assert.Equal("Succeeded", kept?.Phase);
        Assert.Equal("kept-log\n", await harness.LogAsync(Node(done, "kept")["id"]!.ToString()));
        var interrupted = await harness.Engine.GetWorkflowAsync(Namespace, "interrupted", CancellationToken.None);
        Assert.True(interrupted?.Phase is "Error" or "Failed", interrupted?.Phase);
    }

    [Fact]
    public async Task DeleteWorkflow_StopsItAndForgetsIt()
    {
        await using var harness = Start();
        var created = await harness.SubmitAsync("metadata: {name: doomed}\nspec: {entrypoint: a, templates: [{name: a, container: {image: x, command: [sleep, '60']}}]}");
        await harness.WaitAsync(created.Name!, w => Nodes(w).Any(n => n["phase"]?.ToString() == "Running"));

        Assert.True(await harness.Engine.DeleteWorkflowAsync(Namespace, "doomed", CancellationToken.None));
        Assert.False(await harness.Engine.DeleteWorkflowAsync(Namespace, "doomed", CancellationToken.None));
        Assert.Null(await harness.Engine.GetWorkflowAsync(Namespace, "doomed", CancellationToken.None));
        await harness.Engine.IdleAsync().WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Namespaces_AreATrivialSet()
    {
        await using var harness = Start();
        harness.Engine.AddNamespace("test-ns", new Dictionary<string, string> { ["owner"] = "kfci" });

        var labelled = await harness.Engine.ListNamespacesAsync(new ListOptions { LabelSelector = "owner=kfci" }, CancellationToken.None).ToListAsync();
        Assert.Equal("test-ns", Assert.Single(labelled).Name);
        Assert.True(await harness.Engine.DeleteNamespaceAsync("test-ns", CancellationToken.None));
        Assert.False(await harness.Engine.DeleteNamespaceAsync("test-ns", CancellationToken.None));
    }
}
