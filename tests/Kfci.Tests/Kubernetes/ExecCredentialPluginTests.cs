using System.Globalization;
using Kfci.Kubernetes;

namespace Kfci.Tests.Kubernetes;

public sealed class ExecCredentialPluginTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A plugin that counts its runs in a file and prints token-N, expiring <paramref name="expiresIn"/> from now.</summary>
    private string CountingPlugin(TimeSpan? expiresIn)
    {
        var expiry = expiresIn is { } e
            ? $",\"expirationTimestamp\":\"{DateTimeOffset.UtcNow.Add(e).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}\""
            : "";
        return _dir.Script("plugin.sh", $$$"""
            n=$(( $(cat "$0.count" 2>/dev/null || echo 0) + 1 )); echo $n > "$0.count"
            echo "$KUBERNETES_EXEC_INFO" > "$0.info"; echo "$1 $PLUGIN_MODE" > "$0.args"
            echo '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"token-'$n'"{{{expiry}}}}}'
            """);
    }

    private KubernetesConnection Load(string command, string extra = "") => KubeConfig.Parse($"""
        current-context: gke
        clusters:
        - name: gke
          cluster:
            server: https://34.1.2.3
            insecure-skip-tls-verify: true
        contexts:
        - name: gke
          context: {"{"}cluster: gke, user: gke{"}"}
        users:
        - name: gke
          user:
            exec:
              apiVersion: client.authentication.k8s.io/v1beta1
              command: {command}
              args: ["--flag"]
              env:
              - name: PLUGIN_MODE
                value: test
              installHint: Install gke-gcloud-auth-plugin for use with kubectl
              {extra}
        """, _dir.Path);

    [Fact]
    public async Task GetToken_ValidUntilExpiry_RunsPluginOnceAndPassesArgsEnvAndExecInfo()
    {
        var plugin = CountingPlugin(TimeSpan.FromHours(1));
        var tokens = Load(plugin, "provideClusterInfo: true").Tokens!;

        Assert.Equal("token-1", await tokens.GetTokenAsync(CancellationToken.None));
        Assert.Equal("token-1", await tokens.GetTokenAsync(CancellationToken.None));

        Assert.Equal("1", File.ReadAllText(plugin + ".count").Trim());
        Assert.Equal("--flag test", File.ReadAllText(plugin + ".args").Trim());
        var info = File.ReadAllText(plugin + ".info");
        Assert.Contains("\"kind\":\"ExecCredential\"", info, StringComparison.Ordinal);
        Assert.Contains("\"interactive\":false", info, StringComparison.Ordinal);
        Assert.Contains("\"server\":\"https://34.1.2.3\"", info, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetToken_Expired_RunsPluginAgain()
    {
        var plugin = CountingPlugin(TimeSpan.FromSeconds(1));
        var tokens = Load(plugin).Tokens!;

        Assert.Equal("token-1", await tokens.GetTokenAsync(CancellationToken.None));
        Assert.Equal("token-2", await tokens.GetTokenAsync(CancellationToken.None));
        Assert.DoesNotContain("\"cluster\"", File.ReadAllText(plugin + ".info"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetToken_AfterInvalidate_RunsPluginAgain()
    {
        var tokens = Load(CountingPlugin(expiresIn: null)).Tokens!;

        Assert.Equal("token-1", await tokens.GetTokenAsync(CancellationToken.None));
        tokens.Invalidate();
        Assert.Equal("token-2", await tokens.GetTokenAsync(CancellationToken.None));
    }

    [Fact]
    public async Task GetToken_ConcurrentCallers_ShareOneRun()
    {
        var plugin = CountingPlugin(TimeSpan.FromHours(1));
        var tokens = Load(plugin).Tokens!;

        var all = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => tokens.GetTokenAsync(CancellationToken.None)));

        Assert.All(all, t => Assert.Equal("token-1", t));
        Assert.Equal("1", File.ReadAllText(plugin + ".count").Trim());
    }

    [Fact]
    public async Task GetToken_MissingCommand_ThrowsWithInstallHint()
    {
        var tokens = Load("kfci-no-such-auth-plugin").Tokens!;
        var e = await Assert.ThrowsAsync<KubeConfigException>(() => tokens.GetTokenAsync(CancellationToken.None));
        Assert.Contains("kfci-no-such-auth-plugin", e.Message, StringComparison.Ordinal);
        Assert.Contains("Install gke-gcloud-auth-plugin", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetToken_PluginFails_ThrowsWithItsFirstErrorLine()
    {
        var plugin = _dir.Script("failing.sh", "echo 'ERROR: gcloud credentials expired' >&2; echo 'second line' >&2; exit 1");
        var e = await Assert.ThrowsAsync<KubeConfigException>(() => Load(plugin).Tokens!.GetTokenAsync(CancellationToken.None));
        Assert.Contains("exited with 1: ERROR: gcloud credentials expired", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("second line", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetToken_OutputWithoutToken_ThrowsClearly()
    {
        var plugin = _dir.Script("empty.sh", "echo '{\"kind\":\"ExecCredential\",\"status\":{}}'");
        var e = await Assert.ThrowsAsync<KubeConfigException>(() => Load(plugin).Tokens!.GetTokenAsync(CancellationToken.None));
        Assert.Contains("no status.token", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_InteractiveModeAlways_Rejected()
    {
        var e = Assert.Throws<KubeConfigException>(() => Load("/bin/true", "interactiveMode: Always"));
        Assert.Contains("interactiveMode Always", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetToken_RelativeCommandPath_ResolvedAgainstKubeconfigDirectory()
    {
        CountingPlugin(TimeSpan.FromHours(1));
        Assert.Equal("token-1", await Load("./plugin.sh").Tokens!.GetTokenAsync(CancellationToken.None));
    }

    [Fact]
    public async Task GetToken_RealGkePluginWithoutGcloudAccount_FailsWithOneLineFromThePlugin()
    {
        // An empty gcloud configuration directory guarantees "no active account" on any machine.
        var gcloudConfig = Directory.CreateDirectory(Path.Combine(_dir.Path, "gcloud")).FullName;
        var tokens = KubeConfig.Parse(
            $$$"""
            current-context: gke
            clusters: [{name: gke, cluster: {server: "https://34.1.2.3"}}]
            contexts: [{name: gke, context: {cluster: gke, user: gke}}]
            users:
            - name: gke
              user:
                exec:
                  apiVersion: client.authentication.k8s.io/v1beta1
                  command: gke-gcloud-auth-plugin
                  provideClusterInfo: true
                  env: [{name: CLOUDSDK_CONFIG, value: "{{{gcloudConfig}}}"}]
            """,
            _dir.Path).Tokens!;

        var e = await Assert.ThrowsAsync<KubeConfigException>(() => tokens.GetTokenAsync(CancellationToken.None));

        Assert.StartsWith("exec credential plugin 'gke-gcloud-auth-plugin' exited with 1: ", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }
}
