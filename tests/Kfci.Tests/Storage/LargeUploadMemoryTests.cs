using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Kfci.Tests.Storage;

/// <summary>
/// A 50 MB upload from a non-seekable stream must stay under 100 MB of process memory. Measured honestly:
/// the upload runs in a child process of its own (this test assembly's probe entry point) and reports its
/// kernel-recorded peak resident set (VmHWM), which counts everything - runtime, GC heap, buffers, sockets.
/// Measuring inside the test runner would mix in the fake server and every test running in parallel.
/// </summary>
public sealed partial class LargeUploadMemoryTests(FakeGcsFixture fixture, ITestOutputHelper log) : IClassFixture<FakeGcsFixture>
{
    private const long Length = 50L * 1024 * 1024;
    private const long LimitKb = 100 * 1024;

    [Fact]
    public async Task WriteAsync_50MBNonSeekableStream_PeakMemoryUnder100MBAndBytesIntact()
    {
        var store = fixture.NewStore();
        var host = $"{fixture.Server.BaseAddress.Host}:{fixture.Server.BaseAddress.Port}";

        var output = await RunProbeAsync("gcs-upload", host, store.Bucket, "logs/job/1/artifacts/big.bin", Length.ToString(CultureInfo.InvariantCulture), (8 * 1024 * 1024).ToString(CultureInfo.InvariantCulture));

        log.WriteLine(output);
        var match = ProbeOutput().Match(output);
        Assert.True(match.Success, $"unexpected probe output: {output}");
        Assert.Equal(Length, long.Parse(match.Groups["size"].Value, CultureInfo.InvariantCulture));
        var peakKb = long.Parse(match.Groups["peak"].Value, CultureInfo.InvariantCulture);
        Assert.True(peakKb < LimitKb, $"peak RSS {peakKb / 1024} MB while uploading 50 MB; limit {LimitKb / 1024} MB");
        Assert.Equal(7, fixture.Server.Requests.Count(r => r.IsChunk && r.Path.Contains(store.Bucket, StringComparison.Ordinal)));
        await using var read = await store.OpenReadAsync("logs/job/1/artifacts/big.bin", default);
        Assert.Equal(GeneratedStream.Sha256(Length), await SHA256.HashDataAsync(read!));
    }

    private static async Task<string> RunProbeAsync(params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Kfci.Tests.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        Assert.True(process.ExitCode == 0, $"probe exited {process.ExitCode}: {await stderr}");
        return await stdout;
    }

    [GeneratedRegex(@"size=(?<size>\d+) rss_before_kb=(?<before>\d+) peak_kb=(?<peak>\d+)")]
    private static partial Regex ProbeOutput();
}
