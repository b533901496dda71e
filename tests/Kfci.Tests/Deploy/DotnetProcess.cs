using System.Diagnostics;

namespace Kfci.Tests.Deploy;

/// <summary>Runs a program to its end with a deadline, for the tests that build what an image holds.</summary>
internal static class DotnetProcess
{
    public static async Task<(int ExitCode, string Output)> RunAsync(string directory, TimeSpan timeout, string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        using var cancel = new CancellationTokenSource(timeout);
        var stdout = process.StandardOutput.ReadToEndAsync(cancel.Token);
        var stderr = process.StandardError.ReadToEndAsync(cancel.Token);
        await process.WaitForExitAsync(cancel.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}

/// <summary>
/// The tests that <c>dotnet publish</c> an image's content share shared/obj: run in parallel, two publishes of the same
/// project into it collide, so they run one after the other.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ImagePublishCollection
{
    public const string Name = "image publish";
}
