using Kfci.Cli.Engine;
using Kfci.Kubernetes;
using Kfci.Tests.Engine;
using static Kfci.Tests.Engine.EngineHarness;

namespace Kfci.Tests.Security;

/// <summary>
/// Findings: the local engine ran steps without volumes directly on the host with the user's whole environment, bound
/// the host read-write, and let a claim name or sub-path such as <c>../..</c> mount any host directory.
/// </summary>
public sealed class EngineSandboxTests
{
    private static string Steps(string command, string volumes = "", string mounts = "", string parameters = "") => $$"""
        metadata: {name: sandbox}
        spec:
          entrypoint: main
          arguments: {parameters: [{{parameters}}]}
          volumes: [{{volumes}}]
          templates:
          - name: main
            container:
              image: alpine
              command: [sh, -c, {{System.Text.Json.JsonSerializer.Serialize(command)}}]
              volumeMounts: [{{mounts}}]
        """;

    [Fact]
    public async Task Step_HostEnvironment_NotInherited()
    {
        Assert.NotNull(StepProcess.FindBubblewrap());
        Environment.SetEnvironmentVariable("KFCI_SANDBOX_TEST_SECRET", "s3cret");
        await using var harness = Start();

        var workflow = await harness.RunAsync(Steps("echo ${KFCI_SANDBOX_TEST_SECRET:-unset}"));

        Assert.Equal("Succeeded", workflow.Phase);
        Assert.Equal("unset", Node(workflow, "sandbox")["outputs"]?["result"]?.ToString());
    }

    [Fact]
    public async Task Step_WritesOutsideItsVolumes_HostUnchanged()
    {
        await using var harness = Start();
        var escaped = Path.Combine(harness.Home, "escaped");
        var hostTmp = Path.Combine(Path.GetTempPath(), $"kfci-sandbox-{Guid.NewGuid():N}");

        var workflow = await harness.RunAsync(Steps($"echo x > {hostTmp}; echo x > {escaped}"));

        Assert.Equal("Failed", workflow.Phase);
        Assert.False(File.Exists(escaped), "the step wrote into the host's filesystem");
        Assert.False(File.Exists(hostTmp), "the step wrote into the host's /tmp");
    }

    [Theory]
    [InlineData("{name: v, persistentVolumeClaim: {claimName: ../../..}}", "{name: v, mountPath: /host}", "is not a valid claim name")]
    [InlineData("{name: v, persistentVolumeClaim: {claimName: nfs-external}}", "{name: v, mountPath: /host, subPath: ../../..}", "must be a relative path without '..'")]
    [InlineData("{name: v, emptyDir: {}}", "{name: v, mountPath: /host, subPath: /etc}", "must be a relative path without '..'")]
    public async Task Step_VolumeEscapingItsRoot_Error(string volume, string mount, string reason)
    {
        await using var harness = Start();

        var workflow = await harness.RunAsync(Steps("ls /host", volume, mount));

        Assert.Equal("Error", Phase(workflow, "sandbox"));
        Assert.Contains(reason, Node(workflow, "sandbox")["message"]?.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Step_ClaimFromWorkflowParameter_SeesTheNfsVolume()
    {
        await using var harness = Start();

        var workflow = await harness.RunAsync(Steps(
            "echo seen > /mnt/test-data-volume/marker",
            "{name: nfs, persistentVolumeClaim: {claimName: '{{workflow.parameters.nfs_claim}}'}}",
            "{name: nfs, mountPath: /mnt/test-data-volume}",
            $"{{name: nfs_claim, value: {EngineOptions.NfsClaim}}}"));

        Assert.Equal("Succeeded", workflow.Phase);
        Assert.Equal("seen\n", File.ReadAllText(Path.Combine(harness.Options.NfsRoot, "marker")));
    }

    [Fact]
    public void SandboxArguments_OwnNamespacesReadOnlyHostPrivateTmp()
    {
        var arguments = StepProcess.SandboxArguments(new StepCommand(["true"], new Dictionary<string, string>(), null, []));

        Assert.Contains("--unshare-user", arguments);
        Assert.Contains("--unshare-pid", arguments);
        Assert.Contains("--unshare-ipc", arguments);
        Assert.DoesNotContain("--unshare-net", arguments);
        Assert.DoesNotContain("--bind", arguments);
        Assert.Equal("/tmp", arguments[arguments.ToList().IndexOf("--tmpfs") + 1]);
    }
}
