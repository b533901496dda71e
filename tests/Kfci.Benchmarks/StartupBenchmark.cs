using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Kfci.Configuration;
using Kfci.Testing;
using Kfci.Testing.Gcp;
using Kfci.Testing.Kubernetes;

namespace Kfci.Benchmarks;

/// <summary>
/// Function start-up as Cloud Run sees it: process start until the first request is served, the first
/// event handled, and the resident memory once idle after a few events; for each function, published
/// framework-dependent and ReadyToRun. Medians over several runs. Each function gets the configuration it
/// needs, pointed at the real Pub/Sub and Firestore emulators, a fake cluster and a fake Compute API: a function
/// without it refuses to start, so every event here is served by a function that could do its work.
/// </summary>
internal static class StartupBenchmark
{
    private static readonly string[] s_allFunctions = ["Trigger", "Watcher", "Uploader", "Janitor"];

    private static readonly string s_event =
        """{"message":{"data":"eyJqb2IiOiJrZi1wcmVzdWJtaXQifQ==","attributes":{"a":"b"},"messageId":"bench-1","publishTime":"2026-11-22T05:00:00Z"},"subscription":"projects/p/subscriptions/s"}""";

    internal sealed record Settings(int Runs, int Requests, IReadOnlyList<string> Functions, bool Publish, IReadOnlyList<string> Variants)
    {
        public static Settings Parse(string[] args)
        {
            var settings = new Settings(5, 20, s_allFunctions, true, [.. s_variants.Select(v => v.Name)]);
            for (var i = 0; i < args.Length; i++)
            {
                settings = args[i] switch
                {
                    "--runs" => settings with { Runs = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                    "--requests" => settings with { Requests = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                    "--functions" => settings with { Functions = args[++i].Split(',') },
                    "--no-publish" => settings with { Publish = false },
                    "--variants" => settings with { Variants = args[++i].Split(',') },
                    _ => throw new ArgumentException($"unknown option {args[i]}"),
                };
            }

            return settings;
        }
    }

    private sealed record Variant(string Name, string[] PublishArguments);

    private sealed record Sample(double ReadyMs, double FirstEventMs, double RssMb);

    private static readonly Variant[] s_variants =
    [
        new("framework-dependent", []),
        new("ReadyToRun", ["-p:PublishReadyToRun=true", "-r", "linux-x64", "--self-contained", "false"]),
    ];

    public static async Task<int> RunAsync(Settings settings)
    {
        var root = RepositoryRoot();
        var output = Path.Combine(root, ".artifacts", "bench");
        await using var environment = await FunctionEnvironment.StartAsync();
        Console.WriteLine($"start-up of each function: median of {settings.Runs} runs; RSS after {settings.Requests} events and 1 s idle");
        Console.WriteLine($"{"function",-10} {"variant",-20} {"ready ms",9} {"1st event ms",13} {"idle RSS MB",12}");
        foreach (var function in settings.Functions)
        {
            foreach (var variant in s_variants.Where(v => settings.Variants.Contains(v.Name)))
            {
                var directory = Path.Combine(output, variant.Name, function);
                if (settings.Publish)
                {
                    await PublishAsync(root, function, variant, directory);
                }

                var samples = new List<Sample>();
                for (var run = 0; run < settings.Runs; run++)
                {
                    samples.Add(await MeasureAsync(Path.Combine(directory, $"Kfci.Functions.{function}.dll"), environment.Variables, settings.Requests));
                }

                Console.WriteLine(
                    $"{function,-10} {variant.Name,-20} {Median(samples.Select(s => s.ReadyMs)),9:0} {Median(samples.Select(s => s.FirstEventMs)),13:0} {Median(samples.Select(s => s.RssMb)),12:0.0}");
            }
        }

        return 0;
    }

    private static async Task PublishAsync(string root, string function, Variant variant, string directory)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "publish", Path.Combine(root, "functions", function), "-c", "Release", "-o", directory, "--nologo", "-v", "q" }.Concat(variant.PublishArguments))
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var log = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet publish {function} ({variant.Name}) failed: {await log}{await errors}");
        }
    }

    private static async Task<Sample> MeasureAsync(string dll, IReadOnlyDictionary<string, string> environment, int requests)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet", [dll]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        start.Environment["PORT"] = port.ToString(CultureInfo.InvariantCulture);
        start.Environment["KFCI_BIND_ADDRESS"] = "127.0.0.1";
        start.Environment["KFCI_LOG_FORMAT"] = "json";
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(5) };

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, line) => log.Enqueue(line.Data ?? string.Empty);
        process.ErrorDataReceived += (_, line) => log.Enqueue(line.Data ?? string.Empty);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var ready = await WaitReadyAsync(client, process, clock, log);
            await PostEventAsync(client);
            var firstEvent = clock.Elapsed.TotalMilliseconds;
            for (var i = 1; i < requests; i++)
            {
                await PostEventAsync(client);
            }

            await Task.Delay(TimeSpan.FromSeconds(1));
            return new Sample(ready, firstEvent, ResidentMegabytes(process.Id));
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    private static async Task<double> WaitReadyAsync(HttpClient client, Process process, Stopwatch clock, IEnumerable<string> log)
    {
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            try
            {
                using var response = await client.GetAsync(new Uri("healthz", UriKind.Relative));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return clock.Elapsed.TotalMilliseconds;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (process.HasExited)
            {
                throw new InvalidOperationException($"the function exited with {process.ExitCode} before serving: {string.Join(" | ", log)}");
            }

            await Task.Delay(2);
        }

        throw new TimeoutException("the function did not become ready within 30 s");
    }

    private static async Task PostEventAsync(HttpClient client)
    {
        using var content = new StringContent(s_event, Encoding.UTF8, "application/json");
        using var response = await client.PostAsync(new Uri("/", UriKind.Relative), content);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"event answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    private static double ResidentMegabytes(int processId)
    {
        var line = File.ReadLines($"/proc/{processId}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        var kilobytes = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        return kilobytes / 1024.0;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "kfci.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("run from inside the kfci repository (no kfci.slnx above " + AppContext.BaseDirectory + ")");
    }

    /// <summary>
    /// What the four functions need to start and serve, shared by every run: a project on the real emulators, a fake
    /// Kubernetes API (the cluster), a fake Compute API (the Janitor's inventory), a results directory and a git root.
    /// </summary>
    private sealed class FunctionEnvironment : IAsyncDisposable
    {
        private readonly EmulatorFixture _emulators;
        private readonly FakeKubernetesServer _cluster;
        private readonly FakeGcpServer _gcp;
        private readonly DirectoryInfo _scratch;

        private FunctionEnvironment(EmulatorFixture emulators, FakeKubernetesServer cluster, FakeGcpServer gcp, DirectoryInfo scratch)
        {
            _emulators = emulators;
            _cluster = cluster;
            _gcp = gcp;
            _scratch = scratch;
            var project = EmulatorFixture.NewProjectId("startup");

            // The Janitor refuses to start without saying what it may sweep: a dry run of the fake's project.
            var janitorConfig = Path.Combine(scratch.FullName, "janitor.yaml");
            File.WriteAllText(janitorConfig, $"dryRun: true\nprojects: [{project}]\ntestCluster: startup\nzones: [us-central1-a]\n");
            Variables = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                [KfciEnvironment.Project] = project,
                [KfciEnvironment.JanitorConfig] = janitorConfig,
                [emulators.PubSub.HostVariable] = emulators.PubSub.HostPort,
                [emulators.Firestore.HostVariable] = emulators.Firestore.HostPort,
                [KfciEnvironment.ClusterEndpoint] = cluster.BaseAddress.ToString(),
                [KfciEnvironment.GcpApiEndpoint] = gcp.BaseAddress.ToString(),
                [KfciEnvironment.ResultsDirectory] = scratch.CreateSubdirectory("results").FullName,
                [KfciEnvironment.GitRoot] = scratch.CreateSubdirectory("repos").FullName,
            };
        }

        public IReadOnlyDictionary<string, string> Variables { get; }

        public static async Task<FunctionEnvironment> StartAsync()
        {
            var emulators = new EmulatorFixture();
            await emulators.InitializeAsync();
            return new FunctionEnvironment(emulators, await FakeKubernetesServer.StartAsync(), await FakeGcpServer.StartAsync(), Directory.CreateTempSubdirectory("kfci-startup-"));
        }

        public async ValueTask DisposeAsync()
        {
            await _gcp.DisposeAsync();
            await _cluster.DisposeAsync();
            await _emulators.DisposeAsync();
            _scratch.Delete(recursive: true);
        }
    }
}
