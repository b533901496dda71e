using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Kfci.Local;

/// <summary>The Google Cloud emulators kfci runs against locally and in tests.</summary>
public enum EmulatorKind
{
    PubSub,
    Firestore,
}

/// <summary>
/// One running emulator on a loopback port. Output goes to a log file rather than a pipe, so the process
/// can outlive its starter (<c>kfci local up</c>) without dying of a closed pipe.
/// </summary>
public sealed class Emulator : IAsyncDisposable
{
    private static readonly HttpClient s_probe = new() { Timeout = TimeSpan.FromSeconds(2) };

    private Emulator(EmulatorKind kind, int port, int processId, string logFile)
    {
        Kind = kind;
        Port = port;
        ProcessId = processId;
        LogFile = logFile;
    }

    public EmulatorKind Kind { get; }

    public int Port { get; }

    /// <summary>Leader of the emulator's own process group (it is started with <c>setsid</c>).</summary>
    public int ProcessId { get; }

    public string LogFile { get; }

    /// <summary><c>127.0.0.1:port</c>, the form the <c>*_EMULATOR_HOST</c> variables take.</summary>
    public string HostPort => $"127.0.0.1:{Port}";

    public Uri BaseAddress => new($"http://{HostPort}/");

    /// <summary>The environment variable the official clients (and kfci's adapters) read for this emulator.</summary>
    public string HostVariable => HostVariableOf(Kind);

    public static string HostVariableOf(EmulatorKind kind) => kind switch
    {
        EmulatorKind.PubSub => "PUBSUB_EMULATOR_HOST",
        EmulatorKind.Firestore => "FIRESTORE_EMULATOR_HOST",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>
    /// Starts the emulator and waits until it answers HTTP, or throws with the log's tail (also when the process
    /// exits first, e.g. on an import it cannot read). <paramref name="extraArguments"/> go to the emulator as they are
    /// (e.g. Firestore's <c>--import-data=FILE</c>).
    /// </summary>
    public static async Task<Emulator> StartAsync(
        EmulatorKind kind, string logDirectory, int? port = null, TimeSpan? timeout = null, IReadOnlyList<string>? extraArguments = null, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(logDirectory);
        var chosenPort = port ?? FreeLoopbackPort();
        var logFile = Path.Combine(logDirectory, $"{kind.ToString().ToLowerInvariant()}-emulator.log");
        var (command, arguments) = CommandLine(kind, chosenPort);
        var processId = DetachedProcess.Start(command, [.. arguments, .. extraArguments ?? []], logFile);
        var emulator = new Emulator(kind, chosenPort, processId, logFile);
        try
        {
            await emulator.WaitReadyAsync(timeout ?? TimeSpan.FromSeconds(60), cancellationToken);
        }
        catch
        {
            emulator.Stop();
            throw;
        }

        return emulator;
    }

    /// <summary>Re-attaches to an emulator started earlier (by pid and port), e.g. by <c>kfci local down</c>.</summary>
    public static Emulator Attach(EmulatorKind kind, int port, int processId, string logFile) => new(kind, port, processId, logFile);

    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            using var response = await s_probe.GetAsync(new Uri(BaseAddress, ReadinessPath(Kind)), cancellationToken);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    /// <summary>Stops the emulator's whole process group (the launcher script and its JVM).</summary>
    public void Stop()
    {
        ProcessGroups.Terminate(ProcessId);
    }

    public ValueTask DisposeAsync()
    {
        Stop();
        return ValueTask.CompletedTask;
    }

    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The Cloud SDK root: <c>CLOUDSDK_ROOT</c> if set, else the Debian package's location.</summary>
    public static string SdkRoot() =>
        Environment.GetEnvironmentVariable("CLOUDSDK_ROOT") is { Length: > 0 } root ? root : "/usr/lib/google-cloud-sdk";

    private static (string Command, string[] Arguments) CommandLine(EmulatorKind kind, int port) => kind switch
    {
        // Started directly rather than through 'gcloud emulators', which adds seconds of Python start-up.
        EmulatorKind.PubSub => (Path.Combine(SdkRoot(), "platform/pubsub-emulator/bin/cloud-pubsub-emulator"), ["--host=127.0.0.1", $"--port={port}"]),
        EmulatorKind.Firestore => (Path.Combine(SdkRoot(), "platform/cloud-firestore-emulator/cloud_firestore_emulator"), ["start", "--host=127.0.0.1", $"--port={port}"]),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static string ReadinessPath(EmulatorKind kind) => kind switch
    {
        EmulatorKind.PubSub => "v1/projects/readiness-probe/topics",
        _ => string.Empty,
    };

    private async Task WaitReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (await IsReadyAsync(cancellationToken))
            {
                return;
            }

            if (!ProcessGroups.IsAlive(ProcessId))
            {
                break;
            }

            await Task.Delay(100, cancellationToken);
        }

        var tail = DetachedProcess.Tail(LogFile);
        throw new InvalidOperationException(
            $"The {Kind} emulator did not become ready on {HostPort} within {timeout.TotalSeconds:0}s. "
            + $"Is the Debian package installed (scripts/setup.sh)? Log {LogFile}: {tail}");
    }
}
