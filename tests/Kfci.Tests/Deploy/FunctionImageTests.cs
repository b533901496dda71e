using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Kfci.Tests.Infra;

namespace Kfci.Tests.Deploy;

/// <summary>
/// What functions/Dockerfile puts in an image: the <c>dotnet publish</c> output of one function, started the way the
/// image's entry point and Cloud Run start it (<c>dotnet Kfci.Functions.X.dll</c> with <c>PORT</c> and
/// <c>FUNCTION_TARGET</c>), answers its readiness probe. Published as the Dockerfile publishes it (ReadyToRun, linux-x64),
/// from a copy of the sources: its restore for linux-x64 must not race the local stack's builds in the checkout. Docker itself is not available here; the publish is the
/// image's build step.
/// </summary>
[Collection(ImagePublishCollection.Name)]
public sealed class FunctionImageTests
{
    [Fact]
    public async Task PublishOutput_StartedAsCloudRunStartsIt_AnswersHealthy()
    {
        var sources = await IsolatedSources.CopyAsync(RepositoryRoot.Find(), "functions/Watcher", "shared", "Directory.Build.props", "Directory.Packages.props", "global.json", ".editorconfig");
        var output = Directory.CreateTempSubdirectory("kfci-publish-");
        try
        {
            var publish = await DotnetProcess.RunAsync(sources.FullName, TimeSpan.FromMinutes(10), "dotnet", "publish", "functions/Watcher/Kfci.Functions.Watcher.csproj", "-c", "Release", "-o", output.FullName, "-v", "q",
                "-p:PublishReadyToRun=true", "-r", "linux-x64", "--self-contained", "false");
            Assert.True(publish.ExitCode == 0, $"dotnet publish failed: {publish.Output}");
            Assert.True(File.Exists(Path.Combine(output.FullName, "Kfci.Functions.Watcher.dll")), "the publish output has no Kfci.Functions.Watcher.dll, which the image's entry point runs");

            var port = FreePort();
            var start = new ProcessStartInfo("dotnet") { WorkingDirectory = output.FullName, RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add("Kfci.Functions.Watcher.dll");
            start.Environment["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            start.Environment["FUNCTION_TARGET"] = "Watcher";
            start.Environment["KFCI_PROJECT"] = "kfci-test";
            start.Environment["KFCI_WORKFLOW_NAMESPACE"] = "kubeflow-test-infra";
            start.Environment["KFCI_CLUSTER_ENDPOINT"] = "https://127.0.0.1:1";
            // An https endpoint without its CA is a configuration error.
            start.Environment["KFCI_CLUSTER_CA_CERTIFICATE"] = Kubernetes.TestCertificate.Base64(Kubernetes.TestCertificate.Create("cluster-ca").CertificatePem);
            using var host = Process.Start(start)!;
            try
            {
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
                HttpStatusCode? status = null;
                while (status is null && DateTime.UtcNow < deadline && !host.HasExited)
                {
                    try
                    {
                        status = (await http.GetAsync(new Uri($"http://127.0.0.1:{port}/healthz"))).StatusCode;
                    }
                    catch (HttpRequestException)
                    {
                        await Task.Delay(250);
                    }
                }

                Assert.Equal(HttpStatusCode.OK, status);
            }
            finally
            {
                if (!host.HasExited)
                {
                    host.Kill();
                }

                await host.WaitForExitAsync();
            }
        }
        finally
        {
            output.Delete(recursive: true);
            sources.Delete(recursive: true);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
