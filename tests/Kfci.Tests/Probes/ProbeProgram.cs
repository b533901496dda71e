using System.Globalization;
using Kfci.Storage;
using Kfci.Tests.Storage;

namespace Kfci.Tests.Probes;

/// <summary>
/// The test assembly's entry point (the test SDK's generated one is switched off). Tests that must measure
/// a process of its own - its peak memory, say - run this assembly as a child: <c>dotnet Kfci.Tests.dll probe args</c>.
/// The test runner itself never calls it.
/// </summary>
public static class ProbeProgram
{
    public static async Task<int> Main(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        return args switch
        {
            ["gcs-upload", var host, var bucket, var path, var length, var chunk] => await GcsUploadAsync(host, bucket, path, long.Parse(length, CultureInfo.InvariantCulture), int.Parse(chunk, CultureInfo.InvariantCulture)),
            _ => Usage(),
        };
    }

    /// <summary>Uploads a generated, non-seekable stream and reports the process's peak resident set (VmHWM).</summary>
    private static async Task<int> GcsUploadAsync(string host, string bucket, string path, long length, int chunkSize)
    {
        var store = GcsResultsStore.Create(
            bucket, FakeGcsFixture.FastRetry, new GcsUploadOptions { ChunkSize = chunkSize }, getEnv: name => name == "STORAGE_EMULATOR_HOST" ? host : null);
        var before = ProcStatusKb("VmRSS");
        var written = await store.WriteAsync(path, new GeneratedStream(length), null, CancellationToken.None);
        await Console.Out.WriteLineAsync(FormattableString.Invariant($"size={written?.Size} rss_before_kb={before} peak_kb={ProcStatusKb("VmHWM")}"));
        return 0;
    }

    internal static long ProcStatusKb(string field)
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: dotnet Kfci.Tests.dll gcs-upload <host:port> <bucket> <path> <length> <chunkSize>");
        return 2;
    }
}
